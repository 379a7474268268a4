#include "weft/actions/retrieve.h"

#include "weft/dsl/schema.h"
#include "weft/dsl/template.h"
#include "weft/files/files.h"
#include "workers.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;
using knowledge::Knowledge;

struct NoHandle {};

Result<knowledge::SearchMode> ModeOf(const Value& v) {
  if (v.is_undefined() || v == Value("auto")) return knowledge::SearchMode::kAuto;
  if (v == Value("keyword")) return knowledge::SearchMode::kKeyword;
  if (v == Value("vector")) return knowledge::SearchMode::kVector;
  if (v == Value("hybrid")) return knowledge::SearchMode::kHybrid;
  return InvalidArgumentError("retrieve: mode must be auto, keyword, vector or hybrid");
}

std::vector<std::string> Strings(const Value& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.as_string());
  if (v.is_array())
    for (const Value& item : v.as_array())
      if (item.is_string()) out.push_back(item.as_string());
  return out;
}

// The passages as one text an AI step can take as context, numbered for
// citations, and the sources in the same numbering.
void AddContext(const std::vector<knowledge::Hit>& hits, Value& out) {
  std::string context;
  Value sources = Value::MakeArray();
  std::vector<std::string> numbered;  // sources in citation order
  for (const knowledge::Hit& h : hits) {
    auto it = std::find(numbered.begin(), numbered.end(), h.source);
    const size_t n = static_cast<size_t>(it - numbered.begin()) + 1;
    if (it == numbered.end()) {
      numbered.push_back(h.source);
      Value s = Value::MakeObject();
      s.set("n", static_cast<double>(n));
      s.set("title", h.title);
      s.set("source", h.source);
      sources.push_back(s);
    }
    if (!context.empty()) context += "\n\n";
    context += "[" + std::to_string(n) + "] " + h.title;
    if (!h.heading.empty() && h.heading != h.title) context += " — " + h.heading;
    context += " (" + h.source + ")\n" + h.text;
  }
  out.set("context", context);
  out.set("sources", sources);
}

// Validation of a step's `knowledge:` setting against the configured bases.
std::function<dsl::ActionSpec::TaskFindings(const dsl::Template&, const dsl::Workflow&)> CheckBase(
    std::shared_ptr<Knowledge> k) {
  return [k = std::move(k)](const dsl::Template& settings, const dsl::Workflow&) {
    dsl::ActionSpec::TaskFindings findings;
    const Value name = settings.LiteralMembers().get("knowledge");
    if (!k || k->bases().empty()) {
      findings.warning = "no knowledge base is configured (weft.yaml `knowledge:`): this step will fail";
      return findings;
    }
    if (name.is_string() && !k->base(name.as_string())) {
      std::string names;
      for (const std::string& b : k->bases()) names.append(names.empty() ? "" : ", ").append(b);
      findings.error = "unknown knowledge base '" + name.as_string() + "' (configured: " + names + ")";
    } else if (!settings.HasMember("knowledge") && k->bases().size() > 1) {
      findings.error = "settings.knowledge: name the knowledge base (several are configured)";
    }
    return findings;
  };
}

// The base a step names (or the only one), or why there is none.
Result<std::string> BaseOf(const Knowledge* k, const Value& settings, const std::string& action) {
  if (k == nullptr || k->bases().empty()) {
    return FailedPreconditionError(action + ": no knowledge base is configured (weft.yaml `knowledge:`)");
  }
  if (const Value name = settings.get("knowledge"); name.is_string()) return name.as_string();
  if (k->bases().size() == 1) return k->bases().front();
  return InvalidArgumentError(action + ": settings.knowledge: name the knowledge base (several are configured)");
}

class RetrieveAction final : public engine::Action {
 public:
  RetrieveAction(std::string name, std::shared_ptr<Knowledge> knowledge)
      : knowledge_(std::move(knowledge)), workers_(2, [] { return std::make_unique<NoHandle>(); }) {
    spec_.name = std::move(name);
    spec_.description = "The passages of a knowledge base that best answer a query, with their sources";
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["query"],"properties":{
      "query":{"type":"string","maxLength":8192}}})");
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","additionalProperties":false,"properties":{
      "knowledge":{"type":"string"},
      "top_k":{"type":"integer","minimum":1,"maximum":100},
      "mode":{"enum":["auto","keyword","vector","hybrid"]},
      "filter":{"type":"object","additionalProperties":false,"properties":{
        "tags":{"type":["array","string"],"items":{"type":"string"}},
        "language":{"type":"string"},
        "documents":{"type":["array","string"],"items":{"type":"string"}},
        "source_prefix":{"type":"string"}}}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["query","chunks","context"]})");
    spec_.check_task = CheckBase(knowledge_);
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    const Value settings = ctx.settings;
    Result<std::string> base = BaseOf(knowledge_.get(), settings, spec_.name);
    if (!base.ok()) co_return engine::ActionResult::Error(base.status());
    knowledge::Query query;
    query.base = *base;
    query.text = ctx.inputs.get("query").as_string();
    if (const Value k = settings.get("top_k"); k.is_number()) query.k = static_cast<int>(k.as_number());
    Result<knowledge::SearchMode> mode = ModeOf(settings.get("mode"));
    if (!mode.ok()) co_return engine::ActionResult::Error(mode.status());
    query.mode = *mode;
    const Value filter = settings.get("filter");
    query.filter.tags = Strings(filter.get("tags"));
    query.filter.documents = Strings(filter.get("documents"));
    if (const Value l = filter.get("language"); l.is_string()) query.filter.language = l.as_string();
    if (const Value p = filter.get("source_prefix"); p.is_string()) query.filter.source_prefix = p.as_string();

    using Shared = std::shared_ptr<Result<std::vector<knowledge::Hit>>>;
    std::function<Shared(NoHandle&)> search = [k = knowledge_, query](NoHandle&) {
      return std::make_shared<Result<std::vector<knowledge::Hit>>>(k->Search(query));
    };
    Shared found = co_await workers_.Run(std::move(search));
    if (!found->ok()) co_return engine::ActionResult::Error(found->status().WithContext(spec_.name));
    Value out = Value::MakeObject();
    out.set("query", query.text);
    Value chunks = Value::MakeArray();
    for (const knowledge::Hit& h : **found) chunks.push_back(knowledge::HitToValue(h));
    out.set("chunks", chunks);
    AddContext(**found, out);
    Value detail = Value::MakeObject();
    detail.set("knowledge", query.base);
    detail.set("mode", settings.get("mode").is_string() ? settings.get("mode") : Value("auto"));
    ctx.detail = detail;
    co_return engine::ActionResult::Ok(out);
  }

 private:
  dsl::ActionSpec spec_;
  std::shared_ptr<Knowledge> knowledge_;
  mutable internal::Workers<NoHandle> workers_;
};

class IndexDocumentAction final : public engine::Action {
 public:
  IndexDocumentAction(std::shared_ptr<Knowledge> knowledge, std::string data_dir)
      : knowledge_(std::move(knowledge)),
        data_dir_(std::move(data_dir)),
        workers_(1, [] { return std::make_unique<NoHandle>(); }) {
    spec_.name = "index_document";
    spec_.description = "Adds an uploaded file (Markdown, text, HTML, PDF) to a knowledge base";
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["file"],"properties":{
      "file":{"type":["object","string"]},"id":{"type":"string","minLength":1,"maxLength":1024},
      "title":{"type":"string"},"source":{"type":"string"},"language":{"type":"string"},
      "tags":{"type":"array","items":{"type":"string"}}}})");
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","additionalProperties":false,"properties":{
      "knowledge":{"type":"string"}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["id","chunks"]})");
    spec_.check_task = CheckBase(knowledge_);
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    Result<std::string> base = BaseOf(knowledge_.get(), ctx.settings, spec_.name);
    if (!base.ok()) co_return engine::ActionResult::Error(base.status());
    if (data_dir_.empty()) {
      co_return engine::ActionResult::Error(FailedPreconditionError("index_document: this process keeps no uploads"));
    }
    const Value file = ctx.inputs.get("file");
    const Value upload = file.is_object() ? file.get("id") : file;
    if (!upload.is_string())
      co_return engine::ActionResult::Error(InvalidArgumentError("index_document: 'file' has no id"));
    // The document's id: given, else the upload's name, else its hash.
    std::string id = ctx.inputs.get("id").is_string()                   ? ctx.inputs.get("id").as_string()
                     : file.is_object() && file.get("name").is_string() ? file.get("name").as_string()
                                                                        : upload.as_string();
    const Value inputs = ctx.inputs;
    using Shared = std::shared_ptr<Result<knowledge::DocumentInfo>>;
    std::function<Shared(NoHandle&)> put = [k = knowledge_, dir = data_dir_, base = *base, upload = upload.as_string(),
                                            id, inputs](NoHandle&) {
      auto done = [](Result<knowledge::DocumentInfo> r) {
        return std::make_shared<Result<knowledge::DocumentInfo>>(std::move(r));
      };
      Result<std::string> bytes = files::UploadStore(dir).Get(upload);
      if (!bytes.ok()) return done(bytes.status());
      const std::optional<knowledge::BaseConfig> config = k->base(base);
      if (!config) return done(NotFoundError("no knowledge base '" + base + "'"));
      Result<knowledge::Document> doc = knowledge::ReadDocument(id, *bytes, config->limits);
      if (!doc.ok()) return done(doc.status());
      if (const Value v = inputs.get("title"); v.is_string()) doc->title = v.as_string();
      if (const Value v = inputs.get("source"); v.is_string()) doc->source = v.as_string();
      if (const Value v = inputs.get("language"); v.is_string()) doc->language = v.as_string();
      if (const Value v = inputs.get("tags"); v.is_array()) doc->tags = Strings(v);
      return done(k->Put(base, std::move(*doc)));
    };
    Shared result = co_await workers_.Run(std::move(put));
    if (!result->ok()) co_return engine::ActionResult::Error(result->status().WithContext("index_document"));
    co_return engine::ActionResult::Ok(knowledge::DocumentInfoToValue(**result));
  }

 private:
  dsl::ActionSpec spec_;
  std::shared_ptr<Knowledge> knowledge_;
  std::string data_dir_;
  mutable internal::Workers<NoHandle> workers_;
};

}  // namespace

Status RegisterRetrieveActions(engine::ActionRegistry& registry, std::shared_ptr<Knowledge> knowledge,
                               std::string data_dir) {
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<RetrieveAction>("retrieve", knowledge)));
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<RetrieveAction>("retrieve_content_rag", knowledge)));
  return registry.Register(std::make_unique<IndexDocumentAction>(std::move(knowledge), std::move(data_dir)));
}

}  // namespace weft::actions

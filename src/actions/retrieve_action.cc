#include "weft/actions/retrieve.h"

#include "weft/dsl/schema.h"
#include "weft/dsl/template.h"
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
    spec_.check_task = [k = knowledge_](const dsl::Template& settings, const dsl::Workflow&) {
      dsl::ActionSpec::TaskFindings findings;
      const Value name = settings.LiteralMembers().get("knowledge");
      if (!k || k->bases().empty()) {
        findings.warning = "no knowledge base is configured (weft.yaml `knowledge:`): this step will fail";
        return findings;
      }
      if (name.is_string() && k->base(name.as_string()) == nullptr) {
        std::string names;
        for (const std::string& b : k->bases()) names.append(names.empty() ? "" : ", ").append(b);
        findings.error = "unknown knowledge base '" + name.as_string() + "' (configured: " + names + ")";
      } else if (!settings.HasMember("knowledge") && k->bases().size() > 1) {
        findings.error = "settings.knowledge: name the knowledge base (several are configured)";
      }
      return findings;
    };
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    if (!knowledge_ || knowledge_->bases().empty()) {
      co_return engine::ActionResult::Error(
          FailedPreconditionError(spec_.name + ": no knowledge base is configured (weft.yaml `knowledge:`)"));
    }
    knowledge::Query query;
    query.text = ctx.inputs.get("query").as_string();
    const Value settings = ctx.settings;
    if (const Value name = settings.get("knowledge"); name.is_string()) {
      query.base = name.as_string();
    } else if (knowledge_->bases().size() == 1) {
      query.base = knowledge_->bases().front();
    } else {
      co_return engine::ActionResult::Error(
          InvalidArgumentError(spec_.name + ": settings.knowledge: name the knowledge base (several are configured)"));
    }
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

}  // namespace

Status RegisterRetrieveActions(engine::ActionRegistry& registry, std::shared_ptr<Knowledge> knowledge) {
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<RetrieveAction>("retrieve", knowledge)));
  return registry.Register(std::make_unique<RetrieveAction>("retrieve_content_rag", std::move(knowledge)));
}

}  // namespace weft::actions

#include "weft/actions/file_text.h"

#include "weft/dsl/schema.h"
#include "weft/files/files.h"
#include "workers.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;

struct NoHandle {};

class FileTextAction final : public engine::Action {
 public:
  explicit FileTextAction(std::string data_dir)
      : data_dir_(std::move(data_dir)), workers_(2, [] { return std::make_unique<NoHandle>(); }) {
    spec_.name = "file_text";
    spec_.description = "The text of an uploaded file (text, PDF) for an AI step to read";
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","additionalProperties":false})");
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["file"],"properties":{
      "file":{"type":["object","string"]},"max_chars":{"type":"integer","minimum":1,"maximum":10000000}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["text","type"]})");
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    if (data_dir_.empty()) {
      co_return engine::ActionResult::Error(FailedPreconditionError("file_text: this process keeps no uploads"));
    }
    const Value file = ctx.inputs.get("file");
    const Value id = file.is_object() ? file.get("id") : file;
    if (!id.is_string()) co_return engine::ActionResult::Error(InvalidArgumentError("file_text: 'file' has no id"));
    files::TextLimits limits;
    if (const Value m = ctx.inputs.get("max_chars"); m.is_number())
      limits.max_chars = static_cast<int64_t>(m.as_number());
    // The result travels as a shared_ptr: Result<T> has no empty state.
    using Shared = std::shared_ptr<Result<files::ExtractedText>>;
    std::function<Shared(NoHandle&)> read = [dir = data_dir_, id = id.as_string(), limits](NoHandle&) {
      Result<std::string> content = files::UploadStore(dir).Get(id);
      return std::make_shared<Result<files::ExtractedText>>(
          content.ok() ? files::ExtractText(*content, limits) : Result<files::ExtractedText>(content.status()));
    };
    Shared shared = co_await workers_.Run(std::move(read));
    Result<files::ExtractedText>& text = *shared;
    if (!text.ok()) co_return engine::ActionResult::Error(text.status().WithContext("file_text"));
    Value out = Value::MakeObject();
    out.set("text", text->text);
    out.set("type", text->type);
    if (text->pages > 0) out.set("pages", text->pages);
    out.set("truncated", text->truncated);
    if (file.is_object() && file.get("name").is_string()) out.set("name", file.get("name"));
    co_return engine::ActionResult::Ok(out);
  }

 private:
  dsl::ActionSpec spec_;
  std::string data_dir_;
  mutable internal::Workers<NoHandle> workers_;
};

}  // namespace

Status RegisterFileTextAction(engine::ActionRegistry& registry, std::string data_dir) {
  return registry.Register(std::make_unique<FileTextAction>(std::move(data_dir)));
}

}  // namespace weft::actions

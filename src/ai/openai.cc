// OpenAI-compatible chat completions: POST {base}/chat/completions.
#include <chrono>

#include "provider_http.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;

Value Messages(const ModelRequest& r) {
  Value list = Value::MakeArray({});
  for (const Message& m : r.messages) {
    Value msg = Value::MakeObject(3);
    msg.set("role", m.role);
    msg.set("content", m.content);
    if (!m.tool_calls.empty()) {
      Value calls = Value::MakeArray();
      for (const ToolCall& c : m.tool_calls) {
        Value fn = Value::MakeObject(2);
        fn.set("name", c.name);
        fn.set("arguments", c.arguments.is_string() ? c.arguments.as_string() : ToJson(c.arguments));
        Value call = Value::MakeObject(3);
        call.set("id", c.id);
        call.set("type", "function");
        call.set("function", fn);
        calls.push_back(call);
      }
      msg.set("tool_calls", calls);
    }
    if (!m.tool_call_id.empty()) msg.set("tool_call_id", m.tool_call_id);
    list.push_back(msg);
  }
  return list;
}

Value Tools(const ModelRequest& r) {
  Value tools = Value::MakeArray();
  for (const ToolSpec& t : r.tools) {
    Value fn = Value::MakeObject(3);
    fn.set("name", t.name);
    fn.set("description", t.description);
    fn.set("parameters", t.parameters.is_defined() ? t.parameters : Value::MakeObject());
    Value tool = Value::MakeObject(2);
    tool.set("type", "function");
    tool.set("function", fn);
    tools.push_back(tool);
  }
  return tools;
}

Value ToolChoice(const std::string& choice) {
  if (choice == "auto" || choice == "required" || choice == "none") return choice;
  Value fn = Value::MakeObject(1);
  fn.set("name", choice);
  Value c = Value::MakeObject(2);
  c.set("type", "function");
  c.set("function", fn);
  return c;
}

std::vector<ToolCall> ReadToolCalls(const Value& calls) {
  std::vector<ToolCall> out;
  if (!calls.is_array()) return out;
  for (const Value& c : calls.as_array()) {
    ToolCall call;
    call.id = c.get("id").is_string() ? c.get("id").as_string() : "";
    const Value fn = c.get("function");
    call.name = fn.get("name").is_string() ? fn.get("name").as_string() : "";
    const Value args = fn.get("arguments");
    Result<Value> parsed = args.is_string() ? ParseJson(args.as_string()) : Result<Value>(args);
    call.arguments = parsed.ok() ? *parsed : args;  // invalid JSON stays a string, for the caller to refuse
    out.push_back(std::move(call));
  }
  return out;
}

class OpenAiProvider final : public Provider {
 public:
  explicit OpenAiProvider(ProviderOptions o) : options_(std::move(o)) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  }
  std::string_view kind() const override { return "openai"; }

  asio::awaitable<Result<ModelResponse>> Complete(const ModelRequest& request) override {
    const auto start = std::chrono::steady_clock::now();
    Value body = Value::MakeObject();
    body.set("model", request.model);
    body.set("messages", Messages(request));
    if (request.temperature) body.set("temperature", *request.temperature);
    if (request.max_tokens > 0) body.set("max_tokens", request.max_tokens);
    if (!request.tools.empty()) {
      body.set("tools", Tools(request));
      body.set("tool_choice", ToolChoice(request.tool_choice));
    }
    if (request.json_schema.is_defined() && request.json_mode != JsonMode::kNone) {
      Value format = Value::MakeObject();
      if (request.json_mode == JsonMode::kSchema) {
        format.set("type", "json_schema");
        Value js = Value::MakeObject();
        js.set("name", request.schema_name);
        js.set("schema", request.json_schema);
        js.set("strict", false);
        format.set("json_schema", js);
      } else {
        format.set("type", "json_object");
      }
      body.set("response_format", format);
    }
    const bool streaming = static_cast<bool>(request.on_text);
    ModelResponse out;
    std::function<void(std::string_view)> on_body;
    internal::SseReader sse([&out, &request](std::string_view data) {
      if (data == "[DONE]") return;
      Result<Value> event = ParseJson(data);
      if (!event.ok()) return;
      Value choice = event->get("choices").is_array() && event->get("choices").size() > 0
                         ? event->get("choices").as_array()[0]
                         : Value();
      if (Value delta = choice.get("delta").get("content"); delta.is_string()) {
        out.text += delta.as_string();
        request.on_text(delta.as_string());
      }
      if (Value fr = choice.get("finish_reason"); fr.is_string()) out.finish_reason = fr.as_string();
      if (Value usage = event->get("usage"); usage.is_object()) ReadUsage(usage, out.usage);
      if (Value m = event->get("model"); m.is_string()) out.model = m.as_string();
    });
    if (streaming) {
      body.set("stream", true);
      Value so = Value::MakeObject();
      so.set("include_usage", true);
      body.set("stream_options", so);
      on_body = [&sse](std::string_view chunk) { sse.Feed(chunk); };
    }
    std::vector<http::Header> headers;
    if (!options_.api_key.empty()) headers.push_back({"Authorization", "Bearer " + options_.api_key});
    Result<http::Response> r =
        co_await internal::PostJson(options_, options_.base_url + "/chat/completions", std::move(headers), ToJson(body),
                                    request, on_body, out.exchanges);
    if (!r.ok()) co_return r.status();
    if (!streaming) {
      Result<Value> doc = ParseJson(r->body);
      if (!doc.ok()) co_return UnavailableError("model provider answered with invalid JSON: " + doc.status().message());
      Value choices = doc->get("choices");
      if (!choices.is_array() || choices.size() == 0) {
        co_return UnavailableError("model provider answered without choices: " + r->body.substr(0, 300));
      }
      Value choice = choices.as_array()[0];
      Value content = choice.get("message").get("content");
      out.text = content.is_string() ? content.as_string() : "";
      out.tool_calls = ReadToolCalls(choice.get("message").get("tool_calls"));
      if (Value fr = choice.get("finish_reason"); fr.is_string()) out.finish_reason = fr.as_string();
      if (Value m = doc->get("model"); m.is_string()) out.model = m.as_string();
      if (Value usage = doc->get("usage"); usage.is_object()) ReadUsage(usage, out.usage);
    }
    internal::FinishResponse(request, start, out);
    co_return out;
  }

 private:
  static void ReadUsage(const Value& usage, Usage& u) {
    if (Value v = usage.get("prompt_tokens"); v.is_number()) u.input_tokens = SaturatingInt64(v.as_number());
    if (Value v = usage.get("completion_tokens"); v.is_number()) u.output_tokens = SaturatingInt64(v.as_number());
  }

  ProviderOptions options_;
};

}  // namespace

std::unique_ptr<Provider> NewOpenAiProvider(ProviderOptions options) {
  return std::make_unique<OpenAiProvider>(std::move(options));
}

int64_t EstimateTokens(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

}  // namespace weft::ai

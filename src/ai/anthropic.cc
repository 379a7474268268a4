// Anthropic Messages API: POST {base}/messages. Structured output is a
// forced call of one tool whose input schema is the wanted schema; the
// tool's input is the answer.
#include <chrono>

#include "provider_http.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;

constexpr int kDefaultMaxTokens = 1024;  // the API requires max_tokens

// A message in the Messages API's shape: tool calls are `tool_use` blocks of
// an assistant message, tool results `tool_result` blocks of a user message.
Value MessageOf(const Message& m) {
  Value msg = Value::MakeObject(2);
  if (m.role == "tool") {
    msg.set("role", "user");
    Value block = Value::MakeObject(3);
    block.set("type", "tool_result");
    block.set("tool_use_id", m.tool_call_id);
    block.set("content", m.content);
    msg.set("content", Value::MakeArray({block}));
    return msg;
  }
  msg.set("role", m.role);
  if (m.tool_calls.empty()) {
    msg.set("content", m.content);
    return msg;
  }
  Value blocks = Value::MakeArray();
  if (!m.content.empty()) {
    Value text = Value::MakeObject(2);
    text.set("type", "text");
    text.set("text", m.content);
    blocks.push_back(text);
  }
  for (const ToolCall& c : m.tool_calls) {
    Value use = Value::MakeObject(4);
    use.set("type", "tool_use");
    use.set("id", c.id);
    use.set("name", c.name);
    use.set("input", c.arguments.is_object() ? c.arguments : Value::MakeObject());
    blocks.push_back(use);
  }
  msg.set("content", blocks);
  return msg;
}

class AnthropicProvider final : public Provider {
 public:
  explicit AnthropicProvider(ProviderOptions o) : options_(std::move(o)) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  }
  std::string_view kind() const override { return "anthropic"; }

  asio::awaitable<Result<ModelResponse>> Complete(const ModelRequest& request) override {
    const auto start = std::chrono::steady_clock::now();
    Value body = Value::MakeObject();
    body.set("model", request.model);
    body.set("max_tokens", request.max_tokens > 0 ? request.max_tokens : kDefaultMaxTokens);
    std::string system;
    Value messages = Value::MakeArray();
    for (const Message& m : request.messages) {
      if (m.role == "system") {
        if (!system.empty()) system += "\n\n";
        system += m.content;
        continue;
      }
      messages.push_back(MessageOf(m));
    }
    if (!system.empty()) body.set("system", system);
    body.set("messages", messages);
    if (request.temperature) body.set("temperature", *request.temperature);
    const bool tool = request.json_schema.is_defined() && request.json_mode == JsonMode::kSchema;
    if (!request.tools.empty() && !tool) {
      Value tools = Value::MakeArray();
      for (const ToolSpec& t : request.tools) {
        Value spec = Value::MakeObject(3);
        spec.set("name", t.name);
        spec.set("description", t.description);
        spec.set("input_schema", t.parameters.is_defined() ? t.parameters : *ParseJson(R"({"type":"object"})"));
        tools.push_back(spec);
      }
      body.set("tools", tools);
      Value choice = Value::MakeObject();
      if (request.tool_choice == "auto" || request.tool_choice == "required") {
        choice.set("type", request.tool_choice == "auto" ? "auto" : "any");
      } else {
        choice.set("type", "tool");
        choice.set("name", request.tool_choice);
      }
      body.set("tool_choice", choice);
    }
    bool wrapped = false;  // a non-object schema travels as {"value": ...}
    if (tool) {
      // Tool input must be an object; other schemas are wrapped.
      const bool object = request.json_schema.get("type") == Value("object");
      Value schema = request.json_schema;
      if (!object) {
        schema = Value::MakeObject();
        schema.set("type", "object");
        Value props = Value::MakeObject();
        props.set("value", request.json_schema);
        schema.set("properties", props);
        schema.set("required", Value::MakeArray({Value("value")}));
      }
      Value t = Value::MakeObject();
      t.set("name", request.schema_name);
      t.set("description", "Give the answer by calling this tool.");
      t.set("input_schema", schema);
      body.set("tools", Value::MakeArray({t}));
      Value choice = Value::MakeObject();
      choice.set("type", "tool");
      choice.set("name", request.schema_name);
      body.set("tool_choice", choice);
      wrapped = !object;
    }

    ModelResponse out;
    const bool streaming = static_cast<bool>(request.on_text) && !tool;
    std::function<void(std::string_view)> on_body;
    internal::SseReader sse([&out, &request](std::string_view data) {
      Result<Value> event = ParseJson(data);
      if (!event.ok()) return;
      const Value type = event->get("type");
      if (type == Value("content_block_delta")) {
        if (Value text = event->get("delta").get("text"); text.is_string()) {
          out.text += text.as_string();
          request.on_text(text.as_string());
        }
      } else if (type == Value("message_start")) {
        ReadUsage(event->get("message").get("usage"), out.usage);
        if (Value m = event->get("message").get("model"); m.is_string()) out.model = m.as_string();
      } else if (type == Value("message_delta")) {
        ReadUsage(event->get("usage"), out.usage);
        if (Value r = event->get("delta").get("stop_reason"); r.is_string()) out.finish_reason = r.as_string();
      }
    });
    if (streaming) {
      body.set("stream", true);
      on_body = [&sse](std::string_view chunk) { sse.Feed(chunk); };
    }
    std::vector<http::Header> headers{{"anthropic-version", "2023-06-01"}};
    if (!options_.api_key.empty()) headers.push_back({"x-api-key", options_.api_key});
    Result<http::Response> r = co_await internal::PostJson(
        options_, options_.base_url + "/messages", std::move(headers), ToJson(body), request, on_body, out.exchanges);
    if (!r.ok()) co_return r.status();
    if (!streaming) {
      Result<Value> doc = ParseJson(r->body);
      if (!doc.ok()) co_return UnavailableError("model provider answered with invalid JSON: " + doc.status().message());
      Value content = doc->get("content");
      if (!content.is_array()) co_return UnavailableError("model provider answered without content");
      for (const Value& block : content.as_array()) {
        if (tool && block.get("type") == Value("tool_use")) {
          Value input = block.get("input");
          out.text = ToJson(wrapped ? input.get("value") : input);
          break;
        }
        if (block.get("type") == Value("tool_use")) {
          ToolCall call;
          call.id = block.get("id").is_string() ? block.get("id").as_string() : "";
          call.name = block.get("name").is_string() ? block.get("name").as_string() : "";
          call.arguments = block.get("input");
          out.tool_calls.push_back(std::move(call));
          continue;
        }
        if (Value text = block.get("text"); text.is_string()) out.text += text.as_string();
      }
      ReadUsage(doc->get("usage"), out.usage);
      if (Value reason = doc->get("stop_reason"); reason.is_string()) out.finish_reason = reason.as_string();
      if (Value m = doc->get("model"); m.is_string()) out.model = m.as_string();
    }
    internal::FinishResponse(request, start, out);
    co_return out;
  }

 private:
  static void ReadUsage(const Value& usage, Usage& u) {
    if (Value v = usage.get("input_tokens"); v.is_number()) u.input_tokens = SaturatingInt64(v.as_number());
    if (Value v = usage.get("output_tokens"); v.is_number()) u.output_tokens = SaturatingInt64(v.as_number());
  }

  ProviderOptions options_;
};

}  // namespace

std::unique_ptr<Provider> NewAnthropicProvider(ProviderOptions options) {
  return std::make_unique<AnthropicProvider>(std::move(options));
}

}  // namespace weft::ai

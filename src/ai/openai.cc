// OpenAI-compatible chat completions: POST {base}/chat/completions.
#include <chrono>

#include "provider_http.h"
#include "weft/core/json.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;

Value Messages(const ModelRequest& r) {
  Value list = Value::MakeArray({});
  for (const Message& m : r.messages) {
    Value msg = Value::MakeObject(2);
    msg.set("role", m.role);
    msg.set("content", m.content);
    list.push_back(msg);
  }
  return list;
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
      if (Value fr = choice.get("finish_reason"); fr.is_string()) out.finish_reason = fr.as_string();
      if (Value m = doc->get("model"); m.is_string()) out.model = m.as_string();
      if (Value usage = doc->get("usage"); usage.is_object()) ReadUsage(usage, out.usage);
    }
    if (out.usage.input_tokens == 0 && out.usage.output_tokens == 0) {
      out.usage.estimated = true;
      for (const Message& m : request.messages) out.usage.input_tokens += EstimateTokens(m.content);
      out.usage.output_tokens = EstimateTokens(out.text);
    }
    out.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    co_return out;
  }

 private:
  static void ReadUsage(const Value& usage, Usage& u) {
    if (Value v = usage.get("prompt_tokens"); v.is_number()) u.input_tokens = static_cast<int64_t>(v.as_number());
    if (Value v = usage.get("completion_tokens"); v.is_number()) u.output_tokens = static_cast<int64_t>(v.as_number());
  }

  ProviderOptions options_;
};

}  // namespace

std::unique_ptr<Provider> NewOpenAiProvider(ProviderOptions options) {
  return std::make_unique<OpenAiProvider>(std::move(options));
}

int64_t EstimateTokens(std::string_view text) { return static_cast<int64_t>((text.size() + 3) / 4); }

}  // namespace weft::ai

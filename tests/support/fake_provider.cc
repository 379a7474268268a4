#include "fake_provider.h"

#include "weft/core/json.h"

namespace weft::testing {

std::string ProviderCall::LastUser() const {
  std::string out;
  Value messages = body.get("messages");
  if (!messages.is_array()) return out;
  for (const Value& m : messages.as_array()) {
    if (m.get("role") == Value("user") && m.get("content").is_string()) out = m.get("content").as_string();
  }
  return out;
}

FakeProvider::FakeProvider(Script script)
    : script_(std::move(script)), server_([this](const FakeRequest& r) { return Answer(r); }) {}

std::vector<ProviderCall> FakeProvider::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

int FakeProvider::call_count() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(calls_.size());
}

void FakeProvider::set_script(Script script) {
  std::lock_guard lock(mu_);
  script_ = std::move(script);
}

namespace {

Value Usage(const ProviderReply& r, bool anthropic) {
  Value u = Value::MakeObject();
  u.set(anthropic ? "input_tokens" : "prompt_tokens", r.input_tokens);
  u.set(anthropic ? "output_tokens" : "completion_tokens", r.output_tokens);
  return u;
}

// The content in pieces of up to 8 bytes, as a model streams it.
std::vector<std::string> Pieces(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); i += 8) out.push_back(s.substr(i, 8));
  return out;
}

FakeResponse OpenAi(const ProviderCall& call, const ProviderReply& r) {
  const bool stream = call.body.get("stream") == Value(true);
  if (!stream) {
    Value doc = Value::MakeObject();
    doc.set("id", "chatcmpl-" + std::to_string(call.index));
    doc.set("object", "chat.completion");
    doc.set("model", call.body.get("model"));
    Value message = Value::MakeObject();
    message.set("role", "assistant");
    message.set("content", r.tool_calls.empty() ? Value(r.content) : Value::Null());
    if (!r.tool_calls.empty()) {
      Value calls = Value::MakeArray();
      for (size_t i = 0; i < r.tool_calls.size(); ++i) {
        Value fn = Value::MakeObject();
        fn.set("name", r.tool_calls[i].first);
        fn.set("arguments", r.tool_calls[i].second);
        Value call = Value::MakeObject();
        call.set("id", "call_" + std::to_string(i));
        call.set("type", "function");
        call.set("function", fn);
        calls.push_back(call);
      }
      message.set("tool_calls", calls);
    }
    Value choice = Value::MakeObject();
    choice.set("index", 0);
    choice.set("message", message);
    choice.set("finish_reason", r.tool_calls.empty() ? "stop" : "tool_calls");
    doc.set("choices", Value::MakeArray({choice}));
    if (r.usage) doc.set("usage", Usage(r, false));
    return FakeResponse::Json(ToJson(doc));
  }
  FakeResponse out;
  out.headers.emplace_back("Content-Type", "text/event-stream");
  for (const std::string& piece : Pieces(r.content)) {
    Value delta = Value::MakeObject();
    delta.set("content", piece);
    Value choice = Value::MakeObject();
    choice.set("index", 0);
    choice.set("delta", delta);
    Value event = Value::MakeObject();
    event.set("choices", Value::MakeArray({choice}));
    out.chunks.push_back("data: " + ToJson(event) + "\n\n");
  }
  Value last = Value::MakeObject();
  Value choice = Value::MakeObject();
  choice.set("index", 0);
  choice.set("delta", Value::MakeObject());
  choice.set("finish_reason", "stop");
  last.set("choices", Value::MakeArray({choice}));
  if (r.usage) last.set("usage", Usage(r, false));
  out.chunks.push_back("data: " + ToJson(last) + "\n\n");
  out.chunks.push_back("data: [DONE]\n\n");
  return out;
}

FakeResponse Anthropic(const ProviderCall& call, const ProviderReply& r) {
  const bool stream = call.body.get("stream") == Value(true);
  const Value tools = call.body.get("tools");
  if (!stream) {
    Value doc = Value::MakeObject();
    doc.set("id", "msg_" + std::to_string(call.index));
    doc.set("type", "message");
    doc.set("role", "assistant");
    doc.set("model", call.body.get("model"));
    Value block = Value::MakeObject();
    Result<Value> parsed = ParseJson(r.content);
    if (!r.tool_calls.empty()) {
      Value blocks = Value::MakeArray();
      for (size_t i = 0; i < r.tool_calls.size(); ++i) {
        Value use = Value::MakeObject();
        use.set("type", "tool_use");
        use.set("id", "toolu_" + std::to_string(i));
        use.set("name", r.tool_calls[i].first);
        Result<Value> input = ParseJson(r.tool_calls[i].second);
        use.set("input", input.ok() ? *input : Value::MakeObject());
        blocks.push_back(use);
      }
      doc.set("content", blocks);
      doc.set("stop_reason", "tool_use");
      if (r.usage) doc.set("usage", Usage(r, true));
      return FakeResponse::Json(ToJson(doc));
    }
    if (tools.is_array() && parsed.ok() && parsed->is_object()) {
      block.set("type", "tool_use");
      block.set("id", "toolu_" + std::to_string(call.index));
      block.set("name", tools.as_array()[0].get("name"));
      block.set("input", *parsed);
      doc.set("stop_reason", "tool_use");
    } else {
      block.set("type", "text");
      block.set("text", r.content);
      doc.set("stop_reason", "end_turn");
    }
    doc.set("content", Value::MakeArray({block}));
    if (r.usage) doc.set("usage", Usage(r, true));
    return FakeResponse::Json(ToJson(doc));
  }
  FakeResponse out;
  out.headers.emplace_back("Content-Type", "text/event-stream");
  auto event = [&out](const std::string& type, const Value& v) {
    out.chunks.push_back("event: " + type + "\ndata: " + ToJson(v) + "\n\n");
  };
  Value start = Value::MakeObject();
  start.set("type", "message_start");
  Value message = Value::MakeObject();
  message.set("model", call.body.get("model"));
  Value in = Value::MakeObject();
  in.set("input_tokens", r.input_tokens);
  message.set("usage", in);
  start.set("message", message);
  event("message_start", start);
  for (const std::string& piece : Pieces(r.content)) {
    Value e = Value::MakeObject();
    e.set("type", "content_block_delta");
    e.set("index", 0);
    Value delta = Value::MakeObject();
    delta.set("type", "text_delta");
    delta.set("text", piece);
    e.set("delta", delta);
    event("content_block_delta", e);
  }
  Value end = Value::MakeObject();
  end.set("type", "message_delta");
  Value d = Value::MakeObject();
  d.set("stop_reason", "end_turn");
  end.set("delta", d);
  Value outu = Value::MakeObject();
  outu.set("output_tokens", r.output_tokens);
  end.set("usage", outu);
  event("message_delta", end);
  Value stop = Value::MakeObject();
  stop.set("type", "message_stop");
  event("message_stop", stop);
  return out;
}

}  // namespace

FakeResponse FakeProvider::Answer(const FakeRequest& req) {
  ProviderCall call;
  call.api = req.target.ends_with("/messages") ? "anthropic" : "openai";
  call.authorization = call.api == "anthropic" ? req.header("x-api-key") : req.header("authorization");
  Result<Value> body = ParseJson(req.body);
  call.body = body.ok() ? *body : Value();
  Script script;
  {
    std::lock_guard lock(mu_);
    call.index = static_cast<int>(calls_.size());
    calls_.push_back(call);
    script = script_;
  }
  if (req.method != "POST" || (!req.target.ends_with("/chat/completions") && !req.target.ends_with("/messages"))) {
    return FakeResponse::Json(R"({"error":{"message":"no such endpoint"}})", 404);
  }
  ProviderReply r = script(call);
  FakeResponse out;
  if (r.drop) {
    out.drop = true;
  } else if (r.malformed) {
    out.status = r.status;
    out.body = "<html>bad gateway</html>";
  } else if (r.status != 200) {
    Value err = Value::MakeObject();
    Value e = Value::MakeObject();
    e.set("message", r.error_message);
    e.set("type", "scripted");
    err.set("error", e);
    out = FakeResponse::Json(ToJson(err), r.status);
  } else {
    out = call.api == "anthropic" ? Anthropic(call, r) : OpenAi(call, r);
  }
  if (!r.retry_after.empty()) out.headers.emplace_back("Retry-After", r.retry_after);
  out.delay_ms = r.delay_ms;
  return out;
}

}  // namespace weft::testing

#include "weft/ai/structured.h"

#include "weft/core/json.h"

namespace weft::ai {

namespace asio = boost::asio;

namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The end of the balanced value starting at `open` ('{' or '['), skipping
// strings; npos when it does not close.
size_t BalancedEnd(std::string_view s, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

Value AttemptRecord(const ModelResponse* r, std::string_view raw, const Value& parsed, const std::string& error) {
  Value a = Value::MakeObject();
  a.set("raw", std::string(raw));
  if (parsed.is_defined()) a.set("parsed", parsed);
  if (!error.empty()) a.set("error", error);
  if (r != nullptr) {
    Value tokens = Value::MakeObject();
    tokens.set("input", r->usage.input_tokens);
    tokens.set("output", r->usage.output_tokens);
    if (r->usage.estimated) tokens.set("estimated", true);
    a.set("tokens", tokens);
    a.set("latency_ms", r->latency_ms);
    a.set("exchanges", r->exchanges);
    if (!r->finish_reason.empty()) a.set("finish_reason", r->finish_reason);
  }
  return a;
}

}  // namespace

Result<Value> ExtractJson(std::string_view text) {
  std::string_view t = TrimSpace(text);
  if (t.empty()) return InvalidArgumentError("the answer is empty");
  Result<Value> whole = ParseJson(t);
  if (whole.ok()) return whole;
  // A fenced block: ```json ... ``` (or a bare ```).
  if (size_t fence = t.find("```"); fence != std::string_view::npos) {
    size_t body = t.find('\n', fence);
    size_t close = body == std::string_view::npos ? body : t.find("```", body);
    if (close != std::string_view::npos) {
      Result<Value> fenced = ParseJson(TrimSpace(t.substr(body + 1, close - body - 1)));
      if (fenced.ok()) return fenced;
    }
  }
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '{' && t[i] != '[') continue;
    size_t end = BalancedEnd(t, i);
    if (end == std::string_view::npos) break;
    Result<Value> inner = ParseJson(t.substr(i, end - i + 1));
    if (inner.ok()) return inner;
  }
  return InvalidArgumentError("the answer is not JSON: " + whole.status().message());
}

asio::awaitable<StructuredOutcome> CompleteStructured(Provider& provider, ModelRequest request,
                                                      const dsl::Schema& schema, int repairs) {
  StructuredOutcome out;
  out.attempts = Value::MakeArray();
  request.json_schema = schema.document();
  if (request.json_mode != JsonMode::kSchema) {
    // The API cannot enforce the schema: state it in the prompt.
    request.messages.push_back(
        {"system", "Answer with only a JSON value matching this JSON Schema:\n" + ToJson(schema.document())});
  }
  for (int turn = 0;; ++turn) {
    Result<ModelResponse> r = co_await provider.Complete(request);
    if (!r.ok()) {
      out.attempts.push_back(AttemptRecord(nullptr, "", Value(), r.status().ToString()));
      out.status = r.status();
      co_return out;
    }
    out.usage.input_tokens += r->usage.input_tokens;
    out.usage.output_tokens += r->usage.output_tokens;
    out.usage.estimated = out.usage.estimated || r->usage.estimated;
    out.latency_ms += r->latency_ms;
    Result<Value> parsed = ExtractJson(r->text);
    Status valid = parsed.ok() ? schema.Validate(*parsed, "answer") : parsed.status();
    out.attempts.push_back(
        AttemptRecord(&*r, r->text, parsed.ok() ? *parsed : Value(), valid.ok() ? "" : valid.message()));
    if (valid.ok()) {
      out.value = *parsed;
      co_return out;
    }
    if (turn >= repairs) {
      out.status = InvalidArgumentError("the model's answer is invalid after " + std::to_string(turn + 1) +
                                        (turn == 0 ? " attempt: " : " attempts: ") + valid.message());
      co_return out;
    }
    // The repair turn: show the model its answer and what is wrong with it.
    request.messages.push_back({"assistant", r->text});
    request.messages.push_back({"user", "That answer is invalid: " + valid.message() +
                                            ". Reply again with only the corrected JSON, matching the schema."});
  }
}

}  // namespace weft::ai

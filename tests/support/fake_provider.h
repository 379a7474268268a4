// A fake language-model server on 127.0.0.1 speaking the OpenAI-compatible
// chat completions API (POST /v1/chat/completions) and Anthropic's Messages
// API (POST /v1/messages), both also streaming. Each test scripts the
// replies: right answers, invalid JSON, out-of-enum values, slow answers,
// 429 with Retry-After, 500, dropped connections.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http_server.h"
#include "weft/core/value.h"

namespace weft::testing {

struct ProviderCall {
  std::string api;            // "openai" or "anthropic"
  Value body;                 // the request document
  std::string authorization;  // Authorization or x-api-key header
  int index = 0;              // 0-based, over all calls
  // The text of the last user message.
  std::string LastUser() const;
};

struct ProviderReply {
  std::string content;  // the model's text (for structured output: the JSON text)
  int status = 200;     // != 200: an error document with `error_message`
  std::string error_message = "scripted failure";
  std::string retry_after;  // Retry-After header when not empty
  int delay_ms = 0;
  bool drop = false;       // close the connection without answering
  bool malformed = false;  // a 200 whose body is not JSON
  int input_tokens = 12;
  int output_tokens = 7;
  bool usage = true;  // report usage
  // Function calls the model makes: {name, arguments as JSON text}.
  std::vector<std::pair<std::string, std::string>> tool_calls;

  static ProviderReply Text(std::string content) {
    ProviderReply r;
    r.content = std::move(content);
    return r;
  }
  static ProviderReply Status(int status, std::string retry_after = "") {
    ProviderReply r;
    r.status = status;
    r.retry_after = std::move(retry_after);
    return r;
  }
};

class FakeProvider {
 public:
  using Script = std::function<ProviderReply(const ProviderCall&)>;
  explicit FakeProvider(Script script);
  std::string base_url() const { return server_.url() + "/v1"; }
  std::vector<ProviderCall> calls() const;
  int call_count() const;
  void set_script(Script script);

 private:
  FakeResponse Answer(const FakeRequest& req);

  mutable std::mutex mu_;
  Script script_;
  std::vector<ProviderCall> calls_;
  FakeHttpServer server_;  // last: stops before the rest goes away
};

}  // namespace weft::testing

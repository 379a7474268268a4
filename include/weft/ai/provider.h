// Language-model providers: one request/response shape for every API.
//
// A Provider turns a ModelRequest into one HTTP exchange (or several, when
// it retries a rate limit or an outage) and returns the model's text with
// its token usage. Structured output is requested through the API's own
// mechanism (OpenAI-compatible `response_format` with a JSON Schema, or JSON
// mode; Anthropic tool use) but never trusted: callers validate the text
// (see structured.h).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/clock.h"
#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/http/client.h"

namespace weft::ai {

// A function the model may call (the agent step's tools).
struct ToolSpec {
  std::string name;
  std::string description;
  Value parameters;  // JSON Schema of the arguments (an object schema)
};

struct ToolCall {
  std::string id;  // the provider's id, echoed in the tool's result message
  std::string name;
  Value arguments;  // parsed; a string when the model wrote invalid JSON
};

struct Message {
  std::string role;  // "system", "user", "assistant" or "tool"
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this message answers
};

// How a provider asks for JSON.
enum class JsonMode : uint8_t {
  kSchema,  // the API's JSON Schema mechanism (OpenAI json_schema, Anthropic tool input)
  kObject,  // JSON mode only (any JSON object); the schema goes into the prompt
  kNone,    // plain text; the schema goes into the prompt
};

struct ModelRequest {
  std::string model;  // the provider's model id
  std::vector<Message> messages;
  std::optional<double> temperature;
  int max_tokens = 0;  // 0 = the provider's default
  // When defined, the answer must be a JSON value matching this schema.
  Value json_schema;
  std::string schema_name = "answer";
  JsonMode json_mode = JsonMode::kSchema;
  int64_t timeout_ms = 60'000;  // per HTTP exchange
  // Streaming: when set, text arrives through it as the model writes.
  std::function<void(std::string_view delta)> on_text;
  // Function calling: the tools offered, and whether the model must call
  // one ("auto" = it may, "required" = it must, or a tool's name).
  std::vector<ToolSpec> tools;
  std::string tool_choice = "auto";
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  bool estimated = false;  // the provider reported none: counted from the text
};

struct ModelResponse {
  std::string text;                  // for structured output: the JSON text
  std::vector<ToolCall> tool_calls;  // the functions the model wants called
  Usage usage;
  std::string finish_reason;
  std::string model;  // as the provider reports it
  int exchanges = 0;  // HTTP exchanges, retries included
  int64_t latency_ms = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view kind() const = 0;  // "openai", "anthropic"
  // Errors: Unauthenticated / PermissionDenied / InvalidArgument / NotFound
  // for what a retry cannot fix (4xx), ResourceExhausted when rate limits
  // outlast the retries, Unavailable for outages and dropped connections,
  // DeadlineExceeded for timeouts.
  virtual boost::asio::awaitable<Result<ModelResponse>> Complete(const ModelRequest& request) = 0;
};

struct ProviderOptions {
  std::string base_url;  // e.g. "https://api.openai.com/v1"
  std::string api_key;   // empty: no auth header (local servers)
  http::Client* http = nullptr;
  const Clock* clock = nullptr;  // nullptr = system clock
  // Retries of 429, 5xx and connection failures (not of other 4xx), after
  // Retry-After when the server sends one, else exponential back-off.
  int max_retries = 3;
  int64_t backoff_ms = 500;
  int64_t max_backoff_ms = 30'000;
  std::vector<http::Header> extra_headers;
};

// OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp
// server, LM Studio, LiteLLM, ...).
std::unique_ptr<Provider> NewOpenAiProvider(ProviderOptions options);
// Anthropic Messages API; structured output through a forced tool call.
std::unique_ptr<Provider> NewAnthropicProvider(ProviderOptions options);

// A rough token count (about four characters per token), for providers that
// report no usage.
int64_t EstimateTokens(std::string_view text);

}  // namespace weft::ai

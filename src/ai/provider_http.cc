#include "provider_http.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>

#include "weft/core/json.h"

namespace weft::ai::internal {

namespace asio = boost::asio;

std::string ProviderErrorMessage(std::string_view body) {
  Result<Value> doc = ParseJson(body);
  if (!doc.ok() || !doc->is_object()) return "";
  Value error = doc->get("error");
  if (error.is_string()) return error.as_string();
  if (Value m = error.get("message"); m.is_string()) return m.as_string();
  return "";
}

namespace {

Status StatusFor(int status, std::string_view body, std::string_view url) {
  std::string message = ProviderErrorMessage(body);
  if (message.empty()) message = std::string(body.substr(0, 300));
  std::string text = "model provider answered HTTP " + std::to_string(status) + " (" + std::string(url) + ")";
  if (!message.empty()) text += ": " + message;
  switch (status) {
    case 400:
    case 413:
    case 422: return InvalidArgumentError(text);
    case 401: return Status(StatusCode::kUnauthenticated, text);
    case 403: return PermissionDeniedError(text);
    case 404: return NotFoundError(text);
    case 429: return ResourceExhaustedError(text);
    default: break;
  }
  if (status >= 500 || status == 408 || status == 409 || status == 425) return UnavailableError(text);
  return FailedPreconditionError(text);
}

bool Retryable(int status) { return status == 408 || status == 409 || status == 425 || status == 429 || status >= 500; }

}  // namespace

asio::awaitable<Result<http::Response>> PostJson(const ProviderOptions& options, std::string url,
                                                 std::vector<http::Header> headers, std::string body,
                                                 const ModelRequest& request,
                                                 std::function<void(std::string_view)> on_body, int& exchanges) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  headers.push_back({"Content-Type", "application/json"});
  for (const http::Header& h : options.extra_headers) headers.push_back(h);
  int64_t backoff = options.backoff_ms;
  for (int attempt = 0;; ++attempt) {
    http::Request req;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.timeout_ms = request.timeout_ms;
    req.on_body = on_body;
    ++exchanges;
    Result<http::Response> r = co_await options.http->Send(std::move(req));
    int64_t wait_ms = -1;
    Status failure;
    if (r.ok()) {
      if (r->status >= 200 && r->status < 300) co_return r;
      failure = StatusFor(r->status, r->body, url);
      if (!Retryable(r->status)) co_return failure;
      wait_ms = http::RetryAfterMillis(*r, clock.NowMillis());
    } else {
      failure = r.status();
      if (!failure.retryable()) co_return failure;
    }
    if (attempt >= options.max_retries) co_return failure;
    if (wait_ms < 0) {
      wait_ms = backoff;
      backoff = std::min(backoff * 2, options.max_backoff_ms);
    }
    wait_ms = std::min(wait_ms, options.max_backoff_ms);
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(wait_ms));
    try {
      co_await timer.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error&) {
      co_return Status(StatusCode::kCancelled, "cancelled while waiting to retry the model provider");
    }
  }
}

void FinishResponse(const ModelRequest& request, std::chrono::steady_clock::time_point start, ModelResponse& out) {
  if (out.usage.input_tokens == 0 && out.usage.output_tokens == 0) {
    out.usage.estimated = true;
    for (const Message& m : request.messages) out.usage.input_tokens += EstimateTokens(m.content);
    out.usage.output_tokens = EstimateTokens(out.text);
  }
  out.latency_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

void SseReader::Feed(std::string_view chunk) {
  pending_.append(chunk);
  size_t start = 0;
  for (;;) {
    size_t nl = pending_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(pending_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = nl + 1;
    if (line.empty()) {  // end of an event
      if (!data_.empty()) {
        on_data_(data_);
        data_.clear();
      }
      continue;
    }
    if (line.starts_with("data:")) {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      if (!data_.empty()) data_ += '\n';
      data_.append(line);
    }
  }
  pending_.erase(0, start);
}

}  // namespace weft::ai::internal

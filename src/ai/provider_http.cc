#include "provider_http.h"

#include <chrono>

#include "weft/core/json.h"
#include "weft/http/retry.h"

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

asio::awaitable<Result<http::Response>> PostJson(const ProviderOptions& options, std::string url,
                                                 std::vector<http::Header> headers, std::string body,
                                                 const ModelRequest& request,
                                                 std::function<void(std::string_view)> on_body, int& exchanges) {
  http::Request req;
  req.method = "POST";
  req.url = url;
  req.headers = std::move(headers);
  req.headers.push_back({"Content-Type", "application/json"});
  for (const http::Header& h : options.extra_headers) req.headers.push_back(h);
  req.body = std::move(body);
  req.timeout_ms = request.timeout_ms;
  req.on_body = std::move(on_body);
  const http::RetryPolicy policy{options.max_retries, options.backoff_ms, options.max_backoff_ms, options.clock};
  Result<http::Response> r = co_await http::SendWithRetries(*options.http, std::move(req), policy, &exchanges);
  if (!r.ok() || (r->status >= 200 && r->status < 300)) co_return r;
  std::string message = ProviderErrorMessage(r->body);
  if (message.empty()) message = r->body.substr(0, 300);
  std::string text = "model provider answered HTTP " + std::to_string(r->status) + " (" + url + ")";
  if (!message.empty()) text += ": " + message;
  co_return http::StatusForHttp(r->status, std::move(text));
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

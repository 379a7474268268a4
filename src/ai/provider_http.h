// What the provider clients share: one JSON POST with the retry policy of
// ProviderOptions, error mapping from HTTP statuses, and a reader for
// server-sent events.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "weft/ai/provider.h"

namespace weft::ai::internal {

// POSTs `body` to `url`. A 2xx response is returned; 429, 5xx and
// connection failures are retried (after Retry-After when given); any other
// status becomes the Status its code means, with the provider's message.
// `exchanges` counts the HTTP exchanges made.
boost::asio::awaitable<Result<http::Response>> PostJson(const ProviderOptions& options, std::string url,
                                                        std::vector<http::Header> headers, std::string body,
                                                        const ModelRequest& request,
                                                        std::function<void(std::string_view)> on_body, int& exchanges);

// Splits a server-sent event stream into the `data:` payloads of its events.
class SseReader {
 public:
  explicit SseReader(std::function<void(std::string_view data)> on_data) : on_data_(std::move(on_data)) {}
  void Feed(std::string_view chunk);

 private:
  std::function<void(std::string_view)> on_data_;
  std::string pending_;
  std::string data_;
};

// Completes a response the same way for every provider: usage estimated
// from the text when the provider reported none, latency since `start`.
void FinishResponse(const ModelRequest& request, std::chrono::steady_clock::time_point start, ModelResponse& out);

// "" when `body` is no provider error document.
std::string ProviderErrorMessage(std::string_view body);

}  // namespace weft::ai::internal

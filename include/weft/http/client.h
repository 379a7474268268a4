// weft::http::Client: outbound HTTP for model providers and actions.
//
// One client serves any number of concurrent requests from one event-loop
// thread of its own (libcurl's multi interface driven by Asio): no thread per
// request, connections kept alive and reused between requests to the same
// host. Callers on any executor co_await Send; the result comes back on the
// caller's executor, and cancelling the awaiting operation (a step timeout,
// a cancelled run) aborts the transfer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"

namespace weft::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
  int64_t timeout_ms = 30'000;  // the whole exchange; 0 = none
  int64_t connect_timeout_ms = 10'000;
  size_t max_response_bytes = 16u << 20;  // a larger body fails with OutOfRange
  // When set, the body is handed over chunk by chunk as it arrives (server-
  // sent events) instead of being kept in Response::body.
  std::function<void(std::string_view chunk)> on_body;
  // The SSRF guard: refuse to connect to a non-public address (see
  // address.h), checked on the address a name resolved to, as it is
  // connected to, and again on the connection the request is sent on (a
  // kept-alive one opened by a request that could reach private addresses
  // included). The call then fails with PermissionDenied.
  bool public_only = false;
  // Connect directly, never through a proxy named by the environment
  // (http_proxy, HTTPS_PROXY, ALL_PROXY). A call under the SSRF guard is
  // always direct: through a proxy the guard would see only the proxy.
  bool direct = false;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  int64_t elapsed_ms = 0;
  // The first header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

class Client {
 public:
  virtual ~Client() = default;
  // Any HTTP status is a Response. Errors: Unavailable when the connection
  // failed or dropped (a retry may help), DeadlineExceeded on timeout,
  // OutOfRange for a body over the limit, InvalidArgument for a bad URL,
  // Cancelled when the awaiting operation was cancelled. `on_body` runs on
  // the client's thread while the caller waits.
  virtual boost::asio::awaitable<Result<Response>> Send(Request request) = 0;
};

// A client on libcurl with its own event-loop thread.
std::unique_ptr<Client> NewCurlClient();

// Retry-After (seconds, or an HTTP date) in milliseconds from `now_ms`;
// -1 when absent or unreadable.
int64_t RetryAfterMillis(const Response& response, int64_t now_ms);

}  // namespace weft::http

#include "weft/http/retry.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>

namespace weft::http {

namespace asio = boost::asio;

bool RetryableStatus(int status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

Status StatusForHttp(int status, std::string message) {
  switch (status) {
    case 400:
    case 413:
    case 422: return InvalidArgumentError(std::move(message));
    case 401: return Status(StatusCode::kUnauthenticated, std::move(message));
    case 403: return PermissionDeniedError(std::move(message));
    case 404: return NotFoundError(std::move(message));
    case 429: return ResourceExhaustedError(std::move(message));
    default: break;
  }
  if (status >= 500 || status == 408 || status == 425) return UnavailableError(std::move(message));
  return FailedPreconditionError(std::move(message));
}

asio::awaitable<Result<Response>> SendWithRetries(Client& client, Request request, const RetryPolicy& policy,
                                                  int* sends) {
  const Clock& clock = policy.clock != nullptr ? *policy.clock : SystemClock::Instance();
  int64_t backoff = policy.backoff_ms;
  for (int attempt = 0;; ++attempt) {
    if (sends != nullptr) ++*sends;
    const bool last = attempt >= policy.max_retries;
    Request copy = request;
    Result<Response> r = co_await client.Send(std::move(copy));
    int64_t wait_ms = -1;
    if (r.ok()) {
      if (!RetryableStatus(r->status)) co_return r;
      wait_ms = RetryAfterMillis(*r, clock.NowMillis());
    } else if (!r.status().retryable()) {
      co_return r;
    }
    if (last) co_return r;
    if (wait_ms < 0) {
      wait_ms = backoff;
      backoff = std::min(backoff * 2, policy.max_backoff_ms);
    }
    wait_ms = std::min(wait_ms, policy.max_backoff_ms);
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(wait_ms));
    try {
      co_await timer.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error&) {
      co_return Status(StatusCode::kCancelled, "cancelled while waiting to send again");
    }
  }
}

}  // namespace weft::http

// Sending again what failed for a reason that may pass: connection
// failures, 408, 425, 429 and 5xx answers. Retry-After is honoured when the
// server gives it; otherwise the wait doubles from `backoff_ms`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "weft/core/clock.h"
#include "weft/core/status.h"
#include "weft/http/client.h"

namespace weft::http {

struct RetryPolicy {
  int max_retries = 3;  // sends after the first
  int64_t backoff_ms = 200;
  int64_t max_backoff_ms = 30'000;  // also caps a Retry-After
  const Clock* clock = nullptr;     // reads Retry-After dates; SystemClock when null
};

// Whether an answer with this status may succeed when sent again.
bool RetryableStatus(int status);

// What an HTTP status means as a Status: 400/413/422 InvalidArgument, 401
// Unauthenticated, 403 PermissionDenied, 404 NotFound, 429
// ResourceExhausted, 5xx/408/425 Unavailable, others FailedPrecondition.
Status StatusForHttp(int status, std::string message);

// The last response (of any status) or the last transport error. Waiting
// between sends ends early with Cancelled when the caller is cancelled.
// `sends` (optional) counts the requests made.
boost::asio::awaitable<Result<Response>> SendWithRetries(Client& client, Request request, const RetryPolicy& policy,
                                                         int* sends = nullptr);

}  // namespace weft::http

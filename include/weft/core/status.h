// weft::Status and weft::Result<T>: the one error type used across weft.
//
// A Status carries a code and a message. The code says what kind of failure it
// is and, through IsRetryable(), whether trying again can help: a workflow step
// that failed with kUnavailable or kDeadlineExceeded is retried, one that failed
// with kInvalidArgument or kPermissionDenied is not.
//
// Messages read as a chain from effect to cause: each layer that passes an
// error up prepends what it was doing ("loading flow.yaml: line 3: ...").
//
// Status and Result are value types; they are cheap to move and safe to copy.
#pragma once

#include <cassert>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace weft {

enum class StatusCode : int {
  kOk = 0,
  kCancelled,         // the caller asked to stop
  kInvalidArgument,   // bad input from a user: file, request, expression
  kDeadlineExceeded,  // ran out of time; retrying may help
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,   // quota, rate limit, memory; retrying later may help
  kFailedPrecondition,  // system not in the state needed; fix state, not retry
  kAborted,             // concurrency conflict; retrying may help
  kOutOfRange,
  kUnimplemented,
  kInternal,     // a broken invariant: a bug in weft
  kUnavailable,  // transient outage; retrying helps
  kUnauthenticated,
};

// Name of the code, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);
// The inverse of StatusCodeName ("UNAVAILABLE" -> kUnavailable); nullopt for
// any other text (as stored in run history or written in workflow files).
std::optional<StatusCode> ParseStatusCode(std::string_view name);

// True when the same operation may succeed if tried again later.
bool IsRetryable(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return IsRetryable(code_); }

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) { return a.code_ == b.code_ && a.message_ == b.message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace weft

#define WEFT_CONCAT_INNER_(a, b) a##b
#define WEFT_CONCAT_(a, b) WEFT_CONCAT_INNER_(a, b)

// Returns the status from the current function if it is not OK.
#define WEFT_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::weft::Status weft_status_ = (expr);        \
    if (!weft_status_.ok()) return weft_status_; \
  } while (0)

// Declares `lhs` from a Result expression, or returns its error. (`lhs` is a
// declaration, so it cannot be parenthesized.)
#define WEFT_ASSIGN_OR_RETURN(lhs, expr)                                                                \
  auto WEFT_CONCAT_(weft_result_, __LINE__) = (expr);                                                   \
  if (!WEFT_CONCAT_(weft_result_, __LINE__).ok()) return WEFT_CONCAT_(weft_result_, __LINE__).status(); \
  lhs = std::move(WEFT_CONCAT_(weft_result_, __LINE__)).value()  // NOLINT(bugprone-macro-parentheses)

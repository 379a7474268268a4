// libcurl's multi interface on an Asio event loop: curl tells which sockets
// to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it up
// (CURLMOPT_TIMERFUNCTION); Asio waits and calls curl_multi_socket_action.
// Everything that touches the multi handle runs on the client's one thread.
#include <curl/curl.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "weft/core/courier.h"
#include "weft/core/numeric_cast.h"
#include "weft/http/address.h"
#include "weft/http/client.h"

namespace weft::http {
namespace {

namespace asio = boost::asio;

// Where a transfer's result goes: set on the caller's executor, which the
// waiting Send is woken on.
struct Pending {
  explicit Pending(const asio::any_io_executor& ex) : done(ex, 1) {}
  std::optional<Result<Response>> result;
  asio::experimental::channel<void(boost::system::error_code)> done;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

struct Transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  Request request;
  Response response;
  std::shared_ptr<Pending> pending;
  std::unique_ptr<Courier> courier;  // to the caller's executor: where the result is delivered
  size_t received = 0;
  bool too_big = false;
  std::string refused;  // an address the SSRF guard refused
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->received += n;
  if (t->received > t->request.max_response_bytes) {
    t->too_big = true;
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
  }
  if (t->request.on_body) {
    t->request.on_body(std::string_view(data, n));
  } else {
    t->response.body.append(data, n);
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue, say)
    return n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response.headers.push_back(
        Header{std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1)))});
  }
  return n;
}

// The SSRF guard (Request::public_only): sees each address before curl
// connects to it.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && !IsPublicAddress(&address->addr)) {
    t->refused = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// ... and the address of the connection a request is about to be sent on,
// new or reused: a connection kept alive by a request that could reach
// private addresses must not carry one that cannot.
int OnPrereq(void* user, char* primary_ip, char* /*local_ip*/, int /*primary_port*/, int /*local_port*/) {
  auto* t = static_cast<Transfer*>(user);
  if (!IsPublicIpLiteral(primary_ip).value_or(false)) {
    t->refused = primary_ip;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

Status TransferError(const Transfer& t, CURLcode code) {
  std::string what = t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(code));
  std::string where = t.request.method + " " + t.request.url + ": ";
  if (!t.refused.empty()) {
    return PermissionDeniedError(where + "refused to connect to " + t.refused +
                                 ", a loopback, private or link-local address (the workflow does not allow them)");
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(where + "timed out after " + std::to_string(t.request.timeout_ms) + " ms (" + what +
                                   ")");
    case CURLE_WRITE_ERROR:
      if (t.too_big) {
        return Status(StatusCode::kOutOfRange,
                      where + "response body larger than " + std::to_string(t.request.max_response_bytes) + " bytes");
      }
      return InternalError(where + what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT: return InvalidArgumentError(where + what);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return UnavailableError(where + what);
    default: return UnavailableError(where + what + " (curl error " + std::to_string(code) + ")");
  }
}

class CurlClient final : public Client {
 public:
  CurlClient() : work_(asio::make_work_guard(io_)), timer_(io_) {
    static std::once_flag global;
    std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlClient::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlClient::OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 256L);
    // Beyond this many connections to one host, requests queue for a free
    // one (a burst of runs must not open a thousand sockets to one API).
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~CurlClient() override {
    asio::post(io_, [this] {
      while (!transfers_.empty()) Finish(*transfers_.begin()->second, Status(StatusCode::kCancelled, "client closed"));
      curl_multi_cleanup(multi_);  // closes cached connections (their sockets are released below)
      multi_ = nullptr;
      for (auto& [fd, watch] : sockets_) (void)watch->descriptor.release();
      sockets_.clear();
      deadline_ = std::chrono::steady_clock::time_point::max();  // a timer still firing arms nothing
      timer_.cancel();
      work_.reset();
    });
    thread_.join();
  }

  asio::awaitable<Result<Response>> Send(Request request) override {
    asio::any_io_executor ex = co_await asio::this_coro::executor;
    auto pending = std::make_shared<Pending>(ex);
    const uint64_t id = Start(std::move(request), pending, ex);
    boost::system::error_code ec;
    co_await pending->done.async_receive(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !pending->result) {
      // Cancelled while waiting (a step timeout, a cancelled run): stop the transfer.
      asio::post(io_, [this, id] {
        auto it = transfers_.find(id);
        if (it != transfers_.end()) Finish(*it->second, Status(StatusCode::kCancelled, "request cancelled"));
      });
      co_return Status(StatusCode::kCancelled, "request cancelled");
    }
    co_return std::move(*pending->result);
  }

 private:
  struct Watch {
    explicit Watch(asio::io_context& io, curl_socket_t fd, uint64_t gen) : descriptor(io, fd), generation(gen) {}
    asio::posix::stream_descriptor descriptor;
    uint64_t generation;
    int wanted = 0;  // CURL_POLL_IN / OUT / INOUT
    bool reading = false;
    bool writing = false;
  };

  // On the caller's thread: prepare the easy handle, then hand it over.
  uint64_t Start(Request req, std::shared_ptr<Pending> pending, const asio::any_io_executor& ex) {
    auto t = std::make_unique<Transfer>();
    const uint64_t id = next_id_.fetch_add(1);
    t->id = id;
    t->request = std::move(req);
    t->pending = std::move(pending);
    // Work tracked: the caller's io_context keeps running until the result is in.
    t->courier = std::make_unique<Courier>(ex);
    if (Status s = Prepare(*t); !s.ok()) {
      Deliver(*t, s);
      return id;
    }
    asio::post(io_, [this, t = std::move(t)]() mutable {
      Transfer& ref = *t;
      transfers_[ref.id] = std::move(t);
      if (CURLMcode mc = curl_multi_add_handle(multi_, ref.easy); mc != CURLM_OK) {
        Finish(ref, InternalError(std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)), false);
      }
    });
    return id;
  }

  static Status Prepare(Transfer& t) {
    const Request& r = t.request;
    t.easy = curl_easy_init();
    if (t.easy == nullptr) return ResourceExhaustedError("curl_easy_init failed");
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_setopt(e, CURLOPT_URL, r.url.c_str()) != CURLE_OK) {
      return InvalidArgumentError("bad URL '" + r.url + "'");
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    if (r.public_only || r.direct)
      curl_easy_setopt(e, CURLOPT_PROXY, "");  // "": no proxy, whatever the environment says
    if (r.public_only) {
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
      curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &OnPrereq);
      curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);
    }
    if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET" || !r.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    for (const Header& h : r.headers) {
      if (h.name.find_first_of(":\r\n") != std::string::npos || h.value.find_first_of("\r\n") != std::string::npos) {
        return InvalidArgumentError("header '" + h.name + "' contains a line break or colon");
      }
      t.headers = curl_slist_append(t.headers, (h.name + ": " + h.value).c_str());
    }
    t.headers = curl_slist_append(t.headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    return Status::Ok();
  }

  // On the client's thread: complete a transfer and forget it.
  void Finish(Transfer& t, Result<Response> result, bool in_multi = true) {
    if (in_multi && multi_ != nullptr) curl_multi_remove_handle(multi_, t.easy);
    Deliver(t, std::move(result));
    transfers_.erase(t.id);  // destroys t
  }

  // Hands the result to the waiting Send, on the caller's executor.
  static void Deliver(Transfer& t, Result<Response> result) {
    t.courier->Deliver([p = std::move(t.pending), r = std::move(result)]() mutable {
      p->result.emplace(std::move(r));
      p->done.try_send(boost::system::error_code{});
    });
  }

  void CheckDone() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      const CURLcode code = msg->data.result;
      if (code != CURLE_OK) {
        Finish(*t, TransferError(*t, code));
        continue;
      }
      long status = 0;
      curl_off_t micros = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &micros);
      t->response.status = static_cast<int>(status);
      t->response.elapsed_ms = static_cast<int64_t>(micros / 1000);
      Response r = std::move(t->response);
      Finish(*t, std::move(r));
    }
  }

  void Act(curl_socket_t fd, int flags) {
    if (multi_ == nullptr) return;
    int running = 0;
    curl_multi_socket_action(multi_, fd, flags, &running);
    CheckDone();
  }

  static int OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* user, void* /*socketp*/) {
    auto* self = static_cast<CurlClient*>(user);
    if (what == CURL_POLL_REMOVE) {
      auto it = self->sockets_.find(fd);
      if (it != self->sockets_.end()) {
        (void)it->second->descriptor.release();  // curl closes the socket itself
        self->sockets_.erase(it);
      }
      return 0;
    }
    auto& slot = self->sockets_[fd];
    if (!slot) slot = std::make_unique<Watch>(self->io_, fd, ++self->generation_);
    slot->wanted = what;
    self->Arm(fd, *slot);
    return 0;
  }

  void Arm(curl_socket_t fd, Watch& w) {
    const uint64_t gen = w.generation;
    if ((w.wanted & CURL_POLL_IN) != 0 && !w.reading) {
      w.reading = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                              [this, fd, gen](boost::system::error_code ec) { Ready(fd, gen, CURL_CSELECT_IN, ec); });
    }
    if ((w.wanted & CURL_POLL_OUT) != 0 && !w.writing) {
      w.writing = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                              [this, fd, gen](boost::system::error_code ec) { Ready(fd, gen, CURL_CSELECT_OUT, ec); });
    }
  }

  Watch* Find(curl_socket_t fd, uint64_t gen) {
    auto it = sockets_.find(fd);
    return it != sockets_.end() && it->second->generation == gen ? it->second.get() : nullptr;
  }

  void Ready(curl_socket_t fd, uint64_t gen, int flag, boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // the socket was removed (or the client is closing)
    Watch* w = Find(fd, gen);
    if (w == nullptr) return;
    (flag == CURL_CSELECT_IN ? w->reading : w->writing) = false;
    Act(fd, ec ? CURL_CSELECT_ERR : flag);
    // curl may have removed the socket, or still want the event.
    if (Watch* again = Find(fd, gen)) Arm(fd, *again);
  }

  // curl moves its timer on nearly every call (each new transfer sets it to
  // 0, each response pushes it out); re-arming an Asio timer each time is a
  // timerfd_settime system call, which was a quarter of the client's time.
  // So: "now" is a posted call, a later deadline waits for the armed timer
  // to fire and re-arms then, only an earlier one re-arms at once.
  static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* user) {
    auto* self = static_cast<CurlClient*>(user);
    using Clock = std::chrono::steady_clock;
    if (timeout_ms < 0) {
      self->deadline_ = Clock::time_point::max();
    } else if (timeout_ms == 0) {
      self->deadline_ = Clock::time_point::max();
      if (!self->timeout_posted_) {
        self->timeout_posted_ = true;
        asio::post(self->io_, [self] {
          self->timeout_posted_ = false;
          self->Act(CURL_SOCKET_TIMEOUT, 0);
        });
      }
    } else {
      // At most a day ahead (then curl is asked again): a request's timeout
      // can be as large as a long, and a clock plus that overflows.
      self->deadline_ = Clock::now() + std::chrono::milliseconds(std::min<long>(timeout_ms, 86'400'000L));
      if (self->deadline_ < self->armed_until_) self->ArmTimer();
    }
    return 0;
  }

  void ArmTimer() {
    armed_until_ = deadline_;
    const uint64_t gen = ++timer_generation_;
    timer_.expires_at(deadline_);
    timer_.async_wait([this, gen](boost::system::error_code ec) {
      if (ec || gen != timer_generation_) return;  // re-armed meanwhile
      armed_until_ = std::chrono::steady_clock::time_point::max();
      if (deadline_ == std::chrono::steady_clock::time_point::max()) return;
      if (std::chrono::steady_clock::now() < deadline_) {
        ArmTimer();  // the deadline moved out since this was armed
        return;
      }
      deadline_ = std::chrono::steady_clock::time_point::max();
      Act(CURL_SOCKET_TIMEOUT, 0);
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  // What curl asked for, and what timer_ is armed for (max: nothing).
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point armed_until_ = std::chrono::steady_clock::time_point::max();
  uint64_t timer_generation_ = 0;
  bool timeout_posted_ = false;
  CURLM* multi_ = nullptr;
  std::unordered_map<curl_socket_t, std::unique_ptr<Watch>> sockets_;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> next_id_{1};
  std::thread thread_;
};

}  // namespace

std::string_view Response::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

std::unique_ptr<Client> NewCurlClient() { return std::make_unique<CurlClient>(); }

int64_t RetryAfterMillis(const Response& response, int64_t now_ms) {
  std::string value(Trim(response.header("Retry-After")));
  if (value.empty()) return -1;
  if (value.find_first_not_of("0123456789.") == std::string::npos) {
    try {
      double seconds = std::stod(value);
      return seconds < 0 ? -1 : SaturatingInt64(seconds * 1000);  // the server decides how large
    } catch (const std::exception&) {
      return -1;
    }
  }
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return -1;
  const int64_t at_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return at_ms > now_ms ? at_ms - now_ms : 0;
}

}  // namespace weft::http

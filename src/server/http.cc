#include "http.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <thread>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "byte_stream.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/core/log.h"

namespace weft::server {

namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone: return "none";
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
    case Role::kEditor: return "editor";
    case Role::kAdmin: return "admin";
  }
  return "none";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kEditor, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string Principal::Actor() const {
  if (!user.empty()) return "user:" + user;
  if (!key_id.empty()) return "key:" + key_id;
  return "anonymous";
}

namespace {
// A name against a pattern where '*' matches any run of characters.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}
}  // namespace

bool Principal::MaySee(std::string_view workflow) const {
  if (workflows.empty()) return true;
  return std::any_of(workflows.begin(), workflows.end(),
                     [workflow](const std::string& pattern) { return GlobMatch(pattern, workflow); });
}

std::string_view Request::cookie(std::string_view name) const {
  std::string_view all = header("Cookie");
  while (!all.empty()) {
    const size_t semi = all.find(';');
    std::string_view pair = TrimSpace(all.substr(0, semi));
    all = semi == std::string_view::npos ? std::string_view() : all.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::string_view Request::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

std::string Request::query_param(std::string_view name) const {
  std::map<std::string, std::string> q = ParseQuery(query);
  auto it = q.find(std::string(name));
  return it == q.end() ? "" : it->second;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool ForEachQueryPair(std::string_view text, const std::function<bool(std::string, std::string)>& f) {
  size_t start = 0;
  while (start < text.size()) {
    size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (!f(PercentDecode(pair.substr(0, eq), true),
           eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true))) {
      return false;
    }
  }
  return true;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  ForEachQueryPair(query, [&out](std::string key, std::string value) {
    out[std::move(key)] = std::move(value);
    return true;
  });
  return out;
}

Response Response::Json(int status, const Value& body) {
  Response r;
  r.status = status;
  r.body = ToJson(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::Error(int status, std::string_view code, std::string message, Value details) {
  Value e = Value::MakeObject();
  e.set("code", std::string(code));
  e.set("message", std::move(message));
  if (details.is_defined()) e.set("details", std::move(details));
  Value body = Value::MakeObject();
  body.set("error", std::move(e));
  return Json(status, body);
}

Response Response::FromStatus(const Status& status) {
  int http_status = 500;
  switch (status.code()) {
    case StatusCode::kOk: http_status = 200; break;
    case StatusCode::kInvalidArgument: http_status = 400; break;
    case StatusCode::kNotFound: http_status = 404; break;
    case StatusCode::kAlreadyExists: http_status = 409; break;
    case StatusCode::kFailedPrecondition: http_status = 409; break;
    case StatusCode::kPermissionDenied: http_status = 403; break;
    case StatusCode::kUnauthenticated: http_status = 401; break;
    case StatusCode::kResourceExhausted: http_status = 429; break;
    case StatusCode::kDeadlineExceeded: http_status = 504; break;
    case StatusCode::kUnavailable: http_status = 503; break;
    default: http_status = 500; break;
  }
  return Error(http_status, StatusCodeName(status.code()), status.message());
}

// One client connection: its stream lives on its own strand, so that Stop
// (on another thread) closes it through that strand.
struct HttpListener::Connection {
  Connection(Socket socket, std::shared_ptr<const Settings> s) : stream(std::move(socket)), settings(std::move(s)) {}
  Stream stream;  // under the TLS layer when there is one
  const std::shared_ptr<const Settings> settings;
  // 0: waiting for a request, 1: handling one, 2: streaming events.
  std::atomic<int> state{0};
  // A request's body was left unread (refused before reading it): closing
  // now would reset the connection and the client could lose the answer.
  bool unread_input = false;
};

namespace {

// Reads and drops what the client still sends, for a bounded time and size,
// so that closing does not reset the connection under the answer just
// written (a client still sending a refused body reads it once it is done).
asio::awaitable<void> DiscardInput(ByteStream& stream) {
  constexpr size_t kMaxBytes = 16 << 20;
  constexpr auto kMaxTime = std::chrono::seconds(2);
  stream.lowest().expires_after(kMaxTime);
  std::array<char, 16384> scratch;
  size_t total = 0;
  boost::system::error_code ec;
  while (total < kMaxBytes) {
    total += co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

// An event stream's writes.
class StreamIoOn final : public StreamIo {
 public:
  explicit StreamIoOn(ByteStream& stream) : stream_(stream) {}
  asio::awaitable<bool> Write(std::string_view data) override {
    auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(data), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }
  Socket& socket() override { return stream_.lowest().socket(); }

 private:
  ByteStream& stream_;
};

// A WebSocket's messages.
class WebSocketIoOn final : public WebSocketIo {
 public:
  explicit WebSocketIoOn(beast::websocket::stream<ByteStream&>& ws) : ws_(ws) {}
  asio::awaitable<std::optional<std::string>> Read() override {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
    co_return beast::buffers_to_string(buffer.data());
  }
  asio::awaitable<bool> Write(std::string text) override {
    ws_.text(true);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

 private:
  beast::websocket::stream<ByteStream&>& ws_;
};

// Upgrades the connection and serves the WebSocket until the session returns.
asio::awaitable<void> ServeWebSocket(ByteStream& stream, http::request<http::string_body> upgrade,
                                     const Response& response, const HttpLimits& limits) {
  namespace websocket = beast::websocket;
  // The WebSocket keeps its own time from here on.
  stream.lowest().expires_never();
  websocket::stream<ByteStream&> ws(stream);
  websocket::stream_base::timeout timeout;
  timeout.handshake_timeout = std::chrono::milliseconds(limits.header_timeout_ms);
  timeout.idle_timeout = std::chrono::milliseconds(limits.websocket_idle_timeout_ms);
  timeout.keep_alive_pings = true;
  ws.set_option(timeout);
  ws.set_option(
      websocket::stream_base::decorator([](websocket::response_type& res) { res.set(http::field::server, "weft"); }));
  ws.read_message_max(static_cast<uint64_t>(std::max<int64_t>(response.websocket_message_limit, 1)));
  auto [ec] = co_await ws.async_accept(upgrade, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  upgrade = {};
  WebSocketIoOn io(ws);
  co_await response.websocket(io);
  if (ws.is_open()) {
    auto [close_ec] = co_await ws.async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
    (void)close_ec;
  }
}

// OpenSSL's reason for the last failure ("" when it left none).
std::string OpenSslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return std::string(": ") + text;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> LoadTls(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return InvalidArgumentError("TLS needs both a certificate file (cert) and a key file (key)");
  }
  for (const std::string* path : {&cert_file, &key_file}) {
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(*path, fs_ec)) {
      return InvalidArgumentError("TLS " + std::string(path == &cert_file ? "certificate" : "key") + " file '" + *path +
                                  "' does not exist or is not a file");
    }
  }
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; the server's cipher order; no renegotiation.
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
  SSL_CTX_set_options(context->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(context->native_handle(), cert_file.c_str()) != 1) {
    return InvalidArgumentError("TLS certificate file '" + cert_file + "' is not a PEM certificate (chain)" +
                                OpenSslReason());
  }
  // The key is read first, so that a file that is no key and a key of
  // another certificate get different errors.
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(nullptr, &EVP_PKEY_free);
  if (std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_file(key_file.c_str(), "r"), &BIO_free); bio != nullptr) {
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (key == nullptr) {
    return InvalidArgumentError("TLS key file '" + key_file + "' is not a PEM private key" + OpenSslReason());
  }
  if (SSL_CTX_use_PrivateKey(context->native_handle(), key.get()) != 1 ||
      SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return InvalidArgumentError("TLS key file '" + key_file + "' does not match the certificate in '" + cert_file +
                                "'" + OpenSslReason());
  }
  return context;
}

HttpListener::HttpListener(asio::any_io_executor executor, HttpLimits limits, HttpHandler& handler)
    // The engine's executor is an io_context's (Engine::executor()).
    : executor_(*executor.target<asio::io_context::executor_type>()),
      handler_(handler),
      acceptor_(asio::make_strand(executor_)),
      settings_(std::make_shared<const Settings>(Settings{std::move(limits), nullptr})) {}

HttpListener::~HttpListener() { Stop(0); }

std::shared_ptr<const HttpListener::Settings> HttpListener::settings() const {
  MutexLock lock(mu_);
  return settings_;
}

void HttpListener::Reconfigure(HttpLimits limits, std::shared_ptr<asio::ssl::context> tls) {
  auto next = std::make_shared<const Settings>(Settings{std::move(limits), std::move(tls)});
  MutexLock lock(mu_);
  settings_ = std::move(next);
}

bool HttpListener::tls() const { return settings()->tls != nullptr; }

Status HttpListener::Listen(const std::string& host, int port, std::shared_ptr<asio::ssl::context> tls) {
  if (tls) Reconfigure(settings()->limits, std::move(tls));
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("listen address '" + host + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accepting_ = 1;
  asio::post(acceptor_.get_executor(), [this] { AcceptNext(); });
  return Status::Ok();
}

// Each accepted connection gets its own strand and coroutine.
void HttpListener::AcceptNext() {
  acceptor_.async_accept(asio::make_strand(executor_), [this](boost::system::error_code ec, Socket socket) {
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) {
        accepting_ = 0;
        return;
      }
      // Out of descriptors and the like: wait a moment rather than spin.
      auto pause = std::make_shared<asio::steady_timer>(executor_, std::chrono::milliseconds(50));
      pause->async_wait([this, pause](boost::system::error_code) {
        asio::post(acceptor_.get_executor(), [this] {
          if (stopping_) {
            accepting_ = 0;
          } else {
            AcceptNext();
          }
        });
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::shared_ptr<const Settings> settings = this->settings();
    if (connections_.load() >= settings->limits.max_connections) {
      // Over the cap: a short refusal, read what the client sent (closing
      // with unread data would reset the connection before it reads the
      // answer), then the door.
      Strand strand = socket.get_executor();
      if (settings->tls) {
        socket.close(ec);  // no words before a handshake: the door
      } else {
        asio::co_spawn(strand, Refuse(std::move(socket)), asio::detached);
      }
    } else {
      auto connection = std::make_shared<Connection>(std::move(socket), std::move(settings));
      ++connections_;
      {
        MutexLock lock(mu_);
        open_[++next_id_] = connection;
      }
      Strand strand = connection->stream.get_executor();
      asio::co_spawn(strand, Serve(connection), [this](const std::exception_ptr& e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            Log(LogLevel::kError, std::string("connection error: ") + x.what());
          }
        }
        --connections_;
      });
    }
    if (stopping_) {
      accepting_ = 0;
    } else {
      AcceptNext();
    }
  });
}

asio::awaitable<void> HttpListener::Refuse(Socket socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: "
      "close\r\nContent-Length: 78\r\n\r\n{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"too many connections; "
      "retry later\"}}";
  Stream stream(std::move(socket));
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(1));
  co_await asio::async_write(stream, asio::buffer(kBusy), asio::redirect_error(asio::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  ec = {};
  char sink[1024];
  while (!ec) {
    stream.expires_after(std::chrono::seconds(1));
    co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
  stream.close();
}

namespace {

bool AddressIn(const std::string& address, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), address) != list.end();
}

}  // namespace

asio::awaitable<void> HttpListener::Serve(std::shared_ptr<Connection> connection) {
  // Forget this connection when it ends, whichever way.
  struct Forget {
    HttpListener* self;
    Connection* c;
    ~Forget() {
      MutexLock lock(self->mu_);
      for (auto it = self->open_.begin(); it != self->open_.end(); ++it) {
        if (it->second.expired() || it->second.lock().get() == c) {
          self->open_.erase(it);
          break;
        }
      }
    }
  } forget{this, connection.get()};
  Stream& stream = connection->stream;
  boost::system::error_code ec;
  if (const std::shared_ptr<asio::ssl::context>& context = connection->settings->tls) {
    TlsBytes bytes(stream, *context);
    // The handshake is part of the request's head: the same deadline.
    stream.expires_after(std::chrono::milliseconds(connection->settings->limits.header_timeout_ms));
    co_await bytes.tls().async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await ServeRequests(*connection, bytes);
      if (connection->unread_input) {
        connection->state = 0;  // Stop closes it at once
        co_await DiscardInput(bytes);
      }
      stream.expires_after(std::chrono::seconds(1));
      co_await bytes.tls().async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  } else {
    PlainBytes bytes(stream);
    co_await ServeRequests(*connection, bytes);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (connection->unread_input && !ec) {
      connection->state = 0;  // Stop closes it at once
      co_await DiscardInput(bytes);
    }
  }
  stream.close();
}

asio::awaitable<void> HttpListener::ServeRequests(Connection& connection, ByteStream& stream) {
  const HttpLimits& limits = connection.settings->limits;
  Stream& lowest = stream.lowest();
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  std::string peer;
  if (auto ep = lowest.socket().remote_endpoint(ec); !ec) peer = ep.address().to_string();
  const bool peer_trusted = AddressIn(peer, limits.trusted_proxies);
  const bool tls = connection.settings->tls != nullptr;

  while (!stopping_) {
    connection.state = 0;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(limits.header_limit_bytes));
    // The route's limit is set once the headers say which route it is.
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    lowest.expires_after(std::chrono::milliseconds(limits.header_timeout_ms));
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
        // The deadline passed (or Stop closed the socket): nothing to answer.
      } else if (ec == http::error::header_limit) {
        http::response<http::string_body> res{http::status::request_header_fields_too_large, 11};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::connection, "close");
        res.body() = R"({"error":{"code":"INVALID_ARGUMENT","message":"request headers too large"}})";
        res.prepare_payload();
        lowest.expires_after(std::chrono::milliseconds(limits.write_timeout_ms));
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      } else if (ec != http::error::end_of_stream && ec != asio::error::connection_reset && buffer.size() > 0) {
        // A malformed request line or header: say so, then close.
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::connection, "close");
        std::string message = "malformed HTTP request: " + ec.message();
        res.body() = R"({"error":{"code":"INVALID_ARGUMENT","message":)";
        AppendJsonString(res.body(), message);
        res.body() += "}}";
        res.prepare_payload();
        lowest.expires_after(std::chrono::milliseconds(limits.write_timeout_ms));
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      }
      break;
    }
    connection.state = 1;
    const auto& head = parser.get();
    Request request;
    request.method = head.method();
    request.method_text = std::string(head.method_string());
    request.target = std::string(head.target());
    const size_t q = request.target.find('?');
    request.path = PercentDecode(std::string_view(request.target).substr(0, q), false);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    request.headers = head.base();
    request.client = peer;
    request.secure = tls;
    if (peer_trusted) {
      // The client is the last address not of a trusted proxy.
      std::string_view forwarded = request.header("X-Forwarded-For");
      while (!forwarded.empty()) {
        const size_t comma = forwarded.rfind(',');
        const std::string hop(TrimSpace(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1)));
        forwarded = comma == std::string_view::npos ? std::string_view() : forwarded.substr(0, comma);
        if (!hop.empty()) request.client = hop;
        if (!AddressIn(hop, limits.trusted_proxies)) break;
      }
      if (!tls) request.secure = request.header("X-Forwarded-Proto") == "https";
    }
    const int64_t limit = handler_.BodyLimit(request);
    Response response;
    bool read_body = true;
    if (limit < 0) {
      response = Response::Error(404, "NOT_FOUND", "no route for " + request.method_text + " " + request.path);
      read_body = parser.content_length().value_or(0) == 0 && !parser.chunked();
    } else if (parser.content_length() && *parser.content_length() > static_cast<uint64_t>(limit)) {
      response = Response::Error(413, "INVALID_ARGUMENT",
                                 "request body of " + std::to_string(*parser.content_length()) +
                                     " bytes is over this route's limit of " + std::to_string(limit));
      read_body = false;
    } else {
      parser.body_limit(static_cast<uint64_t>(limit));
      if (head[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        lowest.expires_after(std::chrono::milliseconds(limits.write_timeout_ms));
        co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      // A small body usually came with the header: it is parsed from the
      // buffer, without another read (and its timer).
      if (buffer.size() > 0 && !parser.is_done()) {
        parser.eager(true);
        buffer.consume(parser.put(buffer.data(), ec));
        if (ec == http::error::need_more) ec = {};
      }
      if (!ec && !parser.is_done()) {
        lowest.expires_after(std::chrono::milliseconds(limits.body_timeout_ms));
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == http::error::body_limit) {
        response = Response::Error(413, "INVALID_ARGUMENT",
                                   "request body is over this route's limit of " + std::to_string(limit) + " bytes");
        read_body = false;
      } else if (ec) {
        break;  // timed out or went away mid-body: nothing was handled
      } else {
        request.body = std::move(parser.get().body());
        response = co_await handler_.Handle(request);
      }
    }
    if (response.websocket && !beast::websocket::is_upgrade(parser.get())) {
      response = Response::Error(426, "FAILED_PRECONDITION", "this route speaks WebSocket: send an upgrade request");
      response.headers.emplace_back("Upgrade", "websocket");
    }
    // The connection stays open only when the rest of the request was read.
    const bool keep_alive = read_body && parser.keep_alive() && !stopping_;
    connection.unread_input = !read_body;
    http::response<http::string_body> res{static_cast<http::status>(response.status), 11};
    res.set(http::field::server, "weft");
    res.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    if (response.websocket) {
      connection.state = 2;
      // A WebSocket may stay open for days: what the request needed goes
      // now (the client sends nothing before the handshake's answer, so the
      // read buffer holds nothing of the socket's).
      res = {};
      request = Request();
      buffer.clear();
      buffer.shrink_to_fit();
      co_await ServeWebSocket(stream, parser.release(), response, limits);
      break;
    }
    if (response.stream) {
      connection.state = 2;
      res.set(http::field::cache_control, "no-store");
      res.set(http::field::connection, "close");
      http::response_serializer<http::string_body> serializer(res);
      lowest.expires_after(std::chrono::milliseconds(limits.write_timeout_ms));
      co_await http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      lowest.expires_never();
      // A stream may stay open for days: what the request needed goes now
      // (this frame stays alive while it streams).
      buffer.clear();
      buffer.shrink_to_fit();
      request = Request();
      (void)parser.release();
      res = {};
      StreamIoOn io(stream);
      co_await response.stream(io);
      break;
    }
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    lowest.expires_after(std::chrono::milliseconds(limits.write_timeout_ms));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
}

void HttpListener::Stop(int64_t drain_ms) {
  if (stopping_.exchange(true)) {
    if (accepting_ == 0 && connections_ == 0) return;
  }
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  // Idle connections and event streams close now; a connection handling a
  // request finishes it first (the loop sees stopping_).
  const auto close_where = [this](auto&& pred) {
    std::vector<std::shared_ptr<Connection>> open;
    {
      MutexLock lock(mu_);
      for (auto& [id, weak] : open_) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    for (auto& c : open) {
      if (!pred(*c)) continue;
      asio::post(c->stream.get_executor(), [c] { c->stream.close(); });
    }
  };
  close_where([](const Connection& c) { return c.state != 1; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while ((connections_ > 0 || accepting_ != 0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    close_where([](const Connection& c) { return c.state != 1; });
  }
  // Past the drain: everything closes.
  while (connections_ > 0 || accepting_ != 0) {
    close_where([](const Connection&) { return true; });
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace weft::server

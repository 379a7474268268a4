// The HTTP/1.1 layer of the server: requests and responses as handlers see
// them, and the listener that reads them with Beast under limits (header
// size, body size per route, header/body/write timeouts, a connection cap),
// keep-alive and pipelining.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/core/mutex.h"
#include "weft/core/status.h"
#include "weft/core/value.h"

namespace boost::asio::ssl {
class context;  // <boost/asio/ssl/context.hpp>, kept out of the server's other files
}

namespace weft::server {

namespace asio = boost::asio;
namespace beast = boost::beast;

class ByteStream;  // byte_stream.h: a connection's bytes, plain or under TLS

enum class Role : uint8_t { kNone, kViewer, kOperator, kEditor, kAdmin };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Who is calling (after authentication).
struct Principal {
  Role role = Role::kNone;
  std::string key_id;        // the API key's id
  std::string user;          // the signed-in user (a browser session)
  std::string session_hash;  // that session's token hash
  std::string csrf_token;    // that session's CSRF token
  // The workflows a user's grants allow ("*" wildcards); empty = every one.
  std::vector<std::string> workflows;

  // For the audit log: "user:alice", "key:3f2a", "anonymous".
  std::string Actor() const;
  bool MaySee(std::string_view workflow) const;
};

struct Request {
  beast::http::verb method = beast::http::verb::get;
  std::string method_text;
  std::string target;  // as sent
  std::string path;    // decoded, without the query
  std::string query;   // raw, after '?'
  beast::http::fields headers;
  std::string body;
  std::string client;                         // the client's address (X-Forwarded-For from a trusted proxy)
  bool secure = false;                        // https (or X-Forwarded-Proto: https from a trusted proxy)
  std::map<std::string, std::string> params;  // the route's {placeholders}
  Principal principal;

  std::string_view header(std::string_view name) const;  // "" when absent
  // A cookie's value ("" when absent).
  std::string_view cookie(std::string_view name) const;
  // A query parameter, percent-decoded ("" when absent).
  std::string query_param(std::string_view name) const;
};

// Each connection's stream works on its own strand of the engine's
// io_context (a concrete strand type: no type erasure on every operation),
// with Beast's deadline per operation.
using Strand = asio::strand<asio::io_context::executor_type>;
using Stream = beast::basic_stream<asio::ip::tcp, Strand>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Strand>;

// What a streaming response writes to: the connection, plain or TLS.
class StreamIo {
 public:
  virtual ~StreamIo() = default;
  // Writes all of `data`; false when the client is gone.
  virtual asio::awaitable<bool> Write(std::string_view data) = 0;
  // The TCP socket under the stream (readable when the client closes).
  virtual Socket& socket() = 0;
};

// Writes Server-Sent Events to a client until the client leaves or the
// server stops (returns then).
using Streamer = std::function<asio::awaitable<void>(StreamIo& io)>;

// A WebSocket connection after the upgrade: messages both ways. One Read
// and one Write may be under way at the same time, not two of either.
class WebSocketIo {
 public:
  virtual ~WebSocketIo() = default;
  // The next message (text or binary); nullopt once the client closed,
  // sent one over the route's limit, stopped answering pings, or the
  // server stops.
  virtual asio::awaitable<std::optional<std::string>> Read() = 0;
  // Sends one text message; false when the client is gone.
  virtual asio::awaitable<bool> Write(std::string text) = 0;
};
// Serves a WebSocket until it returns; the connection is closed then.
using WebSocketSession = std::function<asio::awaitable<void>(WebSocketIo& io)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the head is written with chunked encoding and this writes the
  // rest (SSE).
  Streamer stream;
  // When set, the request (which must ask for it: 426 otherwise) is
  // upgraded to a WebSocket served by this, with messages up to
  // `websocket_message_limit` bytes.
  WebSocketSession websocket;
  int64_t websocket_message_limit = int64_t{64} * 1024;

  static Response Json(int status, const Value& body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // {"error": {"code", "message", "details"}} (details left out when undefined).
  static Response Error(int status, std::string_view code, std::string message, Value details = Value());
  // The HTTP status for a Status' code, and its error body.
  static Response FromStatus(const Status& status);
};

// The TLS context serving the certificate chain and private key of these
// PEM files: errors name the file and what is wrong with it (missing, not
// PEM, a key that does not match the certificate).
Result<std::shared_ptr<asio::ssl::context>> LoadTls(const std::string& cert_file, const std::string& key_file);

struct HttpLimits {
  int max_connections = 10'000;
  int64_t header_limit_bytes = int64_t{16} * 1024;
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t write_timeout_ms = 30'000;
  // A WebSocket that sends nothing for half of this is pinged; one that does
  // not answer within the other half is closed.
  int64_t websocket_idle_timeout_ms = 60'000;
  std::vector<std::string> trusted_proxies;
};

// What the listener asks of the application for each request.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // The body limit of the request with these headers; -1 refuses it with
  // 404 before its body is read (an unknown route).
  virtual int64_t BodyLimit(const Request& head) = 0;
  virtual asio::awaitable<Response> Handle(Request& request) = 0;
};

class HttpListener {
 public:
  HttpListener(asio::any_io_executor executor, HttpLimits limits, HttpHandler& handler);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // `tls` (nullptr = plain HTTP) serves HTTPS on the port.
  Status Listen(const std::string& host, int port, std::shared_ptr<asio::ssl::context> tls = nullptr);
  int port() const { return port_; }
  // New limits and TLS context (a renewed certificate) for the connections
  // accepted from now on; open ones keep theirs.
  void Reconfigure(HttpLimits limits, std::shared_ptr<asio::ssl::context> tls);
  bool tls() const;
  // Stops accepting; connections finish the request they are in (up to
  // `drain_ms`), then every connection is closed. Blocks until then; must
  // not be called from the executor's threads.
  void Stop(int64_t drain_ms);

  int connections() const { return connections_.load(); }

 private:
  struct Connection;
  // What a connection is served with, fixed when it is accepted.
  struct Settings {
    HttpLimits limits;
    std::shared_ptr<asio::ssl::context> tls;
  };
  void AcceptNext();  // on the acceptor's strand
  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection);
  asio::awaitable<void> ServeRequests(Connection& connection, ByteStream& stream);

  asio::awaitable<void> Refuse(Socket socket);
  std::shared_ptr<const Settings> settings() const;

  asio::io_context::executor_type executor_;
  HttpHandler& handler_;
  asio::basic_socket_acceptor<asio::ip::tcp, Strand> acceptor_;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  std::shared_ptr<const Settings> settings_ WEFT_GUARDED_BY(mu_);
  std::map<uint64_t, std::weak_ptr<Connection>> open_ WEFT_GUARDED_BY(mu_);
  uint64_t next_id_ WEFT_GUARDED_BY(mu_) = 0;
  std::atomic<int> accepting_{0};
};

// Percent-decoding of a URL component ('+' as space when `plus_is_space`).
std::string PercentDecode(std::string_view s, bool plus_is_space);
// Calls `f(name, value)` with each decoded pair of "a=1&b=x+y" (a query or
// an urlencoded form) in order, until it returns false; returns whether it
// went through them all.
bool ForEachQueryPair(std::string_view text, const std::function<bool(std::string, std::string)>& f);
// "a=1&b=2" -> {a: "1", b: "2"} (a repeated name keeps the last).
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace weft::server

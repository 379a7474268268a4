#include "http_test_client.h"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "weft/core/encoding.h"

namespace weft::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string HttpReply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

namespace {

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

}  // namespace

HttpReply HttpCall(int port, const std::string& method, const std::string& target, const std::string& body,
                   const Headers& headers) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)), ec);
  HttpReply reply;
  if (ec) return reply;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return reply;
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(socket, buffer, parser, ec);
  if (ec) return reply;
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  for (const auto& f : res) reply.headers[weft::AsciiLower(f.name_string())] = std::string(f.value());
  reply.body = res.body();
  return reply;
}

std::string RawExchange(int port, const std::string& bytes, int read_timeout_ms) {
  return RawExchange(port, std::vector<std::string>{bytes}, 0, read_timeout_ms);
}

std::string RawExchange(int port, const std::vector<std::string>& pieces, int pause_ms, int read_timeout_ms) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)), ec);
  if (ec) return "";
  socket.set_option(tcp::no_delay(true), ec);
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    asio::write(socket, asio::buffer(pieces[i]), ec);
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(read_timeout_ms);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (!WaitReadable(socket.native_handle(), std::max(1, left))) break;
    const size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

struct SseClient::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  std::string pending;
};

SseClient::SseClient(int port, const std::string& target, const Headers& headers) : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)), ec);
  if (ec) return;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  asio::write(impl_->socket, asio::buffer(req), ec);
  // The head.
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (impl_->pending.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    if (!WaitReadable(impl_->socket.native_handle(), 100)) continue;
    const size_t n = impl_->socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    impl_->pending.append(buf, n);
  }
  const size_t end = impl_->pending.find("\r\n\r\n");
  if (end == std::string::npos) return;
  if (impl_->pending.rfind("HTTP/1.1 ", 0) == 0) status_ = std::atoi(impl_->pending.c_str() + 9);
  impl_->pending.erase(0, end + 4);
}

SseClient::~SseClient() = default;

std::optional<SseEvent> SseClient::Next(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    size_t end;
    while ((end = impl_->pending.find("\n\n")) != std::string::npos) {
      std::string block = impl_->pending.substr(0, end);
      impl_->pending.erase(0, end + 2);
      SseEvent e;
      bool any = false;
      size_t start = 0;
      while (start < block.size()) {
        size_t nl = block.find('\n', start);
        if (nl == std::string::npos) nl = block.size();
        std::string line = block.substr(start, nl - start);
        start = nl + 1;
        if (line.empty() || line[0] == ':') continue;
        const size_t colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") e.id = value, any = true;
        if (field == "event") e.event = value, any = true;
        if (field == "data") e.data += value, any = true;
      }
      if (any && !e.event.empty() && e.event != "retry") return e;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    if (!WaitReadable(impl_->socket.native_handle(), std::max(1, left))) return std::nullopt;
    boost::system::error_code ec;
    const size_t n = impl_->socket.read_some(asio::buffer(buf), ec);
    if (ec) return std::nullopt;
    impl_->pending.append(buf, n);
  }
}

}  // namespace weft::testing

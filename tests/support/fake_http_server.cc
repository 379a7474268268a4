#include "fake_http_server.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

namespace weft::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

void Sleep(int ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

std::string FakeRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

FakeResponse FakeResponse::Json(std::string body, int status) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

struct FakeHttpServer::Impl {
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::atomic<int> requests{0};
  std::mutex mu;
  struct Worker {
    std::thread thread;
    int fd = -1;  // -1 once the connection is closed
  };
  std::list<Worker> workers;

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      boost::system::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec) return;
      FakeRequest fr;
      fr.method = std::string(req.method_string());
      fr.target = std::string(req.target());
      fr.body = req.body();
      for (const auto& field : req)
        fr.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      FakeResponse out = handler(fr);
      Sleep(out.delay_ms);
      ++requests;
      if (out.drop) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      if (out.chunks.empty()) {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), req.version()};
        for (const auto& [k, v] : out.headers) res.set(k, v);
        res.body() = out.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        bhttp::write(socket, res, ec);
        if (ec || !req.keep_alive()) return;
        continue;
      }
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(out.status), req.version()};
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.chunked(true);
      res.keep_alive(false);
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      bhttp::write_header(socket, sr, ec);
      for (const std::string& chunk : out.chunks) {
        if (ec) return;
        Sleep(out.chunk_delay_ms);
        asio::write(socket, bhttp::make_chunk(asio::buffer(chunk)), ec);
      }
      if (!ec) asio::write(socket, bhttp::make_chunk_last(), ec);
      return;
    }
  }

  void AcceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (stopping) return;
      if (ec) continue;
      ++connections;
      std::lock_guard lock(mu);
      Worker& w = workers.emplace_back();
      w.fd = socket.native_handle();
      w.thread = std::thread([this, &w, s = std::move(socket)]() mutable {
        Serve(s);
        std::lock_guard done(mu);
        w.fd = -1;  // before the descriptor is closed and its number reused
        boost::system::error_code ignored;
        s.close(ignored);
      });
    }
  }
};

FakeHttpServer::FakeHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([this] { impl_->AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  impl_->stopping = true;
  // Wake the accept loop with one last connection, then unblock every
  // connection thread by shutting its socket down.
  {
    asio::io_context io;
    tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port())), ec);
  }
  impl_->accept_thread.join();
  {
    std::lock_guard lock(impl_->mu);
    for (auto& w : impl_->workers) {
      if (w.fd >= 0) ::shutdown(w.fd, SHUT_RDWR);
    }
  }
  for (auto& w : impl_->workers) w.thread.join();
}

int FakeHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string FakeHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port()); }
int FakeHttpServer::connections() const { return impl_->connections; }
int FakeHttpServer::requests() const { return impl_->requests; }

}  // namespace weft::testing

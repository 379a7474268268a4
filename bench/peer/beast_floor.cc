// durable_floor's webhook on the HTTP stack weft is built on: Boost.Beast
// over Asio C++20 coroutines, a strand per connection, a deadline on every
// read and write, one io_context run by N threads, and a writer thread that
// flushes the bodies grouped (pwrite + fdatasync) and then resumes each
// request's coroutine on its strand, as weft's store writer does. Nothing of
// weft's: no routing, workflow, JSON or database. Set beside durable_floor
// (the same durable write without Beast or Asio) and weft, it says what the
// stack costs and what weft costs above it (bench/RESULTS.md).
//
//   beast_floor PORT FILE [THREADS] [sync|nosync|sqlite|none]
//
// On 127.0.0.1:PORT (0: any free port); prints "listening on PORT".
// THREADS: threads running the io_context (default 2, as weft's engine).
// sqlite: each body is a row INSERTed into FILE, an SQLite database in WAL
//         mode with synchronous=FULL, one transaction per group (weft's store
//         without its schema, JSON or checks).
// none: nothing written, no writer thread: the HTTP stack alone.
#include <sqlite3.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "floor_log.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Stream = beast::basic_stream<tcp, Strand>;

constexpr std::chrono::seconds kDeadline{10};

// Makes a group of records durable, on the writer thread.
using Sink = std::function<void(const std::vector<std::string>&)>;

Sink FileSink(floor_log::Log& log) {
  return [&log, joined = std::string()](const std::vector<std::string>& records) mutable {
    joined.clear();
    for (const std::string& r : records) {
      joined += r;
      joined.push_back('\n');
    }
    log.Append(joined);
  };
}

// One row per record, one transaction per group; nullptr when the database
// cannot be opened.
Sink SqliteSink(const char* path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS runs "
                   "(id INTEGER PRIMARY KEY, body TEXT NOT NULL, created_ms INTEGER NOT NULL)",
                   nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO runs (body, created_ms) VALUES (?1, ?2)", -1, &insert, nullptr) !=
          SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
    return nullptr;
  }
  return [db, insert](const std::vector<std::string>& records) {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const std::string& r : records) {
      sqlite3_bind_text(insert, 1, r.data(), static_cast<int>(r.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 2, now.count());
      if (sqlite3_step(insert) != SQLITE_DONE) std::fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
      sqlite3_reset(insert);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
    }
  };
}

// The writer thread: makes what was queued since its last group durable at
// once, then tells each request.
class Flusher {
 public:
  explicit Flusher(Sink sink) : sink_(std::move(sink)), thread_([this] { Loop(); }) { thread_.detach(); }

  // Queues `record`; `done` runs on the writer thread once it is durable.
  void Add(std::string_view record, std::function<void()> done) {
    {
      std::lock_guard lock(mu_);
      records_.emplace_back(record);
      waiting_.push_back(std::move(done));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::vector<std::string> records;
    std::vector<std::function<void()>> done;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !waiting_.empty(); });
        records.swap(records_);
        done.swap(waiting_);
      }
      sink_(records);
      records.clear();
      for (auto& d : done) d();
      done.clear();
    }
  }

  Sink sink_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> records_;
  std::vector<std::function<void()>> waiting_;
  std::thread thread_;
};

// Completes once `record` is durable, on the awaiting coroutine's executor.
template <typename Token>
auto AsyncFlush(Flusher& flusher, std::string_view record, Token&& token) {
  return asio::async_initiate<Token, void()>(
      [&flusher, record](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        flusher.Add(record, [shared] {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared] { (*shared)(); });
        });
      },
      token);
}

asio::awaitable<void> Serve(Stream stream, Flusher* flusher) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    stream.expires_after(kDeadline);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const std::string& body = parser.get().body();
    if (flusher != nullptr) co_await AsyncFlush(*flusher, body, asio::use_awaitable);
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = floor_log::AnswerJson(body);
    res.keep_alive(parser.keep_alive());
    res.prepare_payload();
    stream.expires_after(kDeadline);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, asio::io_context& io, Flusher* flusher) {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    Strand strand = socket.get_executor();
    asio::co_spawn(strand, Serve(Stream(std::move(socket)), flusher), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: beast_floor PORT FILE [THREADS] [sync|nosync|sqlite|none]\n");
    return 2;
  }
  const int threads = argc > 3 ? std::max(1, std::atoi(argv[3])) : 2;
  const std::string_view mode = argc > 4 ? argv[4] : "sync";
  floor_log::Log log;
  std::unique_ptr<Flusher> flusher;
  if (mode == "sqlite") {
    Sink sink = SqliteSink(argv[2]);
    if (!sink) return 1;
    flusher = std::make_unique<Flusher>(std::move(sink));
  } else if (mode != "none") {
    if (!log.Open(argv[2], mode != "nosync")) return 1;
    flusher = std::make_unique<Flusher>(FileSink(log));
  }
  asio::io_context io(threads);
  tcp::acceptor acceptor(io,
                         tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<uint16_t>(std::atoi(argv[1]))));
  std::printf("listening on %d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(acceptor.get_executor(), Accept(acceptor, io, flusher.get()), asio::detached);
  std::vector<std::thread> runners;
  for (int i = 1; i < threads; ++i) runners.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : runners) t.join();
}

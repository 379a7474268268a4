// A real HTTP/1.1 server on 127.0.0.1 (port 0) for tests: each test scripts
// what it answers, including faults (delays, dropped connections, streamed
// chunks). Built on Boost.Beast, one thread per connection, keep-alive.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::testing {

struct FakeRequest {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;   // before answering
  bool drop = false;  // close the connection without answering
  // When not empty, the body is sent as these chunks (chunked encoding),
  // `chunk_delay_ms` apart, e.g. server-sent events.
  std::vector<std::string> chunks;
  int chunk_delay_ms = 0;

  static FakeResponse Json(std::string body, int status = 200);
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"
  int connections() const;  // accepted so far
  int requests() const;     // answered or dropped so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::testing

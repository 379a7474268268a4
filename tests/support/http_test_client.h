// A plain blocking HTTP/1.1 client for tests of weft's server: one request
// per call on a fresh connection, raw bytes for malformed requests, and a
// Server-Sent Events reader.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace weft::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;                              // 0: no answer (the connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

HttpReply HttpCall(int port, const std::string& method, const std::string& target, const std::string& body = "",
                   const Headers& headers = {});

// Sends `bytes` as they are, then reads until the server closes the
// connection or `read_timeout_ms` passes; returns what it read.
std::string RawExchange(int port, const std::string& bytes, int read_timeout_ms = 2000);
// The same with `pieces` sent one by one, `pause_ms` apart (a request that
// arrives in several reads).
std::string RawExchange(int port, const std::vector<std::string>& pieces, int pause_ms, int read_timeout_ms);

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

class SseClient {
 public:
  SseClient(int port, const std::string& target, const Headers& headers = {});
  ~SseClient();
  int status() const { return status_; }
  // The next event (comments skipped); nullopt after `timeout_ms` or when the stream ends.
  std::optional<SseEvent> Next(int timeout_ms = 5000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int status_ = 0;
};

}  // namespace weft::testing

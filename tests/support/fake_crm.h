// A fake CRM / ticketing API on 127.0.0.1, for tests of actions that call
// business systems:
//   GET  /accounts?email=E     200 {id, email, name, plan} or 404
//   POST /tickets              201 {id, ...the posted fields}
//   POST /hooks/<name>         204: a webhook sink (notifications)
// Every POST with an Idempotency-Key is applied once: the same key gets the
// first answer again. Faults are scripted per path prefix (latency, 429,
// 500, dropped connections), including the nasty one: a 500 after the
// ticket was created.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http_server.h"
#include "weft/core/value.h"

namespace weft::testing {

class FakeCrm {
 public:
  struct Fault {
    std::string path_prefix;    // "/tickets"
    FakeResponse response;      // status, Retry-After header, delay, drop
    bool after_commit = false;  // apply the request, then answer `response`
  };

  FakeCrm();
  std::string url() const { return server_.url(); }
  int port() const { return server_.port(); }

  void AddAccount(const std::string& email, const std::string& name, const std::string& plan);
  // Answers the next request under the prefix with the fault (in order).
  void Inject(Fault fault);
  void SetLatency(int ms);

  // Side effects as applied (after deduplication).
  std::vector<Value> tickets() const;
  std::vector<FakeRequest> hooks() const;     // webhook deliveries applied
  std::vector<FakeRequest> requests() const;  // everything received
  int requests_to(const std::string& path_prefix) const;

 private:
  FakeResponse Answer(const FakeRequest& req);
  FakeResponse Apply(const FakeRequest& req);

  mutable std::mutex mu_;
  std::map<std::string, Value> accounts_;
  std::deque<Fault> faults_;
  int latency_ms_ = 0;
  std::vector<Value> tickets_;
  std::vector<FakeRequest> hooks_;
  std::vector<FakeRequest> requests_;
  std::map<std::string, FakeResponse> by_key_;  // Idempotency-Key -> first answer
  FakeHttpServer server_;                       // last: stops before the rest goes away
};

}  // namespace weft::testing

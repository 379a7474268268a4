// What the server tells the outside about runs as they happen: a log entry
// per step (JSON or text, with run_id and step), and OpenTelemetry spans —
// one per run, one per step attempt, children of their run — exported as
// OTLP/HTTP JSON to a collector. Fed by the engine's event log; exporting
// happens on its own thread and never slows a run (a full buffer drops
// spans and counts them).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metrics.h"
#include "weft/core/mutex.h"
#include "weft/core/value.h"
#include "weft/engine/events.h"
#include "weft/http/client.h"

namespace weft::server {

struct TelemetryOptions {
  bool log_steps = false;     // a log entry per step record
  std::string otlp_endpoint;  // "http://collector:4318" ("" = no export); spans go to <endpoint>/v1/traces
  int64_t otlp_interval_ms = 1000;
  size_t otlp_max_buffered = 20'000;  // spans waiting past this are dropped (and counted)
  std::string service_name = "weft";
};

class Telemetry {
 public:
  Telemetry(TelemetryOptions options, std::shared_ptr<Metrics> metrics);
  ~Telemetry();  // Stop()s
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // From the event log's listener (any thread).
  void OnEvent(const engine::Event& e);
  void Start();
  // Exports what is buffered, then stops.
  void Stop();
  // Exports what is buffered now (blocking); returns how many spans were sent.
  size_t Flush();

 private:
  void AddSpan(Value span);

  const TelemetryOptions options_;
  std::shared_ptr<Metrics> metrics_;
  std::unique_ptr<http::Client> client_;
  Mutex mu_;
  std::vector<Value> spans_ WEFT_GUARDED_BY(mu_);
  bool stopping_ WEFT_GUARDED_BY(mu_) = false;
  std::condition_variable_any wake_;
  Mutex flush_mu_;  // one export at a time
  std::thread thread_;
};

}  // namespace weft::server

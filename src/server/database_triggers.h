// Database-change triggers. An outbox (`table` + `cursor`, on any
// connection of weft.yaml) is polled every `interval_ms`: each row past the
// cursor starts a run with the row as its input, exactly once — the row's
// cursor value is the run's start key, and the cursor (kept in the store)
// only moves past a row once its run is committed, so a crash between the
// two starts nothing twice and loses no row. A PostgreSQL `channel` is
// LISTENed to: each notification's payload (JSON) starts a run (PostgreSQL
// does not keep notifications sent while nobody listens; an outbox does).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metrics.h"
#include "trigger_switches.h"
#include "weft/core/clock.h"
#include "weft/core/mutex.h"
#include "weft/dsl/workflow.h"
#include "weft/engine/engine.h"
#include "weft/runtime/runtime.h"

namespace weft::server {

class DatabaseTriggers {
 public:
  using Lookup = std::function<const runtime::Connection*(std::string_view name)>;
  // `switches` (may be null): a switched-off outbox is not read (its rows
  // wait); a switched-off channel's notifications pass.
  DatabaseTriggers(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics, Lookup connections,
                   const Clock& clock, std::shared_ptr<const TriggerSwitches> switches = nullptr);
  ~DatabaseTriggers();  // Stop()s
  DatabaseTriggers(const DatabaseTriggers&) = delete;
  DatabaseTriggers& operator=(const DatabaseTriggers&) = delete;

  // Replaces the database triggers of `wf` (none: the workflow has none).
  void Set(const std::shared_ptr<const dsl::Workflow>& wf);
  // Reads every outbox that is due at `now_ms` and starts a run per new
  // row; returns how many runs it started.
  int PollOutboxes(int64_t now_ms);
  // A thread polling the outboxes and listening to the channels.
  void Start();
  void Stop();

  struct Listener;

 private:
  struct Entry {
    std::string workflow;
    size_t index = 0;
    dsl::DatabaseTrigger trigger;
    int64_t next_due_ms = 0;
  };
  // Starts a run for `input`, at most once per `start_key` ("" = no key).
  bool StartRun(const Entry& e, const Value& input, const std::string& start_key, const Value& info);
  int PollOutbox(Entry& e);
  void Listen(int64_t wait_ms);

  engine::Engine& engine_;
  store::Store& store_;
  std::shared_ptr<Metrics> metrics_;
  Lookup connections_;
  const Clock& clock_;
  std::shared_ptr<const TriggerSwitches> switches_;
  Mutex mu_;
  std::map<std::string, std::vector<Entry>> entries_ WEFT_GUARDED_BY(mu_);  // by workflow
  bool changed_ WEFT_GUARDED_BY(mu_) = false;
  bool stopping_ WEFT_GUARDED_BY(mu_) = false;
  std::condition_variable_any wake_;
  // The poller thread's own: one PostgreSQL connection per (connection, channel).
  std::map<std::string, std::unique_ptr<Listener>> listeners_;
  std::map<std::string, std::string> outbox_errors_;  // the last error said, per entry
  std::thread thread_;
};

}  // namespace weft::server

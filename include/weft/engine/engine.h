// The engine: runs workflows as durable state machines.
//
// Every step's completion is committed to the store before the run moves
// on, so the store's history is the run's position: after a crash, Recover()
// replays each unfinished run from its history, reusing every recorded
// result (no completed step runs again) and re-running only the step that
// was in flight, with the same idempotency key.
//
// Runs execute as C++20 coroutines on a small pool of threads; a run waiting
// on I/O or on a timer holds no thread, and a suspended run (waiting for a
// user, an approval, a handover, a timer or a child run) holds no memory at
// all: it lives only in the store until a resume call brings it back.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "weft/core/clock.h"
#include "weft/core/random.h"
#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/dsl/workflow.h"
#include "weft/engine/action.h"
#include "weft/engine/events.h"
#include "weft/store/store.h"

namespace weft::engine {

// A step's record as it is committed (for live display).
struct StepEvent {
  std::string run_id;
  std::string workflow;
  store::StepRecord step;
};

struct EngineOptions {
  store::Store* store = nullptr;            // required
  const ActionRegistry* actions = nullptr;  // required
  const Clock* clock = nullptr;             // nullptr: the system clock
  Random* random = nullptr;                 // nullptr: the engine seeds its own
  int threads = 1;                          // threads running steps
  // Threads for the blocking calls actions make (the store: the
  // conversation log, memory, spend, the AI cache), so that none is made
  // on a thread running steps.
  int blocking_threads = 4;
  // Lease owner name for this process; "" = "<host>/<pid>".
  std::string owner;
  int64_t lease_ms = 60'000;
  // Most runs one Recover() claims: with several processes, each takes a
  // share of what is waiting rather than all of it.
  int claim_batch = 1000;
  // False for a process that only serves (`weft serve --role api`): runs it
  // starts or resumes are stored for the workers (no lease), Recover claims
  // nothing, and waiting for a run reads the store.
  bool execute = true;
  // How retry back-off waits. Default: an asio timer. Tests with a simulated
  // clock advance the clock instead.
  std::function<boost::asio::awaitable<void>(int64_t millis)> sleep;
  // Finds a workflow that is not yet in the store (call_workflow by name);
  // returns NotFound when there is none.
  std::function<Result<std::shared_ptr<const dsl::Workflow>>(const std::string& name)> resolve_workflow;
  // Looks up the value of `$secret(name)` in a task's inputs or settings;
  // nullopt when there is no such secret. The engine keeps the values out
  // of the run history (step inputs, details and errors show "[secret]").
  std::function<std::optional<std::string>(std::string_view name)> secrets;
  // Called after each step record is committed, on an engine thread.
  std::function<void(const StepEvent&)> on_step;
  // When given, receives an event for every run status change, step record
  // and task waiting for a person, once committed (the server's live
  // updates). Must outlive the engine.
  EventLog* events = nullptr;
  // Text a step streams while it runs (generate_text with `stream: true`):
  // run id, step path, the new piece. Called on any thread, in order per
  // step; an attempt that is retried streams again.
  std::function<void(std::string_view run_id, std::string_view step_path, std::string_view delta)> on_stream;
  // Limits that keep a bad workflow from running away.
  int max_loop_iterations = 100'000;
  int64_t expression_timeout_ms = 10'000;
  // Bytes of values one expression may create (expr::EvalOptions).
  int64_t expression_max_memory_bytes = int64_t{256} << 20;
  int max_call_depth = 32;
};

struct StartOptions {
  Value context;        // merged over the workflow's `context`
  std::string run_id;   // "" = a new id
  std::string trigger;  // what starts it: "webhook", "manual", "cli", ... (RunRecord::trigger)
  // At most one run is ever started with this key (RunRecord::start_key):
  // a second start fails with AlreadyExists and starts nothing.
  std::string start_key;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Stores the workflow (a new version when its text changed) and makes it
  // runnable. Returns the version runs of it will start with.
  Result<int64_t> Deploy(std::shared_ptr<const dsl::Workflow> workflow);

  // Validates `input` against the workflow's input schema, records the run
  // and starts it. Returns the run id once the run is durable.
  Result<std::string> Start(const std::string& workflow, int64_t version, Value input,
                            const StartOptions& options = {});
  // Start's form for coroutines: the commit is awaited, no thread blocks.
  // With `settle_timeout` > 0 it also waits (as AsyncWait) for the run to
  // stop executing and returns its record then. Without it, or when the run
  // takes longer (it is durable and goes on), returns the record as started
  // (status running).
  boost::asio::awaitable<Result<store::RunRecord>> AsyncStart(std::string workflow, int64_t version, Value input,
                                                              StartOptions options,
                                                              std::chrono::milliseconds settle_timeout = {});

  // Continues a suspended run: `payload` becomes the waiting task's result
  // (checked against its action's output schema).
  Status Resume(const std::string& run_id, Value payload);
  // Continues a suspended run by failing its waiting task with `error`.
  Status ResumeWithError(const std::string& run_id, const Status& error);
  // Restarts a failed run from the step that failed, reusing every recorded
  // result; `version` (0 = keep) switches it to a fixed workflow version.
  Status Retry(const std::string& run_id, int64_t version = 0);
  // Stops a run (and its child runs) for good.
  Status Cancel(const std::string& run_id);

  // Claims and continues every run that needs a worker: runs interrupted by
  // a crash and timers that are due. Returns how many were picked up.
  Result<int> Recover();

  // Blocks until the run is not executing in this engine (it completed,
  // failed, was cancelled or suspended), then returns its record.
  Result<store::RunRecord> Wait(const std::string& run_id, std::chrono::milliseconds timeout = std::chrono::hours(24));
  // Wait's form for coroutines: completes on the caller's executor, holding
  // no thread while the run executes.
  boost::asio::awaitable<Result<store::RunRecord>> AsyncWait(std::string run_id, std::chrono::milliseconds timeout);
  // Blocks until no run executes in this engine.
  void Drain();

  // The executor of the engine's threads (a server can do its I/O there).
  boost::asio::any_io_executor executor();

  // Loads a stored workflow version (cached).
  Result<std::shared_ptr<const dsl::Workflow>> GetWorkflow(const std::string& name, int64_t version);

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::engine

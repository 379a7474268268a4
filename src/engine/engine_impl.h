// Engine internals shared by engine.cc (the API, run lifecycle) and
// executor.cc (walking the flow).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "async_util.h"
#include "weft/core/mutex.h"
#include "weft/engine/engine.h"

namespace weft::engine {

namespace asio = boost::asio;
using Strand = asio::strand<asio::io_context::executor_type>;

// What the history says about one step path.
struct JournalEntry {
  store::StepStatus status = store::StepStatus::kCompleted;
  Value output;
  std::string error_code;
  std::string error;
  int attempts = 0;  // highest attempt recorded
  int64_t seq = 0;
};

// Stops a group of steps: a run, or a wait_any branch that lost.
struct CancelScope {
  CancelScope* parent = nullptr;
  bool cancelled = false;
  bool IsCancelled() const { return cancelled || (parent != nullptr && parent->IsCancelled()); }
  bool Within(const CancelScope* other) const {
    for (const CancelScope* s = this; s != nullptr; s = s->parent) {
      if (s == other) return true;
    }
    return false;
  }
};

// An action attempt in flight, so that cancellation can reach it.
struct InFlight {
  CancelScope* scope;
  std::function<void()> cancel;
};

struct RunState {
  Engine::Impl* engine = nullptr;
  store::RunRecord record;
  std::shared_ptr<const dsl::Workflow> workflow;
  std::unordered_map<std::string, JournalEntry> journal;
  Strand strand;
  CancelScope scope;  // the whole run
  std::vector<InFlight*> in_flight;
  int depth = 0;       // call_workflow nesting
  bool fresh = false;  // created by this engine just now: no history to read
  // Records of steps of immediate actions (set, script, ...) not committed
  // yet: they go with the run's next commit, in order. Such a step has no
  // effect outside the run, so after a crash it simply runs again; what a
  // step does outside (an HTTP call, a message) and every status change
  // still commit at once. Saves a commit per pure step.
  std::vector<store::StepRecord> pending_steps;
  Value input;    // bound as $input
  Value context;  // bound as $context
  // ActionContext::conversation: $context.chat.conversation, else the run's id.
  std::string conversation;
  // Set while the run is not stored yet (AsyncStart): the run's first
  // commit creates it in the same transaction, so a run whose first steps
  // are immediate costs one commit, not two. Nothing outside the run has
  // happened before that commit (non-immediate actions flush first), so a
  // crash before it loses a run nobody was told about.
  std::optional<store::RunRecord> unborn;
  // Told once whether the creation was committed (AsyncStart's caller).
  std::function<void(Status)> on_born;
  std::unique_ptr<std::mt19937_64> rng_state;  // rng()'s, made on first use

  explicit RunState(Strand s) : strand(std::move(s)) {}
  // The run's random numbers, seeded from its record on first use (most
  // runs draw none; seeding is 312 words of work and the state 2.5 KB).
  std::mt19937_64& rng() {
    if (!rng_state) rng_state = std::make_unique<std::mt19937_64>(record.seed);
    return *rng_state;
  }
  ~RunState();
  void CancelAll();
  // Puts the run's creation in `commit` while it is not stored: first, or
  // in place of the run's update (one INSERT of the run as it now is).
  // Returns whether it did (then call Born with the commit's outcome).
  bool AddBirth(store::Commit& commit) const;
  void Born(const Status& committed);
};

// Commits for `run` (with its creation first while it is unborn) and
// resumes on the run's strand once durable.
asio::awaitable<Status> CommitForRun(RunState& run, store::Commit commit);

struct Engine::Impl {
  explicit Impl(EngineOptions o);
  ~Impl();

  EngineOptions options;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  std::unique_ptr<Random> own_random;
  std::string owner;

  // Destroyed first, explicitly (see ~Impl), while the run table it reports
  // to still exists.
  std::unique_ptr<asio::io_context> io_holder = std::make_unique<asio::io_context>();
  asio::io_context& io = *io_holder;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  // ActionContext::blocking: actions' blocking calls.
  std::unique_ptr<asio::thread_pool> blocking;

  CallbackTracker commits;  // store callbacks still running
  // Set while the engine stops: attempts under way are aborted and their
  // runs abandoned (left to recovery) rather than recorded as failed.
  std::atomic<bool> stopping{false};
  // Action attempts under way, each with what stops it (callable from any
  // thread). A child run executes on its parent's strand but spawns its
  // actions on its own, so this is kept apart from the runs' state.
  Mutex attempts_mu;
  std::map<uint64_t, std::function<void()>> attempts WEFT_GUARDED_BY(attempts_mu);
  uint64_t next_attempt WEFT_GUARDED_BY(attempts_mu) = 0;
  Mutex mu;
  std::condition_variable_any idle_cv;                                          // `active` lost a run
  std::map<std::string, std::shared_ptr<RunState>> active WEFT_GUARDED_BY(mu);  // runs executing in this engine
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<const dsl::Workflow>> workflows WEFT_GUARDED_BY(mu);
  // AsyncWait's callers: run id -> (ticket, what wakes it); woken when the
  // run stops executing here, with its record as it stopped (nullptr when
  // the engine has none, e.g. the run was left to recovery).
  struct Settle {
    explicit Settle(const asio::any_io_executor& executor) : signal(executor, 1) {}
    asio::experimental::concurrent_channel<void(boost::system::error_code)> signal;
    std::optional<store::RunRecord> last;  // written before the signal
    // Set (release) once `last` is written: a waiter that finds the run
    // settled already needs neither the signal nor a timer.
    std::atomic<bool> settled{false};
  };
  std::multimap<std::string, std::pair<uint64_t, std::shared_ptr<Settle>>> settle_waiters WEFT_GUARDED_BY(mu);
  uint64_t next_waiter WEFT_GUARDED_BY(mu) = 0;

  Result<std::shared_ptr<const dsl::Workflow>> LoadWorkflow(const std::string& name, int64_t version);
  Result<std::shared_ptr<const dsl::Workflow>> LoadWorkflowByName(const std::string& name, int64_t version);

  // Makes the run executing here and starts driving it. `depth` counts
  // call_workflow nesting. Returns false when the run already executes here.
  // `fresh`: the run was just created here, so it has no history to load.
  // `on_born`, when given, makes the run unborn (see RunState::unborn).
  bool Launch(const store::RunRecord& record, int depth = 0, bool fresh = false,
              std::function<void(Status)> on_born = nullptr);
  // Launch in two halves, for a run stored synchronously: Reserve makes it
  // executing here before its commit (so that Drain and claims see it from
  // the start; nullptr when it already is), then Drive starts it, or Abandon
  // takes it back when the commit failed.
  std::shared_ptr<RunState> Reserve(const store::RunRecord& record, int depth, bool fresh);
  void DriveReserved(const std::shared_ptr<RunState>& run);
  void Abandon(const std::string& run_id);
  std::shared_ptr<RunState> MakeRunState(const store::RunRecord& record, int depth);
  void Finished(const std::string& run_id);
  // A new run's record (running, leased to this engine), not yet stored.
  store::RunRecord NewRun(const dsl::Workflow& wf, std::string id, Value input, Value context, uint64_t seed) const;
  // Gives `rec` to this engine under a new lease (or, for an engine that
  // does not execute, to no one: a worker claims it).
  void TakeLease(store::RunRecord& rec) const;
  // Checks the input, evaluates the context and builds a run to start
  // (Start and AsyncStart).
  Result<store::RunRecord> PrepareStart(const std::string& workflow, int64_t version, Value input,
                                        const StartOptions& start);
  // Waits for the run to stop executing here, `ticket` already registered
  // (0: it was not executing).
  asio::awaitable<Result<store::RunRecord>> AwaitSettled(std::string run_id, uint64_t ticket,
                                                         std::shared_ptr<Settle> settle,
                                                         std::chrono::milliseconds timeout);
  // Registers a waiter for a run that executes here (0 when it does not).
  uint64_t AddSettleWaiter(const std::string& run_id, std::shared_ptr<Settle> settle) WEFT_REQUIRES(mu);
  // Forgets a waiter that stopped waiting (timed out, or its run never started).
  void RemoveSettleWaiter(const std::string& run_id, uint64_t ticket) WEFT_REQUIRES(mu);

  // Renews this engine's leases every lease_ms / 3.
  asio::awaitable<void> Heartbeat();

  // Loads the history, walks the flow, records the outcome.
  asio::awaitable<void> Drive(std::shared_ptr<RunState> run);

  // After a child run stops: continue its parent if the parent waits on it.
  void NotifyParent(const store::RunRecord& child);
  // `from_user`: a resume call (the payload is checked against the waiting
  // action's output schema; a run waiting for a child cannot be resumed).
  Status ResumeInternal(const std::string& run_id, Value payload, const Status* error, bool from_user);

  void Emit(const RunState& run, const store::StepRecord& step);
  // Whether Emit reports steps to anyone (else commits may take them).
  bool ReportsSteps() const { return options.on_step || options.events != nullptr; }
  // Publishes a committed step record to options.events.
  void PublishStep(const store::RunRecord& run, const store::StepRecord& step);
  // Publishes a run's committed status (and the task it waits for, when a
  // person must act) to options.events.
  void PublishRun(const store::RunRecord& run);
};

// Walks `run`'s flow from the start, replaying recorded steps; returns when
// the run completes, fails, is cancelled or suspends (the outcome is then
// committed).
asio::awaitable<void> ExecuteRun(Engine::Impl& engine, std::shared_ptr<RunState> run);

// What a child run gives the call_workflow step of its parent: its outputs
// once completed, or its failure (with the child's error code); nullopt
// while it runs or waits.
std::optional<ActionResult> ChildResult(const store::RunRecord& child);

// JSONata truthiness ($boolean).
bool IsTruthy(const Value& v);

}  // namespace weft::engine

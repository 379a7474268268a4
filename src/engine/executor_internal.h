// The executor's insides, shared by its files: executor.cc (a run's walk and
// its tasks: replay, attempts, retries, timeouts, suspension, failures),
// executor_blocks.cc (parallel, conditional, loop), step_support.cc (secrets,
// declared actions, approvals), sub_steps.cc (durable work inside a step) and
// child_runs.cc (call_workflow). Not part of the public API.
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async_util.h"
#include "engine_impl.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"

namespace weft::engine::internal {

using dsl::FlowNode;
using dsl::TaskDef;
using store::StepRecord;
using store::StepStatus;

struct Flow {
  enum class Kind : uint8_t {
    kOk,
    kSuspend,  // the run waits; its suspension is committed
    kFail,     // the run fails with `error`
    kCancel,   // the run (or this branch) was cancelled
    kAbandon,  // the store could not record progress: stop, leave the run to recovery
  };
  Kind kind = Kind::kOk;
  Status error;
  static Flow Ok() { return {}; }
  static Flow Suspend() { return {Kind::kSuspend, {}}; }
  static Flow Fail(Status s) { return {Kind::kFail, std::move(s)}; }
  static Flow Cancel() { return {Kind::kCancel, Status(StatusCode::kCancelled, "cancelled")}; }
  static Flow Abandon(Status s) { return {Kind::kAbandon, std::move(s)}; }
  bool ok() const { return kind == Kind::kOk; }
};

// A result written by a step: $output.<key>, and merged into the working
// state when `merge` and it is an object.
struct Write {
  std::string key;
  Value value;
  bool merge;
};

// Copy-on-write for shared objects.
inline void MakeUniqueObject(Value& v) {
  if (!v.is_object()) {
    v = Value::MakeObject();
    return;
  }
  if (v.unique()) return;
  Value copy = Value::MakeObject();
  for (const auto& m : v.members()) copy.set(m.key, m.value);
  v = std::move(copy);
}

// The scope a step sees. Copies are cheap (values are shared until written).
struct Frame {
  Value state;    // object: bare names
  Value outputs;  // object: $output
  Value iteration;
  Value accumulator;
  Value error;
  std::string item_name;
  std::string prefix;  // before node paths: set inside on_error steps
  std::string suffix;  // "[i]" per enclosing loop iteration
  CancelScope* scope = nullptr;
  std::vector<Write>* log = nullptr;  // concurrent children log their writes for the merge

  mutable Value bindings;
  mutable bool dirty = true;

  void Apply(const Write& w) { Apply(w.key, w.value, w.merge); }
  void Apply(std::string_view key, const Value& value, bool merge) {
    // Take $output out of the bindings first, so that it is owned once and
    // updated in place instead of copied.
    Value* bound = nullptr;
    if (!dirty) {
      MakeUniqueObject(bindings);
      bound = &bindings.mutable_member("output");
      *bound = Value();
    }
    MakeUniqueObject(outputs);
    outputs.mutable_member(key) = value;
    if (bound != nullptr) *bound = outputs;
    if (merge && value.is_object()) {
      MakeUniqueObject(state);
      for (const auto& m : value.members()) state.mutable_member(m.key) = m.value;
    }
    if (log != nullptr) log->push_back(Write{std::string(key), value, merge});
  }

  void SetLoopVars(Value iter, Value acc) {
    iteration = std::move(iter);
    accumulator = std::move(acc);
    dirty = true;
  }
};

// The step key suffix of iteration `i` inside `outer` (the enclosing
// loops' suffix): "[2]", then "[2.0]" for a nested loop (Hexabot's ids).
std::string IterationSuffix(const std::string& outer, int64_t i);

inline std::string ErrorCodeName(const Status& s) { return std::string(StatusCodeName(s.code())); }

// The code a stored error was recorded with (INTERNAL if unreadable).
inline StatusCode CodeFromName(const std::string& name) {
  return ParseStatusCode(name).value_or(StatusCode::kInternal);
}

Value ErrorObject(const Status& s);

bool HoldsFunction(const Value& v);

// `text` with every occurrence of a secret's value replaced.
std::string RedactedText(std::string text, const std::vector<std::string>& secrets);

// A copy of `v` in which no secret's value appears (in strings or keys).
Value Redacted(const Value& v, const std::vector<std::string>& secrets);

uint64_t Fnv1a(std::string_view s);

// The $secret() function: returns a secret's value and notes it in `used`
// (the step's record is redacted of them). It owns what it uses: the value
// may outlive the step.
Value SecretFunction(std::shared_ptr<std::vector<std::string>> used,
                     const std::function<std::optional<std::string>(std::string_view)>& source);

// Refused before anything runs: what the action needs and the workflow does
// not grant.
Status CheckGranted(const dsl::ActionSpec& spec, const dsl::Workflow& wf);

// A call of a declared action: its inputs (valid against its schema) become
// $input for the implementation's inputs and settings.
struct NamedCall {
  Value inputs;    // the implementation's
  Value settings;  // the implementation's, the task's own on top
};
Status PrepareNamed(const dsl::NamedAction& named, const Value& inputs, const Value& task_settings,
                    const std::function<std::optional<std::string>(std::string_view)>& secrets,
                    const expr::EvalOptions& eval, NamedCall& out, std::vector<std::string>& secret_values);

// An attempt's outcome as a status: its error, or its output breaking the
// output schema of the action doing the work or of the declared action.
Status CheckOutcome(const dsl::ActionSpec* spec, const dsl::NamedAction* named, const ActionResult& result);

// What a recorded approval says: nullopt when there is none (or a
// rejection from before a retry, which asks again), else OK to proceed or
// the refusal.
std::optional<Status> ApprovalOutcome(const RunState& run, const std::string& approval_key, const std::string& action);

// The approval a sensitive action waits for, as sub-step "approval".
Suspension ApprovalRequest(const std::string& action, const std::string& description, const Value& inputs);

// An ActionContext with its own copies of the strings it views.
struct OwnedContext {
  std::string run_id, workflow, step_path, task;
  std::shared_ptr<ChildRunner> children;  // ctx.children stays valid as long as the copy
  std::shared_ptr<SubSteps> sub_steps;    // likewise ctx.sub_steps
  ActionContext ctx;

  static std::shared_ptr<ActionContext> Copy(const ActionContext& from, std::shared_ptr<ChildRunner> children,
                                             std::shared_ptr<SubSteps> sub_steps) {
    auto owned = std::make_shared<OwnedContext>();
    owned->children = std::move(children);
    owned->sub_steps = std::move(sub_steps);
    owned->run_id = from.run_id;
    owned->workflow = from.workflow;
    owned->step_path = from.step_path;
    owned->task = from.task;
    owned->ctx = from;
    owned->ctx.run_id = owned->run_id;
    owned->ctx.workflow = owned->workflow;
    owned->ctx.step_path = owned->step_path;
    owned->ctx.task = owned->task;
    return std::shared_ptr<ActionContext>(owned, &owned->ctx);
  }
};

asio::awaitable<ActionResult> ExecuteAction(const Action* action, std::shared_ptr<ActionContext> ctx);

// Starts and drives call_workflow children. Owned jointly by the run's
// executor and by contexts of attempts that may outlive it (an attempt that
// timed out keeps running detached), so it holds the run state alive itself.
class ChildRuns final : public ChildRunner {
 public:
  ChildRuns(Engine::Impl& engine, std::shared_ptr<RunState> run)
      : engine_(engine), holder_(std::move(run)), run_(*holder_) {}
  asio::awaitable<ActionResult> RunChild(const ActionContext& caller, const std::string& workflow, int64_t version,
                                         Value input) override;

 private:
  Engine::Impl& engine_;
  std::shared_ptr<RunState> holder_;
  RunState& run_;
};

// Sub-steps of a run's steps (SubSteps). Shared, like ChildRuns, with the
// attempts that may outlive the executor.
class SubStepRunner final : public SubSteps {
 public:
  SubStepRunner(Engine::Impl& engine, std::shared_ptr<RunState> run)
      : engine_(engine), holder_(std::move(run)), run_(*holder_) {
    eval_.clock = engine.clock;
    eval_.timeout_ms = engine.options.expression_timeout_ms;
    eval_.max_memory_bytes = engine.options.expression_max_memory_bytes;
  }

  std::optional<ActionResult> Find(const ActionContext& caller, std::string_view name) const override;

  asio::awaitable<Status> Record(const ActionContext& caller, std::string_view name, std::string_view action,
                                 const Value& input, const ActionResult& result, const Value& detail) override;

  asio::awaitable<ActionResult> Call(const ActionContext& caller, std::string_view name, std::string_view action_name,
                                     Value inputs) override;

 private:
  static std::string Key(const ActionContext& caller, std::string_view name);

  Engine::Impl& engine_;
  std::shared_ptr<RunState> holder_;
  RunState& run_;
  expr::EvalOptions eval_;
};

class Executor {
 public:
  Executor(Engine::Impl& engine, const std::shared_ptr<RunState>& run)
      : engine_(engine),
        run_(*run),
        children_(std::make_shared<ChildRuns>(engine, run)),
        sub_steps_(std::make_shared<SubStepRunner>(engine, run)),
        inline_commits_(engine.options.store->commits_inline()) {
    eval_.clock = engine.clock;
    eval_.timeout_ms = engine.options.expression_timeout_ms;
    eval_.max_memory_bytes = engine.options.expression_max_memory_bytes;
  }

  asio::awaitable<Flow> RunList(const std::vector<FlowNode>& nodes, Frame& frame) {
    for (const FlowNode& node : nodes) {
      if (frame.scope->IsCancelled()) co_return Flow::Cancel();
      Flow f;
      if (node.kind == FlowNode::Kind::kDo) {
        f = co_await RunTask(node, *node.task, frame);  // the common case, one coroutine frame less
      } else {
        f = co_await RunNode(node, frame);
      }
      if (!f.ok()) co_return f;
    }
    co_return Flow::Ok();
  }

  Result<Value> Eval(const expr::Expression& e, const Frame& frame) const {
    return e.Evaluate(frame.state, Bindings(frame), eval_);
  }

  Result<Value> EvalTemplate(const dsl::Template& t, const Frame& frame) const {
    return t.Evaluate(dsl::Scope{frame.state, Bindings(frame)}, eval_);
  }

 private:
  const Value& Bindings(const Frame& frame) const {
    if (frame.dirty) {
      Value b = Value::MakeObject();
      b.set("input", run_.input);
      b.set("context", run_.context);
      b.set("output", frame.outputs);
      if (frame.iteration.is_defined()) {
        b.set("iteration", frame.iteration);
        if (!frame.item_name.empty()) b.set(frame.item_name, frame.iteration.get("item"));
      }
      if (frame.accumulator.is_defined()) b.set("accumulator", frame.accumulator);
      if (frame.error.is_defined()) b.set("error", frame.error);
      frame.bindings = std::move(b);
      frame.dirty = false;
    }
    return frame.bindings;
  }

  asio::awaitable<Flow> RunNode(const FlowNode& node, Frame& frame) {
    switch (node.kind) {
      case FlowNode::Kind::kDo: co_return co_await RunTask(node, *node.task, frame);
      case FlowNode::Kind::kParallel: co_return co_await RunParallel(node, frame);
      case FlowNode::Kind::kConditional: co_return co_await RunConditional(node, frame);
      case FlowNode::Kind::kLoop: co_return co_await RunLoop(node, frame);
    }
    co_return Flow::Fail(InternalError("unknown flow node"));
  }

  // Commits a step record (and a run update when given), then reports it.
  // The record is moved from. Taken by reference: a record by value would
  // take its size again in every calling coroutine's frame.
  asio::awaitable<Status> Record(StepRecord& step, const store::RunRecord* run_update = nullptr);

  // Record for stores that commit before returning: no suspension at all.
  Status RecordInline(StepRecord& step, const store::RunRecord* run_update = nullptr);

  // Moves `step` into the commit unless it is still needed for the report.
  // Built in place: a step's record is moved once, into the commit.
  store::Commit MakeCommit(StepRecord& step, const store::RunRecord* run_update, std::vector<StepRecord>& earlier);
  // Commits the steps waiting for the run's next commit (RunState::pending_steps).
  asio::awaitable<Status> FlushPending();

  // A task's working set while it runs. Held through a pointer so that
  // RunTask's coroutine frame stays small (Asio recycles coroutine frames up
  // to about 1 KiB and allocates larger ones on every call); the sets
  // themselves are recycled per thread.
  struct TaskScratch {
    std::string key;                         // the step path
    std::vector<std::string> secret_values;  // what $secret() returned: kept out of the record
    Value inputs;                            // the action's (for a declared action, its implementation's)
    Value settings;
    Value task_inputs;  // a declared action's own inputs, recorded as the step's
    ActionContext ctx;
    StepRecord rec;
    ActionResult result;

    // Drops every value of the step (cheaper than assigning a new set;
    // everything else is overwritten before it is read again).
    void Clear() {
      key.clear();
      secret_values.clear();
      inputs = settings = task_inputs = Value();
      ctx.inputs = ctx.settings = ctx.bindings = ctx.detail = Value();
      ctx.log = nullptr;
      ctx.stream = nullptr;
      ctx.executor = asio::any_io_executor();  // a strand must not outlive its io_context
      ctx.children = nullptr;
      rec.input = rec.output = rec.detail = Value();
      result = ActionResult();
    }
  };
  class ScratchLease {
   public:
    ScratchLease() {
      if (spare_.empty()) {
        s_ = std::make_unique<TaskScratch>();
      } else {
        s_ = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    ~ScratchLease() {
      if (spare_.size() >= kMaxSpare) return;
      s_->Clear();  // keeps nothing of the step alive
      spare_.push_back(std::move(s_));
    }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    TaskScratch& operator*() const { return *s_; }

   private:
    static constexpr size_t kMaxSpare = 64;
    static thread_local std::vector<std::unique_ptr<TaskScratch>> spare_;
    std::unique_ptr<TaskScratch> s_;
  };

  enum class Replayed : uint8_t { kRun, kDone, kFailed };

  // What the journal says about `key`: already done (its output applied),
  // failed for good (`failure` set), or to run as `attempt`.
  Replayed Replay(const std::string& key, const TaskDef& task, Frame& frame, int& attempt, Status& failure) const {
    auto it = run_.journal.find(key);
    if (it == run_.journal.end()) return Replayed::kRun;
    const JournalEntry& j = it->second;
    switch (j.status) {
      case StepStatus::kCompleted:
        frame.Apply(task.name, j.output, task.settings.export_result);
        return Replayed::kDone;
      case StepStatus::kFailed:
        if (j.seq > run_.record.retry_from_seq || task.settings.on_error.kind != dsl::ErrorHandler::Kind::kFail) {
          failure = Status(CodeFromName(j.error_code), j.error);
          return Replayed::kFailed;
        }
        attempt = j.attempts + 1;
        return Replayed::kRun;
      case StepStatus::kSuspended:
        // The run is executing, so its suspension was resolved elsewhere
        // without a result here; ask again (the same attempt).
        attempt = j.attempts;
        return Replayed::kRun;
      case StepStatus::kRetrying:
      case StepStatus::kCancelled: attempt = j.attempts + 1; return Replayed::kRun;
    }
    return Replayed::kRun;
  }

  // Inputs and settings. A failure here is the workflow's, not the
  // action's: no retry helps.
  Status Prepare(const TaskDef& task, const Frame& frame, TaskScratch& s) const;

  // As Prepare, with $secret(name) bound: the action gets the values, and
  // the step's record gets them redacted (see Redacted).
  Status PrepareWithSecrets(const TaskDef& task, const Frame& frame, TaskScratch& s) const;

  // An error whose message may quote a secret goes on (into the history,
  // $error, the run's error) without it.
  static Status KeepSecret(Status error, const TaskScratch& s) {
    if (error.ok() || s.secret_values.empty()) return error;
    return Status(error.code(), RedactedText(error.message(), s.secret_values));
  }

  // Sets every field of the record (a previous attempt's may be in it).
  void StartRecord(TaskScratch& s, const TaskDef& task, int attempt, StepStatus status) const {
    StepRecord& r = s.rec;
    r.run_id.clear();
    r.seq = 0;
    r.path = s.key;
    r.task = task.name;
    r.action = task.action;
    r.attempt = attempt;
    r.status = status;
    const Value& input = task.named != nullptr ? s.task_inputs : s.inputs;
    r.input = s.secret_values.empty() ? input : Redacted(input, s.secret_values);
    r.output = r.detail = Value();
    r.error_code.clear();
    r.error.clear();
    r.started_ms = engine_.clock->NowMillis();
    r.ended_ms = 0;
  }

  void StartAttempt(TaskScratch& s, const TaskDef& task, int attempt);

  // The attempt's outcome as a status: its error, or its output breaking
  // the action's output schema.
  static Status Outcome(const TaskDef& task, const ActionResult& result) {
    return CheckOutcome(task.spec, task.named, result);
  }

  // Runs one task: replays its recorded result, or calls its action (with
  // retries) and records each attempt. Its coroutine frame is 976 bytes and
  // must stay under Asio's 1,020-byte recycling limit: keep locals few and
  // small, pass records by reference (bench/RESULTS.md tells how to check).
  asio::awaitable<Flow> RunTask(const FlowNode& node, const TaskDef& task, Frame& frame);

  static void RequestApproval(const TaskDef& task, TaskScratch& s) {
    s.result = ActionResult::Suspend(ApprovalRequest(task.action, task.spec->description, s.rec.input));
  }

  // The action doing a task's work (a declared action's implementation).
  const Action* ActionOf(const TaskDef& task) const {
    return engine_.options.actions->FindAction(task.named != nullptr ? task.named->implementation : task.action);
  }

  // Prepares the task; `error` tells why it cannot run. False when it may
  // not run yet: it is sensitive and no human decided (sub-step "approval").
  bool Begin(const TaskDef& task, const Frame& frame, TaskScratch& s, Status& error) const {
    error = KeepSecret(Prepare(task, frame, s), s);
    if (!error.ok() || !task.spec->sensitive) return true;
    std::optional<Status> approved = ApprovalOutcome(run_, s.key + "/approval", task.action);
    if (!approved) return false;
    error = *approved;
    return true;
  }

  // The engine stops under this attempt: leave the run to recovery.
  static Flow StoppingFlow() { return Flow::Abandon(Status(StatusCode::kCancelled, "the engine is stopping")); }

  double UnitDraw() {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    return unit(run_.rng());
  }

  asio::awaitable<Flow> Suspend(StepRecord& rec, const TaskDef& task, const Suspension& suspension);

  asio::awaitable<Flow> HandleFailure(const TaskDef& task, const std::string& key, const Status& error, Frame& frame);

  // One attempt of an action that does I/O (not `immediate`), bounded by the
  // step's timeout and stopped by cancellation of its scope. The outcome
  // goes to `result` (a returned one would take room in the caller's frame).
  asio::awaitable<void> Attempt(const Action& action, ActionContext& context, int64_t timeout_ms, CancelScope* scope,
                                ActionResult& result);

  asio::awaitable<void> Sleep(int64_t millis);

  asio::awaitable<Flow> RunConditional(const FlowNode& node, Frame& frame);

  // Runs `count` children concurrently on the run's strand, each on its own
  // copy of `base` (the state when the block started) that logs its writes. `on_done(i, flow)` is called as
  // each finishes and returns false to cancel the others. Waits for all.
  struct Child {
    Frame frame;
    std::vector<Write> writes;
    CancelScope scope;
    Flow flow;
  };
  using ChildBody = std::function<asio::awaitable<Flow>(size_t, Frame&)>;

  asio::awaitable<void> RunChildren(size_t count, size_t window, const Frame& base, const ChildBody& body,
                                    const std::function<bool(size_t, std::vector<Child>&)>& on_done,
                                    std::vector<Child>& children);

  void CancelScopeNow(CancelScope* scope);

  asio::awaitable<Flow> RunParallel(const FlowNode& node, Frame& frame);

  asio::awaitable<Flow> RunLoop(const FlowNode& node, Frame& frame);

  Engine::Impl& engine_;
  RunState& run_;
  std::shared_ptr<ChildRuns> children_;
  std::shared_ptr<SubStepRunner> sub_steps_;
  const bool inline_commits_;
  expr::EvalOptions eval_;
};

}  // namespace weft::engine::internal

// Walking a run's flow. The executor is deterministic given the run's
// history: every task first looks up its step path in the journal and reuses
// a recorded result, so replaying after a crash or a resume reaches the same
// state without calling any action again.
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

namespace weft::engine {
namespace {

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
void MakeUniqueObject(Value& v) {
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
std::string IterationSuffix(const std::string& outer, int64_t i) {
  if (outer.empty()) return "[" + std::to_string(i) + "]";
  return outer.substr(0, outer.size() - 1) + "." + std::to_string(i) + "]";
}

std::string ErrorCodeName(const Status& s) { return std::string(StatusCodeName(s.code())); }

// The code a stored error was recorded with (INTERNAL if unreadable).
StatusCode CodeFromName(const std::string& name) { return ParseStatusCode(name).value_or(StatusCode::kInternal); }

Value ErrorObject(const Status& s) {
  Value e = Value::MakeObject();
  e.set("code", ErrorCodeName(s));
  e.set("message", s.message());
  return e;
}

bool HoldsFunction(const Value& v) {
  if (v.is_function()) return true;
  if (v.is_array()) {
    for (const Value& item : v.as_array()) {
      if (HoldsFunction(item)) return true;
    }
  } else if (v.is_object()) {
    for (const auto& m : v.members()) {
      if (HoldsFunction(m.value)) return true;
    }
  }
  return false;
}

// `text` with every occurrence of a secret's value replaced.
std::string RedactedText(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8)) {
      text.replace(at, secret.size(), "[secret]");
    }
  }
  return text;
}

// A copy of `v` in which no secret's value appears (in strings or keys).
Value Redacted(const Value& v, const std::vector<std::string>& secrets) {
  if (v.is_string()) return RedactedText(v.as_string(), secrets);
  if (v.is_array()) {
    Value::Array items;
    items.reserve(v.size());
    for (const Value& item : v.as_array()) items.push_back(Redacted(item, secrets));
    return Value::MakeArray(std::move(items));
  }
  if (v.is_object()) {
    Value out = Value::MakeObject(v.size());
    for (const auto& m : v.members()) out.set(RedactedText(m.key, secrets), Redacted(m.value, secrets));
    return out;
  }
  return v;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// The $secret() function: returns a secret's value and notes it in `used`
// (the step's record is redacted of them). It owns what it uses: the value
// may outlive the step.
Value SecretFunction(std::shared_ptr<std::vector<std::string>> used,
                     const std::function<std::optional<std::string>(std::string_view)>& source) {
  expr::HostFunction lookup;
  lookup.signature = "<s:s>";
  lookup.fn = [used = std::move(used), source](const std::vector<Value>& args) -> Result<Value> {
    const std::string name = args.empty() || !args[0].is_string() ? "" : args[0].as_string();
    std::optional<std::string> value = source ? source(name) : std::nullopt;
    if (!value) return NotFoundError("secret '" + name + "' is not set");
    used->push_back(*value);
    return Value(*value);
  };
  return expr::MakeHostFunction(std::move(lookup));
}

// Refused before anything runs: what the action needs and the workflow does
// not grant.
Status CheckGranted(const dsl::ActionSpec& spec, const dsl::Workflow& wf) {
  const uint32_t missing = spec.needs & ~wf.permissions.Granted();
  if (missing == 0) return Status::Ok();
  return PermissionDeniedError("action '" + spec.name + "' needs the '" + dsl::NeedNames(missing) +
                               "' permission, which workflow '" + wf.name + "' does not grant");
}

// A call of a declared action: its inputs (valid against its schema) become
// $input for the implementation's inputs and settings.
struct NamedCall {
  Value inputs;    // the implementation's
  Value settings;  // the implementation's, the task's own on top
};
Status PrepareNamed(const dsl::NamedAction& named, const Value& inputs, const Value& task_settings,
                    const std::function<std::optional<std::string>(std::string_view)>& secrets,
                    const expr::EvalOptions& eval, NamedCall& out, std::vector<std::string>& secret_values) {
  Value bindings = Value::MakeObject();
  bindings.set("input", inputs);
  std::shared_ptr<std::vector<std::string>> used;
  if (named.uses_secrets) {
    used = std::make_shared<std::vector<std::string>>();
    bindings.set("secret", SecretFunction(used, secrets));
  }
  const dsl::Scope scope{Value::MakeObject(), bindings};
  Result<Value> impl_inputs = named.inputs.Evaluate(scope, eval);
  Result<Value> impl_settings = impl_inputs.ok() ? named.settings.Evaluate(scope, eval) : Result<Value>(Value());
  if (used) secret_values.insert(secret_values.end(), used->begin(), used->end());
  WEFT_RETURN_IF_ERROR(impl_inputs.status());
  WEFT_RETURN_IF_ERROR(impl_settings.status());
  out.inputs = impl_inputs->is_undefined() ? Value::MakeObject() : *impl_inputs;
  // A new object: the evaluated settings may be the workflow's own literal.
  out.settings = Value::MakeObject();
  const Value* parts[] = {&*impl_settings, &task_settings};
  for (const Value* part : parts) {
    if (!part->is_object()) continue;
    for (const auto& m : part->members()) out.settings.set(m.key, m.value);
  }
  if (named.implementation_spec != nullptr && named.implementation_spec->input_schema) {
    Value checked = secret_values.empty() ? out.inputs : Redacted(out.inputs, secret_values);
    WEFT_RETURN_IF_ERROR(named.implementation_spec->input_schema->Validate(
        checked, "inputs that action '" + named.spec.name + "' gives '" + named.implementation + "'"));
  }
  return Status::Ok();
}

// An attempt's outcome as a status: its error, or its output breaking the
// output schema of the action doing the work or of the declared action.
Status CheckOutcome(const dsl::ActionSpec* spec, const dsl::NamedAction* named, const ActionResult& result) {
  if (!result.ok()) return result.status();
  if (named != nullptr && named->implementation_spec != nullptr && named->implementation_spec->output_schema) {
    WEFT_RETURN_IF_ERROR(named->implementation_spec->output_schema->Validate(
        result.output(), "output of '" + named->implementation + "' for action '" + named->spec.name + "'"));
  }
  if (spec != nullptr && spec->output_schema) {
    return spec->output_schema->Validate(result.output(), "output of action '" + spec->name + "'");
  }
  return Status::Ok();
}

// What a recorded approval says: nullopt when there is none (or a
// rejection from before a retry, which asks again), else OK to proceed or
// the refusal.
std::optional<Status> ApprovalOutcome(const RunState& run, const std::string& approval_key, const std::string& action) {
  auto it = run.journal.find(approval_key);
  if (it == run.journal.end()) return std::nullopt;
  const JournalEntry& j = it->second;
  if (j.status == StepStatus::kFailed) {
    if (j.seq <= run.record.retry_from_seq) return std::nullopt;
    return Status(CodeFromName(j.error_code), j.error);
  }
  if (j.status != StepStatus::kCompleted) return std::nullopt;
  if (j.output.get("approved").is_bool() && j.output.get("approved").as_bool()) return Status::Ok();
  if (j.seq <= run.record.retry_from_seq) return std::nullopt;
  std::string why = "action '" + action + "' was not approved";
  if (Value by = j.output.get("by"); by.is_string()) why += " by " + by.as_string();
  if (Value c = j.output.get("comment"); c.is_string() && !c.as_string().empty()) why += ": " + c.as_string();
  return PermissionDeniedError(why);
}

// The approval a sensitive action waits for, as sub-step "approval".
Suspension ApprovalRequest(const std::string& action, const std::string& description, const Value& inputs) {
  Value data = Value::MakeObject();
  data.set("action", action);
  if (!description.empty()) data.set("description", description);
  data.set("inputs", inputs);
  Suspension s{"approval", data, 0};
  s.sub_step = "approval";
  s.action = "approval";
  return s;
}

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

asio::awaitable<ActionResult> ExecuteAction(const Action* action, std::shared_ptr<ActionContext> ctx) {
  co_return co_await action->Execute(*ctx);
}

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

  std::optional<ActionResult> Find(const ActionContext& caller, std::string_view name) const override {
    auto it = run_.journal.find(Key(caller, name));
    if (it == run_.journal.end()) return std::nullopt;
    const JournalEntry& j = it->second;
    if (j.status == StepStatus::kCompleted) return ActionResult::Ok(j.output);
    // A failure before a retry of the run is tried again.
    if (j.status == StepStatus::kFailed && j.seq > run_.record.retry_from_seq) {
      return ActionResult::Error(Status(CodeFromName(j.error_code), j.error));
    }
    return std::nullopt;
  }

  asio::awaitable<Status> Record(const ActionContext& caller, std::string_view name, std::string_view action,
                                 const Value& input, const ActionResult& result, const Value& detail) override {
    StepRecord rec;
    rec.path = Key(caller, name);
    rec.task = std::string(caller.task);
    rec.action = std::string(action);
    rec.attempt = caller.attempt;
    rec.input = input;
    rec.detail = detail;
    rec.started_ms = rec.ended_ms = engine_.clock->NowMillis();
    if (result.ok()) {
      rec.status = StepStatus::kCompleted;
      rec.output = result.output();
    } else {
      rec.status = StepStatus::kFailed;
      rec.error_code = std::string(StatusCodeName(result.status().code()));
      rec.error = result.status().message();
    }
    JournalEntry entry{rec.status, rec.output,  rec.error_code,
                       rec.error,  rec.attempt, std::numeric_limits<int64_t>::max()};
    store::Commit commit;
    store::RunUpdate& u = commit.updates.emplace_back();
    u.run_id = run_.record.id;
    u.kind = store::RunUpdate::Kind::kStepsOnly;
    u.steps.push_back(rec);
    u.expect_status = store::RunStatus::kRunning;
    Status s = co_await CommitAwait(*engine_.options.store, std::move(commit), run_.strand, engine_.commits);
    if (!s.ok()) co_return s;
    engine_.Emit(run_, rec);
    run_.journal[rec.path] = std::move(entry);
    co_return Status::Ok();
  }

  asio::awaitable<ActionResult> Call(const ActionContext& caller, std::string_view name, std::string_view action_name,
                                     Value inputs) override {
    if (std::optional<ActionResult> done = Find(caller, name)) co_return *done;
    const dsl::Workflow& wf = *run_.workflow;
    const dsl::NamedAction* named = nullptr;
    const dsl::ActionSpec* spec = nullptr;
    if (auto it = wf.actions.find(action_name); it != wf.actions.end()) {
      named = &it->second;
      spec = &named->spec;
    } else {
      spec = engine_.options.actions->Find(action_name);
    }
    const Action* action = engine_.options.actions->FindAction(named != nullptr ? named->implementation : action_name);
    if (spec == nullptr || action == nullptr) {
      co_return ActionResult::Error(NotFoundError("no action '" + std::string(action_name) + "'"));
    }
    if (spec->suspends) {
      co_return ActionResult::Error(
          FailedPreconditionError("action '" + spec->name + "' waits for a person and cannot be called here"));
    }
    std::vector<std::string> secrets;
    Value record_input = inputs;
    Status error = CheckGranted(*spec, wf);
    if (error.ok() && spec->input_schema) error = spec->input_schema->Validate(inputs, "input of '" + spec->name + "'");
    Value settings = Value::MakeObject();
    if (error.ok() && named != nullptr) {
      NamedCall call;
      error = PrepareNamed(*named, inputs, Value(), engine_.options.secrets, eval_, call, secrets);
      inputs = std::move(call.inputs);
      settings = std::move(call.settings);
    }
    const std::string approval = std::string(name) + "/approval";
    if (error.ok() && spec->sensitive) {
      std::optional<Status> approved = ApprovalOutcome(run_, Key(caller, approval), spec->name);
      if (!approved) {
        Suspension wait = ApprovalRequest(spec->name, spec->description, record_input);
        wait.sub_step = approval;
        co_return ActionResult::Suspend(wait);
      }
      error = *approved;
    }
    ActionResult result = ActionResult::Error(error);
    Value detail;
    if (error.ok()) {
      const std::string key = Key(caller, name);
      ActionContext ctx = caller;
      ctx.step_path = key;
      ctx.inputs = inputs;
      ctx.settings = settings;
      ctx.bindings = Value();
      ctx.detail = Value();
      try {
        result = co_await action->Execute(ctx);
      } catch (const std::exception& x) {
        result = ActionResult::Error(InternalError(std::string("the action threw: ") + x.what()));
      }
      if (result.suspended()) {
        co_return ActionResult::Error(
            FailedPreconditionError("action '" + spec->name + "' waits for a person and cannot be called here"));
      }
      if (Status out = CheckOutcome(spec, named, result); !out.ok()) result = ActionResult::Error(out);
      detail = ctx.detail;
    }
    if (!secrets.empty()) {
      record_input = Redacted(record_input, secrets);
      detail = Redacted(detail, secrets);
      if (!result.ok()) {
        result = ActionResult::Error(Status(result.status().code(), RedactedText(result.status().message(), secrets)));
      }
    }
    // A cancelled call did not happen: the step, run again, makes it.
    if (!result.ok() && result.status().code() == StatusCode::kCancelled) co_return result;
    Status recorded = co_await Record(caller, name, spec->name, record_input, result, detail);
    if (!recorded.ok()) co_return ActionResult::Error(recorded);
    co_return result;
  }

 private:
  static std::string Key(const ActionContext& caller, std::string_view name) {
    std::string key;
    key.reserve(caller.step_path.size() + 1 + name.size());
    key.append(caller.step_path).append("/").append(name);
    return key;
  }

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
  asio::awaitable<Status> Record(StepRecord& step, const store::RunRecord* run_update = nullptr) {
    if (inline_commits_) co_return RecordInline(step, run_update);
    store::Commit commit = MakeCommit(step, run_update);
    Status s = co_await CommitAwait(*engine_.options.store, std::move(commit), run_.strand, engine_.commits);
    if (s.ok()) engine_.Emit(run_, step);
    co_return s;
  }

  // Record for stores that commit before returning: no suspension at all.
  Status RecordInline(StepRecord& step, const store::RunRecord* run_update = nullptr) {
    Status status = InternalError("the store did not complete the commit inline");
    auto done = [&status](Status s) { status = std::move(s); };
    if (run_update == nullptr && !engine_.options.on_step) {
      engine_.options.store->AppendStepAsync(run_.record.id, std::move(step), done);
      return status;
    }
    engine_.options.store->CommitAsync(MakeCommit(step, run_update), done);
    if (status.ok()) engine_.Emit(run_, step);
    return status;
  }

  // Moves `step` into the commit unless it is still needed for the report.
  // Built in place: a step's record is moved once, into the commit.
  store::Commit MakeCommit(StepRecord& step, const store::RunRecord* run_update) {
    store::Commit commit;
    store::RunUpdate& u = commit.updates.emplace_back();
    u.run_id = run_.record.id;
    u.kind = run_update != nullptr ? store::RunUpdate::Kind::kUpdate : store::RunUpdate::Kind::kStepsOnly;
    if (run_update != nullptr) u.run = *run_update;
    if (engine_.options.on_step) {
      u.steps.push_back(step);  // kept for the report below
    } else {
      u.steps.push_back(std::move(step));
    }
    // A run cancelled (or taken over) elsewhere stops at its next commit.
    u.expect_status = store::RunStatus::kRunning;
    return commit;
  }

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
  Status Prepare(const TaskDef& task, const Frame& frame, TaskScratch& s) const {
    if (task.spec != nullptr && task.spec->needs != 0) WEFT_RETURN_IF_ERROR(CheckGranted(*task.spec, *run_.workflow));
    if (task.uses_secrets) {
      WEFT_RETURN_IF_ERROR(PrepareWithSecrets(task, frame, s));
    } else {
      WEFT_ASSIGN_OR_RETURN(s.inputs, EvalTemplate(task.inputs, frame));
      if (s.inputs.is_undefined()) s.inputs = Value::MakeObject();
      if (task.spec != nullptr && task.spec->input_schema) {
        WEFT_RETURN_IF_ERROR(task.spec->input_schema->Validate(s.inputs, "input"));
      }
      WEFT_ASSIGN_OR_RETURN(s.settings, EvalTemplate(task.settings.action_settings, frame));
    }
    if (task.named == nullptr) return Status::Ok();
    NamedCall call;
    WEFT_RETURN_IF_ERROR(
        PrepareNamed(*task.named, s.inputs, s.settings, engine_.options.secrets, eval_, call, s.secret_values));
    s.task_inputs = std::move(s.inputs);
    s.inputs = std::move(call.inputs);
    s.settings = std::move(call.settings);
    return Status::Ok();
  }

  // As Prepare, with $secret(name) bound: the action gets the values, and
  // the step's record gets them redacted (see Redacted).
  Status PrepareWithSecrets(const TaskDef& task, const Frame& frame, TaskScratch& s) const {
    Value bindings = Value::MakeObject();
    for (const auto& m : Bindings(frame).members()) bindings.set(m.key, m.value);
    auto used = std::make_shared<std::vector<std::string>>();
    bindings.set("secret", SecretFunction(used, engine_.options.secrets));
    const dsl::Scope scope{frame.state, bindings};
    Result<Value> inputs = task.inputs.Evaluate(scope, eval_);
    Result<Value> settings =
        inputs.ok() ? task.settings.action_settings.Evaluate(scope, eval_) : Result<Value>(Value());
    s.secret_values = *used;
    WEFT_RETURN_IF_ERROR(inputs.status());
    WEFT_RETURN_IF_ERROR(settings.status());
    if (HoldsFunction(*inputs) || HoldsFunction(*settings)) {
      // $secret passed on as a function could be called later, by a step
      // whose history is not redacted.
      return InvalidArgumentError("a task that uses $secret() cannot pass functions in its inputs or settings");
    }
    s.inputs = inputs->is_undefined() ? Value::MakeObject() : *inputs;
    s.settings = *settings;
    if (task.spec != nullptr && task.spec->input_schema) {
      WEFT_RETURN_IF_ERROR(task.spec->input_schema->Validate(Redacted(s.inputs, s.secret_values), "input"));
    }
    return Status::Ok();
  }

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

  void StartAttempt(TaskScratch& s, const TaskDef& task, int attempt) {
    ActionContext& ctx = s.ctx;
    ctx.detail = Value();
    ctx.log = nullptr;
    ctx.stream = nullptr;
    if (engine_.options.on_stream) {
      ctx.stream = [sink = &engine_.options.on_stream, run = run_.record.id, path = s.key](std::string_view delta) {
        (*sink)(run, path, delta);
      };
    }
    ctx.run_id = run_.record.id;
    ctx.workflow = run_.record.workflow;
    ctx.step_path = s.key;
    ctx.task = task.name;
    ctx.attempt = attempt;
    ctx.inputs = s.inputs;
    ctx.settings = s.settings;
    ctx.bindings = task.bindings;
    ctx.clock = engine_.clock;
    ctx.random = engine_.random;
    ctx.executor = run_.strand;
    ctx.children = children_.get();
    ctx.sub_steps = sub_steps_.get();
    ctx.permissions = &run_.workflow->permissions;
    ctx.definition = run_.workflow.get();
    StartRecord(s, task, attempt, StepStatus::kCompleted);
  }

  // The attempt's outcome as a status: its error, or its output breaking
  // the action's output schema.
  static Status Outcome(const TaskDef& task, const ActionResult& result) {
    return CheckOutcome(task.spec, task.named, result);
  }

  // Runs one task: replays its recorded result, or calls its action (with
  // retries) and records each attempt. Its coroutine frame is 976 bytes and
  // must stay under Asio's 1,020-byte recycling limit: keep locals few and
  // small, pass records by reference (bench/RESULTS.md tells how to check).
  asio::awaitable<Flow> RunTask(const FlowNode& node, const TaskDef& task, Frame& frame) {
    ScratchLease lease;
    TaskScratch& s = *lease;
    if (frame.prefix.empty() && frame.suffix.empty()) {
      s.key = node.step_key;
    } else {
      s.key.reserve(frame.prefix.size() + node.step_key.size() + frame.suffix.size());
      s.key.append(frame.prefix).append(node.step_key).append(frame.suffix);
    }

    int attempt = 1;
    Status error;
    Status recorded;  // of the last Record
    switch (Replay(s.key, task, frame, attempt, error)) {
      case Replayed::kDone: co_return Flow::Ok();
      case Replayed::kFailed: co_return co_await HandleFailure(task, s.key, error, frame);
      case Replayed::kRun: break;
    }
    if (frame.scope->IsCancelled()) co_return Flow::Cancel();

    const Action* action = ActionOf(task);
    if (action == nullptr) co_return Flow::Fail(InternalError("action '" + task.action + "' is not registered"));

    // A sensitive action waits for a human's approval (sub-step "approval").
    const bool ask_approval = !Begin(task, frame, s, error);
    if (!error.ok()) {
      StartRecord(s, task, attempt, StepStatus::kFailed);
      s.rec.error_code = ErrorCodeName(error);
      s.rec.error = error.message();
      s.rec.ended_ms = s.rec.started_ms;
      recorded = co_await Record(s.rec);
      if (!recorded.ok()) co_return Flow::Abandon(std::move(recorded));
      co_return co_await HandleFailure(task, s.key, error, frame);
    }

    const dsl::RetryPolicy& retry = task.settings.retries;
    for (;; ++attempt) {
      StartAttempt(s, task, attempt);
      if (ask_approval) {
        RequestApproval(task, s);
      } else if (action->spec().immediate) {
        // Never waits: no cancellation needed, no extra coroutine. Work it
        // bounds itself (a script's budgets) is bounded by the step's
        // timeout too, through the deadline.
        s.ctx.deadline = task.settings.timeout_ms > 0
                             ? std::chrono::steady_clock::now() + std::chrono::milliseconds(task.settings.timeout_ms)
                             : std::chrono::steady_clock::time_point::max();
        try {
          s.result = co_await action->Execute(s.ctx);
        } catch (const std::exception& x) {
          s.result = ActionResult::Error(InternalError(std::string("the action threw: ") + x.what()));
        }
      } else {
        co_await Attempt(*action, s.ctx, task.settings.timeout_ms, frame.scope, s.result);
        if (engine_.stopping) co_return StoppingFlow();
      }
      s.rec.ended_ms = engine_.clock->NowMillis();
      s.rec.detail = s.secret_values.empty() ? s.ctx.detail : Redacted(s.ctx.detail, s.secret_values);

      if (s.result.suspended()) co_return co_await Suspend(s.rec, task, s.result.suspension());
      error = KeepSecret(Outcome(task, s.result), s);
      s.rec.output = s.result.output();
      if (error.ok()) {
        if (inline_commits_) {
          recorded = RecordInline(s.rec);
        } else {
          recorded = co_await Record(s.rec);
        }
        if (!recorded.ok()) co_return Flow::Abandon(std::move(recorded));
        frame.Apply(task.name, s.result.output(), task.settings.export_result);
        co_return Flow::Ok();
      }
      s.rec.error_code = ErrorCodeName(error);
      s.rec.error = error.message();
      if (frame.scope->IsCancelled()) {
        s.rec.status = StepStatus::kCancelled;
        recorded = co_await Record(s.rec);
        if (!recorded.ok()) co_return Flow::Abandon(std::move(recorded));
        co_return Flow::Cancel();
      }
      const bool again = retry.Retries(error) && attempt < retry.max_attempts;
      s.rec.status = again ? StepStatus::kRetrying : StepStatus::kFailed;
      recorded = co_await Record(s.rec);
      if (!recorded.ok()) co_return Flow::Abandon(std::move(recorded));
      if (!again) co_return co_await HandleFailure(task, s.key, error, frame);
      if (int64_t delay = retry.DelayMillis(attempt, UnitDraw()); delay > 0) co_await Sleep(delay);
      if (frame.scope->IsCancelled()) co_return Flow::Cancel();
    }
  }

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
    return unit(run_.rng);
  }

  asio::awaitable<Flow> Suspend(StepRecord& rec, const TaskDef& task, const Suspension& suspension) {
    rec.status = StepStatus::kSuspended;
    rec.output = suspension.data;
    if (!suspension.sub_step.empty()) {
      rec.path.append("/").append(suspension.sub_step);
      rec.action = suspension.action;
    }
    store::RunRecord updated = run_.record;
    updated.status = store::RunStatus::kSuspended;
    Value wait = Value::MakeObject();
    wait.set("kind", suspension.kind);
    wait.set("path", rec.path);
    wait.set("task", task.name);
    wait.set("action", rec.action);
    wait.set("attempt", rec.attempt);
    wait.set("since_ms", rec.ended_ms);
    if (suspension.data.is_defined()) wait.set("data", suspension.data);
    if (suspension.wake_at_ms > 0) wait.set("wake_at_ms", suspension.wake_at_ms);
    updated.wait = wait;
    updated.wake_at_ms = suspension.wake_at_ms;
    if (Status s = co_await Record(rec, &updated); !s.ok()) co_return Flow::Abandon(s);
    run_.record = updated;
    co_return Flow::Suspend();
  }

  asio::awaitable<Flow> HandleFailure(const TaskDef& task, const std::string& key, const Status& error, Frame& frame) {
    const dsl::ErrorHandler& h = task.settings.on_error;
    switch (h.kind) {
      case dsl::ErrorHandler::Kind::kFail:
        co_return Flow::Fail(error.WithContext("task '" + task.name + "' (" + key + ")"));
      case dsl::ErrorHandler::Kind::kContinue: {
        Value out = Value::MakeObject();
        out.set("error", ErrorObject(error));
        frame.Apply({task.name, out, false});
        co_return Flow::Ok();
      }
      case dsl::ErrorHandler::Kind::kFallbackValue: {
        Value saved = frame.error;
        frame.error = ErrorObject(error);
        frame.dirty = true;
        Result<Value> v = EvalTemplate(h.fallback, frame);
        frame.error = saved;
        frame.dirty = true;
        if (!v.ok()) co_return Flow::Fail(v.status().WithContext("task '" + task.name + "' fallback"));
        frame.Apply({task.name, *v, task.settings.export_result});
        co_return Flow::Ok();
      }
      case dsl::ErrorHandler::Kind::kFallbackSteps: {
        Value out = Value::MakeObject();
        out.set("error", ErrorObject(error));
        frame.Apply({task.name, out, false});
        Value saved_error = frame.error;
        std::string saved_prefix = frame.prefix;
        std::string saved_suffix = frame.suffix;
        frame.error = ErrorObject(error);
        frame.prefix = key + ".";
        frame.suffix.clear();
        frame.dirty = true;
        Flow f = co_await RunList(*h.steps, frame);
        frame.error = saved_error;
        frame.prefix = saved_prefix;
        frame.suffix = saved_suffix;
        frame.dirty = true;
        co_return f;
      }
    }
    co_return Flow::Fail(error);
  }

  // One attempt of an action that does I/O (not `immediate`), bounded by the
  // step's timeout and stopped by cancellation of its scope. The outcome
  // goes to `result` (a returned one would take room in the caller's frame).
  asio::awaitable<void> Attempt(const Action& action, ActionContext& context, int64_t timeout_ms, CancelScope* scope,
                                ActionResult& result) {
    // The action may outlive this attempt (a timeout or cancellation does
    // not wait for it), so it gets its own copy of the context.
    auto ctx = OwnedContext::Copy(context, children_, sub_steps_);
    auto abandoned = std::make_shared<std::atomic<bool>>(false);
    ctx->abandoned = abandoned;
    if (timeout_ms > 0) ctx->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    struct CopyBack {
      ActionContext& to;
      std::shared_ptr<ActionContext> from;
      ~CopyBack() { to.detail = from->detail; }
    } copy_back{context, ctx};
    using Channel = asio::experimental::channel<void(boost::system::error_code, ActionResult)>;
    auto channel = std::make_shared<Channel>(run_.strand, 3);
    auto signal = std::make_shared<asio::cancellation_signal>();
    asio::co_spawn(
        run_.strand, ExecuteAction(&action, ctx),
        asio::bind_cancellation_slot(signal->slot(), [channel, signal](const std::exception_ptr& e, ActionResult r) {
          if (e) {
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& x) {
              r = ActionResult::Error(InternalError(std::string("the action threw: ") + x.what()));
            } catch (...) {
              r = ActionResult::Error(InternalError("the action threw"));
            }
          }
          channel->try_send(boost::system::error_code{}, std::move(r));
        }));
    std::optional<asio::steady_timer> timer;
    if (timeout_ms > 0) {
      timer.emplace(run_.strand, std::chrono::milliseconds(timeout_ms));
      timer->async_wait([channel, timeout_ms](boost::system::error_code ec) {
        if (!ec) {
          channel->try_send(
              boost::system::error_code{},
              ActionResult::Error(DeadlineExceededError("timed out after " + std::to_string(timeout_ms) + " ms")));
        }
      });
    }
    InFlight in_flight{scope, [channel] {
                         channel->try_send(boost::system::error_code{},
                                           ActionResult::Error(Status(StatusCode::kCancelled, "cancelled")));
                       }};
    run_.in_flight.push_back(&in_flight);
    // What stops the action when the engine stops: a cancellation emitted
    // on the strand it was spawned on.
    struct Registered {
      Engine::Impl& engine;
      uint64_t id;
      ~Registered() {
        std::lock_guard lock(engine.attempts_mu);
        engine.attempts.erase(id);
      }
    } registered{engine_, 0};
    {
      std::lock_guard lock(engine_.attempts_mu);
      registered.id = ++engine_.next_attempt;
      engine_.attempts[registered.id] = [signal, abandoned, strand = run_.strand] {
        abandoned->store(true, std::memory_order_release);
        asio::post(strand, [signal] { signal->emit(asio::cancellation_type::terminal); });
      };
    }
    result = ActionResult::Error(InternalError("no result"));
    try {
      result = co_await channel->async_receive(asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      result = ActionResult::Error(InternalError(std::string("waiting for the action: ") + e.what()));
    }
    std::erase(run_.in_flight, &in_flight);
    if (timer) timer->cancel();
    // Stops the action if it is still running (timeout or cancellation).
    abandoned->store(true, std::memory_order_release);
    signal->emit(asio::cancellation_type::terminal);
  }

  asio::awaitable<void> Sleep(int64_t millis) {
    if (engine_.options.sleep) {
      co_await engine_.options.sleep(millis);
      co_return;
    }
    asio::steady_timer timer(run_.strand, std::chrono::milliseconds(millis));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<Flow> RunConditional(const FlowNode& node, Frame& frame) {
    for (const FlowNode::Branch& branch : node.branches) {
      if (branch.condition) {
        Result<Value> v = Eval(*branch.condition, frame);
        if (!v.ok()) {
          co_return Flow::Fail(v.status().WithContext("condition at " + branch.location.ToString()));
        }
        if (!IsTruthy(*v)) continue;
      }
      co_return co_await RunList(branch.steps, frame);
    }
    co_return Flow::Ok();
  }

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
                                    std::vector<Child>& children) {
    children.resize(count);
    using Channel = asio::experimental::channel<void(boost::system::error_code, size_t)>;
    auto channel = std::make_shared<Channel>(run_.strand, count);
    size_t launched = 0;
    size_t finished = 0;
    bool stop = false;
    auto launch = [&](size_t i) {
      Child& c = children[i];
      c.frame = base;
      c.frame.log = &c.writes;
      c.scope.parent = base.scope;
      c.frame.scope = &c.scope;
      c.frame.dirty = true;
      asio::co_spawn(
          run_.strand, [&body, &c, i]() -> asio::awaitable<Flow> { co_return co_await body(i, c.frame); },
          [channel, &c, i](const std::exception_ptr& e, Flow f) {
            c.flow = e ? Flow::Fail(InternalError("a branch threw")) : std::move(f);
            channel->try_send(boost::system::error_code{}, i);
          });
    };
    while (launched < count && launched < window) launch(launched++);
    while (finished < launched) {
      size_t i = co_await channel->async_receive(asio::use_awaitable);
      ++finished;
      if (!stop && !on_done(i, children)) {
        stop = true;
        for (size_t j = 0; j < launched; ++j) {
          if (j != i) CancelScopeNow(&children[j].scope);
        }
      }
      if (!stop && launched < count) launch(launched++);
    }
  }

  void CancelScopeNow(CancelScope* scope) {
    scope->cancelled = true;
    std::vector<InFlight*> hit;
    for (InFlight* f : run_.in_flight) {
      if (f->scope->Within(scope)) hit.push_back(f);
    }
    for (InFlight* f : hit) f->cancel();
  }

  asio::awaitable<Flow> RunParallel(const FlowNode& node, Frame& frame) {
    const size_t n = node.children.size();
    ChildBody body = [&](size_t i, Frame& f) -> asio::awaitable<Flow> {
      co_return co_await RunNode(node.children[i], f);
    };
    std::vector<Child> children;
    if (node.strategy == FlowNode::Strategy::kWaitAll) {
      std::optional<size_t> failed;
      co_await RunChildren(
          n, n, frame, body,
          [&](size_t i, std::vector<Child>& c) {
            if (c[i].flow.ok()) return true;
            failed = i;
            return false;
          },
          children);
      if (failed) co_return children[*failed].flow;
      for (Child& c : children) {
        for (const Write& w : c.writes) frame.Apply(w);
      }
      co_return Flow::Ok();
    }
    // wait_any: the first branch to succeed wins; the others are cancelled
    // and their writes dropped. The winner is recorded so that a replay
    // follows it alone.
    const std::string marker = frame.prefix + node.path + ":parallel" + frame.suffix;
    if (auto it = run_.journal.find(marker); it != run_.journal.end() && it->second.output.is_number()) {
      size_t winner = SaturatingSize(it->second.output.as_number());
      if (winner < n) {
        Flow f = co_await RunNode(node.children[winner], frame);
        co_return f;
      }
    }
    std::optional<size_t> winner;
    co_await RunChildren(
        n, n, frame, body,
        [&](size_t i, std::vector<Child>& c) {
          if (!c[i].flow.ok()) return true;
          winner = i;
          return false;
        },
        children);
    if (!winner) {
      // Every branch failed: report the first failure in branch order.
      for (Child& c : children) {
        if (c.flow.kind != Flow::Kind::kCancel) co_return c.flow;
      }
      co_return children.empty() ? Flow::Ok() : children.front().flow;
    }
    StepRecord rec;
    rec.path = marker;
    rec.task = node.path;
    rec.action = "parallel";
    rec.status = StepStatus::kCompleted;
    rec.output = Value(static_cast<double>(*winner));
    rec.started_ms = rec.ended_ms = engine_.clock->NowMillis();
    if (Status s = co_await Record(rec); !s.ok()) co_return Flow::Abandon(s);
    for (const Write& w : children[*winner].writes) frame.Apply(w);
    co_return Flow::Ok();
  }

  asio::awaitable<Flow> RunLoop(const FlowNode& node, Frame& frame) {
    Value items;
    if (node.loop_type == FlowNode::LoopType::kForEach) {
      Result<Value> v = Eval(*node.in, frame);
      if (!v.ok()) co_return Flow::Fail(v.status().WithContext("loop '" + node.name + "' for_each.in"));
      if (v->is_undefined()) {
        items = Value::MakeArray();
      } else if (v->is_array()) {
        items = *v;
      } else {
        items = Value::MakeArray({*v});
      }
    }
    // A loop without its own accumulator passes the enclosing one on.
    Value acc = frame.accumulator;
    if (node.accumulate) {
      Result<Value> init = EvalTemplate(node.accumulate->initial, frame);
      if (!init.ok()) co_return Flow::Fail(init.status().WithContext("loop '" + node.name + "' accumulate.initial"));
      acc = *init;
    }
    const Value saved_iteration = frame.iteration;
    const Value saved_acc = frame.accumulator;
    const std::string saved_item = frame.item_name;
    const std::string saved_suffix = frame.suffix;

    auto iteration_value = [&](int64_t i) {
      Value it = Value::MakeObject();
      if (items.is_array()) it.set("item", items.as_array()[static_cast<size_t>(i)]);
      it.set("index", static_cast<double>(i));
      return it;
    };
    // After iteration `i` (its writes applied to `f`): fold it into the
    // accumulator and ask `until`, both seeing the iteration's outputs and
    // the accumulator from before the fold (Hexabot's loop executor: a
    // loop summing [2, 4, 6] until $accumulator >= 6 ends at 12). Returns
    // an error, or whether to stop.
    auto after = [&](int64_t i, Frame& f, bool& stop) -> Status {
      f.SetLoopVars(iteration_value(i), acc);
      Value next = acc;
      if (node.accumulate) {
        WEFT_ASSIGN_OR_RETURN(next, Eval(*node.accumulate->merge, f));
      }
      if (node.until) {
        WEFT_ASSIGN_OR_RETURN(Value u, Eval(*node.until, f));
        stop = IsTruthy(u);
      }
      acc = std::move(next);
      return Status::Ok();
    };
    auto restore = [&]() {
      frame.iteration = saved_iteration;
      // After a loop with an accumulator, $accumulator is its final value
      // (as in Hexabot); otherwise what it was before the loop.
      frame.accumulator = node.accumulate ? acc : saved_acc;
      frame.item_name = saved_item;
      frame.suffix = saved_suffix;
      frame.dirty = true;
    };

    const int64_t limit = engine_.options.max_loop_iterations;
    Flow result = Flow::Ok();
    if (!node.ConcurrentIterations()) {
      for (int64_t i = 0;; ++i) {
        if (items.is_array() && static_cast<size_t>(i) >= items.size()) break;
        if (i >= limit) {
          result = Flow::Fail(ResourceExhaustedError("loop '" + node.name + "' ran more than " + std::to_string(limit) +
                                                     " iterations"));
          break;
        }
        frame.SetLoopVars(iteration_value(i), acc);
        frame.item_name = node.item_name;
        if (node.loop_type == FlowNode::LoopType::kWhile) {
          Result<Value> w = Eval(*node.while_cond, frame);
          if (!w.ok()) {
            result = Flow::Fail(w.status().WithContext("loop '" + node.name + "' while"));
            break;
          }
          if (!IsTruthy(*w)) break;
        }
        frame.suffix = IterationSuffix(saved_suffix, i);
        Flow f = co_await RunList(node.children, frame);
        if (!f.ok()) {
          result = f;
          break;
        }
        bool stop = false;
        if (Status s = after(i, frame, stop); !s.ok()) {
          result = Flow::Fail(s.WithContext("loop '" + node.name + "'"));
          break;
        }
        if (stop) break;
      }
    } else {
      const size_t n = items.size();
      ChildBody body = [&](size_t i, Frame& f) -> asio::awaitable<Flow> {
        f.SetLoopVars(iteration_value(static_cast<int64_t>(i)), acc);
        f.item_name = node.item_name;
        f.suffix = IterationSuffix(saved_suffix, static_cast<int64_t>(i));
        co_return co_await RunList(node.children, f);
      };
      // Iterations finish in any order; they are folded in index order.
      // (Such a loop has no `until`: nothing stops it early but a failure.)
      size_t next = 0;
      std::optional<Flow> failure;
      std::vector<bool> done(n, false);
      std::vector<Child> children;
      const Frame base = frame;
      co_await RunChildren(
          n, static_cast<size_t>(node.max_concurrency), base, body,
          [&](size_t i, std::vector<Child>& c) {
            done[i] = true;
            if (!c[i].flow.ok()) {
              if (!failure) failure = c[i].flow;
              return false;
            }
            while (next < n && done[next] && !failure) {
              for (const Write& w : c[next].writes) frame.Apply(w);
              bool stop = false;
              Status s = after(static_cast<int64_t>(next), frame, stop);
              ++next;
              if (!s.ok()) {
                failure = Flow::Fail(s.WithContext("loop '" + node.name + "'"));
                return false;
              }
            }
            return true;
          },
          children);
      if (failure) result = *failure;
    }
    restore();
    if (!result.ok()) co_return result;
    // $output.<name> is {<as>: accumulator}, for a named loop with one.
    if (node.named && node.accumulate) {
      Value out = Value::MakeObject();
      out.set(node.accumulate->as, acc);
      frame.Apply({node.name, out, false});
    }
    co_return Flow::Ok();
  }

  Engine::Impl& engine_;
  RunState& run_;
  std::shared_ptr<ChildRuns> children_;
  std::shared_ptr<SubStepRunner> sub_steps_;
  const bool inline_commits_;
  expr::EvalOptions eval_;
};

thread_local std::vector<std::unique_ptr<Executor::TaskScratch>> Executor::ScratchLease::spare_;

asio::awaitable<ActionResult> ChildRuns::RunChild(const ActionContext& caller, const std::string& workflow,
                                                  int64_t version, Value input) {
  if (run_.depth + 1 > engine_.options.max_call_depth) {
    co_return ActionResult::Error(ResourceExhaustedError("call_workflow nested more than " +
                                                         std::to_string(engine_.options.max_call_depth) + " deep"));
  }
  store::Store& store = *engine_.options.store;
  char hash[17];
  snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(Fnv1a(caller.AttemptKey())));
  const std::string child_id = run_.record.id + "." + hash;

  Result<store::RunRecord> existing = store.GetRun(child_id);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound)
    co_return ActionResult::Error(existing.status());
  if (!existing.ok()) {
    Result<std::shared_ptr<const dsl::Workflow>> wf = engine_.LoadWorkflowByName(workflow, version);
    if (!wf.ok()) co_return ActionResult::Error(wf.status());
    if ((*wf)->input_schema) {
      if (Status s = (*wf)->input_schema->Validate(input, "input of workflow '" + workflow + "'"); !s.ok()) {
        co_return ActionResult::Error(s);
      }
    }
    store::RunRecord rec;
    rec.id = child_id;
    rec.workflow = (*wf)->name;
    rec.version = (*wf)->version;
    rec.status = store::RunStatus::kRunning;
    rec.input = input;
    rec.context = run_.context;
    rec.parent_run = run_.record.id;
    rec.parent_path = std::string(caller.step_path);
    rec.seed = run_.rng();
    rec.created_ms = engine_.clock->NowMillis();
    rec.lease_owner = engine_.owner;  // driven by its parent's engine
    rec.lease_until_ms = rec.created_ms + engine_.options.lease_ms;
    store::Commit commit;
    commit.updates.push_back({store::RunUpdate::Kind::kCreate, child_id, rec, {}, std::nullopt});
    if (Status s = co_await CommitAwait(store, std::move(commit), run_.strand, engine_.commits); !s.ok()) {
      co_return ActionResult::Error(s);
    }
  }
  for (int round = 0; round < 2; ++round) {
    Result<store::RunRecord> rec = store.GetRun(child_id);
    if (!rec.ok()) co_return ActionResult::Error(rec.status());
    switch (rec->status) {
      case store::RunStatus::kCompleted:
        co_return ActionResult::Ok(rec->outputs.is_defined() ? rec->outputs : Value::MakeObject());
      case store::RunStatus::kFailed:
        co_return ActionResult::Error(
            Status(CodeFromName(rec->error_code), "child run " + child_id + " failed: " + rec->error));
      case store::RunStatus::kCancelled:
        co_return ActionResult::Error(Status(StatusCode::kCancelled, "child run " + child_id + " was cancelled"));
      case store::RunStatus::kSuspended: {
        Value data = Value::MakeObject();
        data.set("run_id", child_id);
        data.set("waiting", rec->wait);
        co_return ActionResult::Suspend(Suspension{"child", data, 0});
      }
      case store::RunStatus::kRunning: {
        if (round == 1) break;
        // Drive the child here, on this run's strand: the parent waits for it
        // anyway, and a crash replays both from their histories.
        std::shared_ptr<RunState> child = engine_.MakeRunState(*rec, run_.depth + 1);
        child->scope.parent = &run_.scope;
        {
          std::lock_guard lock(engine_.mu);
          if (engine_.active.count(child_id) != 0) {
            co_return ActionResult::Error(UnavailableError("child run " + child_id + " is executing elsewhere"));
          }
          engine_.active[child_id] = child;
        }
        struct Done {
          Engine::Impl& engine;
          std::string id;
          ~Done() { engine.Finished(id); }
        } done{engine_, child_id};
        co_await engine_.Drive(child);
        break;
      }
    }
  }
  co_return ActionResult::Error(UnavailableError("child run " + child_id + " did not finish"));
}

}  // namespace

bool IsTruthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNull:
    case Value::Kind::kFunction: return false;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kNumber: return v.as_number() != 0;
    case Value::Kind::kString: return !v.as_string().empty();
    case Value::Kind::kArray:
      for (const Value& item : v.as_array()) {
        if (IsTruthy(item)) return true;
      }
      return false;
    case Value::Kind::kObject: return v.size() > 0;
  }
  return false;
}

void RunState::CancelAll() {
  scope.cancelled = true;
  std::vector<InFlight*> all = in_flight;
  for (InFlight* f : all) f->cancel();
}

asio::awaitable<void> ExecuteRun(Engine::Impl& engine, std::shared_ptr<RunState> run) {
  store::Store& store = *engine.options.store;
  Executor executor(engine, run);
  Frame root;
  root.state = run->record.input.is_object() ? run->record.input : Value::MakeObject();
  root.outputs = Value::MakeObject();
  root.scope = &run->scope;
  Flow flow = co_await executor.RunList(run->workflow->flow, root);

  store::RunRecord final_record = run->record;
  switch (flow.kind) {
    case Flow::Kind::kSuspend:
    case Flow::Kind::kAbandon: co_return;
    case Flow::Kind::kOk: {
      Value outputs = Value::MakeObject();
      Status status;
      for (const auto& [name, t] : run->workflow->outputs) {
        Result<Value> v = executor.EvalTemplate(t, root);
        if (!v.ok()) {
          status = v.status();
          break;
        }
        if (v->is_defined()) outputs.set(name, *v);
      }
      if (status.ok()) {
        final_record.status = store::RunStatus::kCompleted;
        final_record.outputs = outputs;
      } else {
        final_record.status = store::RunStatus::kFailed;
        final_record.error_code = std::string(StatusCodeName(status.code()));
        final_record.error = status.message();
      }
      break;
    }
    case Flow::Kind::kFail:
      final_record.status = store::RunStatus::kFailed;
      final_record.error_code = std::string(StatusCodeName(flow.error.code()));
      final_record.error = flow.error.message();
      break;
    case Flow::Kind::kCancel:
      final_record.status = store::RunStatus::kCancelled;
      final_record.error_code = "CANCELLED";
      final_record.error = "cancelled";
      break;
  }
  final_record.wait = Value();
  final_record.wake_at_ms = 0;
  store::Commit commit;
  commit.updates.push_back(
      {store::RunUpdate::Kind::kUpdate, final_record.id, final_record, {}, store::RunStatus::kRunning});
  Status s = co_await CommitAwait(store, std::move(commit), run->strand, engine.commits);
  if (s.ok()) run->record = final_record;
}

}  // namespace weft::engine

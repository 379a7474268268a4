// Walking a run's flow. The executor is deterministic given the run's
// history: every task first looks up its step path in the journal and reuses
// a recorded result, so replaying after a crash or a resume reaches the same
// state without calling any action again.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "executor_internal.h"

namespace weft::engine {
namespace internal {

thread_local std::vector<std::unique_ptr<Executor::TaskScratch>> Executor::ScratchLease::spare_;

asio::awaitable<Status> Executor::Record(StepRecord& step, const store::RunRecord* run_update) {
  if (inline_commits_) co_return RecordInline(step, run_update);
  std::vector<StepRecord> earlier = std::move(run_.pending_steps);
  run_.pending_steps.clear();
  store::Commit commit = MakeCommit(step, run_update, earlier);
  Status s = co_await CommitForRun(run_, std::move(commit));
  if (s.ok()) {
    for (const StepRecord& e : earlier) engine_.Emit(run_, e);
    engine_.Emit(run_, step);
  }
  co_return s;
}

asio::awaitable<Status> Executor::FlushPending() {
  // An unborn run is stored here even with no step to add: what comes next
  // may act outside the run.
  if (run_.pending_steps.empty() && !run_.unborn) co_return Status::Ok();
  std::vector<StepRecord> earlier = std::move(run_.pending_steps);
  run_.pending_steps.clear();
  store::Commit commit;
  commit.updates.push_back(
      {store::RunUpdate::Kind::kStepsOnly, run_.record.id, {}, earlier, store::RunStatus::kRunning});
  Status s = co_await CommitForRun(run_, std::move(commit));
  if (s.ok()) {
    for (const StepRecord& e : earlier) engine_.Emit(run_, e);
  }
  co_return s;
}

Status Executor::RecordInline(StepRecord& step, const store::RunRecord* run_update) {
  Status status = InternalError("the store did not complete the commit inline");
  auto done = [&status](Status s) { status = std::move(s); };
  if (run_update == nullptr && !engine_.ReportsSteps() && !run_.unborn) {
    engine_.options.store->AppendStepAsync(run_.record.id, std::move(step), done);
    return status;
  }
  std::vector<StepRecord> none;
  store::Commit commit = MakeCommit(step, run_update, none);
  const bool birth = run_.AddBirth(commit);
  engine_.options.store->CommitAsync(std::move(commit), done);
  if (birth) run_.Born(status);
  if (status.ok()) engine_.Emit(run_, step);
  return status;
}

store::Commit Executor::MakeCommit(StepRecord& step, const store::RunRecord* run_update,
                                   std::vector<StepRecord>& earlier) {
  store::Commit commit;
  store::RunUpdate& u = commit.updates.emplace_back();
  u.run_id = run_.record.id;
  u.kind = run_update != nullptr ? store::RunUpdate::Kind::kUpdate : store::RunUpdate::Kind::kStepsOnly;
  if (run_update != nullptr) u.run = *run_update;
  const bool keep = engine_.ReportsSteps();  // kept for the reports after the commit
  u.steps.reserve(earlier.size() + 1);
  for (StepRecord& e : earlier) {
    if (keep) {
      u.steps.push_back(e);
    } else {
      u.steps.push_back(std::move(e));
    }
  }
  if (!keep) earlier.clear();
  if (keep) {
    u.steps.push_back(step);
  } else {
    u.steps.push_back(std::move(step));
  }
  // A run cancelled (or taken over) elsewhere stops at its next commit.
  u.expect_status = store::RunStatus::kRunning;
  return commit;
}

Status Executor::Prepare(const TaskDef& task, const Frame& frame, TaskScratch& s) const {
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

Status Executor::PrepareWithSecrets(const TaskDef& task, const Frame& frame, TaskScratch& s) const {
  Value bindings = Value::MakeObject();
  for (const auto& m : Bindings(frame).members()) bindings.set(m.key, m.value);
  auto used = std::make_shared<std::vector<std::string>>();
  bindings.set("secret", SecretFunction(used, engine_.options.secrets));
  const dsl::Scope scope{frame.state, bindings};
  Result<Value> inputs = task.inputs.Evaluate(scope, eval_);
  Result<Value> settings = inputs.ok() ? task.settings.action_settings.Evaluate(scope, eval_) : Result<Value>(Value());
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

void Executor::StartAttempt(TaskScratch& s, const TaskDef& task, int attempt) {
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
  ctx.conversation = run_.conversation;
  ctx.attempt = attempt;
  ctx.inputs = s.inputs;
  ctx.settings = s.settings;
  ctx.bindings = task.bindings;
  ctx.clock = engine_.clock;
  ctx.random = engine_.random;
  ctx.executor = run_.strand;
  ctx.blocking = engine_.blocking.get();
  ctx.children = children_.get();
  ctx.sub_steps = sub_steps_.get();
  ctx.permissions = &run_.workflow->permissions;
  ctx.definition = run_.workflow.get();
  StartRecord(s, task, attempt, StepStatus::kCompleted);
}

asio::awaitable<Flow> Executor::RunTask(const FlowNode& node, const TaskDef& task, Frame& frame) {
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
      // timeout too, through the deadline. One that acts outside the run
      // (a message, memory) waits until the run is stored.
      if (run_.unborn && !action->spec().pure) {
        if (Status flushed = co_await FlushPending(); !flushed.ok()) co_return Flow::Abandon(std::move(flushed));
      }
      s.ctx.deadline = task.settings.timeout_ms > 0
                           ? std::chrono::steady_clock::now() + std::chrono::milliseconds(task.settings.timeout_ms)
                           : std::chrono::steady_clock::time_point::max();
      try {
        s.result = co_await action->Execute(s.ctx);
      } catch (const std::exception& x) {
        s.result = ActionResult::Error(InternalError(std::string("the action threw: ") + x.what()));
      }
    } else {
      // The steps before are committed before an action that may take a
      // while, so that they show and are not repeated after a crash.
      if (Status flushed = co_await FlushPending(); !flushed.ok()) co_return Flow::Abandon(std::move(flushed));
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
      } else if (action->spec().immediate && !ask_approval) {
        run_.pending_steps.push_back(s.rec);  // committed with the run's next commit
        recorded = Status::Ok();
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

asio::awaitable<Flow> Executor::Suspend(StepRecord& rec, const TaskDef& task, const Suspension& suspension) {
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
  if (suspension.wake_at_ms == 0) {
    // Nothing claims a run waiting for a person or a child: its lease goes
    // with this commit rather than in a transaction of its own.
    updated.lease_owner.clear();
    updated.lease_until_ms = 0;
  }
  if (Status s = co_await Record(rec, &updated); !s.ok()) co_return Flow::Abandon(s);
  run_.record = updated;
  engine_.PublishRun(updated);
  co_return Flow::Suspend();
}

asio::awaitable<Flow> Executor::HandleFailure(const TaskDef& task, const std::string& key, const Status& error,
                                              Frame& frame) {
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

asio::awaitable<void> Executor::Attempt(const Action& action, ActionContext& context, int64_t timeout_ms,
                                        CancelScope* scope, ActionResult& result) {
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
      MutexLock lock(engine.attempts_mu);
      engine.attempts.erase(id);
    }
  } registered{engine_, 0};
  {
    MutexLock lock(engine_.attempts_mu);
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

asio::awaitable<void> Executor::Sleep(int64_t millis) {
  if (engine_.options.sleep) {
    co_await engine_.options.sleep(millis);
    co_return;
  }
  asio::steady_timer timer(run_.strand, std::chrono::milliseconds(millis));
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace internal

using internal::Executor;
using internal::Flow;
using internal::Frame;

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

RunState::~RunState() {
  if (on_born) on_born(UnavailableError("the run stopped before it was stored"));
}

bool RunState::AddBirth(store::Commit& commit) const {
  if (!unborn) return false;
  // Born and changed (most often ended) in one commit: the run is inserted
  // as it now is, not inserted and then updated, which would also write
  // its entries in the indexes of runs in flight only to remove them.
  for (store::RunUpdate& u : commit.updates) {
    if (u.run_id != unborn->id) continue;
    if (u.kind != store::RunUpdate::Kind::kUpdate) break;  // steps first: the run must exist before them
    store::RunUpdate born{store::RunUpdate::Kind::kCreate, unborn->id, std::move(u.run), std::move(u.steps),
                          std::nullopt};
    born.run.id = unborn->id;
    born.run.created_ms = unborn->created_ms;
    born.run.trigger = unborn->trigger;
    born.run.start_key = unborn->start_key;
    u = std::move(born);
    return true;
  }
  commit.updates.insert(commit.updates.begin(),
                        store::RunUpdate{store::RunUpdate::Kind::kCreate, unborn->id, *unborn, {}, std::nullopt});
  return true;
}

void RunState::Born(const Status& committed) {
  if (committed.ok()) {
    engine->PublishRun(*unborn);
    unborn.reset();
  }
  if (on_born) {
    std::function<void(Status)> tell = std::move(on_born);
    on_born = nullptr;
    tell(committed);
  }
}

asio::awaitable<Status> CommitForRun(RunState& run, store::Commit commit) {
  // The run's own updates apply only while this engine still holds its
  // lease: a worker paused past its lease (another took the run over)
  // stops here instead of recording steps twice.
  for (store::RunUpdate& u : commit.updates) {
    if (u.kind == store::RunUpdate::Kind::kCreate || u.run_id != run.record.id) continue;
    u.fence_owner = run.engine->owner;
    u.fence_epoch = run.record.lease_epoch;
  }
  const bool birth = run.AddBirth(commit);
  Status s = co_await CommitAwait(*run.engine->options.store, std::move(commit), run.strand, run.engine->commits);
  if (birth) run.Born(s);
  co_return s;
}

void RunState::CancelAll() {
  scope.cancelled = true;
  std::vector<InFlight*> all = in_flight;
  for (InFlight* f : all) f->cancel();
}

asio::awaitable<void> ExecuteRun(Engine::Impl& engine, std::shared_ptr<RunState> run) {
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
      // Outputs see $input, $context and $output (and the working state), not
      // what a loop left in $accumulator (Hexabot's outputs scope).
      root.accumulator = Value();
      root.dirty = true;
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
  final_record.lease_owner.clear();  // released in the same transaction
  final_record.lease_until_ms = 0;
  store::Commit commit;
  std::vector<store::StepRecord> earlier = std::move(run->pending_steps);
  run->pending_steps.clear();
  commit.updates.push_back(
      {store::RunUpdate::Kind::kUpdate, final_record.id, final_record, earlier, store::RunStatus::kRunning});
  Status s = co_await CommitForRun(*run, std::move(commit));
  if (!s.ok()) co_return;
  for (const store::StepRecord& e : earlier) engine.Emit(*run, e);
  run->record = final_record;
  engine.PublishRun(final_record);
}

}  // namespace weft::engine

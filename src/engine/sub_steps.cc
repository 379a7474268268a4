// Sub-steps: durable work inside a step (an agent's turns and tool calls,
// the approval of a sensitive action), recorded under <step>/<name>.
#include "executor_internal.h"

namespace weft::engine::internal {

std::optional<ActionResult> SubStepRunner::Find(const ActionContext& caller, std::string_view name) const {
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

asio::awaitable<Status> SubStepRunner::Record(const ActionContext& caller, std::string_view name,
                                              std::string_view action, const Value& input, const ActionResult& result,
                                              const Value& detail) {
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
  std::vector<StepRecord> earlier = std::move(run_.pending_steps);  // they go first
  run_.pending_steps.clear();
  u.steps = earlier;
  u.steps.push_back(rec);
  u.expect_status = store::RunStatus::kRunning;
  Status s = co_await CommitForRun(run_, std::move(commit));
  if (!s.ok()) co_return s;
  for (const StepRecord& e : earlier) engine_.Emit(run_, e);
  engine_.Emit(run_, rec);
  run_.journal[rec.path] = std::move(entry);
  co_return Status::Ok();
}

asio::awaitable<ActionResult> SubStepRunner::Call(const ActionContext& caller, std::string_view name,
                                                  std::string_view action_name, Value inputs) {
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

std::string SubStepRunner::Key(const ActionContext& caller, std::string_view name) {
  std::string key;
  key.reserve(caller.step_path.size() + 1 + name.size());
  key.append(caller.step_path).append("/").append(name);
  return key;
}

}  // namespace weft::engine::internal

// call_workflow: a child run per calling attempt, started or found again
// after a crash, and waited for; a child that waits makes its parent wait.
#include "executor_internal.h"

namespace weft::engine::internal {

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

  // Store calls on the blocking pool, not on the run's thread.
  auto read_child = [&store, &child_id] { return store.GetRun(child_id); };
  Result<store::RunRecord> existing = co_await RunBlocking(*engine_.blocking, read_child);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound)
    co_return ActionResult::Error(existing.status());
  if (!existing.ok()) {
    auto load = [this, &workflow, version] { return engine_.LoadWorkflowByName(workflow, version); };
    Result<std::shared_ptr<const dsl::Workflow>> wf = co_await RunBlocking(*engine_.blocking, std::move(load));
    if (!wf.ok()) co_return ActionResult::Error(wf.status());
    if ((*wf)->input_schema) {
      if (Status s = (*wf)->input_schema->Validate(input, "input of workflow '" + workflow + "'"); !s.ok()) {
        co_return ActionResult::Error(s);
      }
    }
    // Leased to this engine: its parent drives it.
    store::RunRecord rec = engine_.NewRun(**wf, child_id, input, run_.context, run_.rng()());
    rec.parent_run = run_.record.id;
    rec.parent_path = std::string(caller.step_path);
    store::Commit commit;
    // The parent's steps not committed yet go first.
    std::vector<store::StepRecord> earlier = std::move(run_.pending_steps);
    run_.pending_steps.clear();
    if (!earlier.empty()) {
      commit.updates.push_back(
          {store::RunUpdate::Kind::kStepsOnly, run_.record.id, {}, earlier, store::RunStatus::kRunning});
    }
    commit.updates.push_back({store::RunUpdate::Kind::kCreate, child_id, rec, {}, std::nullopt});
    if (Status s = co_await CommitForRun(run_, std::move(commit)); !s.ok()) {
      co_return ActionResult::Error(s);
    }
    for (const store::StepRecord& e : earlier) engine_.Emit(run_, e);
  }
  for (int round = 0; round < 2; ++round) {
    Result<store::RunRecord> rec = co_await RunBlocking(*engine_.blocking, read_child);
    if (!rec.ok()) co_return ActionResult::Error(rec.status());
    if (std::optional<ActionResult> result = ChildResult(*rec)) co_return *result;
    switch (rec->status) {
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
          MutexLock lock(engine_.mu);
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
      default: break;  // finished: ChildResult answered
    }
  }
  co_return ActionResult::Error(UnavailableError("child run " + child_id + " did not finish"));
}

}  // namespace weft::engine::internal

namespace weft::engine {

std::optional<ActionResult> ChildResult(const store::RunRecord& child) {
  switch (child.status) {
    case store::RunStatus::kCompleted:
      return ActionResult::Ok(child.outputs.is_defined() ? child.outputs : Value::MakeObject());
    case store::RunStatus::kFailed:
      return ActionResult::Error(
          Status(internal::CodeFromName(child.error_code), "child run " + child.id + " failed: " + child.error));
    case store::RunStatus::kCancelled:
      return ActionResult::Error(Status(StatusCode::kCancelled, "child run " + child.id + " was cancelled"));
    default: return std::nullopt;
  }
}

}  // namespace weft::engine

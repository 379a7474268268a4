#include "weft/store/store.h"

#include <future>

#include "weft/core/crypto.h"

namespace weft::store {

namespace {
constexpr std::string_view kRunStatusNames[] = {"running", "suspended", "completed", "failed", "cancelled"};
constexpr std::string_view kStepStatusNames[] = {"completed", "retrying", "failed", "suspended", "cancelled"};
}  // namespace

std::string_view RunStatusName(RunStatus s) { return kRunStatusNames[static_cast<int>(s)]; }

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (size_t i = 0; i < std::size(kRunStatusNames); ++i) {
    if (kRunStatusNames[i] == name) return static_cast<RunStatus>(i);
  }
  return std::nullopt;
}

std::string_view StepStatusName(StepStatus s) { return kStepStatusNames[static_cast<int>(s)]; }

std::optional<StepStatus> ParseStepStatus(std::string_view name) {
  for (size_t i = 0; i < std::size(kStepStatusNames); ++i) {
    if (kStepStatusNames[i] == name) return static_cast<StepStatus>(i);
  }
  return std::nullopt;
}

Status Store::CommitSync(Commit commit) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  CommitAsync(std::move(commit), [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

void Store::AppendStepAsync(const std::string& run_id, StepRecord&& step, std::function<void(Status)> done) {
  Commit commit;
  RunUpdate& u = commit.updates.emplace_back();
  u.kind = RunUpdate::Kind::kStepsOnly;
  u.run_id = run_id;
  u.steps.push_back(std::move(step));
  u.expect_status = RunStatus::kRunning;
  CommitAsync(std::move(commit), std::move(done));
}

std::string AuditHash(const AuditEntry& e) {
  std::string text;
  auto field = [&text](std::string_view v) {
    text += std::to_string(v.size());
    text += ':';
    text += v;
  };
  field(e.prev_hash);
  field(std::to_string(e.seq));
  field(std::to_string(e.at_ms));
  field(e.actor);
  field(e.action);
  field(e.target);
  field(e.details);
  return Sha256Hex(text);
}

}  // namespace weft::store

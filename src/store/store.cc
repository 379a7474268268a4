#include "weft/store/store.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "update_checks.h"
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

namespace internal {

const std::string& LocalOwnerPrefix() {
  static const std::string prefix = [] {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    return std::string(host) + "/";
  }();
  return prefix;
}

bool OwnerIsDeadLocalProcess(const std::string& owner) {
  const std::string& prefix = LocalOwnerPrefix();
  if (owner.rfind(prefix, 0) != 0) return false;
  const std::string rest = owner.substr(prefix.size());
  const size_t end = rest.find_first_not_of("0123456789");
  if (end == 0 || rest.empty()) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, end)));
  return kill(pid, 0) != 0 && errno == ESRCH;
}

Status CheckUpdate(const RunUpdate& u, RunStatus status, std::string_view lease_owner, int64_t lease_epoch) {
  if (u.expect_status && status != *u.expect_status) {
    return FailedPreconditionError("run '" + u.run_id + "' is " + std::string(RunStatusName(status)) + ", not " +
                                   std::string(RunStatusName(*u.expect_status)));
  }
  if (!u.fence_owner.empty() && (lease_owner != u.fence_owner || lease_epoch != u.fence_epoch)) {
    return FailedPreconditionError(
        "run '" + u.run_id + "' is no longer leased to " + u.fence_owner + " (lease epoch " +
        std::to_string(u.fence_epoch) + "); " +
        (lease_owner.empty() ? std::string("nobody holds it")
                             : std::string(lease_owner) + " holds it at epoch " + std::to_string(lease_epoch)));
  }
  return Status::Ok();
}

}  // namespace internal

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

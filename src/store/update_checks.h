// What every backend checks before it applies a run update: the status the
// update expects and the lease it was made under. One place, so that the
// backends refuse the same updates with the same words.
#pragma once

#include <string>
#include <string_view>

#include "weft/store/store.h"

namespace weft::store::internal {

// `status`, `lease_owner` and `lease_epoch` are the run's as stored.
Status CheckUpdate(const RunUpdate& u, RunStatus status, std::string_view lease_owner, int64_t lease_epoch);

// Lease owners are "<host>/<pid>"; a lease whose process is gone from this
// host has lapsed, whatever its time says (a restarted weft continues its
// runs at once).
bool OwnerIsDeadLocalProcess(const std::string& owner);
// "<host>/": the owners of this host start with it.
const std::string& LocalOwnerPrefix();

// Whether applying `u` leaves work that any worker may claim: a running run
// nobody holds, or a run waiting on a timer (WaitForWork wakes for these).
inline bool CreatesWork(const RunUpdate& u) {
  if (u.kind == RunUpdate::Kind::kStepsOnly) return false;
  return (u.run.status == RunStatus::kRunning && u.run.lease_owner.empty()) ||
         (u.run.status == RunStatus::kSuspended && u.run.wake_at_ms > 0);
}

// The epoch a run gets when its lease passes from `previous_owner` to
// `owner` by a claim.
inline int64_t EpochAfterClaim(std::string_view previous_owner, std::string_view owner, int64_t epoch) {
  return previous_owner == owner ? epoch : epoch + 1;
}

}  // namespace weft::store::internal

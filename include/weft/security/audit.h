// The audit log: who did what to which workflow, run, user, key or secret.
// Entries are appended by the store as a SHA-256 chain (store::AuditHash);
// VerifyAudit walks it and reports the first entry that does not hold.
#pragma once

#include <string>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/store/store.h"

namespace weft::security {

// Appends an entry (details: an object, or undefined for none).
Status Audit(store::Store& store, int64_t now_ms, std::string actor, std::string action, std::string target,
             const Value& details = Value());

struct AuditVerdict {
  bool ok = true;
  int64_t entries = 0;
  std::string head_hash;   // the last entry's hash: keep it elsewhere to detect a cut tail
  int64_t broken_seq = 0;  // the first entry that fails (when !ok)
  std::string problem;
};
// Reads the whole log in order. `expect_head`, when given, must be the hash
// of an entry in the log (a head recorded earlier): a log cut before it
// fails.
Result<AuditVerdict> VerifyAudit(store::Store& store, const std::string& expect_head = "");

}  // namespace weft::security

#include "weft/security/audit.h"

#include "weft/core/json.h"

namespace weft::security {

Status Audit(store::Store& store, int64_t now_ms, std::string actor, std::string action, std::string target,
             const Value& details) {
  store::AuditEntry e;
  e.at_ms = now_ms;
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.target = std::move(target);
  e.details = details.is_undefined() ? "{}" : ToJson(details);
  return store.AppendAudit(std::move(e)).status();
}

Result<AuditVerdict> VerifyAudit(store::Store& store, const std::string& expect_head) {
  AuditVerdict v;
  bool head_seen = expect_head.empty();
  std::string prev;
  int64_t after = 0;
  for (;;) {
    WEFT_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> page, store.ListAudit(after, 1000));
    if (page.empty()) break;
    for (const store::AuditEntry& e : page) {
      auto broken = [&](std::string problem) {
        v.ok = false;
        v.broken_seq = e.seq;
        v.problem = std::move(problem);
      };
      if (e.seq != after + 1) {
        broken("entries " + std::to_string(after + 1) + " to " + std::to_string(e.seq - 1) + " are missing");
      } else if (e.prev_hash != prev) {
        broken("entry " + std::to_string(e.seq) +
               " does not follow the one before it (an entry was removed or "
               "replaced)");
      } else if (store::AuditHash(e) != e.hash) {
        broken("entry " + std::to_string(e.seq) + " was edited (its hash does not match its content)");
      }
      if (!v.ok) return v;
      prev = e.hash;
      after = e.seq;
      ++v.entries;
      if (e.hash == expect_head) head_seen = true;
    }
  }
  v.head_hash = prev;
  if (!head_seen) {
    v.ok = false;
    v.broken_seq = after + 1;
    v.problem = "the expected head " + expect_head + " is not in the log (entries were cut from its end)";
  }
  return v;
}

}  // namespace weft::security

// The SQLite store's statements that the server runs periodically, whatever
// the size of the runs table: each must find its rows through a partial
// index of the runs still in flight (`runs_in_flight`, `runs_by_owner`),
// never by reading every run ever made. A partial index serves a query only
// when the query repeats the index's condition as one of its AND terms,
// which is why these spell it out. tests/store checks their query plans.
#ifndef WEFT_SRC_STORE_SQLITE_QUERIES_H_
#define WEFT_SRC_STORE_SQLITE_QUERIES_H_

namespace weft::store::sqlite_queries {

#define WEFT_SQLITE_RUN_COLUMNS                                                                                 \
  "id, workflow, version, status, input, context, outputs, error_code, error, parent_run, parent_path, wait, "  \
  "wake_at_ms, seed, retry_from_seq, lease_owner, lease_until_ms, created_ms, updated_ms, trigger, start_key, " \
  "lease_epoch"

// Every statement reading whole runs selects these, in this order
// (sqlite_store.cc's ReadRun).
inline constexpr const char* kRunColumns = WEFT_SQLITE_RUN_COLUMNS;

// Runs to claim: running ones (nobody's, or a lapsed lease) and waits due
// at ?1. Every second, from the claimer.
inline constexpr const char* kClaimable =
    "SELECT " WEFT_SQLITE_RUN_COLUMNS
    " FROM runs WHERE status IN ('running', 'suspended') AND (status = 'running' OR (status = 'suspended' AND "
    "wake_at_ms > 0 AND wake_at_ms <= ?1)) ORDER BY id";

// Suspended runs by workflow and kind of wait: every /metrics scrape.
inline constexpr const char* kCountSuspended =
    "SELECT workflow, coalesce(json_extract(wait, '$.kind'), ''), count(*) FROM runs "
    "WHERE status IN ('running', 'suspended') AND status = 'suspended' GROUP BY 1, 2";

// An engine's heartbeat: its leases extended (every lease_ms / 3).
inline constexpr const char* kRenewLeases =
    "UPDATE runs SET lease_until_ms = ?2 WHERE lease_owner = ?1 AND lease_owner <> ''";

#undef WEFT_SQLITE_RUN_COLUMNS

}  // namespace weft::store::sqlite_queries

#endif  // WEFT_SRC_STORE_SQLITE_QUERIES_H_

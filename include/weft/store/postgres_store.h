// The store for several weft processes: one PostgreSQL database.
//
// Runs' commits go through one writer connection that applies every commit
// queued while the previous transaction was being made durable in the next
// transaction (group commit, as on SQLite); reads and the other writes use
// a small pool of connections. Runs are claimed under leases with
// `FOR UPDATE SKIP LOCKED`, every commit a worker makes for a run is fenced
// by the lease epoch it holds, and new work wakes the other processes with
// LISTEN/NOTIFY.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/core/clock.h"
#include "weft/store/store.h"

namespace weft::store {

struct PostgresOptions {
  // A libpq connection string or URI: "postgresql://user@host/db?...".
  std::string url;
  // The schema holding weft's tables (created when missing); "" = the
  // connection's search_path (normally "public").
  std::string schema;
  // Connections for reads and small writes, besides the writer and the
  // listener.
  int pool = 4;
  // Most commits per transaction.
  int max_group = 512;
  // Gives up connecting after this long (unless the URL says otherwise).
  int connect_timeout_s = 10;
  // Stamps records as SqliteOptions::clock does; nullptr = the system's.
  const Clock* clock = nullptr;
};

// Connects, creates or migrates the schema, and starts the writer.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// The schema version this build writes.
int PostgresSchemaVersion();

// Whether `location` names a PostgreSQL database ("postgres://" or
// "postgresql://") rather than a file.
bool IsPostgresUrl(std::string_view location);

}  // namespace weft::store

namespace weft::store {

// What CopySqliteToPostgres copied, table by table, in copy order.
struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> rows;
};

// Copies everything an SQLite database holds (workflows and versions, runs
// and their step history, the conversation log, memory, caches, usage,
// triggers' state, users, sessions, keys, secrets and the audit chain) into
// an empty PostgreSQL database, in one transaction: all of it or nothing.
// Refuses a target that already holds weft data, and a source that a live
// weft process on this machine still works on.
Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path, const PostgresOptions& to);

}  // namespace weft::store

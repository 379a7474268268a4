// The embedded default store: one SQLite file in WAL mode.
//
// Writes go through one writer thread that applies every commit queued while
// the previous transaction was being made durable in the next transaction
// (group commit): 64 runs committing steps concurrently share one fsync.
#pragma once

#include <memory>
#include <string>

#include "weft/core/clock.h"
#include "weft/store/store.h"

namespace weft::store {

struct SqliteOptions {
  std::string path;  // ":memory:" is not allowed (the writer and readers need one file)
  // FULL (default): a commit is on disk when acknowledged, even across a
  // power loss. NORMAL: survives a crash of weft, may lose the last
  // commits on power loss; several times faster on slow disks.
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
  // Most commits per transaction.
  int max_group = 512;
  // Stamps records (runs' updated_ms, workflows' created_ms, cache and
  // memory times); nullptr = the system's. Must outlive the store.
  const Clock* clock = nullptr;
};

// Opens (creating and migrating when needed) the database.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// The schema version this build writes.
int SqliteSchemaVersion();

}  // namespace weft::store

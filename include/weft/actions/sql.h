// The `sql` action: parameterized queries against the SQL connections
// configured for the deployment (weft.yaml `connections:`), SQLite or
// PostgreSQL. Rows come back as JSON objects.
//
//   inputs:  { connection: crm, query: "SELECT * FROM accounts WHERE email = ?1", params: ["=$input.email"] }
//   settings: { max_rows: 100, max_millis: 2000 }
//   result:  { rows: [...], columns: [...], row_count, truncated, changes }
//
// A workflow must grant the connection (permissions.sql: {crm: read}); a
// query that writes needs `write`. Reads are enforced by the database: an
// SQLite statement that is not read-only is refused before it runs, and a
// PostgreSQL query runs in a READ ONLY transaction. One statement per call;
// values only through parameters (?1 / $1).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/engine/action.h"

namespace weft::actions {

struct SqlResult {
  Value rows;     // array of objects
  Value columns;  // array of names
  bool truncated = false;
  int64_t changes = 0;  // rows written
};

struct SqlLimits {
  bool allow_write = false;
  int64_t max_rows = 1000;  // more rows: `truncated`, a read stops there
  int64_t timeout_ms = 10'000;
  // The query stops (Cancelled) once this is set: the step that
  // asked was abandoned (timed out, cancelled). May be null.
  std::shared_ptr<const std::atomic<bool>> stop;
};

// A configured database. Queries run on the connection's own threads (the
// caller's thread never blocks on the database).
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual boost::asio::awaitable<Result<SqlResult>> Query(std::string sql, Value params, SqlLimits limits) = 0;
};

// driver sqlite: {path}; driver postgres: {url} (a libpq connection string
// or URI). `threads` queries run at once.
Result<std::shared_ptr<SqlConnection>> OpenSqlConnection(const std::string& name, const Value& config, int threads = 2);

Status RegisterSqlAction(engine::ActionRegistry& registry,
                         std::map<std::string, std::shared_ptr<SqlConnection>, std::less<>> connections);

}  // namespace weft::actions

// `weft migrate --to postgresql://...`: the SQLite database's tables, row by
// row, into PostgreSQL's (the same columns, but sessions.user, which
// PostgreSQL reserves, becomes user_name).
#include <sqlite3.h>

#include <cstdio>
#include <deque>
#include <memory>

#include "update_checks.h"
#include "weft/store/pg_conn.h"
#include "weft/store/postgres_store.h"
#include "weft/store/sqlite_store.h"

namespace weft::store {
namespace {

struct Table {
  const char* name;
  const char* columns;         // as SQLite names them
  const char* target_columns;  // as PostgreSQL does ("" = the same)
};

// Parents before children does not matter (no foreign keys); the order is
// the one a reader would expect.
constexpr Table kTables[] = {
    {"workflows", "name, version, hash, source, created_ms", ""},
    {"runs",
     "id, workflow, version, status, input, context, outputs, error_code, error, parent_run, parent_path, wait, "
     "wake_at_ms, seed, retry_from_seq, lease_owner, lease_until_ms, lease_epoch, created_ms, updated_ms, trigger, "
     "start_key",
     ""},
    {"steps",
     "seq, run_id, path, task, action, attempt, status, input, output, error_code, error, detail, started_ms, "
     "ended_ms",
     ""},
    {"messages", "seq, conversation, run_id, step_path, key, role, kind, content, created_ms", ""},
    {"memory", "conversation, doc, updated_ms", ""},
    {"cache", "key, value, expires_ms", ""},
    {"spend", "scope, cost, input_tokens, output_tokens, calls", ""},
    {"trigger_state", "key, value, updated_ms", ""},
    {"api_keys", "id, name, role, secret_hash, created_ms, expires_ms, revoked_ms, workflows", ""},
    {"users", "name, role, password_hash, workflows, created_ms, updated_ms", ""},
    {"sessions", "token_hash, user, csrf_token, created_ms, expires_ms",
     "token_hash, user_name, csrf_token, created_ms, expires_ms"},
    {"secrets", "name, sealed, updated_ms", ""},
    {"audit", "seq, at_ms, actor, action, target, details, prev_hash, hash", ""},
};

int CountColumns(const char* columns) {
  int n = 1;
  for (const char* c = columns; *c != '\0'; ++c) n += *c == ',';
  return n;
}

std::string ColumnAsText(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_FLOAT) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", sqlite3_column_double(s, i));
    return buf;
  }
  const unsigned char* t = sqlite3_column_text(s, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i)) : std::string();
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// `texts` keeps the statements' text as long as `to` caches them by address.
Result<int64_t> CopyTable(sqlite3* from, pg::Conn& to, const Table& t, std::deque<std::string>& texts) {
  const std::string select = std::string("SELECT ") + t.columns + " FROM " + t.name;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(from, select.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return InternalError(std::string("reading table ") + t.name + ": " + sqlite3_errmsg(from));
  }
  std::unique_ptr<sqlite3_stmt, StmtCloser> s(raw);
  const int n = CountColumns(t.columns);
  std::string insert =
      std::string("INSERT INTO ") + t.name + " (" + (*t.target_columns ? t.target_columns : t.columns) + ") VALUES (";
  for (int i = 1; i <= n; ++i) insert += (i > 1 ? ", $" : "$") + std::to_string(i);
  insert += ")";
  const char* sql = texts.emplace_back(std::move(insert)).c_str();
  int64_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    pg::Params p;
    for (int i = 0; i < n; ++i) {
      if (sqlite3_column_type(s.get(), i) == SQLITE_NULL) {
        p.Null();
      } else {
        p.Text(ColumnAsText(s.get(), i));
      }
    }
    WEFT_RETURN_IF_ERROR(to.Run(sql, p).status().WithContext(std::string("copying table ") + t.name + " row " +
                                                             std::to_string(rows + 1)));
    ++rows;
  }
  if (rc != SQLITE_DONE) return InternalError(std::string("reading table ") + t.name + ": " + sqlite3_errmsg(from));
  return rows;
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path, const PostgresOptions& to) {
  // Opening both stores first brings each to this build's schema.
  {
    SqliteOptions so;
    so.path = sqlite_path;
    WEFT_ASSIGN_OR_RETURN(std::unique_ptr<Store> source, OpenSqliteStore(so));
    // A weft still working on the file would go on writing to it after the
    // copy: what it writes would be lost.
    WEFT_ASSIGN_OR_RETURN(std::vector<RunRecord> running,
                          source->ListRuns({.status = RunStatus::kRunning, .limit = 100000}));
    for (const RunRecord& r : running) {
      if (r.lease_owner.rfind(internal::LocalOwnerPrefix(), 0) == 0 &&
          !internal::OwnerIsDeadLocalProcess(r.lease_owner)) {
        return FailedPreconditionError("run " + r.id + " is being executed by " + r.lease_owner +
                                       " on this machine: stop weft before migrating");
      }
    }
  }
  WEFT_RETURN_IF_ERROR(OpenPostgresStore(to).status());
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : "cannot open";
    sqlite3_close_v2(raw);
    return UnavailableError("opening " + sqlite_path + ": " + message);
  }
  std::unique_ptr<sqlite3, SqliteCloser> from(raw);
  std::deque<std::string> texts;  // outlives the connection, which caches them
  pg::Conn pg;
  WEFT_RETURN_IF_ERROR(pg.Connect(to.url, to.schema, to.connect_timeout_s));
  CopyReport report;
  WEFT_RETURN_IF_ERROR(pg.Exec("BEGIN"));
  // A read transaction on the source: one consistent picture of it.
  if (sqlite3_exec(from.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    (void)pg.Exec("ROLLBACK");
    return UnavailableError("reading " + sqlite_path + ": " + sqlite3_errmsg(from.get()));
  }
  Status st = [&]() -> Status {
    WEFT_ASSIGN_OR_RETURN(pg::Rows held, pg.Run("SELECT (SELECT count(*) FROM workflows) + (SELECT count(*) FROM runs) "
                                                "+ (SELECT count(*) FROM users) + (SELECT count(*) FROM audit)"));
    if (held.int64(0, 0) > 0) {
      return FailedPreconditionError("the PostgreSQL database already holds weft data; migrate into an empty one");
    }
    for (const Table& t : kTables) {
      WEFT_ASSIGN_OR_RETURN(int64_t rows, CopyTable(from.get(), pg, t, texts));
      report.rows.emplace_back(t.name, rows);
    }
    // New steps and messages number on from the copied ones.
    return pg.Exec(
        "SELECT setval(pg_get_serial_sequence('steps', 'seq'), COALESCE((SELECT max(seq) FROM steps), 0) + 1, false); "
        "SELECT setval(pg_get_serial_sequence('messages', 'seq'), COALESCE((SELECT max(seq) FROM messages), 0) + 1, "
        "false)");
  }();
  (void)sqlite3_exec(from.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (st.ok()) st = pg.Exec("COMMIT");
  if (!st.ok()) {
    (void)pg.Exec("ROLLBACK");
    return st;
  }
  return report;
}

}  // namespace weft::store

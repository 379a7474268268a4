// The sql action and its connections (SQLite, PostgreSQL).
#include <libpq-fe.h>
#include <poll.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "weft/actions/sql.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"
#include "workers.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

bool Stopped(const SqlLimits& limits) { return internal::Raised(limits.stop.get()); }

Status StoppedError(const std::string& name) {
  return Status(StatusCode::kCancelled, "connection '" + name + "': the step stopped waiting for the query");
}

std::string ParamText(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  return ToJson(v);  // numbers; objects and arrays as JSON text
}

// ---- SQLite

struct SqliteDb {
  sqlite3* db = nullptr;
  std::string error;  // why it did not open
  ~SqliteDb() { sqlite3_close_v2(db); }
};

Value SqliteColumn(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return Value(static_cast<double>(sqlite3_column_int64(st, i)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
      std::string text(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                       static_cast<size_t>(sqlite3_column_bytes(st, i)));
      return IsValidUtf8(text) ? Value(std::move(text)) : Value(Base64Encode(text));
    }
    case SQLITE_BLOB:
      return Value(Base64Encode(std::string_view(static_cast<const char*>(sqlite3_column_blob(st, i)),
                                                 static_cast<size_t>(sqlite3_column_bytes(st, i)))));
    default: return Value::Null();
  }
}

// What interrupts a running SQLite statement (progress handler) or a wait
// for a lock (busy handler): its time limit, or the step giving up on it.
struct SqliteWatch {
  Clock::time_point deadline;
  const std::atomic<bool>* stop;
  bool Expired() const { return Clock::now() > deadline || internal::Raised(stop); }
};

Result<SqlResult> SqliteQuery(SqliteDb& conn, const std::string& name, const std::string& sql, const Value& params,
                              const SqlLimits& limits) {
  if (Stopped(limits)) return StoppedError(name);
  if (conn.db == nullptr) return UnavailableError("connection '" + name + "': " + conn.error);
  sqlite3* db = conn.db;
  sqlite3_stmt* st = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, &tail) != SQLITE_OK) {
    return InvalidArgumentError("connection '" + name + "': " + sqlite3_errmsg(db));
  }
  struct Finalize {
    sqlite3_stmt* st;
    ~Finalize() { sqlite3_finalize(st); }
  } finalize{st};
  if (st == nullptr) return InvalidArgumentError("connection '" + name + "': the query is empty");
  for (const char* p = tail; p != nullptr && *p != '\0'; ++p) {
    if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') {
      return InvalidArgumentError("connection '" + name + "': one statement per query");
    }
  }
  if (!limits.allow_write && sqlite3_stmt_readonly(st) == 0) {
    return PermissionDeniedError("connection '" + name +
                                 "': this query writes, and the workflow may only read (permissions.sql)");
  }
  const int wanted = sqlite3_bind_parameter_count(st);
  const size_t given = params.is_array() ? params.size() : 0;
  if (static_cast<size_t>(wanted) != given) {
    return InvalidArgumentError("connection '" + name + "': the query takes " + std::to_string(wanted) +
                                " parameters, " + std::to_string(given) + " given");
  }
  for (size_t i = 0; i < given; ++i) {
    const Value& v = params.as_array()[i];
    const int at = static_cast<int>(i) + 1;
    if (v.is_null() || v.is_undefined()) {
      sqlite3_bind_null(st, at);
    } else if (v.is_number()) {
      const double d = v.as_number();
      if (std::abs(d) < 9.0e18 && d == std::trunc(d)) {  // an integer (a cast beyond int64 is undefined)
        sqlite3_bind_int64(st, at, static_cast<int64_t>(d));
      } else {
        sqlite3_bind_double(st, at, d);
      }
    } else if (v.is_bool()) {
      sqlite3_bind_int(st, at, v.as_bool() ? 1 : 0);
    } else {
      const std::string text = ParamText(v);
      sqlite3_bind_text(st, at, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
  }
  SqliteWatch watch{Clock::now() + std::chrono::milliseconds(limits.timeout_ms), limits.stop.get()};
  sqlite3_progress_handler(
      db, 1000, [](void* w) -> int { return static_cast<SqliteWatch*>(w)->Expired() ? 1 : 0; }, &watch);
  sqlite3_busy_handler(
      db,
      [](void* w, int) -> int {
        if (static_cast<SqliteWatch*>(w)->Expired()) return 0;  // SQLITE_BUSY
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return 1;
      },
      &watch);
  SqlResult out;
  const int columns = sqlite3_column_count(st);
  Value::Array names;
  for (int i = 0; i < columns; ++i) names.push_back(Value(sqlite3_column_name(st, i)));
  Value::Array rows;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (static_cast<int64_t>(rows.size()) >= limits.max_rows) {
      out.truncated = true;
      break;
    }
    Value row = Value::MakeObject();
    for (int i = 0; i < columns; ++i) row.set(names[i].as_string(), SqliteColumn(st, i));
    rows.push_back(std::move(row));
  }
  sqlite3_progress_handler(db, 0, nullptr, nullptr);
  sqlite3_busy_handler(db, nullptr, nullptr);
  // Interrupted (or refused a lock) because the step gave up, or because of
  // the time limit. (A statement that completed has completed, stopped or
  // not: its result is what it is.)
  const bool interrupted = rc == SQLITE_INTERRUPT || rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  if (interrupted && Stopped(limits)) return StoppedError(name);
  if (rc == SQLITE_INTERRUPT) {
    return DeadlineExceededError("connection '" + name + "': the query ran longer than " +
                                 std::to_string(limits.timeout_ms) + " ms");
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    const bool busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
    Status s(busy ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
             "connection '" + name + "': " + sqlite3_errmsg(db));
    return s;
  }
  if (sqlite3_stmt_readonly(st) == 0) out.changes = sqlite3_changes64(db);
  out.rows = Value::MakeArray(std::move(rows));
  out.columns = Value::MakeArray(std::move(names));
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(std::string name, const std::string& path, int threads)
      : name_(std::move(name)), workers_(threads, [path] {
          auto c = std::make_unique<SqliteDb>();
          if (sqlite3_open_v2(path.c_str(), &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              nullptr) != SQLITE_OK) {
            c->error = c->db != nullptr ? sqlite3_errmsg(c->db) : "cannot open " + path;
            sqlite3_close_v2(c->db);
            c->db = nullptr;
          } else {
            sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
          }
          return c;
        }) {}

  asio::awaitable<Result<SqlResult>> Query(std::string sql, Value params, SqlLimits limits) override {
    std::function<Result<SqlResult>(SqliteDb&)> query = [=, this](SqliteDb& db) {
      return SqliteQuery(db, name_, sql, params, limits);
    };
    co_return co_await workers_.Run(std::move(query));
  }

 private:
  std::string name_;
  internal::Workers<SqliteDb> workers_;
};

// ---- PostgreSQL

struct PgDb {
  PGconn* conn = nullptr;
  ~PgDb() {
    if (conn != nullptr) PQfinish(conn);
  }
};

Value PgValue(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return Value::Null();
  const char* text = PQgetvalue(r, row, col);
  switch (PQftype(r, col)) {
    case 16: return Value(text[0] == 't');  // bool
    case 20:
    case 21:
    case 23:
    case 700:
    case 701:
    case 1700:  // int8 int2 int4 float4 float8 numeric
      return Value(std::strtod(text, nullptr));
    case 114:
    case 3802: {  // json, jsonb
      Result<Value> v = ParseJson(text);
      return v.ok() ? *v : Value(text);
    }
    default: return Value(text);
  }
}

Status PgError(const std::string& name, const PGresult* r, PGconn* conn) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  message = "connection '" + name + "': " + message;
  const std::string s = state != nullptr ? state : "";
  if (s == "25006") return PermissionDeniedError(message + " (the workflow may only read: permissions.sql)");
  if (s == "57014") return DeadlineExceededError(message);
  if (s.rfind("42", 0) == 0 || s.rfind("22", 0) == 0) return InvalidArgumentError(message);
  if (s.rfind("08", 0) == 0 || s.rfind("53", 0) == 0 || s.rfind("57", 0) == 0 || s == "40001" || s == "40P01" ||
      PQstatus(conn) != CONNECTION_OK) {
    return UnavailableError(message);
  }
  return FailedPreconditionError(message);
}

void PgCancel(PGconn* c) {
  if (PGcancel* cancel = PQgetCancel(c)) {
    char err[256];
    PQcancel(cancel, err, sizeof(err));
    PQfreeCancel(cancel);
  }
}

// Waits for the query's next result. Cancels the query (once) if the step
// gives up on it meanwhile. False when the server has not answered by
// `give_up` (it should have: its statement_timeout is the query's limit),
// which comes sooner once the step has given up. A broken connection is
// left for PQgetResult to report.
bool PgAwaitResult(PGconn* c, const SqlLimits& limits, Clock::time_point& give_up, bool& stopped) {
  while (PQisBusy(c) != 0) {
    if (Clock::now() > give_up) return false;
    pollfd p{PQsocket(c), POLLIN, 0};
    ::poll(&p, 1, 50);
    if (PQconsumeInput(c) == 0) return true;
    if (!stopped && Stopped(limits)) {
      PgCancel(c);
      stopped = true;
      give_up = std::min(give_up, Clock::now() + std::chrono::seconds(2));
    }
  }
  return true;
}

Result<SqlResult> PgQuery(PgDb& db, const std::string& name, const std::string& url, const std::string& sql,
                          const Value& params, const SqlLimits& limits) {
  if (Stopped(limits)) return StoppedError(name);
  if (db.conn == nullptr || PQstatus(db.conn) != CONNECTION_OK) {
    if (db.conn != nullptr) PQfinish(db.conn);
    // An unreachable server must not hold the worker for TCP's minutes: 10 s
    // unless the connection string says otherwise (it is read after).
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"10", url.c_str(), nullptr};
    db.conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(db.conn) != CONNECTION_OK) {
      Status s = UnavailableError("connection '" + name + "': " + PQerrorMessage(db.conn));
      PQfinish(db.conn);
      db.conn = nullptr;
      return s;
    }
    PQsetNoticeProcessor(
        db.conn, [](void*, const char*) {}, nullptr);  // notices are not errors
  }
  PGconn* c = db.conn;
  std::string exec_error;  // of the last command that failed
  auto exec = [c, &exec_error](const std::string& command) {
    PGresult* r = PQexec(c, command.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) exec_error = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c);
    PQclear(r);
    return ok;
  };
  if (!exec(limits.allow_write ? "BEGIN" : "BEGIN READ ONLY") ||
      !exec("SET LOCAL statement_timeout = " + std::to_string(limits.timeout_ms))) {
    std::string why = std::move(exec_error);  // ROLLBACK may fail too and overwrite it
    exec("ROLLBACK");
    return UnavailableError("connection '" + name + "': " + why);
  }
  std::vector<std::string> texts;
  std::vector<const char*> values;
  if (params.is_array()) {
    texts.reserve(params.size());
    for (const Value& v : params.as_array()) texts.push_back(ParamText(v));
    for (size_t i = 0; i < texts.size(); ++i) {
      const Value& v = params.as_array()[i];
      values.push_back(v.is_null() || v.is_undefined() ? nullptr : texts[i].c_str());
    }
  }
  // Row by row, so that a limit stops reading.
  if (PQsendQueryParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0) ==
      0) {
    exec("ROLLBACK");
    return UnavailableError("connection '" + name + "': " + PQerrorMessage(c));
  }
  PQsetSingleRowMode(c);
  SqlResult out;
  Value::Array rows;
  Value::Array names;
  Status failure;
  bool cancelled = false;  // after max_rows
  bool stopped = false;    // the step gave up
  Clock::time_point give_up = Clock::now() + std::chrono::milliseconds(limits.timeout_ms) + std::chrono::seconds(5);
  for (;;) {
    if (!PgAwaitResult(c, limits, give_up, stopped)) {
      // Whatever state the session is in, it is not used again.
      PQfinish(db.conn);
      db.conn = nullptr;
      if (stopped) return StoppedError(name);
      return UnavailableError("connection '" + name + "': the server did not answer within " +
                              std::to_string(limits.timeout_ms) + " ms; the connection was closed");
    }
    PGresult* r = PQgetResult(c);
    if (r == nullptr) break;
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_SINGLE_TUPLE) {
      if (names.empty()) {
        for (int i = 0; i < PQnfields(r); ++i) names.push_back(Value(PQfname(r, i)));
      }
      if (static_cast<int64_t>(rows.size()) >= limits.max_rows) {
        out.truncated = true;
        // A read can stop here; a write (with RETURNING) must finish.
        if (!cancelled && !limits.allow_write) {
          PgCancel(c);
          cancelled = true;
        }
      } else {
        Value row = Value::MakeObject();
        for (int i = 0; i < PQnfields(r); ++i) row.set(PQfname(r, i), PgValue(r, 0, i));
        rows.push_back(std::move(row));
      }
    } else if (status == PGRES_TUPLES_OK) {
      if (names.empty()) {
        for (int i = 0; i < PQnfields(r); ++i) names.push_back(Value(PQfname(r, i)));
      }
    } else if (status == PGRES_COMMAND_OK) {
      const char* n = PQcmdTuples(r);
      if (n != nullptr && *n != '\0') out.changes = std::strtoll(n, nullptr, 10);
    } else if (!(cancelled && out.truncated) && failure.ok()) {
      failure = PgError(name, r, c);
    }
    PQclear(r);
  }
  // A step that gave up reports nothing done: nothing is (not even a write
  // that finished before the cancel reached it).
  if (stopped || Stopped(limits)) {
    exec("ROLLBACK");
    return StoppedError(name);
  }
  if (!failure.ok() || cancelled) {
    exec("ROLLBACK");  // a cancelled read wrote nothing
    if (!failure.ok()) return failure;
  } else if (!exec("COMMIT")) {
    return PgError(name, nullptr, c);
  }
  out.rows = Value::MakeArray(std::move(rows));
  out.columns = Value::MakeArray(std::move(names));
  return out;
}

class PgConnection final : public SqlConnection {
 public:
  PgConnection(std::string name, std::string url, int threads)
      : name_(std::move(name)), url_(std::move(url)), workers_(threads, [] { return std::make_unique<PgDb>(); }) {}

  asio::awaitable<Result<SqlResult>> Query(std::string sql, Value params, SqlLimits limits) override {
    std::function<Result<SqlResult>(PgDb&)> query = [=, this](PgDb& db) {
      return PgQuery(db, name_, url_, sql, params, limits);
    };
    co_return co_await workers_.Run(std::move(query));
  }

 private:
  std::string name_;
  std::string url_;
  internal::Workers<PgDb> workers_;
};

// ---- the action

// Whether a query's text looks like a write (load-time check only; the
// database enforces it when the query runs).
bool LooksLikeWrite(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
    ++i;
  }
  return !(word == "select" || word == "with" || word == "values" || word == "explain" || word == "show" ||
           word == "table" || word.empty());
}

class SqlAction final : public engine::Action {
 public:
  explicit SqlAction(std::map<std::string, std::shared_ptr<SqlConnection>, std::less<>> connections)
      : connections_(std::move(connections)) {
    spec_.name = "sql";
    spec_.description = "Runs a parameterized query on a configured SQLite or PostgreSQL connection";
    spec_.needs = dsl::kNeedSql;
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["connection","query"],"properties":{
      "connection":{"type":"string","minLength":1},
      "query":{"type":"string","minLength":1},
      "params":{"type":"array"}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["rows","row_count"]})");
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","properties":{
      "max_rows":{"type":"number","minimum":1},
      "max_millis":{"type":"number","minimum":1}}})");
    spec_.check_grants = [](const Value& literal, const dsl::Permissions& granted) -> std::string {
      Value c = literal.get("connection");
      if (!c.is_string()) return "";
      if (!granted.AllowsSql(c.as_string(), false)) {
        return "connection '" + c.as_string() + "' is not in the workflow's permissions.sql";
      }
      Value q = literal.get("query");
      if (q.is_string() && LooksLikeWrite(q.as_string()) && !granted.AllowsSql(c.as_string(), true)) {
        return "the query writes, and permissions.sql grants only read on '" + c.as_string() + "'";
      }
      return "";
    };
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    const std::string name = ctx.inputs.get("connection").as_string();
    if (ctx.permissions == nullptr || !ctx.permissions->AllowsSql(name, false)) {
      co_return engine::ActionResult::Error(
          PermissionDeniedError("connection '" + name + "' is not in the workflow's permissions.sql"));
    }
    auto it = connections_.find(name);
    if (it == connections_.end()) {
      co_return engine::ActionResult::Error(NotFoundError("no SQL connection '" + name + "' is configured"));
    }
    const Value max_rows = ctx.settings.get("max_rows");
    const Value timeout = ctx.settings.get("max_millis");  // timeout_ms is the step's
    std::string query = ctx.inputs.get("query").as_string();
    SqlLimits limits;
    limits.allow_write = ctx.permissions->AllowsSql(name, true);
    if (max_rows.is_number()) limits.max_rows = SaturatingInt64(max_rows.as_number());
    // At most ~24 days: PostgreSQL's statement_timeout is an int, and the
    // deadlines computed from it must not overflow.
    if (timeout.is_number()) {
      limits.timeout_ms =
          std::clamp<int64_t>(SaturatingInt64(timeout.as_number()), 1, std::numeric_limits<int32_t>::max());
    }
    limits.timeout_ms = ctx.MillisLeft(limits.timeout_ms);
    limits.stop = ctx.abandoned;
    Result<SqlResult> r = co_await it->second->Query(std::move(query), ctx.inputs.get("params"), std::move(limits));
    if (!r.ok()) co_return engine::ActionResult::Error(r.status());
    Value out = Value::MakeObject();
    out.set("rows", r->rows);
    out.set("columns", r->columns);
    out.set("row_count", static_cast<double>(r->rows.size()));
    out.set("truncated", r->truncated);
    out.set("changes", static_cast<double>(r->changes));
    co_return engine::ActionResult::Ok(out);
  }

 private:
  std::map<std::string, std::shared_ptr<SqlConnection>, std::less<>> connections_;
  dsl::ActionSpec spec_;
};

}  // namespace

Result<std::shared_ptr<SqlConnection>> OpenSqlConnection(const std::string& name, const Value& config, int threads) {
  const Value driver = config.get("driver");
  if (!driver.is_string()) return InvalidArgumentError("connections." + name + ": needs a driver (sqlite, postgres)");
  if (driver.as_string() == "sqlite") {
    const Value path = config.get("path");
    if (!path.is_string() || path.as_string().empty()) {
      return InvalidArgumentError("connections." + name + ": an sqlite connection needs a path");
    }
    return std::shared_ptr<SqlConnection>(std::make_shared<SqliteConnection>(name, path.as_string(), threads));
  }
  if (driver.as_string() == "postgres" || driver.as_string() == "postgresql") {
    const Value url = config.get("url");
    if (!url.is_string() || url.as_string().empty()) {
      return InvalidArgumentError("connections." + name + ": a postgres connection needs a url");
    }
    return std::shared_ptr<SqlConnection>(std::make_shared<PgConnection>(name, url.as_string(), threads));
  }
  return InvalidArgumentError("connections." + name + ": unknown driver '" + driver.as_string() +
                              "' (sqlite, postgres)");
}

Status RegisterSqlAction(engine::ActionRegistry& registry,
                         std::map<std::string, std::shared_ptr<SqlConnection>, std::less<>> connections) {
  return registry.Register(std::make_unique<SqlAction>(std::move(connections)));
}

}  // namespace weft::actions

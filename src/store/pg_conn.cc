#include "weft/store/pg_conn.h"

#include <cstdio>
#include <cstdlib>

#include "weft/core/json.h"

namespace weft::store::pg {

Params& Params::Text(std::string v) {
  storage_.push_back(std::move(v));
  null_.push_back(false);
  return *this;
}

Params& Params::Int(int64_t v) { return Text(std::to_string(v)); }

Params& Params::Real(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return Text(buf);
}

Params& Params::Null() {
  storage_.emplace_back();
  null_.push_back(true);
  return *this;
}

Params& Params::Json(const Value& v) { return v.is_undefined() ? Null() : Text(ToJson(v)); }

namespace {

void AppendArrayItem(std::string& a, std::string_view item) {
  a += '"';
  for (char c : item) {
    if (c == '"' || c == '\\') a += '\\';
    a += c;
  }
  a += '"';
}

}  // namespace

Params& Params::TextArray(const std::vector<std::string>& items) {
  std::string a = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) a += ',';
    AppendArrayItem(a, items[i]);
  }
  a += '}';
  return Text(std::move(a));
}

Params& Params::NullableTextArray(const std::vector<std::optional<std::string>>& items) {
  std::string a = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) a += ',';
    if (items[i]) {
      AppendArrayItem(a, *items[i]);
    } else {
      a += "NULL";
    }
  }
  a += '}';
  return Text(std::move(a));
}

Params& Params::IntArray(const std::vector<int64_t>& items) {
  std::string a = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) a += ',';
    a += std::to_string(items[i]);
  }
  a += '}';
  return Text(std::move(a));
}

const char* const* Params::values() const {
  // Built afresh each time: a moved or copied Params has its own texts.
  values_.clear();
  for (size_t i = 0; i < storage_.size(); ++i) values_.push_back(null_[i] ? nullptr : storage_[i].c_str());
  return values_.data();
}

std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t Rows::int64(int row, int col) const { return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10); }

double Rows::real(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }

Value Rows::json(int row, int col) const {
  if (null(row, col)) return Value();
  Result<Value> v = ParseJson(text(row, col));
  return v.ok() ? std::move(v).value() : Value(text(row, col));
}

int64_t Rows::affected() const { return r_ ? std::strtoll(PQcmdTuples(r_.get()), nullptr, 10) : 0; }

Conn::~Conn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<std::string> QuoteSchema(const std::string& schema) {
  if (schema.empty() || schema.size() > 63) return InvalidArgumentError("a schema name has 1 to 63 characters");
  for (char c : schema) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      return InvalidArgumentError("schema name '" + schema + "' may hold only lower-case letters, digits and '_'");
    }
  }
  return "\"" + schema + "\"";
}

Status Conn::Connect(const std::string& url, const std::string& schema, int connect_timeout_s) {
  url_ = url;
  schema_ = schema;
  connect_timeout_s_ = connect_timeout_s;
  return Ensure();
}

Status Conn::Ensure() {
  if (healthy()) return Status::Ok();
  if (conn_ != nullptr) PQfinish(conn_);
  prepared_.clear();
  // The timeout first: the URL, read after it, may set its own.
  const std::string timeout = std::to_string(connect_timeout_s_);
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "weft", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    return UnavailableError("cannot connect to PostgreSQL: " + message);
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);  // notices are not errors
  if (!schema_.empty()) {
    WEFT_ASSIGN_OR_RETURN(std::string quoted, QuoteSchema(schema_));
    // Several processes starting together: IF NOT EXISTS alone races on
    // the catalog's unique index, so they take turns.
    Status created = Exec("BEGIN; SELECT pg_advisory_xact_lock(hashtext('weft.schema')); CREATE SCHEMA IF NOT EXISTS " +
                          quoted + "; COMMIT; SET search_path TO " + quoted);
    if (!created.ok()) {
      PQfinish(conn_);  // not half set up: the next Ensure starts over
      conn_ = nullptr;
      return created.WithContext("setting up schema " + quoted);
    }
  }
  return Status::Ok();
}

Status Conn::Failure(const PGresult* r, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* constraint = r != nullptr ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  last_state_ = state != nullptr ? state : "";
  last_constraint_ = constraint != nullptr ? constraint : "";
  std::string message = r != nullptr ? PQresultErrorMessage(r) : "";
  if (message.empty() && conn_ != nullptr) message = PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  message = "PostgreSQL: " + std::string(what) + ": " + message;
  const std::string& s = last_state_;
  if (s == kUniqueViolation) return Status(StatusCode::kAlreadyExists, message);
  if (!healthy() || s.rfind("08", 0) == 0 || s.rfind("53", 0) == 0 || s.rfind("57", 0) == 0 || s == "40001" ||
      s == "40P01" || s.empty()) {
    return UnavailableError(message);
  }
  return InternalError(message);
}

Status Conn::Prepare(const char* sql) {
  if (prepared_.count(sql) != 0) return Status::Ok();
  std::string name = "weft_" + std::to_string(prepared_.size() + 1);
  PGresult* prepared = PQprepare(conn_, name.c_str(), sql, 0, nullptr);
  if (prepared == nullptr || PQresultStatus(prepared) != PGRES_COMMAND_OK) {
    Status failure = Failure(prepared, "preparing a statement");
    PQclear(prepared);
    return failure;
  }
  PQclear(prepared);
  prepared_.emplace(sql, std::move(name));
  return Status::Ok();
}

Result<Rows> Conn::Run(const char* sql, const Params& params) {
  if (conn_ == nullptr) return UnavailableError("PostgreSQL: not connected");
  last_state_.clear();
  last_constraint_.clear();
  WEFT_RETURN_IF_ERROR(Prepare(sql));
  PGresult* r = PQexecPrepared(conn_, prepared_.at(sql).c_str(), params.size(), params.values(), nullptr, nullptr,
                               /*text*/ 0);
  const ExecStatusType st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return Rows(r);
  Status failure = Failure(r, "running a statement");
  PQclear(r);
  return failure;
}

Result<std::vector<Rows>> Conn::RunAll(const std::vector<Statement>& statements) {
  if (conn_ == nullptr) return UnavailableError("PostgreSQL: not connected");
  last_state_.clear();
  last_constraint_.clear();
  for (const Statement& s : statements) {
    if (s.cached) WEFT_RETURN_IF_ERROR(Prepare(s.sql));
  }
  if (PQenterPipelineMode(conn_) != 1) return Failure(nullptr, "entering pipeline mode");
  Status failure;
  bool sent = true;
  for (const Statement& s : statements) {
    const int ok =
        s.cached ? PQsendQueryPrepared(conn_, prepared_.at(s.sql).c_str(), s.params.size(), s.params.values(), nullptr,
                                       nullptr, 0)
                 : PQsendQueryParams(conn_, s.sql, s.params.size(), nullptr, s.params.values(), nullptr, nullptr, 0);
    if (ok != 1) {
      sent = false;
      break;
    }
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    failure = Failure(nullptr, "sending statements");
    // The connection's state is unknown: the next Ensure starts over.
    PQfinish(conn_);
    conn_ = nullptr;
    prepared_.clear();
    return failure;
  }
  std::vector<Rows> out;
  out.reserve(statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    PGresult* r = PQgetResult(conn_);
    const ExecStatusType st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      out.emplace_back(r);
    } else {
      if (failure.ok() && st != PGRES_PIPELINE_ABORTED) failure = Failure(r, "running a statement");
      PQclear(r);
      if (r == nullptr) break;
    }
    // Each statement's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  // The sync's own result.
  for (PGresult* r = PQgetResult(conn_); r != nullptr; r = PQgetResult(conn_)) {
    const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  if (PQexitPipelineMode(conn_) != 1 && failure.ok()) failure = Failure(nullptr, "leaving pipeline mode");
  if (!failure.ok()) return failure;
  return out;
}

Status Conn::Exec(const std::string& sql) {
  if (conn_ == nullptr) return UnavailableError("PostgreSQL: not connected");
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return Status::Ok();
  }
  Status failure = Failure(r, "running SQL");
  PQclear(r);
  return failure;
}

}  // namespace weft::store::pg

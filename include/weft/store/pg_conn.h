// A PostgreSQL connection for the store and for components that keep
// tables of their own in weft's database (knowledge bases): prepared
// statements cached by their text, parameters in text form, errors as
// Status with what the server said. Not thread-safe: one user at a time
// (the pool hands them out).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::store::pg {

// Parameters of one statement, kept as text ($1, $2, ... in order).
class Params {
 public:
  Params& Text(std::string v);
  Params& Int(int64_t v);
  Params& Real(double v);
  Params& Null();
  // JSON text of `v`; NULL when undefined.
  Params& Json(const Value& v);
  // A text array literal ({"a","b"}) for `= ANY($n)` or unnest.
  Params& TextArray(const std::vector<std::string>& items);
  // The same with NULL elements (nullopt).
  Params& NullableTextArray(const std::vector<std::optional<std::string>>& items);
  Params& IntArray(const std::vector<int64_t>& items);

  int size() const { return static_cast<int>(storage_.size()); }
  // Pointers into this object's texts (nullptr for NULL), valid until it
  // changes or moves.
  const char* const* values() const;

 private:
  std::vector<std::string> storage_;
  std::vector<bool> null_;
  mutable std::vector<const char*> values_;
};

class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  int64_t int64(int row, int col) const;
  double real(int row, int col) const;
  // A JSON column: undefined when NULL; the text itself when it does not
  // parse (never expected).
  Value json(int row, int col) const;
  // Rows the command changed (UPDATE, INSERT, DELETE).
  int64_t affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

// SQLSTATEs the store tells apart.
inline constexpr std::string_view kUniqueViolation = "23505";

class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // `schema` empty = the server's search_path.
  Status Connect(const std::string& url, const std::string& schema, int connect_timeout_s);
  // Reconnects when the connection was lost (between transactions).
  Status Ensure();
  bool healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

  // Runs one statement, prepared once per connection (`sql` must be a
  // constant: it is cached by address).
  Result<Rows> Run(const char* sql, const Params& params = Params());
  // Runs SQL text as is (several statements; no parameters).
  Status Exec(const std::string& sql);

  // Runs `statements` in order in one round trip (libpq's pipeline mode);
  // cached ones (`Run`'s) are prepared first, the others ("BEGIN") sent as
  // they are. After a failure the server skips the rest (a COMMIT among
  // them then rolls back); the first failure is returned.
  struct Statement {
    const char* sql;
    Params params;
    bool cached = true;
  };
  Result<std::vector<Rows>> RunAll(const std::vector<Statement>& statements);

  // What the last failure's SQLSTATE and constraint were ("" when none).
  const std::string& last_state() const { return last_state_; }
  const std::string& last_constraint() const { return last_constraint_; }

 private:
  Status Failure(const PGresult* r, std::string_view what);
  Status Prepare(const char* sql);

  PGconn* conn_ = nullptr;
  std::string url_;
  std::string schema_;
  int connect_timeout_s_ = 10;
  std::map<const char*, std::string> prepared_;
  std::string last_state_;
  std::string last_constraint_;
};

// The text of a schema name as an SQL identifier ("weft_test" → "weft_test"
// quoted); refuses what is not letters, digits and underscores.
Result<std::string> QuoteSchema(const std::string& schema);

}  // namespace weft::store::pg

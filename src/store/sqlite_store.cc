// SQLite store. One writer thread owns the write connection and applies
// queued commits in batches (group commit); reads use their own connection
// (WAL lets them proceed while a write is in progress).
#include "weft/store/sqlite_store.h"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "listing_store.h"
#include "sqlite_queries.h"
#include "sqlite_wal_gather.h"
#include "update_checks.h"
#include "weft/core/clock.h"
#include "weft/core/json.h"
#include "weft/core/mutex.h"
#include "writer_queue.h"

namespace weft::store {
namespace {

// Each entry migrates the schema from version i to i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE workflows (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  source TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  context TEXT,
  outputs TEXT,
  error_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  parent_run TEXT NOT NULL DEFAULT '',
  parent_path TEXT NOT NULL DEFAULT '',
  wait TEXT,
  wake_at_ms INTEGER NOT NULL DEFAULT 0,
  seed INTEGER NOT NULL DEFAULT 0,
  retry_from_seq INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, wake_at_ms);
CREATE INDEX runs_by_workflow ON runs (workflow, id);
CREATE INDEX runs_by_parent ON runs (parent_run) WHERE parent_run <> '';
CREATE TABLE steps (
  seq INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  path TEXT NOT NULL,
  task TEXT NOT NULL,
  action TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  detail TEXT,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL
);
CREATE INDEX steps_by_run ON steps (run_id, seq);
)sql",
    R"sql(
CREATE TABLE cache (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX cache_by_expiry ON cache (expires_ms);
CREATE TABLE spend (
  scope TEXT PRIMARY KEY,
  cost REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  calls INTEGER NOT NULL DEFAULT 0
);
)sql",
    R"sql(
CREATE TABLE memory (
  conversation TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql",
    R"sql(
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation TEXT NOT NULL,
  run_id TEXT NOT NULL,
  step_path TEXT NOT NULL,
  key TEXT NOT NULL,
  role TEXT NOT NULL,
  kind TEXT NOT NULL,
  content TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (conversation, key)
);
CREATE INDEX messages_by_run ON messages (run_id, seq);
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN start_key TEXT;
CREATE UNIQUE INDEX runs_by_start_key ON runs (start_key) WHERE start_key IS NOT NULL;
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL DEFAULT 0,
  revoked_ms INTEGER NOT NULL DEFAULT 0
);
)sql",
    R"sql(
CREATE TABLE trigger_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX steps_emitted ON steps (seq) WHERE action = 'emit' AND status = 'completed';
)sql",
    R"sql(
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  workflows TEXT NOT NULL DEFAULT '[]',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user);
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql",
    R"sql(
ALTER TABLE api_keys ADD COLUMN workflows TEXT NOT NULL DEFAULT '[]';
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
)sql",
    // The status index held every run, though only waiting and running ones
    // are ever looked up by status: an index entry (and a page written) per
    // finished run. Lease renewal scanned the whole table every 20 s, holding
    // the write lock. Both indexes now hold the runs still in flight only.
    R"sql(
DROP INDEX runs_by_status;
CREATE INDEX runs_in_flight ON runs (status, wake_at_ms) WHERE status IN ('running', 'suspended');
CREATE INDEX runs_by_owner ON runs (lease_owner) WHERE lease_owner <> '';
)sql",
};

// A cached statement in use; resetting it on scope exit ends its implicit
// read transaction, so the next read sees the latest commits.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (s_ != nullptr) sqlite3_reset(s_);
  }
  operator sqlite3_stmt*() const { return s_; }  // NOLINT(google-explicit-constructor)

 private:
  sqlite3_stmt* s_;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  // `gather_wal`: through the VFS of sqlite_wal_gather.h (synchronous=FULL
  // connections only).
  Status Open(const std::string& path, int busy_timeout_ms, bool gather_wal = false) {
    // No memory statistics: they take a process-wide mutex on every
    // allocation. Only possible before SQLite's first use in the process
    // (later it is refused, harmlessly), so before the VFS is looked up.
    static const int kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)kNoMemStatus;
    const char* vfs = gather_wal ? WalGatheringVfs() : nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) {
      return UnavailableError("cannot open database '" + path +
                              "': " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    return Status::Ok();
  }

  sqlite3* get() const { return db_; }

  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      return Error(message);
    }
    return Status::Ok();
  }

  // A statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT...),
  // prepared once: the writer runs several per group commit.
  Status Run(const char* sql) {
    WEFT_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return LastError();
    return Status::Ok();
  }

  // A cached prepared statement, reset and with its bindings cleared.
  Result<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return Stmt(it->second);
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return InternalError(std::string("preparing SQL: ") + sqlite3_errmsg(db_));
    }
    cache_.emplace(sql, stmt);
    return Stmt(stmt);
  }

  Status Error(const std::string& message) const {
    int code = sqlite3_errcode(db_);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return UnavailableError("database busy: " + message);
    if (code == SQLITE_FULL || code == SQLITE_IOERR) return UnavailableError("database I/O error: " + message);
    return InternalError("database error: " + message);
  }
  Status LastError() const { return Error(sqlite3_errmsg(db_)); }

  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> cache_;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void BindValue(sqlite3_stmt* s, int i, const Value& v) {
  if (v.is_undefined()) {
    sqlite3_bind_null(s, i);
  } else {
    BindText(s, i, ToJson(v));
  }
}
std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i)) : std::string();
}
Value ColumnValue(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return Value();
  Result<Value> v = ParseJson(ColumnText(s, i));
  return v.ok() ? std::move(v).value() : Value(ColumnText(s, i));
}

using sqlite_queries::kRunColumns;

// A step's columns from `first` on: seq, path, task, action, attempt,
// status, input, output, error_code, error, detail, started_ms, ended_ms.
StepRecord ReadStep(sqlite3_stmt* s, int first) {
  StepRecord r;
  r.seq = sqlite3_column_int64(s, first);
  r.path = ColumnText(s, first + 1);
  r.task = ColumnText(s, first + 2);
  r.action = ColumnText(s, first + 3);
  r.attempt = sqlite3_column_int(s, first + 4);
  r.status = ParseStepStatus(ColumnText(s, first + 5)).value_or(StepStatus::kFailed);
  r.input = ColumnValue(s, first + 6);
  r.output = ColumnValue(s, first + 7);
  r.error_code = ColumnText(s, first + 8);
  r.error = ColumnText(s, first + 9);
  r.detail = ColumnValue(s, first + 10);
  r.started_ms = sqlite3_column_int64(s, first + 11);
  r.ended_ms = sqlite3_column_int64(s, first + 12);
  return r;
}

RunRecord ReadRun(sqlite3_stmt* s) {
  RunRecord r;
  r.id = ColumnText(s, 0);
  r.workflow = ColumnText(s, 1);
  r.version = sqlite3_column_int64(s, 2);
  r.status = ParseRunStatus(ColumnText(s, 3)).value_or(RunStatus::kFailed);
  r.input = ColumnValue(s, 4);
  r.context = ColumnValue(s, 5);
  r.outputs = ColumnValue(s, 6);
  r.error_code = ColumnText(s, 7);
  r.error = ColumnText(s, 8);
  r.parent_run = ColumnText(s, 9);
  r.parent_path = ColumnText(s, 10);
  r.wait = ColumnValue(s, 11);
  r.wake_at_ms = sqlite3_column_int64(s, 12);
  r.seed = static_cast<uint64_t>(sqlite3_column_int64(s, 13));
  r.retry_from_seq = sqlite3_column_int64(s, 14);
  r.lease_owner = ColumnText(s, 15);
  r.lease_until_ms = sqlite3_column_int64(s, 16);
  r.created_ms = sqlite3_column_int64(s, 17);
  r.updated_ms = sqlite3_column_int64(s, 18);
  r.trigger = ColumnText(s, 19);
  r.start_key = ColumnText(s, 20);
  r.lease_epoch = sqlite3_column_int64(s, 21);
  return r;
}

class SqliteStore final : public internal::ListingStore {
 public:
  explicit SqliteStore(SqliteOptions options)
      : options_(std::move(options)), clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()) {}

  ~SqliteStore() override {
    queue_.Stop();
    if (writer_.joinable()) writer_.join();
  }

  Status Open() {
    if (options_.path.empty() || options_.path == ":memory:") {
      return InvalidArgumentError("the SQLite store needs a file path");
    }
    MutexLock write_lock(write_mu_);  // no other thread yet; the analysis wants it said
    // With synchronous=FULL a commit's WAL frames are written with one call
    // (sqlite_wal_gather.h says why that needs FULL).
    WEFT_RETURN_IF_ERROR(write_.Open(options_.path, options_.busy_timeout_ms, options_.synchronous_full));
    // A new file is in rollback mode until one connection switches it to
    // WAL; there, SQLite answers "locked" at once to connections that would
    // deadlock, without waiting out the busy timeout. Several processes
    // opening it together retry the (idempotent) set-up for as long.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
    for (int tries = 1;; ++tries) {
      Status s = SetUp();
      if (s.ok() || s.code() != StatusCode::kUnavailable || std::chrono::steady_clock::now() > give_up) {
        WEFT_RETURN_IF_ERROR(s);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 * tries, 50)));
    }
    {
      MutexLock read_lock(read_mu_);
      WEFT_RETURN_IF_ERROR(read_.Open(options_.path, options_.busy_timeout_ms));
    }
    writer_ = std::thread([this] { WriterLoop(); });
    writer_id_ = writer_.get_id();
    return Status::Ok();
  }

  Result<int64_t> PutWorkflow(const std::string& name, const std::string& source, int64_t declared) override {
    MutexLock lock(write_mu_);
    std::string hash = HashSource(source);
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    Result<int64_t> r = PutWorkflowLocked(name, source, hash, declared);
    WEFT_RETURN_IF_ERROR(write_.Exec(r.ok() ? "COMMIT" : "ROLLBACK"));
    return r;
  }

  Result<WorkflowRecord> GetWorkflow(const std::string& name, int64_t version) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s,
                          read_.Prepare(version == 0 ? "SELECT name, version, hash, source, created_ms FROM workflows "
                                                       "WHERE name = ?1 ORDER BY version DESC LIMIT 1"
                                                     : "SELECT name, version, hash, source, created_ms FROM workflows "
                                                       "WHERE name = ?1 AND version = ?2"));
    BindText(s, 1, name);
    if (version != 0) sqlite3_bind_int64(s, 2, version);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      return NotFoundError(version == 0 ? "no workflow named '" + name + "'"
                                        : "workflow '" + name + "' has no version " + std::to_string(version));
    }
    if (rc != SQLITE_ROW) return read_.LastError();
    return WorkflowRecord{ColumnText(s, 0), sqlite3_column_int64(s, 1), ColumnText(s, 2), ColumnText(s, 3),
                          sqlite3_column_int64(s, 4)};
  }

  Result<std::vector<WorkflowRecord>> ListWorkflows() override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT name, version, hash, source, created_ms FROM "
                                                "workflows ORDER BY name, version"));
    std::vector<WorkflowRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back({ColumnText(s, 0), sqlite3_column_int64(s, 1), ColumnText(s, 2), ColumnText(s, 3),
                     sqlite3_column_int64(s, 4)});
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  void CommitAsync(Commit commit, std::function<void(Status)> done) override {
    Pending p{std::move(commit), std::move(done)};
    if (!queue_.Push(p)) p.done(UnavailableError("the store is shutting down"));
  }

  Result<RunRecord> GetRun(const std::string& run_id) override {
    MutexLock lock(read_mu_);
    static const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1";
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(sql.c_str()));
    BindText(s, 1, run_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return NotFoundError("no run '" + run_id + "'");
    if (rc != SQLITE_ROW) return read_.LastError();
    return ReadRun(s);
  }

  Result<RunRecord> GetRunByStartKey(const std::string& start_key) override {
    MutexLock lock(read_mu_);
    static const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE start_key = ?1";
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(sql.c_str()));
    BindText(s, 1, start_key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return NotFoundError("no run with start key '" + start_key + "'");
    if (rc != SQLITE_ROW) return read_.LastError();
    return ReadRun(s);
  }

  Status PutApiKey(const ApiKeyRecord& k) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT INTO api_keys (id, name, role, secret_hash, created_ms, "
                                                 "expires_ms, revoked_ms, workflows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                                 "?7, ?8)"));
    BindText(s, 1, k.id);
    BindText(s, 2, k.name);
    BindText(s, 3, k.role);
    BindText(s, 4, k.secret_hash);
    sqlite3_bind_int64(s, 5, k.created_ms);
    sqlite3_bind_int64(s, 6, k.expires_ms);
    sqlite3_bind_int64(s, 7, k.revoked_ms);
    BindValue(s, 8, StringArray(k.workflows));
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) return Status(StatusCode::kAlreadyExists, "API key '" + k.id + "' already exists");
    if (rc != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Result<std::vector<StepRecord>> ListCompletedSteps(const std::string& action, int64_t after_seq, int limit) override {
    MutexLock lock(read_mu_);
    // The literal conditions let SQLite use the partial index for emit.
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(action == "emit" ? kEmitted : kCompletedOfAction));
    BindText(s, 1, action);
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int(s, 3, limit);
    std::vector<StepRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      StepRecord r = ReadStep(s, 1);
      r.run_id = ColumnText(s, 0);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }
  static constexpr const char* kEmitted =
      "SELECT run_id, seq, path, task, action, attempt, status, input, output, error_code, error, detail, "
      "started_ms, ended_ms FROM steps WHERE action = 'emit' AND status = 'completed' AND ?1 = 'emit' AND seq > ?2 "
      "ORDER BY seq LIMIT ?3";
  static constexpr const char* kCompletedOfAction =
      "SELECT run_id, seq, path, task, action, attempt, status, input, output, error_code, error, detail, "
      "started_ms, ended_ms FROM steps WHERE action = ?1 AND status = 'completed' AND seq > ?2 ORDER BY seq LIMIT ?3";

  Result<std::vector<SuspendedCount>> CountSuspended() override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(sqlite_queries::kCountSuspended));
    std::vector<SuspendedCount> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back({ColumnText(s, 0), ColumnText(s, 1), sqlite3_column_int64(s, 2)});
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<std::optional<std::string>> GetState(const std::string& key) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT value FROM trigger_state WHERE key = ?1"));
    BindText(s, 1, key);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return read_.LastError();
    return std::optional<std::string>(ColumnText(s, 0));
  }

  Status PutState(const std::string& key, const std::string& value) override {
    return GroupWrite([&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT INTO trigger_state (key, value, updated_ms) VALUES (?1, ?2, "
                                                   "?3) ON CONFLICT (key) DO UPDATE SET value = ?2, updated_ms = ?3"));
      BindText(s, 1, key);
      BindText(s, 2, value);
      sqlite3_bind_int64(s, 3, clock_.NowMillis());
      if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
      return Status::Ok();
    });
  }

  Result<bool> InsertState(const std::string& key, const std::string& value) override {
    bool inserted = false;
    WEFT_RETURN_IF_ERROR(GroupWrite([&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT INTO trigger_state (key, value, updated_ms) VALUES (?1, "
                                                   "?2, ?3) ON CONFLICT (key) DO NOTHING"));
      BindText(s, 1, key);
      BindText(s, 2, value);
      sqlite3_bind_int64(s, 3, clock_.NowMillis());
      if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
      inserted = sqlite3_changes(write_.get()) == 1;
      return Status::Ok();
    }));
    return inserted;
  }

  Status DeleteState(const std::string& key) override {
    return GroupWrite([&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("DELETE FROM trigger_state WHERE key = ?1"));
      BindText(s, 1, key);
      if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
      return Status::Ok();
    });
  }

  // Runs `write` (one small change) inside the writer's next group
  // transaction and returns once that has committed: concurrent small
  // writes — conversation state, messages, triggers' state — share one
  // fsync with each other and with the runs' commits instead of paying one
  // each. On the writer thread itself (a commit's callback), it writes at
  // once.
  Status GroupWrite(const std::function<Status()>& write) {
    if (std::this_thread::get_id() == writer_id_) {
      MutexLock lock(write_mu_);
      return write();
    }
    std::promise<Status> committed;
    std::future<Status> result = committed.get_future();
    Pending p{Commit{}, [&committed](Status st) { committed.set_value(std::move(st)); }, &write};
    if (!queue_.Push(p)) return UnavailableError("the store is shutting down");
    return result.get();
  }

  Status RevokeApiKey(const std::string& id, int64_t now_ms) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1 AND "
                                                 "revoked_ms = 0"));
    BindText(s, 1, id);
    sqlite3_bind_int64(s, 2, now_ms);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    if (sqlite3_changes(write_.get()) == 0) {
      sqlite3_reset(s);
      WEFT_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, ReadApiKeys(id));
      if (keys.empty()) return NotFoundError("no API key '" + id + "'");
    }
    return Status::Ok();
  }

  Status PutUser(const UserRecord& u, bool replace) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(
        Stmt s, write_.Prepare(replace ? "UPDATE users SET role = ?2, password_hash = ?3, workflows = ?4, created_ms = "
                                         "?5, updated_ms = ?6 WHERE name = ?1"
                                       : "INSERT INTO users (name, role, password_hash, workflows, created_ms, "
                                         "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    BindText(s, 1, u.name);
    BindText(s, 2, u.role);
    BindText(s, 3, u.password_hash);
    BindValue(s, 4, StringArray(u.workflows));
    sqlite3_bind_int64(s, 5, u.created_ms);
    sqlite3_bind_int64(s, 6, u.updated_ms);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT) return Status(StatusCode::kAlreadyExists, "user '" + u.name + "' already exists");
    if (rc != SQLITE_DONE) return write_.LastError();
    if (replace && sqlite3_changes(write_.get()) == 0) return NotFoundError("no user '" + u.name + "'");
    return Status::Ok();
  }

  Status DeleteUser(const std::string& name) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    Status st = DeleteUserLocked(name);
    WEFT_RETURN_IF_ERROR(write_.Exec(st.ok() ? "COMMIT" : "ROLLBACK"));
    return st;
  }

  Status DeleteUserLocked(const std::string& name) WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("DELETE FROM users WHERE name = ?1"));
    BindText(s, 1, name);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    if (sqlite3_changes(write_.get()) == 0) return NotFoundError("no user '" + name + "'");
    WEFT_ASSIGN_OR_RETURN(Stmt d, write_.Prepare("DELETE FROM sessions WHERE user = ?1"));
    BindText(d, 1, name);
    if (sqlite3_step(d) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Status PutSession(const SessionRecord& r) override {
    MutexLock lock(write_mu_);
    // Expired sessions go as new ones come.
    WEFT_ASSIGN_OR_RETURN(Stmt old, write_.Prepare("DELETE FROM sessions WHERE expires_ms <= ?1"));
    sqlite3_bind_int64(old, 1, r.created_ms);
    if (sqlite3_step(old) != SQLITE_DONE) return write_.LastError();
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT OR REPLACE INTO sessions (token_hash, user, csrf_token, "
                                                 "created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    BindText(s, 1, r.token_hash);
    BindText(s, 2, r.user);
    BindText(s, 3, r.csrf_token);
    sqlite3_bind_int64(s, 4, r.created_ms);
    sqlite3_bind_int64(s, 5, r.expires_ms);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Result<SessionRecord> GetSession(const std::string& token_hash, int64_t now_ms) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT token_hash, user, csrf_token, created_ms, expires_ms FROM "
                                                "sessions WHERE token_hash = ?1 AND expires_ms > ?2"));
    BindText(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now_ms);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return NotFoundError("no such session");
    if (rc != SQLITE_ROW) return read_.LastError();
    return SessionRecord{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2), sqlite3_column_int64(s, 3),
                         sqlite3_column_int64(s, 4)};
  }

  Status DeleteSession(const std::string& token_hash) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("DELETE FROM sessions WHERE token_hash = ?1"));
    BindText(s, 1, token_hash);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Status PutSecret(const SecretRecord& r) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT INTO secrets (name, sealed, updated_ms) VALUES (?1, ?2, ?3) "
                                                 "ON CONFLICT (name) DO UPDATE SET sealed = ?2, updated_ms = ?3"));
    BindText(s, 1, r.name);
    BindText(s, 2, r.sealed);
    sqlite3_bind_int64(s, 3, r.updated_ms);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Status DeleteSecret(const std::string& name) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("DELETE FROM secrets WHERE name = ?1"));
    BindText(s, 1, name);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    if (sqlite3_changes(write_.get()) == 0) return NotFoundError("no secret '" + name + "'");
    return Status::Ok();
  }

  Result<AuditEntry> AppendAudit(AuditEntry e) override {
    MutexLock lock(write_mu_);
    // IMMEDIATE: another process appending waits, so the chain never forks.
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    Status st = AppendAuditLocked(e);
    WEFT_RETURN_IF_ERROR(write_.Exec(st.ok() ? "COMMIT" : "ROLLBACK"));
    if (!st.ok()) return st;
    return e;
  }

  // Sets e's seq, prev_hash and hash from the last entry and inserts it.
  Status AppendAuditLocked(AuditEntry& e) WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(Stmt last, write_.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    const int rc = sqlite3_step(last);
    if (rc == SQLITE_ROW) {
      e.seq = sqlite3_column_int64(last, 0) + 1;
      e.prev_hash = ColumnText(last, 1);
    } else if (rc == SQLITE_DONE) {
      e.seq = 1;
      e.prev_hash.clear();
    } else {
      return write_.LastError();
    }
    sqlite3_reset(last);
    e.hash = AuditHash(e);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT INTO audit (seq, at_ms, actor, action, target, details, "
                                                 "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    sqlite3_bind_int64(s, 1, e.seq);
    sqlite3_bind_int64(s, 2, e.at_ms);
    BindText(s, 3, e.actor);
    BindText(s, 4, e.action);
    BindText(s, 5, e.target);
    BindText(s, 6, e.details);
    BindText(s, 7, e.prev_hash);
    BindText(s, 8, e.hash);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Result<std::vector<AuditEntry>> ListAudit(int64_t after_seq, int limit) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT seq, at_ms, actor, action, target, details, prev_hash, hash "
                                                "FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
    sqlite3_bind_int64(s, 1, after_seq);
    sqlite3_bind_int(s, 2, limit);
    std::vector<AuditEntry> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back(AuditEntry{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), ColumnText(s, 2),
                               ColumnText(s, 3), ColumnText(s, 4), ColumnText(s, 5), ColumnText(s, 6),
                               ColumnText(s, 7)});
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<std::vector<StepRecord>> GetSteps(const std::string& run_id) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s,
                          read_.Prepare("SELECT seq, path, task, action, attempt, status, input, output, error_code, "
                                        "error, detail, started_ms, ended_ms FROM steps WHERE run_id = ?1 "
                                        "ORDER BY seq"));
    BindText(s, 1, run_id);
    std::vector<StepRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      StepRecord r = ReadStep(s, 0);
      r.run_id = run_id;
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override {
    MutexLock lock(read_mu_);
    static const std::string sql =
        std::string("SELECT ") + kRunColumns +
        " FROM runs WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR workflow = ?2) AND "
        "(?3 = '' OR parent_run = ?3) AND (?4 = '' OR id < ?4) AND (?6 = '' OR trigger = ?6) "
        "ORDER BY id DESC LIMIT ?5";
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(sql.c_str()));
    BindText(s, 1, filter.status ? std::string(RunStatusName(*filter.status)) : std::string());
    BindText(s, 2, filter.workflow);
    BindText(s, 3, filter.parent_run);
    BindText(s, 4, filter.before_id);
    sqlite3_bind_int(s, 5, filter.limit);
    BindText(s, 6, filter.trigger);
    std::vector<RunRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ReadRun(s));
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<std::vector<RunRecord>> ClaimRuns(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                           int limit) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    std::vector<RunRecord> out;
    Status status = [&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare(sqlite_queries::kClaimable));
      sqlite3_bind_int64(s, 1, now_ms);
      // Runs nobody holds come before the owner's own (which it only
      // extends), so that a bounded claim always takes new work.
      std::vector<RunRecord> candidates;
      std::vector<RunRecord> own;
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW && static_cast<int>(candidates.size()) < limit) {
        RunRecord r = ReadRun(s);
        if (r.lease_owner == owner) {
          if (static_cast<int>(own.size()) < limit) own.push_back(std::move(r));
        } else if (r.lease_owner.empty() || r.lease_until_ms <= now_ms ||
                   internal::OwnerIsDeadLocalProcess(r.lease_owner)) {
          candidates.push_back(std::move(r));
        }
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return write_.LastError();
      sqlite3_reset(s);
      for (RunRecord& r : own) {
        if (static_cast<int>(candidates.size()) >= limit) break;
        candidates.push_back(std::move(r));
      }
      WEFT_ASSIGN_OR_RETURN(Stmt u, write_.Prepare("UPDATE runs SET lease_owner = ?2, lease_until_ms = ?3, "
                                                   "lease_epoch = ?4 WHERE id = ?1"));
      for (RunRecord& r : candidates) {
        sqlite3_reset(u);
        r.lease_epoch = internal::EpochAfterClaim(r.lease_owner, owner, r.lease_epoch);
        BindText(u, 1, r.id);
        BindText(u, 2, owner);
        sqlite3_bind_int64(u, 3, now_ms + lease_ms);
        sqlite3_bind_int64(u, 4, r.lease_epoch);
        if (sqlite3_step(u) != SQLITE_DONE) return write_.LastError();
        r.lease_owner = owner;
        r.lease_until_ms = now_ms + lease_ms;
      }
      out = std::move(candidates);
      return Status::Ok();
    }();
    WEFT_RETURN_IF_ERROR(write_.Exec(status.ok() ? "COMMIT" : "ROLLBACK"));
    if (!status.ok()) return status;
    return out;
  }

  Status RenewLeases(const std::string& owner, int64_t until_ms) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare(sqlite_queries::kRenewLeases));
    BindText(s, 1, owner);
    sqlite3_bind_int64(s, 2, until_ms);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Result<std::optional<std::string>> CacheGet(const std::string& key, int64_t now_ms) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT value FROM cache WHERE key = ?1 AND expires_ms > ?2"));
    BindText(s, 1, key);
    sqlite3_bind_int64(s, 2, now_ms);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return read_.LastError();
    return std::optional<std::string>(ColumnText(s, 0));
  }

  Status CachePut(const std::string& key, const std::string& value, int64_t expires_ms) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT OR REPLACE INTO cache (key, value, expires_ms) "
                                                 "VALUES (?1, ?2, ?3)"));
    BindText(s, 1, key);
    BindText(s, 2, value);
    sqlite3_bind_int64(s, 3, expires_ms);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    // Now and then, drop what has expired (entries live about one TTL).
    if (++cache_puts_ % 1000 == 0) {
      WEFT_ASSIGN_OR_RETURN(Stmt purge, write_.Prepare("DELETE FROM cache WHERE expires_ms <= ?1"));
      sqlite3_bind_int64(purge, 1, clock_.NowMillis());
      if (sqlite3_step(purge) != SQLITE_DONE) return write_.LastError();
    }
    return Status::Ok();
  }

  Status AddSpend(const std::vector<std::string>& scopes, const Spend& amount) override {
    MutexLock lock(write_mu_);
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
    Status st = [&]() WEFT_REQUIRES(write_mu_) -> Status {
      for (const std::string& scope : scopes) {
        WEFT_ASSIGN_OR_RETURN(Stmt s,
                              write_.Prepare("INSERT INTO spend (scope, cost, input_tokens, output_tokens, calls) "
                                             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scope) DO UPDATE SET "
                                             "cost = cost + excluded.cost, input_tokens = input_tokens + "
                                             "excluded.input_tokens, output_tokens = output_tokens + "
                                             "excluded.output_tokens, calls = calls + excluded.calls"));
        BindText(s, 1, scope);
        sqlite3_bind_double(s, 2, amount.cost);
        sqlite3_bind_int64(s, 3, amount.input_tokens);
        sqlite3_bind_int64(s, 4, amount.output_tokens);
        sqlite3_bind_int64(s, 5, amount.calls);
        if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
      }
      return Status::Ok();
    }();
    WEFT_RETURN_IF_ERROR(write_.Exec(st.ok() ? "COMMIT" : "ROLLBACK"));
    return st;
  }

  Result<Spend> GetSpend(const std::string& scope) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s,
                          read_.Prepare("SELECT cost, input_tokens, output_tokens, calls FROM spend WHERE scope = ?1"));
    BindText(s, 1, scope);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return Spend{};
    if (rc != SQLITE_ROW) return read_.LastError();
    return Spend{sqlite3_column_double(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                 sqlite3_column_int64(s, 3)};
  }

  Result<std::vector<std::pair<std::string, Spend>>> ListSpend(const std::string& from, const std::string& to,
                                                               int limit) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT scope, cost, input_tokens, output_tokens, calls FROM spend "
                                                "WHERE scope >= ?1 AND scope < ?2 ORDER BY scope LIMIT ?3"));
    BindText(s, 1, from);
    BindText(s, 2, to);
    sqlite3_bind_int(s, 3, limit);
    std::vector<std::pair<std::string, Spend>> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.emplace_back(ColumnText(s, 0), Spend{sqlite3_column_double(s, 1), sqlite3_column_int64(s, 2),
                                               sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)});
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<Value> GetMemory(const std::string& conversation) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT doc FROM memory WHERE conversation = ?1"));
    BindText(s, 1, conversation);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return Value();
    if (rc != SQLITE_ROW) return read_.LastError();
    Result<Value> doc = ParseJson(ColumnText(s, 0));
    if (!doc.ok())
      return InternalError("memory of conversation '" + conversation + "' is corrupt: " + doc.status().message());
    return doc;
  }

  Status PutMemory(const std::string& conversation, const Value& memory) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("INSERT OR REPLACE INTO memory (conversation, doc, updated_ms) "
                                                 "VALUES (?1, ?2, ?3)"));
    BindText(s, 1, conversation);
    BindText(s, 2, ToJson(memory));
    sqlite3_bind_int64(s, 3, clock_.NowMillis());
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

  Result<MessageRecord> AppendMessage(MessageRecord m) override {
    std::optional<MessageRecord> stored;
    WEFT_RETURN_IF_ERROR(GroupWrite([&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_ASSIGN_OR_RETURN(
          Stmt s, write_.Prepare("INSERT INTO messages (conversation, run_id, step_path, key, role, kind, content, "
                                 "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                 "ON CONFLICT (conversation, key) DO NOTHING RETURNING seq"));
      BindText(s, 1, m.conversation);
      BindText(s, 2, m.run_id);
      BindText(s, 3, m.step_path);
      BindText(s, 4, m.key);
      BindText(s, 5, m.role);
      BindText(s, 6, m.kind);
      const std::string content = ToJson(m.content);
      BindText(s, 7, content);
      sqlite3_bind_int64(s, 8, m.created_ms);
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) {
        m.seq = sqlite3_column_int64(s, 0);
        stored = m;
        return Status::Ok();
      }
      if (rc != SQLITE_DONE) return write_.LastError();
      // Said before: the stored message.
      WEFT_ASSIGN_OR_RETURN(Stmt q, write_.Prepare(kMessageByKey));
      BindText(q, 1, m.conversation);
      BindText(q, 2, m.key);
      if (sqlite3_step(q) != SQLITE_ROW) return write_.LastError();
      WEFT_ASSIGN_OR_RETURN(MessageRecord found, ReadMessage(q));
      stored = std::move(found);
      return Status::Ok();
    }));
    return std::move(*stored);
  }

  // One user ("" = every user, by name).
  Result<std::vector<UserRecord>> ReadUsers(const std::string& name) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT name, role, password_hash, workflows, created_ms, updated_ms "
                                                "FROM users WHERE ?1 = '' OR name = ?1 ORDER BY name"));
    BindText(s, 1, name);
    std::vector<UserRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      UserRecord u;
      u.name = ColumnText(s, 0);
      u.role = ColumnText(s, 1);
      u.password_hash = ColumnText(s, 2);
      u.workflows = StringsOf(ColumnValue(s, 3));
      u.created_ms = sqlite3_column_int64(s, 4);
      u.updated_ms = sqlite3_column_int64(s, 5);
      out.push_back(std::move(u));
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  // One secret ("" = every secret, by name).
  Result<std::vector<SecretRecord>> ReadSecrets(const std::string& name) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT name, sealed, updated_ms FROM secrets WHERE ?1 = '' OR "
                                                "name = ?1 ORDER BY name"));
    BindText(s, 1, name);
    std::vector<SecretRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back(SecretRecord{ColumnText(s, 0), ColumnText(s, 1), sqlite3_column_int64(s, 2)});
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  // One key ("" = every key, oldest first).
  Result<std::vector<ApiKeyRecord>> ReadApiKeys(const std::string& id) override {
    MutexLock lock(read_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare("SELECT id, name, role, secret_hash, created_ms, expires_ms, "
                                                "revoked_ms, workflows FROM api_keys WHERE ?1 = '' OR id = ?1 "
                                                "ORDER BY created_ms, id"));
    BindText(s, 1, id);
    std::vector<ApiKeyRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      ApiKeyRecord k;
      k.id = ColumnText(s, 0);
      k.name = ColumnText(s, 1);
      k.role = ColumnText(s, 2);
      k.secret_hash = ColumnText(s, 3);
      k.created_ms = sqlite3_column_int64(s, 4);
      k.expires_ms = sqlite3_column_int64(s, 5);
      k.revoked_ms = sqlite3_column_int64(s, 6);
      k.workflows = StringsOf(ColumnValue(s, 7));
      out.push_back(std::move(k));
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

  Result<std::vector<MessageRecord>> ListMessages(const MessageFilter& f) override {
    MutexLock lock(read_mu_);
    const bool by_run = f.conversation.empty();
    WEFT_ASSIGN_OR_RETURN(Stmt s, read_.Prepare(by_run ? kMessagesOfRun : kMessagesOfConversation));
    BindText(s, 1, by_run ? f.run_id : f.conversation);
    sqlite3_bind_int64(s, 2, f.after_seq);
    sqlite3_bind_int(s, 3, f.limit);
    std::vector<MessageRecord> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      WEFT_ASSIGN_OR_RETURN(MessageRecord m, ReadMessage(s));
      if (!by_run && !f.run_id.empty() && m.run_id != f.run_id) continue;
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return read_.LastError();
    return out;
  }

#define WEFT_MESSAGE_COLUMNS \
  "SELECT seq, conversation, run_id, step_path, key, role, kind, content, created_ms FROM messages"
  // Statements are cached by their text's address: each is one constant.
  static constexpr const char* kMessageByKey = WEFT_MESSAGE_COLUMNS " WHERE conversation = ?1 AND key = ?2";
  static constexpr const char* kMessagesOfRun =
      WEFT_MESSAGE_COLUMNS " WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
  static constexpr const char* kMessagesOfConversation =
      WEFT_MESSAGE_COLUMNS " WHERE conversation = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
#undef WEFT_MESSAGE_COLUMNS

  static Result<MessageRecord> ReadMessage(sqlite3_stmt* s) {
    MessageRecord m;
    m.seq = sqlite3_column_int64(s, 0);
    m.conversation = ColumnText(s, 1);
    m.run_id = ColumnText(s, 2);
    m.step_path = ColumnText(s, 3);
    m.key = ColumnText(s, 4);
    m.role = ColumnText(s, 5);
    m.kind = ColumnText(s, 6);
    Result<Value> content = ParseJson(ColumnText(s, 7));
    if (!content.ok()) return InternalError("message " + std::to_string(m.seq) + " is corrupt");
    m.content = std::move(content).value();
    m.created_ms = sqlite3_column_int64(s, 8);
    return m;
  }

  bool WaitForWork(int64_t timeout_ms) override {
    // Commits from this process that create work signal at once; other
    // processes' commits show as a new PRAGMA data_version, checked every
    // 20 ms.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    const int64_t version = DataVersion();
    uint64_t seen = 0;
    {
      MutexLock lock(work_mu_);
      seen = work_created_;
    }
    while (true) {
      {
        MutexLock lock(work_mu_);
        if (work_created_ != seen) return true;
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        lock.WaitUntil(work_cv_, std::min(deadline, now + std::chrono::milliseconds(20)));
        if (work_created_ != seen) return true;
      }
      if (DataVersion() != version) return true;
    }
  }

  Status ReleaseRun(const std::string& run_id, const std::string& owner) override {
    MutexLock lock(write_mu_);
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("UPDATE runs SET lease_owner = '', lease_until_ms = 0 "
                                                 "WHERE id = ?1 AND lease_owner = ?2"));
    BindText(s, 1, run_id);
    BindText(s, 2, owner);
    if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
    return Status::Ok();
  }

 private:
  struct Pending {
    Commit commit;
    std::function<void(Status)> done;
    // Instead of `commit`: a small write (GroupWrite), run in the group's
    // transaction with write_mu_ held; its caller waits, so it outlives this.
    const std::function<Status()>* write = nullptr;
  };

  // Changes whenever another connection commits to the database.
  int64_t DataVersion() {
    MutexLock lock(read_mu_);
    Result<Stmt> s = read_.Prepare("PRAGMA data_version");
    if (!s.ok() || sqlite3_step(*s) != SQLITE_ROW) return -1;
    return sqlite3_column_int64(*s, 0);
  }

  static std::string HashSource(const std::string& source) {
    // FNV-1a 64: identifies identical sources; not a security boundary.
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : source) h = (h ^ c) * 1099511628211ULL;
    char buf[17];
    snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }

  Status SetUp() WEFT_REQUIRES(write_mu_) {
    WEFT_RETURN_IF_ERROR(write_.Exec("PRAGMA journal_mode=WAL"));
    WEFT_RETURN_IF_ERROR(
        write_.Exec(std::string("PRAGMA synchronous=") + (options_.synchronous_full ? "FULL" : "NORMAL")));
    WEFT_RETURN_IF_ERROR(write_.Exec("PRAGMA foreign_keys=ON"));
    return Migrate();
  }

  // Several processes may open a new database at once: each step reads the
  // version inside its write transaction, so a step another process has
  // applied meanwhile is seen and skipped, never applied twice.
  Status Migrate() WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("PRAGMA user_version"));
    const int target = SqliteSchemaVersion();
    for (;;) {
      WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN IMMEDIATE"));
      if (sqlite3_step(s) != SQLITE_ROW) {
        Status error = write_.LastError();
        sqlite3_reset(s);
        (void)write_.Exec("ROLLBACK");
        return error;
      }
      const int version = sqlite3_column_int(s, 0);
      sqlite3_reset(s);
      if (version >= target) {
        WEFT_RETURN_IF_ERROR(write_.Exec("COMMIT"));
        if (version == target) return Status::Ok();
        return FailedPreconditionError("database '" + options_.path + "' has schema version " +
                                       std::to_string(version) + ", newer than this weft understands (" +
                                       std::to_string(target) + ")");
      }
      Status st = write_.Exec(kMigrations[version]);
      if (st.ok()) st = write_.Exec("PRAGMA user_version = " + std::to_string(version + 1));
      if (st.ok()) st = write_.Exec("COMMIT");
      if (!st.ok()) {
        (void)write_.Exec("ROLLBACK");
        return st.WithContext("migrating database to schema version " + std::to_string(version + 1));
      }
    }
  }

  Result<int64_t> PutWorkflowLocked(const std::string& name, const std::string& source, const std::string& hash,
                                    int64_t declared) WEFT_REQUIRES(write_mu_) {
    WEFT_ASSIGN_OR_RETURN(Stmt find,
                          write_.Prepare("SELECT version FROM workflows WHERE name = ?1 AND hash = ?2 AND source = ?3 "
                                         "AND (?4 = 0 OR version = ?4) ORDER BY version DESC LIMIT 1"));
    BindText(find, 1, name);
    BindText(find, 2, hash);
    BindText(find, 3, source);
    sqlite3_bind_int64(find, 4, declared);
    int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) {
      int64_t v = sqlite3_column_int64(find, 0);
      sqlite3_reset(find);
      return v;
    }
    sqlite3_reset(find);
    int64_t version = declared;
    if (version == 0) {
      WEFT_ASSIGN_OR_RETURN(Stmt max,
                            write_.Prepare("SELECT COALESCE(MAX(version), 0) FROM workflows WHERE name = ?1"));
      BindText(max, 1, name);
      if (sqlite3_step(max) != SQLITE_ROW) return write_.LastError();
      version = sqlite3_column_int64(max, 0) + 1;
      sqlite3_reset(max);
    }
    WEFT_ASSIGN_OR_RETURN(Stmt ins, write_.Prepare("INSERT INTO workflows (name, version, hash, source, "
                                                   "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    BindText(ins, 1, name);
    sqlite3_bind_int64(ins, 2, version);
    BindText(ins, 3, hash);
    BindText(ins, 4, source);
    sqlite3_bind_int64(ins, 5, clock_.NowMillis());
    rc = sqlite3_step(ins);
    if (rc == SQLITE_CONSTRAINT) {
      return Status(StatusCode::kAlreadyExists, "workflow '" + name + "' version " + std::to_string(version) +
                                                    " is already stored with different content");
    }
    if (rc != SQLITE_DONE) return write_.LastError();
    return version;
  }

  Status ApplyUpdate(const RunUpdate& u) WEFT_REQUIRES(write_mu_) {
    const int64_t now = clock_.NowMillis();
    if (u.expect_status || u.kind != RunUpdate::Kind::kCreate) {
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare("SELECT status, lease_owner, lease_epoch FROM runs WHERE id = ?1"));
      BindText(s, 1, u.run_id);
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return NotFoundError("no run '" + u.run_id + "'");
      if (rc != SQLITE_ROW) return write_.LastError();
      const RunStatus status = ParseRunStatus(ColumnText(s, 0)).value_or(RunStatus::kFailed);
      const std::string lease_owner = ColumnText(s, 1);
      const int64_t lease_epoch = sqlite3_column_int64(s, 2);
      sqlite3_reset(s);
      WEFT_RETURN_IF_ERROR(internal::CheckUpdate(u, status, lease_owner, lease_epoch));
    }
    if (u.kind != RunUpdate::Kind::kStepsOnly) {
      const RunRecord& r = u.run;
      const char* sql =
          u.kind == RunUpdate::Kind::kCreate
              ? "INSERT INTO runs (id, workflow, version, status, input, context, outputs, error_code, error, "
                "parent_run, parent_path, wait, wake_at_ms, seed, retry_from_seq, created_ms, updated_ms, "
                "lease_owner, lease_until_ms, lease_epoch, trigger, start_key) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?22, ?17, ?18, ?19, ?20, "
                "?21)"
              : "UPDATE runs SET workflow = ?2, version = ?3, status = ?4, input = ?5, context = ?6, outputs = ?7, "
                "error_code = ?8, error = ?9, parent_run = ?10, parent_path = ?11, wait = ?12, wake_at_ms = ?13, "
                "seed = ?14, retry_from_seq = ?15, updated_ms = ?16, lease_owner = ?17, lease_until_ms = ?18, "
                "lease_epoch = ?19 WHERE id = ?1";
      WEFT_ASSIGN_OR_RETURN(Stmt s, write_.Prepare(sql));
      BindText(s, 1, u.run_id);
      BindText(s, 2, r.workflow);
      sqlite3_bind_int64(s, 3, r.version);
      BindText(s, 4, std::string(RunStatusName(r.status)));
      BindValue(s, 5, r.input);
      BindValue(s, 6, r.context);
      BindValue(s, 7, r.outputs);
      BindText(s, 8, r.error_code);
      BindText(s, 9, r.error);
      BindText(s, 10, r.parent_run);
      BindText(s, 11, r.parent_path);
      BindValue(s, 12, r.wait);
      sqlite3_bind_int64(s, 13, r.wake_at_ms);
      sqlite3_bind_int64(s, 14, static_cast<int64_t>(r.seed));
      sqlite3_bind_int64(s, 15, r.retry_from_seq);
      sqlite3_bind_int64(s, 16, r.created_ms != 0 && u.kind == RunUpdate::Kind::kCreate ? r.created_ms : now);
      BindText(s, 17, r.lease_owner);
      sqlite3_bind_int64(s, 18, r.lease_until_ms);
      sqlite3_bind_int64(s, 19, r.lease_epoch);
      if (u.kind == RunUpdate::Kind::kCreate) {
        // Updated when committed: a run may be created as it ended.
        sqlite3_bind_int64(s, 22, now);
        BindText(s, 20, r.trigger);
        if (r.start_key.empty()) {
          sqlite3_bind_null(s, 21);
        } else {
          BindText(s, 21, r.start_key);
        }
      }
      int rc = sqlite3_step(s);
      if (rc == SQLITE_CONSTRAINT) {
        return Status(StatusCode::kAlreadyExists,
                      r.start_key.empty() || sqlite3_extended_errcode(write_.get()) == SQLITE_CONSTRAINT_PRIMARYKEY
                          ? "run '" + u.run_id + "' already exists"
                          : "a run with start key '" + r.start_key + "' already exists");
      }
      if (rc != SQLITE_DONE) return write_.LastError();
    }
    if (!u.steps.empty()) {
      WEFT_ASSIGN_OR_RETURN(Stmt s,
                            write_.Prepare("INSERT INTO steps (run_id, path, task, action, attempt, status, input, "
                                           "output, error_code, error, detail, started_ms, ended_ms) VALUES (?1, ?2, "
                                           "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
      for (const StepRecord& step : u.steps) {
        sqlite3_reset(s);
        BindText(s, 1, u.run_id);
        BindText(s, 2, step.path);
        BindText(s, 3, step.task);
        BindText(s, 4, step.action);
        sqlite3_bind_int(s, 5, step.attempt);
        BindText(s, 6, std::string(StepStatusName(step.status)));
        BindValue(s, 7, step.input);
        BindValue(s, 8, step.output);
        BindText(s, 9, step.error_code);
        BindText(s, 10, step.error);
        BindValue(s, 11, step.detail);
        sqlite3_bind_int64(s, 12, step.started_ms);
        sqlite3_bind_int64(s, 13, step.ended_ms);
        if (sqlite3_step(s) != SQLITE_DONE) return write_.LastError();
      }
    }
    return Status::Ok();
  }

  // Applies one commit inside the group's transaction, under a savepoint so
  // that its failure leaves the other commits of the group intact.
  Status ApplyIsolated(const Commit& commit) WEFT_REQUIRES(write_mu_) {
    WEFT_RETURN_IF_ERROR(write_.Run("SAVEPOINT c"));
    Status status = ApplyUpdates(commit);
    if (!status.ok()) (void)write_.Run("ROLLBACK TO c");
    WEFT_RETURN_IF_ERROR(write_.Run("RELEASE c"));
    return status;
  }

  Status ApplyUpdates(const Commit& commit) WEFT_REQUIRES(write_mu_) {
    for (const RunUpdate& u : commit.updates) WEFT_RETURN_IF_ERROR(ApplyUpdate(u));
    return Status::Ok();
  }

  // One group transaction. Commits are refused rarely (a lost lease, a
  // start key taken), so the group is first applied without a savepoint per
  // commit; if one is refused, the transaction is rolled back and the group
  // applied again with savepoints, so that only that one fails. Sets
  // `results`; true when a committed update left claimable work.
  bool ApplyGroup(std::vector<Pending>& batch, std::vector<Status>& results) WEFT_REQUIRES(write_mu_) {
    for (bool isolated : {false, true}) {
      if (isolated && batch.size() == 1) break;  // its refusal is already its result
      if (Status begin = write_.Run("BEGIN IMMEDIATE"); !begin.ok()) {
        results.assign(batch.size(), begin);
        return false;
      }
      bool refused = false;
      for (size_t i = 0; i < batch.size() && !refused; ++i) {
        const Pending& p = batch[i];
        results[i] = p.write != nullptr ? (*p.write)() : isolated ? ApplyIsolated(p.commit) : ApplyUpdates(p.commit);
        refused = !isolated && !results[i].ok();
      }
      if (refused) {
        (void)write_.Run("ROLLBACK");
        continue;
      }
      if (Status commit = write_.Run("COMMIT"); !commit.ok()) {
        (void)write_.Run("ROLLBACK");
        results.assign(batch.size(), commit);
        return false;
      }
      bool creates_work = false;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!results[i].ok() || batch[i].write != nullptr) continue;
        for (const RunUpdate& u : batch[i].commit.updates) creates_work = creates_work || internal::CreatesWork(u);
      }
      return creates_work;
    }
    return false;  // one commit, refused: rolled back
  }

  void WriterLoop() {
    std::vector<Pending> batch;
    std::vector<Status> results;
    while (queue_.Take(batch, options_.max_group)) {
      results.assign(batch.size(), Status::Ok());
      const auto started = std::chrono::steady_clock::now();
      bool creates_work = false;
      {
        MutexLock lock(write_mu_);
        creates_work = ApplyGroup(batch, results);
      }
      queue_.Observe(batch.size(), started);
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i]);
      batch.clear();
      {
        MutexLock lock(work_mu_);
        if (creates_work) ++work_created_;
      }
      work_cv_.notify_all();
    }
  }

  void ObserveCommits(const CommitObserver& observer) override { queue_.SetObserver(observer); }

  SqliteOptions options_;
  const Clock& clock_;
  Mutex write_mu_;
  Db write_ WEFT_GUARDED_BY(write_mu_);  // the write connection: writer thread, PutWorkflow, ClaimRuns, cache, spend
  uint64_t cache_puts_ WEFT_GUARDED_BY(write_mu_) = 0;
  Mutex read_mu_;
  Db read_ WEFT_GUARDED_BY(read_mu_);
  internal::WriterQueue<Pending> queue_;
  Mutex work_mu_;
  std::condition_variable_any work_cv_;                  // a batch left claimable work
  uint64_t work_created_ WEFT_GUARDED_BY(work_mu_) = 0;  // batches that did
  std::thread writer_;
  std::thread::id writer_id_;  // set before any GroupWrite can run
};

}  // namespace

int SqliteSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  WEFT_RETURN_IF_ERROR(store->Open().WithContext("opening " + options.path));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace weft::store

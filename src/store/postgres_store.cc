// PostgreSQL store. One writer thread owns a connection and applies queued
// run commits in batches (group commit); reads and the other writes take a
// connection from a small pool; a listener connection waits for NOTIFY so
// that idle workers wake when another process creates work.
#include "weft/store/postgres_store.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "listing_store.h"
#include "update_checks.h"
#include "weft/core/json.h"
#include "weft/core/mutex.h"
#include "weft/store/pg_conn.h"
#include "writer_queue.h"

namespace weft::store {
namespace {

using pg::Conn;
using pg::Params;
using pg::Rows;

// Each entry migrates the schema from version i to i + 1. Keys compared
// by range or order are in the "C" collation: byte order, as on SQLite,
// whatever the database's locale.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE workflows (
  name TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  hash TEXT NOT NULL,
  source TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE runs (
  id TEXT COLLATE "C" PRIMARY KEY,
  workflow TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  context TEXT,
  outputs TEXT,
  error_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  parent_run TEXT COLLATE "C" NOT NULL DEFAULT '',
  parent_path TEXT NOT NULL DEFAULT '',
  wait TEXT,
  wake_at_ms BIGINT NOT NULL DEFAULT 0,
  seed BIGINT NOT NULL DEFAULT 0,
  retry_from_seq BIGINT NOT NULL DEFAULT 0,
  lease_owner TEXT COLLATE "C" NOT NULL DEFAULT '',
  lease_until_ms BIGINT NOT NULL DEFAULT 0,
  lease_epoch BIGINT NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  trigger TEXT NOT NULL DEFAULT '',
  start_key TEXT COLLATE "C" UNIQUE
);
CREATE INDEX runs_claimable ON runs (id) WHERE status = 'running' OR (status = 'suspended' AND wake_at_ms > 0);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_workflow ON runs (workflow, id);
CREATE INDEX runs_by_parent ON runs (parent_run) WHERE parent_run <> '';
CREATE INDEX runs_by_owner ON runs (lease_owner) WHERE lease_owner <> '';
CREATE TABLE steps (
  seq BIGSERIAL PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL,
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
  started_ms BIGINT NOT NULL,
  ended_ms BIGINT NOT NULL
);
CREATE INDEX steps_by_run ON steps (run_id, seq);
CREATE INDEX steps_emitted ON steps (seq) WHERE action = 'emit' AND status = 'completed';
CREATE TABLE cache (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL,
  expires_ms BIGINT NOT NULL
);
CREATE INDEX cache_by_expiry ON cache (expires_ms);
CREATE TABLE spend (
  scope TEXT COLLATE "C" PRIMARY KEY,
  cost DOUBLE PRECISION NOT NULL DEFAULT 0,
  input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  calls BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE memory (
  conversation TEXT COLLATE "C" PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE messages (
  seq BIGSERIAL PRIMARY KEY,
  conversation TEXT COLLATE "C" NOT NULL,
  run_id TEXT COLLATE "C" NOT NULL,
  step_path TEXT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  role TEXT NOT NULL,
  kind TEXT NOT NULL,
  content TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  UNIQUE (conversation, key)
);
CREATE INDEX messages_by_conversation ON messages (conversation, seq);
CREATE INDEX messages_by_run ON messages (run_id, seq);
CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL DEFAULT 0,
  revoked_ms BIGINT NOT NULL DEFAULT 0,
  workflows TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE trigger_state (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE users (
  name TEXT COLLATE "C" PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  workflows TEXT NOT NULL DEFAULT '[]',
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  user_name TEXT COLLATE "C" NOT NULL,
  csrf_token TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_name);
CREATE INDEX sessions_by_expiry ON sessions (expires_ms);
CREATE TABLE secrets (
  name TEXT COLLATE "C" PRIMARY KEY,
  sealed TEXT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql",
};

// The channel idle workers listen on: one per schema (channels are
// database-wide, and installations in other schemas have other work). At
// most 63 bytes, PostgreSQL's identifier length (a clash of two long
// names costs only a needless wake-up).
std::string WorkChannel(const std::string& schema) {
  return schema.empty() ? "weft_work" : ("weft_work_" + schema).substr(0, 63);
}
// The channel of Broadcast's messages, likewise.
std::string EventChannel(const std::string& schema) {
  return schema.empty() ? "weft_events" : ("weft_events_" + schema).substr(0, 63);
}
// Messages carry the sender's id first ("<id> <message>"), so that a
// process skips its own.
constexpr size_t kSenderIdBytes = 16;

#define WEFT_RUN_COLUMNS                                                                                        \
  "id, workflow, version, status, input, context, outputs, error_code, error, parent_run, parent_path, wait, "  \
  "wake_at_ms, seed, retry_from_seq, lease_owner, lease_until_ms, created_ms, updated_ms, trigger, start_key, " \
  "lease_epoch"
#define WEFT_STEP_COLUMNS \
  "seq, path, task, action, attempt, status, input, output, error_code, error, detail, started_ms, ended_ms"
#define WEFT_MESSAGE_COLUMNS "seq, conversation, run_id, step_path, key, role, kind, content, created_ms"

RunRecord ReadRun(const Rows& r, int i) {
  RunRecord x;
  x.id = r.text(i, 0);
  x.workflow = r.text(i, 1);
  x.version = r.int64(i, 2);
  x.status = ParseRunStatus(r.text(i, 3)).value_or(RunStatus::kFailed);
  x.input = r.json(i, 4);
  x.context = r.json(i, 5);
  x.outputs = r.json(i, 6);
  x.error_code = r.text(i, 7);
  x.error = r.text(i, 8);
  x.parent_run = r.text(i, 9);
  x.parent_path = r.text(i, 10);
  x.wait = r.json(i, 11);
  x.wake_at_ms = r.int64(i, 12);
  x.seed = static_cast<uint64_t>(r.int64(i, 13));
  x.retry_from_seq = r.int64(i, 14);
  x.lease_owner = r.text(i, 15);
  x.lease_until_ms = r.int64(i, 16);
  x.created_ms = r.int64(i, 17);
  x.updated_ms = r.int64(i, 18);
  x.trigger = r.text(i, 19);
  x.start_key = r.text(i, 20);
  x.lease_epoch = r.int64(i, 21);
  return x;
}

// Step columns from `first` on, in WEFT_STEP_COLUMNS order.
StepRecord ReadStep(const Rows& r, int i, int first) {
  StepRecord s;
  s.seq = r.int64(i, first);
  s.path = r.text(i, first + 1);
  s.task = r.text(i, first + 2);
  s.action = r.text(i, first + 3);
  s.attempt = static_cast<int>(r.int64(i, first + 4));
  s.status = ParseStepStatus(r.text(i, first + 5)).value_or(StepStatus::kFailed);
  s.input = r.json(i, first + 6);
  s.output = r.json(i, first + 7);
  s.error_code = r.text(i, first + 8);
  s.error = r.text(i, first + 9);
  s.detail = r.json(i, first + 10);
  s.started_ms = r.int64(i, first + 11);
  s.ended_ms = r.int64(i, first + 12);
  return s;
}

Result<MessageRecord> ReadMessage(const Rows& r, int i) {
  MessageRecord m;
  m.seq = r.int64(i, 0);
  m.conversation = r.text(i, 1);
  m.run_id = r.text(i, 2);
  m.step_path = r.text(i, 3);
  m.key = r.text(i, 4);
  m.role = r.text(i, 5);
  m.kind = r.text(i, 6);
  Result<Value> content = ParseJson(r.text(i, 7));
  if (!content.ok()) return InternalError("message " + std::to_string(m.seq) + " is corrupt");
  m.content = std::move(content).value();
  m.created_ms = r.int64(i, 8);
  return m;
}

std::string HashSource(const std::string& source) {
  // FNV-1a 64, as the SQLite store: identifies identical sources.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : source) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Connections for reads and small writes, handed out one caller at a time.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool& pool, Conn* conn) : pool_(pool), conn_(conn) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.Return(conn_); }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_; }

   private:
    Pool& pool_;
    Conn* conn_;
  };

  Status Open(const PostgresOptions& o) {
    for (int i = 0; i < std::max(1, o.pool); ++i) {
      auto c = std::make_unique<Conn>();
      WEFT_RETURN_IF_ERROR(c->Connect(o.url, o.schema, o.connect_timeout_s));
      MutexLock lock(mu_);
      free_.push_back(c.get());
      all_.push_back(std::move(c));
    }
    return Status::Ok();
  }

  // A connection, reconnected first if it was lost.
  Result<std::unique_ptr<Lease>> Take() {
    Conn* c = nullptr;
    {
      MutexLock lock(mu_);
      lock.Wait(cv_, [&]() WEFT_REQUIRES(mu_) { return !free_.empty(); });
      c = free_.back();
      free_.pop_back();
    }
    auto lease = std::make_unique<Lease>(*this, c);
    WEFT_RETURN_IF_ERROR(c->Ensure());
    return lease;
  }

 private:
  void Return(Conn* c) {
    {
      MutexLock lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
  }

  Mutex mu_;
  std::condition_variable_any cv_;
  std::vector<std::unique_ptr<Conn>> all_ WEFT_GUARDED_BY(mu_);
  std::vector<Conn*> free_ WEFT_GUARDED_BY(mu_);
};

// Runs `body` in a transaction on `c`: committed when it returns OK,
// rolled back otherwise.
Status InTransaction(Conn& c, const std::function<Status()>& body) {
  WEFT_RETURN_IF_ERROR(c.Exec("BEGIN"));
  Status st = body();
  if (st.ok()) {
    st = c.Exec("COMMIT");
    if (st.ok()) return st;
  }
  (void)c.Exec("ROLLBACK");
  return st;
}

class PostgresStore final : public internal::ListingStore {
 public:
  explicit PostgresStore(PostgresOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()),
        channel_(WorkChannel(options_.schema)),
        events_channel_(EventChannel(options_.schema)),
        sender_id_(SenderId()) {}

  ~PostgresStore() override {
    queue_.Stop();
    {
      MutexLock lock(notify_mu_);
      listening_ = false;
    }
    notify_cv_.notify_all();
    {
      MutexLock lock(broadcast_mu_);
      broadcast_stopping_ = true;
    }
    broadcast_cv_.notify_all();
    if (sender_.joinable()) sender_.join();
    if (writer_.joinable()) writer_.join();
    if (listener_.joinable()) listener_.join();
  }

  Status Open() {
    if (!IsPostgresUrl(options_.url) && options_.url.find('=') == std::string::npos) {
      return InvalidArgumentError("'" + options_.url + "' is not a PostgreSQL connection URL (postgresql://...)");
    }
    {
      MutexLock lock(write_mu_);  // no other thread yet
      WEFT_RETURN_IF_ERROR(write_.Connect(options_.url, options_.schema, options_.connect_timeout_s));
      WEFT_RETURN_IF_ERROR(Migrate());
    }
    WEFT_RETURN_IF_ERROR(pool_.Open(options_));
    WEFT_RETURN_IF_ERROR(listen_.Connect(options_.url, options_.schema, options_.connect_timeout_s));
    WEFT_RETURN_IF_ERROR(listen_.Exec("LISTEN " + channel_ + "; LISTEN " + events_channel_));
    writer_ = std::thread([this] { WriterLoop(); });
    listener_ = std::thread([this] { ListenLoop(); });
    return Status::Ok();
  }

  // ---- workflows

  Result<int64_t> PutWorkflow(const std::string& name, const std::string& source, int64_t declared) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    const std::string hash = HashSource(source);
    int64_t version = 0;
    WEFT_RETURN_IF_ERROR(InTransaction(**c, [&]() -> Status {
      // Deploys of one workflow from several processes take turns.
      WEFT_RETURN_IF_ERROR(
          (*c)->Run("SELECT pg_advisory_xact_lock(hashtext('weft.workflow:' || $1))", Params().Text(name)).status());
      WEFT_ASSIGN_OR_RETURN(Rows same, (*c)->Run("SELECT version FROM workflows WHERE name = $1 AND hash = $2 AND "
                                                 "source = $3 AND ($4 = 0 OR version = $4) ORDER BY version DESC "
                                                 "LIMIT 1",
                                                 Params().Text(name).Text(hash).Text(source).Int(declared)));
      if (same.size() > 0) {
        version = same.int64(0, 0);
        return Status::Ok();
      }
      version = declared;
      if (version == 0) {
        WEFT_ASSIGN_OR_RETURN(Rows max, (*c)->Run("SELECT COALESCE(MAX(version), 0) FROM workflows WHERE name = $1",
                                                  Params().Text(name)));
        version = max.int64(0, 0) + 1;
      }
      Result<Rows> ins =
          (*c)->Run("INSERT INTO workflows (name, version, hash, source, created_ms) VALUES ($1, $2, $3, $4, $5)",
                    Params().Text(name).Int(version).Text(hash).Text(source).Int(clock_.NowMillis()));
      if (!ins.ok() && ins.status().code() == StatusCode::kAlreadyExists) {
        return Status(StatusCode::kAlreadyExists, "workflow '" + name + "' version " + std::to_string(version) +
                                                      " is already stored with different content");
      }
      return ins.status();
    }));
    return version;
  }

  Result<WorkflowRecord> GetWorkflow(const std::string& name, int64_t version) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT name, version, hash, source, created_ms FROM workflows WHERE "
                                            "name = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1",
                                            Params().Text(name).Int(version)));
    if (r.size() == 0) {
      return NotFoundError(version == 0 ? "no workflow named '" + name + "'"
                                        : "workflow '" + name + "' has no version " + std::to_string(version));
    }
    return WorkflowRecord{r.text(0, 0), r.int64(0, 1), r.text(0, 2), r.text(0, 3), r.int64(0, 4)};
  }

  Result<std::vector<WorkflowRecord>> ListWorkflows() override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT name, version, hash, source, created_ms FROM workflows ORDER BY "
                                            "name, version"));
    std::vector<WorkflowRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back({r.text(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3), r.int64(i, 4)});
    }
    return out;
  }

  // ---- runs

  void CommitAsync(Commit commit, std::function<void(Status)> done) override {
    Pending p{std::move(commit), std::move(done)};
    if (!queue_.Push(p)) p.done(UnavailableError("the store is shutting down"));
  }

  void ObserveCommits(const CommitObserver& observer) override { queue_.SetObserver(observer); }

  Result<RunRecord> GetRun(const std::string& run_id) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r,
                          (*c)->Run("SELECT " WEFT_RUN_COLUMNS " FROM runs WHERE id = $1", Params().Text(run_id)));
    if (r.size() == 0) return NotFoundError("no run '" + run_id + "'");
    return ReadRun(r, 0);
  }

  Result<RunRecord> GetRunByStartKey(const std::string& start_key) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(
        Rows r, (*c)->Run("SELECT " WEFT_RUN_COLUMNS " FROM runs WHERE start_key = $1", Params().Text(start_key)));
    if (r.size() == 0) return NotFoundError("no run with start key '" + start_key + "'");
    return ReadRun(r, 0);
  }

  Result<std::vector<StepRecord>> GetSteps(const std::string& run_id) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT " WEFT_STEP_COLUMNS " FROM steps WHERE run_id = $1 ORDER BY seq",
                                            Params().Text(run_id)));
    std::vector<StepRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(ReadStep(r, i, 0));
      out.back().run_id = run_id;
    }
    return out;
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& f) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(
        Rows r, (*c)->Run("SELECT " WEFT_RUN_COLUMNS " FROM runs WHERE ($1 = '' OR status = $1) AND "
                          "($2 = '' OR workflow = $2) AND ($3 = '' OR parent_run = $3) AND ($4 = '' OR id < $4) AND "
                          "($6 = '' OR trigger = $6) ORDER BY id DESC LIMIT $5",
                          Params()
                              .Text(f.status ? std::string(RunStatusName(*f.status)) : std::string())
                              .Text(f.workflow)
                              .Text(f.parent_run)
                              .Text(f.before_id)
                              .Int(f.limit)
                              .Text(f.trigger)));
    std::vector<RunRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(ReadRun(r, i));
    return out;
  }

  Result<std::vector<SuspendedCount>> CountSuspended() override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT workflow, COALESCE(wait::jsonb ->> 'kind', ''), count(*) FROM "
                                            "runs WHERE status = 'suspended' GROUP BY 1, 2"));
    std::vector<SuspendedCount> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return out;
  }

  Result<std::vector<RunRecord>> ClaimRuns(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                           int limit) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // Rows another worker is claiming or committing are skipped, not
    // waited for; the lease passes with a new epoch when its owner changes.
    // Runs nobody holds come before the worker's own (which it only
    // extends), so that a bounded claim always takes new work.
    WEFT_ASSIGN_OR_RETURN(
        Rows r,
        (*c)->Run(
            "UPDATE runs r SET lease_owner = $1, lease_until_ms = $2 + $3, lease_epoch = CASE WHEN "
            "r.lease_owner = $1 THEN r.lease_epoch ELSE r.lease_epoch + 1 END FROM (SELECT id FROM runs WHERE "
            "(status = 'running' OR (status = 'suspended' AND wake_at_ms > 0 AND wake_at_ms <= $2)) AND "
            "(lease_owner = '' OR lease_owner = $1 OR lease_until_ms <= $2) ORDER BY lease_owner = $1, id LIMIT $4 "
            "FOR UPDATE SKIP LOCKED) free WHERE r.id = free.id RETURNING r.id",
            Params().Text(owner).Int(now_ms).Int(lease_ms).Int(limit)));
    std::vector<std::string> ids;
    ids.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) ids.push_back(r.text(i, 0));
    // Leases of processes gone from this host lapse at once (a restarted
    // weft continues its runs without waiting out their time).
    if (static_cast<int>(ids.size()) < limit) {
      WEFT_ASSIGN_OR_RETURN(
          Rows held, (*c)->Run("SELECT DISTINCT lease_owner FROM runs WHERE lease_owner LIKE $1 AND lease_owner <> $2 "
                               "AND lease_until_ms > $3 AND (status = 'running' OR (status = 'suspended' AND "
                               "wake_at_ms > 0 AND wake_at_ms <= $3))",
                               Params().Text(LikePrefix(internal::LocalOwnerPrefix())).Text(owner).Int(now_ms)));
      for (int i = 0; i < held.size(); ++i) {
        const std::string dead = held.text(i, 0);
        if (!internal::OwnerIsDeadLocalProcess(dead)) continue;
        WEFT_ASSIGN_OR_RETURN(
            Rows taken,
            (*c)->Run(
                "UPDATE runs r SET lease_owner = $1, lease_until_ms = $2 + $3, lease_epoch = r.lease_epoch + 1 "
                "FROM (SELECT id FROM runs WHERE lease_owner = $5 AND (status = 'running' OR (status = "
                "'suspended' AND wake_at_ms > 0 AND wake_at_ms <= $2)) ORDER BY id LIMIT $4 FOR UPDATE SKIP "
                "LOCKED) free WHERE r.id = free.id RETURNING r.id",
                Params().Text(owner).Int(now_ms).Int(lease_ms).Int(limit - static_cast<int>(ids.size())).Text(dead)));
        for (int j = 0; j < taken.size(); ++j) ids.push_back(taken.text(j, 0));
      }
    }
    if (ids.empty()) return std::vector<RunRecord>();
    WEFT_ASSIGN_OR_RETURN(Rows got, (*c)->Run("SELECT " WEFT_RUN_COLUMNS " FROM runs WHERE id = ANY($1::text[]) AND "
                                              "lease_owner = $2 ORDER BY id",
                                              Params().TextArray(ids).Text(owner)));
    std::vector<RunRecord> out;
    out.reserve(static_cast<size_t>(got.size()));
    for (int i = 0; i < got.size(); ++i) out.push_back(ReadRun(got, i));
    return out;
  }

  Status ReleaseRun(const std::string& run_id, const std::string& owner) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("UPDATE runs SET lease_owner = '', lease_until_ms = 0 WHERE id = $1 AND "
                                            "lease_owner = $2",
                                            Params().Text(run_id).Text(owner)));
    if (r.affected() > 0) WEFT_RETURN_IF_ERROR(Notify(**c));
    return Status::Ok();
  }

  Status RenewLeases(const std::string& owner, int64_t until_ms) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // Locked in id order, as the writer's transactions lock them: no
    // deadlock between the heartbeat and a commit. The second condition is
    // runs_by_owner's own: a generic plan of `lease_owner = $1` alone cannot
    // use that partial index and reads every run.
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("UPDATE runs SET lease_until_ms = $2 WHERE id IN (SELECT id FROM runs "
                                            "WHERE lease_owner = $1 AND lease_owner <> '' ORDER BY id FOR UPDATE)",
                                            Params().Text(owner).Int(until_ms)));
    if (r.affected() > 0 && until_ms == 0) WEFT_RETURN_IF_ERROR(Notify(**c));
    return Status::Ok();
  }

  bool WaitForWork(int64_t timeout_ms) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    MutexLock lock(notify_mu_);
    // Work is announced by NOTIFY, this process's included (the listener
    // hears the writer's), so a commit that creates none wakes nobody.
    const uint64_t seen = notified_;
    const auto timeout = deadline - std::chrono::steady_clock::now();
    return lock.WaitFor(notify_cv_, timeout,
                        [&]() WEFT_REQUIRES(notify_mu_) { return notified_ != seen || !listening_; });
  }

  // ---- live messages between processes

  bool broadcasts() const override { return true; }

  void Broadcast(std::vector<std::string>&& messages) override {
    {
      MutexLock lock(broadcast_mu_);
      if (broadcast_stopping_) return;
      for (std::string& m : messages) {
        if (m.size() > kMaxBroadcastBytes) continue;  // the sender keeps within it; never the server's limit
        outbox_.push_back(std::move(m));
      }
      // Live updates are best effort: a backlog the database cannot take
      // loses its oldest (receivers read the store when they miss some).
      while (outbox_.size() > 10'000) outbox_.pop_front();
      if (!sender_.joinable()) sender_ = std::thread([this] { SendLoop(); });
    }
    broadcast_cv_.notify_one();
  }

  void OnBroadcast(const std::function<void(std::string_view)>& receiver) override {
    MutexLock lock(broadcast_mu_);
    receiver_ = receiver;
  }

  // ---- cache, spend, memory

  Result<std::optional<std::string>> CacheGet(const std::string& key, int64_t now_ms) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT value FROM cache WHERE key = $1 AND expires_ms > $2",
                                            Params().Text(key).Int(now_ms)));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.text(0, 0));
  }

  Status CachePut(const std::string& key, const std::string& value, int64_t expires_ms) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_RETURN_IF_ERROR((*c)->Run("INSERT INTO cache (key, value, expires_ms) VALUES ($1, $2, $3) ON CONFLICT (key) "
                                   "DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
                                   Params().Text(key).Text(value).Int(expires_ms))
                             .status());
    // Now and then, drop what has expired (entries live about one TTL).
    if (cache_puts_.fetch_add(1) % 1000 == 999) {
      WEFT_RETURN_IF_ERROR(
          (*c)->Run("DELETE FROM cache WHERE expires_ms <= $1", Params().Int(clock_.NowMillis())).status());
    }
    return Status::Ok();
  }

  Status AddSpend(const std::vector<std::string>& scopes, const Spend& amount) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // In one order everywhere: two processes adding to the same scopes
    // cannot deadlock.
    std::vector<std::string> sorted = scopes;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    return InTransaction(**c, [&]() -> Status {
      for (const std::string& scope : sorted) {
        WEFT_RETURN_IF_ERROR(
            (*c)->Run("INSERT INTO spend (scope, cost, input_tokens, output_tokens, calls) VALUES ($1, $2, $3, $4, $5) "
                      "ON CONFLICT (scope) DO UPDATE SET cost = spend.cost + excluded.cost, input_tokens = "
                      "spend.input_tokens + excluded.input_tokens, output_tokens = spend.output_tokens + "
                      "excluded.output_tokens, calls = spend.calls + excluded.calls",
                      Params()
                          .Text(scope)
                          .Real(amount.cost)
                          .Int(amount.input_tokens)
                          .Int(amount.output_tokens)
                          .Int(amount.calls))
                .status());
      }
      return Status::Ok();
    });
  }

  Result<Spend> GetSpend(const std::string& scope) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT cost, input_tokens, output_tokens, calls FROM spend WHERE scope = "
                                            "$1",
                                            Params().Text(scope)));
    if (r.size() == 0) return Spend{};
    return Spend{r.real(0, 0), r.int64(0, 1), r.int64(0, 2), r.int64(0, 3)};
  }

  Result<std::vector<std::pair<std::string, Spend>>> ListSpend(const std::string& from, const std::string& to,
                                                               int limit) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT scope, cost, input_tokens, output_tokens, calls FROM spend WHERE "
                                            "scope >= $1 AND scope < $2 ORDER BY scope LIMIT $3",
                                            Params().Text(from).Text(to).Int(limit)));
    std::vector<std::pair<std::string, Spend>> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.emplace_back(r.text(i, 0), Spend{r.real(i, 1), r.int64(i, 2), r.int64(i, 3), r.int64(i, 4)});
    }
    return out;
  }

  Result<Value> GetMemory(const std::string& conversation) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r,
                          (*c)->Run("SELECT doc FROM memory WHERE conversation = $1", Params().Text(conversation)));
    if (r.size() == 0) return Value();
    Result<Value> doc = ParseJson(r.text(0, 0));
    if (!doc.ok()) {
      return InternalError("memory of conversation '" + conversation + "' is corrupt: " + doc.status().message());
    }
    return doc;
  }

  Status PutMemory(const std::string& conversation, const Value& memory) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return (*c)
        ->Run(
            "INSERT INTO memory (conversation, doc, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (conversation) DO "
            "UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
            Params().Text(conversation).Text(ToJson(memory)).Int(clock_.NowMillis()))
        .status();
  }

  // ---- conversation log

  Result<MessageRecord> AppendMessage(MessageRecord m) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    std::optional<MessageRecord> stored;
    WEFT_RETURN_IF_ERROR(InTransaction(**c, [&]() -> Status {
      // A conversation is read from a seq on (a reconnecting widget): its
      // appends take turns, so that seqs are in commit order and a reader
      // never passes one that is yet to commit.
      WEFT_RETURN_IF_ERROR(
          (*c)->Run("SELECT pg_advisory_xact_lock(hashtext('weft.conversation:' || $1))", Params().Text(m.conversation))
              .status());
      WEFT_ASSIGN_OR_RETURN(
          Rows r,
          (*c)->Run("INSERT INTO messages (conversation, run_id, step_path, key, role, kind, content, created_ms) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (conversation, key) DO NOTHING "
                    "RETURNING seq",
                    Params()
                        .Text(m.conversation)
                        .Text(m.run_id)
                        .Text(m.step_path)
                        .Text(m.key)
                        .Text(m.role)
                        .Text(m.kind)
                        .Text(ToJson(m.content))
                        .Int(m.created_ms)));
      if (r.size() == 1) {
        m.seq = r.int64(0, 0);
        stored = m;
        return Status::Ok();
      }
      // Said before: the stored message.
      WEFT_ASSIGN_OR_RETURN(Rows q, (*c)->Run("SELECT " WEFT_MESSAGE_COLUMNS " FROM messages WHERE conversation = $1 "
                                              "AND key = $2",
                                              Params().Text(m.conversation).Text(m.key)));
      if (q.size() == 0) return InternalError("message '" + m.key + "' was neither stored nor found");
      WEFT_ASSIGN_OR_RETURN(stored, ReadMessage(q, 0));
      return Status::Ok();
    }));
    return std::move(*stored);
  }

  Result<std::vector<MessageRecord>> ListMessages(const MessageFilter& f) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    const bool by_run = f.conversation.empty();
    WEFT_ASSIGN_OR_RETURN(
        Rows r, by_run ? (*c)->Run("SELECT " WEFT_MESSAGE_COLUMNS " FROM messages WHERE run_id = $1 AND seq > $2 "
                                   "ORDER BY seq LIMIT $3",
                                   Params().Text(f.run_id).Int(f.after_seq).Int(f.limit))
                       : (*c)->Run("SELECT " WEFT_MESSAGE_COLUMNS " FROM messages WHERE conversation = $1 AND seq > "
                                   "$2 AND ($4 = '' OR run_id = $4) ORDER BY seq LIMIT $3",
                                   Params().Text(f.conversation).Int(f.after_seq).Int(f.limit).Text(f.run_id)));
    std::vector<MessageRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      WEFT_ASSIGN_OR_RETURN(MessageRecord m, ReadMessage(r, i));
      out.push_back(std::move(m));
    }
    return out;
  }

  Result<std::vector<StepRecord>> ListCompletedSteps(const std::string& action, int64_t after_seq, int limit) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // The literal condition lets the planner use the partial index for emit.
    WEFT_ASSIGN_OR_RETURN(
        Rows r, action == "emit"
                    ? (*c)->Run("SELECT run_id, " WEFT_STEP_COLUMNS " FROM steps WHERE action = 'emit' AND status = "
                                "'completed' AND seq > $1 ORDER BY seq LIMIT $2",
                                Params().Int(after_seq).Int(limit))
                    : (*c)->Run("SELECT run_id, " WEFT_STEP_COLUMNS " FROM steps WHERE action = $3 AND status = "
                                "'completed' AND seq > $1 ORDER BY seq LIMIT $2",
                                Params().Int(after_seq).Int(limit).Text(action)));
    std::vector<StepRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(ReadStep(r, i, 1));
      out.back().run_id = r.text(i, 0);
    }
    return out;
  }

  // ---- triggers' state

  Result<std::optional<std::string>> GetState(const std::string& key) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT value FROM trigger_state WHERE key = $1", Params().Text(key)));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.text(0, 0));
  }

  Status PutState(const std::string& key, const std::string& value) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return (*c)
        ->Run(
            "INSERT INTO trigger_state (key, value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value, updated_ms = excluded.updated_ms",
            Params().Text(key).Text(value).Int(clock_.NowMillis()))
        .status();
  }

  Result<bool> InsertState(const std::string& key, const std::string& value) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("INSERT INTO trigger_state (key, value, updated_ms) VALUES ($1, $2, $3) "
                                            "ON CONFLICT (key) DO NOTHING",
                                            Params().Text(key).Text(value).Int(clock_.NowMillis())));
    return r.affected() == 1;
  }

  Status DeleteState(const std::string& key) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return (*c)->Run("DELETE FROM trigger_state WHERE key = $1", Params().Text(key)).status();
  }

  // ---- API keys, users, sessions, secrets

  Status PutApiKey(const ApiKeyRecord& k) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    Result<Rows> r = (*c)->Run(
        "INSERT INTO api_keys (id, name, role, secret_hash, created_ms, expires_ms, revoked_ms, "
        "workflows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        Params()
            .Text(k.id)
            .Text(k.name)
            .Text(k.role)
            .Text(k.secret_hash)
            .Int(k.created_ms)
            .Int(k.expires_ms)
            .Int(k.revoked_ms)
            .Json(StringArray(k.workflows)));
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, "API key '" + k.id + "' already exists");
    }
    return r.status();
  }

  Status RevokeApiKey(const std::string& id, int64_t now_ms) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("UPDATE api_keys SET revoked_ms = CASE WHEN revoked_ms = 0 THEN $2 ELSE "
                                            "revoked_ms END WHERE id = $1",
                                            Params().Text(id).Int(now_ms)));
    if (r.affected() == 0) return NotFoundError("no API key '" + id + "'");
    return Status::Ok();
  }

  Status PutUser(const UserRecord& u, bool replace) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    Params p;
    p.Text(u.name)
        .Text(u.role)
        .Text(u.password_hash)
        .Json(StringArray(u.workflows))
        .Int(u.created_ms)
        .Int(u.updated_ms);
    Result<Rows> r = replace ? (*c)->Run(
                                   "UPDATE users SET role = $2, password_hash = $3, workflows = $4, created_ms = "
                                   "$5, updated_ms = $6 WHERE name = $1",
                                   p)
                             : (*c)->Run(
                                   "INSERT INTO users (name, role, password_hash, workflows, created_ms, "
                                   "updated_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                                   p);
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, "user '" + u.name + "' already exists");
    }
    if (!r.ok()) return r.status();
    if (replace && r->affected() == 0) return NotFoundError("no user '" + u.name + "'");
    return Status::Ok();
  }

  Status DeleteUser(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return InTransaction(**c, [&]() -> Status {
      WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("DELETE FROM users WHERE name = $1", Params().Text(name)));
      if (r.affected() == 0) return NotFoundError("no user '" + name + "'");
      return (*c)->Run("DELETE FROM sessions WHERE user_name = $1", Params().Text(name)).status();
    });
  }

  Status PutSession(const SessionRecord& s) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    // Expired sessions go as new ones come.
    WEFT_RETURN_IF_ERROR((*c)->Run("DELETE FROM sessions WHERE expires_ms <= $1", Params().Int(s.created_ms)).status());
    return (*c)
        ->Run(
            "INSERT INTO sessions (token_hash, user_name, csrf_token, created_ms, expires_ms) VALUES ($1, $2, $3, "
            "$4, $5) ON CONFLICT (token_hash) DO UPDATE SET user_name = excluded.user_name, csrf_token = "
            "excluded.csrf_token, created_ms = excluded.created_ms, expires_ms = excluded.expires_ms",
            Params().Text(s.token_hash).Text(s.user).Text(s.csrf_token).Int(s.created_ms).Int(s.expires_ms))
        .status();
  }

  Result<SessionRecord> GetSession(const std::string& token_hash, int64_t now_ms) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT token_hash, user_name, csrf_token, created_ms, expires_ms FROM "
                                            "sessions WHERE token_hash = $1 AND expires_ms > $2",
                                            Params().Text(token_hash).Int(now_ms)));
    if (r.size() == 0) return NotFoundError("no such session");
    return SessionRecord{r.text(0, 0), r.text(0, 1), r.text(0, 2), r.int64(0, 3), r.int64(0, 4)};
  }

  Status DeleteSession(const std::string& token_hash) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return (*c)->Run("DELETE FROM sessions WHERE token_hash = $1", Params().Text(token_hash)).status();
  }

  Status PutSecret(const SecretRecord& s) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    return (*c)
        ->Run(
            "INSERT INTO secrets (name, sealed, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
            "sealed = excluded.sealed, updated_ms = excluded.updated_ms",
            Params().Text(s.name).Text(s.sealed).Int(s.updated_ms))
        .status();
  }

  Status DeleteSecret(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("DELETE FROM secrets WHERE name = $1", Params().Text(name)));
    if (r.affected() == 0) return NotFoundError("no secret '" + name + "'");
    return Status::Ok();
  }

  // ---- audit

  Result<AuditEntry> AppendAudit(AuditEntry e) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_RETURN_IF_ERROR(InTransaction(**c, [&]() -> Status {
      // One appender at a time across processes: the chain never forks.
      WEFT_RETURN_IF_ERROR((*c)->Run("SELECT pg_advisory_xact_lock(hashtext('weft.audit'))").status());
      WEFT_ASSIGN_OR_RETURN(Rows last, (*c)->Run("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
      e.seq = last.size() > 0 ? last.int64(0, 0) + 1 : 1;
      e.prev_hash = last.size() > 0 ? last.text(0, 1) : std::string();
      e.hash = AuditHash(e);
      return (*c)
          ->Run(
              "INSERT INTO audit (seq, at_ms, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, "
              "$4, $5, $6, $7, $8)",
              Params()
                  .Int(e.seq)
                  .Int(e.at_ms)
                  .Text(e.actor)
                  .Text(e.action)
                  .Text(e.target)
                  .Text(e.details)
                  .Text(e.prev_hash)
                  .Text(e.hash))
          .status();
    }));
    return e;
  }

  Result<std::vector<AuditEntry>> ListAudit(int64_t after_seq, int limit) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT seq, at_ms, actor, action, target, details, prev_hash, hash FROM "
                                            "audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                                            Params().Int(after_seq).Int(limit)));
    std::vector<AuditEntry> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(AuditEntry{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), r.text(i, 5),
                               r.text(i, 6), r.text(i, 7)});
    }
    return out;
  }

 private:
  struct Pending {
    Commit commit;
    std::function<void(Status)> done;
  };

  static std::string LikePrefix(const std::string& prefix) {
    std::string out;
    for (char ch : prefix) {
      if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
      out += ch;
    }
    return out + "%";
  }

  Status Notify(Conn& c) const { return c.Run("SELECT pg_notify($1, '')", Params().Text(channel_)).status(); }

  Result<std::vector<ApiKeyRecord>> ReadApiKeys(const std::string& id) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT id, name, role, secret_hash, created_ms, expires_ms, revoked_ms, "
                                            "workflows FROM api_keys WHERE $1 = '' OR id = $1 ORDER BY created_ms, id",
                                            Params().Text(id)));
    std::vector<ApiKeyRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      ApiKeyRecord k;
      k.id = r.text(i, 0);
      k.name = r.text(i, 1);
      k.role = r.text(i, 2);
      k.secret_hash = r.text(i, 3);
      k.created_ms = r.int64(i, 4);
      k.expires_ms = r.int64(i, 5);
      k.revoked_ms = r.int64(i, 6);
      k.workflows = StringsOf(r.json(i, 7));
      out.push_back(std::move(k));
    }
    return out;
  }

  Result<std::vector<UserRecord>> ReadUsers(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT name, role, password_hash, workflows, created_ms, updated_ms FROM "
                                            "users WHERE $1 = '' OR name = $1 ORDER BY name",
                                            Params().Text(name)));
    std::vector<UserRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      UserRecord u;
      u.name = r.text(i, 0);
      u.role = r.text(i, 1);
      u.password_hash = r.text(i, 2);
      u.workflows = StringsOf(r.json(i, 3));
      u.created_ms = r.int64(i, 4);
      u.updated_ms = r.int64(i, 5);
      out.push_back(std::move(u));
    }
    return out;
  }

  Result<std::vector<SecretRecord>> ReadSecrets(const std::string& name) override {
    WEFT_ASSIGN_OR_RETURN(auto c, pool_.Take());
    WEFT_ASSIGN_OR_RETURN(Rows r, (*c)->Run("SELECT name, sealed, updated_ms FROM secrets WHERE $1 = '' OR name = $1 "
                                            "ORDER BY name",
                                            Params().Text(name)));
    std::vector<SecretRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(SecretRecord{r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return out;
  }

  // Several processes may start on a new database at once: the migration
  // runs under an advisory lock, so each step is applied exactly once.
  Status Migrate() WEFT_REQUIRES(write_mu_) {
    return InTransaction(write_, [&]() WEFT_REQUIRES(write_mu_) -> Status {
      WEFT_RETURN_IF_ERROR(write_.Run("SELECT pg_advisory_xact_lock(hashtext('weft.migrate'))").status());
      WEFT_RETURN_IF_ERROR(write_.Exec("CREATE TABLE IF NOT EXISTS weft_schema (version INTEGER NOT NULL)"));
      WEFT_ASSIGN_OR_RETURN(Rows r, write_.Run("SELECT version FROM weft_schema"));
      int version = 0;
      if (r.size() == 0) {
        WEFT_RETURN_IF_ERROR(write_.Exec("INSERT INTO weft_schema (version) VALUES (0)"));
      } else {
        version = static_cast<int>(r.int64(0, 0));
      }
      const int target = PostgresSchemaVersion();
      if (version > target) {
        return FailedPreconditionError("the database has schema version " + std::to_string(version) +
                                       ", newer than this weft understands (" + std::to_string(target) + ")");
      }
      for (; version < target; ++version) {
        if (Status s = write_.Exec(kMigrations[version]); !s.ok()) {
          return s.WithContext("migrating the database to schema version " + std::to_string(version + 1));
        }
      }
      return write_.Exec("UPDATE weft_schema SET version = " + std::to_string(target));
    });
  }

  // The rows of the runs a batch updates, locked in id order: concurrent
  // batches (of this and other processes) never wait on each other in a
  // cycle.
  Status LockRuns(const std::vector<Pending>& batch) WEFT_REQUIRES(write_mu_) {
    std::set<std::string> ids;
    for (const Pending& p : batch) {
      for (const RunUpdate& u : p.commit.updates) {
        if (u.kind != RunUpdate::Kind::kCreate) ids.insert(u.run_id);
      }
    }
    if (ids.empty()) return Status::Ok();
    return write_
        .Run("SELECT 1 FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
             Params().TextArray(std::vector<std::string>(ids.begin(), ids.end())))
        .status();
  }

  static constexpr const char* kInsertRun =
      "INSERT INTO runs (id, workflow, version, status, input, context, outputs, error_code, error, parent_run, "
      "parent_path, wait, wake_at_ms, seed, retry_from_seq, created_ms, updated_ms, lease_owner, lease_until_ms, "
      "lease_epoch, trigger, start_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
      "$16, $22, $17, $18, $19, $20, $21)";
  static constexpr const char* kUpdateRun =
      "UPDATE runs SET workflow = $2, version = $3, status = $4, input = $5, context = $6, outputs = $7, error_code = "
      "$8, error = $9, parent_run = $10, parent_path = $11, wait = $12, wake_at_ms = $13, seed = $14, retry_from_seq "
      "= $15, updated_ms = $16, lease_owner = $17, lease_until_ms = $18, lease_epoch = $19 WHERE id = $1";
  static constexpr const char* kEmitLock = "SELECT pg_advisory_xact_lock(hashtext('weft.emit'))";
  static constexpr const char* kInsertStep =
      "INSERT INTO steps (run_id, path, task, action, attempt, status, input, output, error_code, error, detail, "
      "started_ms, ended_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

  // The statements that write `u` (its checks aside), in order.
  static void UpdateStatements(const RunUpdate& u, int64_t now, std::vector<Conn::Statement>& out) {
    if (u.kind != RunUpdate::Kind::kStepsOnly) {
      const RunRecord& r = u.run;
      Params p;
      p.Text(u.run_id)
          .Text(r.workflow)
          .Int(r.version)
          .Text(std::string(RunStatusName(r.status)))
          .Json(r.input)
          .Json(r.context)
          .Json(r.outputs)
          .Text(r.error_code)
          .Text(r.error)
          .Text(r.parent_run)
          .Text(r.parent_path)
          .Json(r.wait)
          .Int(r.wake_at_ms)
          .Int(static_cast<int64_t>(r.seed))
          .Int(r.retry_from_seq)
          .Int(r.created_ms != 0 && u.kind == RunUpdate::Kind::kCreate ? r.created_ms : now)
          .Text(r.lease_owner)
          .Int(r.lease_until_ms)
          .Int(r.lease_epoch);
      if (u.kind == RunUpdate::Kind::kCreate) {
        p.Text(r.trigger);
        if (r.start_key.empty()) {
          p.Null();
        } else {
          p.Text(r.start_key);
        }
        p.Int(now);  // updated when committed: a run may be created as it ended
      }
      out.push_back({u.kind == RunUpdate::Kind::kCreate ? kInsertRun : kUpdateRun, std::move(p)});
    }
    for (const StepRecord& step : u.steps) {
      if (step.action == "emit" && step.status == StepStatus::kCompleted) {
        // Events are dispatched in seq order from a cursor: transactions
        // that record one take turns, so that their seqs (drawn after the
        // lock) are in commit order and a cursor never passes one that is
        // yet to commit. (Taking it again in one transaction is free.)
        out.push_back({kEmitLock, Params()});
      }
      out.push_back({kInsertStep, Params()
                                      .Text(u.run_id)
                                      .Text(step.path)
                                      .Text(step.task)
                                      .Text(step.action)
                                      .Int(step.attempt)
                                      .Text(std::string(StepStatusName(step.status)))
                                      .Json(step.input)
                                      .Json(step.output)
                                      .Text(step.error_code)
                                      .Text(step.error)
                                      .Json(step.detail)
                                      .Int(step.started_ms)
                                      .Int(step.ended_ms)});
    }
  }

  // Every step of a batch in one statement (in order: the seqs follow it).
  static void AddStepsStatement(const std::vector<std::pair<std::string, const StepRecord*>>& steps,
                                std::vector<Conn::Statement>& out) {
    if (steps.empty()) return;
    std::vector<std::string> run_ids, paths, tasks, actions, statuses, error_codes, errors;
    std::vector<std::optional<std::string>> inputs, outputs, details;
    std::vector<int64_t> attempts, started, ended;
    bool emits = false;
    const auto json = [](const Value& v) {
      return v.is_undefined() ? std::optional<std::string>() : std::optional<std::string>(ToJson(v));
    };
    for (const auto& [run_id, step] : steps) {
      run_ids.push_back(run_id);
      paths.push_back(step->path);
      tasks.push_back(step->task);
      actions.push_back(step->action);
      attempts.push_back(step->attempt);
      statuses.emplace_back(StepStatusName(step->status));
      inputs.push_back(json(step->input));
      outputs.push_back(json(step->output));
      error_codes.push_back(step->error_code);
      errors.push_back(step->error);
      details.push_back(json(step->detail));
      started.push_back(step->started_ms);
      ended.push_back(step->ended_ms);
      emits = emits || (step->action == "emit" && step->status == StepStatus::kCompleted);
    }
    if (emits) out.push_back({kEmitLock, Params()});  // see UpdateStatements
    Params p;
    p.TextArray(run_ids)
        .TextArray(paths)
        .TextArray(tasks)
        .TextArray(actions)
        .IntArray(attempts)
        .TextArray(statuses)
        .NullableTextArray(inputs)
        .NullableTextArray(outputs)
        .TextArray(error_codes)
        .TextArray(errors)
        .NullableTextArray(details)
        .IntArray(started)
        .IntArray(ended);
    out.push_back({kInsertSteps, std::move(p)});
  }
  static constexpr const char* kInsertSteps =
      "INSERT INTO steps (run_id, path, task, action, attempt, status, input, output, error_code, error, detail, "
      "started_ms, ended_ms) SELECT run_id, path, task, action, attempt, status, input, output, error_code, error, "
      "detail, started_ms, ended_ms FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], "
      "$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[]) "
      "WITH ORDINALITY AS s(run_id, path, task, action, attempt, status, input, output, error_code, error, detail, "
      "started_ms, ended_ms, n) ORDER BY n";

  Status ApplyUpdate(const RunUpdate& u, bool& wakes_others) WEFT_REQUIRES(write_mu_) {
    if (u.kind != RunUpdate::Kind::kCreate) {
      WEFT_ASSIGN_OR_RETURN(Rows cur, write_.Run("SELECT status, lease_owner, lease_epoch FROM runs WHERE id = $1",
                                                 Params().Text(u.run_id)));
      if (cur.size() == 0) return NotFoundError("no run '" + u.run_id + "'");
      WEFT_RETURN_IF_ERROR(internal::CheckUpdate(u, ParseRunStatus(cur.text(0, 0)).value_or(RunStatus::kFailed),
                                                 cur.text(0, 1), cur.int64(0, 2)));
    }
    std::vector<Conn::Statement> statements;
    UpdateStatements(u, clock_.NowMillis(), statements);
    for (const Conn::Statement& st : statements) {
      Result<Rows> done = write_.Run(st.sql, st.params);
      if (!done.ok() && st.sql == kInsertRun && done.status().code() == StatusCode::kAlreadyExists) {
        return Status(StatusCode::kAlreadyExists,
                      write_.last_constraint() == "runs_pkey"
                          ? "run '" + u.run_id + "' already exists"
                          : "a run with start key '" + u.run.start_key + "' already exists");
      }
      WEFT_RETURN_IF_ERROR(done.status());
    }
    // Work another process may take: a run nobody holds, or a timer.
    wakes_others = wakes_others || internal::CreatesWork(u);
    return Status::Ok();
  }

  // The fast path of a batch: two round trips. The first opens the
  // transaction and locks (and reads) every run the batch touches; the
  // checks then run here, in commit order, over what the earlier commits
  // of the batch change; the second sends every write of the commits that
  // pass, the wake-up and COMMIT at once. A write the server refuses (a
  // start key taken meanwhile) rolls the whole batch back: nullopt, and the
  // batch goes again through the savepoint path. A connection lost while
  // the COMMIT was on its way leaves the outcome unknown: the batch fails
  // (never applied twice; the engine's recovery reads what did land).
  std::optional<Status> ApplyBatchPipelined(const std::vector<Pending>& batch, std::vector<Status>& results)
      WEFT_REQUIRES(write_mu_) {
    std::set<std::string> ids;
    for (const Pending& p : batch) {
      for (const RunUpdate& u : p.commit.updates) ids.insert(u.run_id);
    }
    std::vector<Conn::Statement> open;
    open.push_back({"BEGIN", Params(), false});
    open.push_back(
        {"SELECT id, status, lease_owner, lease_epoch FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR "
         "UPDATE",
         Params().TextArray(std::vector<std::string>(ids.begin(), ids.end()))});
    Result<std::vector<Rows>> opened = write_.RunAll(open);
    if (!opened.ok()) {
      if (write_.healthy()) (void)write_.Exec("ROLLBACK");
      return std::nullopt;  // nothing was written
    }
    struct Row {
      RunStatus status;
      std::string owner;
      int64_t epoch;
    };
    std::map<std::string, Row> rows;
    const Rows& got = (*opened)[1];
    for (int i = 0; i < got.size(); ++i) {
      rows[got.text(i, 0)] = {ParseRunStatus(got.text(i, 1)).value_or(RunStatus::kFailed), got.text(i, 2),
                              got.int64(i, 3)};
    }
    const int64_t now = clock_.NowMillis();
    std::vector<Conn::Statement> writes;
    std::vector<std::pair<std::string, const StepRecord*>> steps;  // of the commits that pass, in order
    bool wakes_others = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      std::map<std::string, Row> after = rows;  // this commit's view; kept only if it passes
      Status st;
      for (const RunUpdate& u : batch[i].commit.updates) {
        auto it = after.find(u.run_id);
        if (u.kind == RunUpdate::Kind::kCreate) {
          if (it != after.end()) {
            st = Status(StatusCode::kAlreadyExists, "run '" + u.run_id + "' already exists");
            break;
          }
        } else {
          if (it == after.end()) {
            st = NotFoundError("no run '" + u.run_id + "'");
            break;
          }
          st = internal::CheckUpdate(u, it->second.status, it->second.owner, it->second.epoch);
          if (!st.ok()) break;
        }
        if (u.kind != RunUpdate::Kind::kStepsOnly)
          after[u.run_id] = {u.run.status, u.run.lease_owner, u.run.lease_epoch};
      }
      results[i] = st;
      if (!st.ok()) continue;
      rows = std::move(after);
      // A run created and updated in one commit (a run that finishes in
      // its first commit, as most webhook runs do) is written once, as it
      // ends up.
      std::vector<RunUpdate> rows_written;
      for (const RunUpdate& u : batch[i].commit.updates) {
        wakes_others = wakes_others || internal::CreatesWork(u);
        for (const StepRecord& step : u.steps) steps.emplace_back(u.run_id, &step);
        if (u.kind == RunUpdate::Kind::kStepsOnly) continue;
        auto created = std::find_if(rows_written.begin(), rows_written.end(), [&](const RunUpdate& w) {
          return w.run_id == u.run_id && w.kind == RunUpdate::Kind::kCreate;
        });
        if (created != rows_written.end() && u.kind == RunUpdate::Kind::kUpdate) {
          const RunRecord first = created->run;
          created->run = u.run;
          created->run.created_ms = first.created_ms;
          created->run.trigger = first.trigger;
          created->run.start_key = first.start_key;
          continue;
        }
        RunUpdate row;
        row.kind = u.kind;
        row.run_id = u.run_id;
        row.run = u.run;
        rows_written.push_back(std::move(row));
      }
      for (const RunUpdate& row : rows_written) UpdateStatements(row, now, writes);
    }
    AddStepsStatement(steps, writes);
    if (wakes_others) writes.push_back({"SELECT pg_notify($1, '')", Params().Text(channel_)});
    writes.push_back({"COMMIT", Params(), false});
    Result<std::vector<Rows>> written = write_.RunAll(writes);
    if (written.ok()) return Status::Ok();
    if (!write_.healthy()) return written.status().WithContext("the commit's outcome is unknown");
    // Refused: the server rolled the transaction back (COMMIT, skipped or
    // run in a failed transaction, ends it either way).
    (void)write_.Exec("ROLLBACK");
    return std::nullopt;
  }

  // One commit inside the group's transaction, under a savepoint so that
  // its failure leaves the other commits of the group intact.
  Status ApplyCommit(const Commit& commit, bool& wakes_others) WEFT_REQUIRES(write_mu_) {
    WEFT_RETURN_IF_ERROR(write_.Exec("SAVEPOINT c"));
    Status status;
    bool wakes = false;
    for (const RunUpdate& u : commit.updates) {
      status = ApplyUpdate(u, wakes);
      if (!status.ok()) break;
    }
    if (!status.ok()) {
      WEFT_RETURN_IF_ERROR(write_.Exec("ROLLBACK TO SAVEPOINT c"));
    } else {
      wakes_others = wakes_others || wakes;
    }
    WEFT_RETURN_IF_ERROR(write_.Exec("RELEASE SAVEPOINT c"));
    return status;
  }

  // Applies a batch in one transaction; fills `results` per commit and
  // returns the status of the transaction itself.
  Status ApplyBatch(const std::vector<Pending>& batch, std::vector<Status>& results) WEFT_REQUIRES(write_mu_) {
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    if (std::optional<Status> done = ApplyBatchPipelined(batch, results)) return *done;
    results.assign(batch.size(), Status::Ok());
    WEFT_RETURN_IF_ERROR(write_.Ensure());
    WEFT_RETURN_IF_ERROR(write_.Exec("BEGIN"));
    bool wakes_others = false;
    Status st = LockRuns(batch);
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      results[i] = ApplyCommit(batch[i].commit, wakes_others);
      // A savepoint that cannot be rolled back to leaves the transaction
      // unusable: the whole batch fails.
      if (!write_.healthy()) st = results[i];
    }
    if (st.ok() && wakes_others) st = Notify(write_);
    if (st.ok()) st = write_.Exec("COMMIT");
    if (!st.ok()) (void)write_.Exec("ROLLBACK");
    return st;
  }

  void WriterLoop() {
    std::vector<Pending> batch;
    std::vector<Status> results;
    while (queue_.Take(batch, options_.max_group)) {
      results.assign(batch.size(), Status::Ok());
      const auto started = std::chrono::steady_clock::now();
      {
        MutexLock lock(write_mu_);
        if (Status st = ApplyBatch(batch, results); !st.ok()) results.assign(batch.size(), st);
      }
      queue_.Observe(batch.size(), started);
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i]);
      batch.clear();
    }
  }

  // Waits for other processes' NOTIFY on the listener connection; each one
  // wakes WaitForWork. A lost connection is made again (and counts as a
  // wake-up: something may have been missed meanwhile).
  void ListenLoop() {
    for (;;) {
      if (queue_.stopped()) return;
      bool woke = false;
      if (!listen_.healthy()) {
        if (listen_.Ensure().ok() && listen_.Exec("LISTEN " + channel_ + "; LISTEN " + events_channel_).ok()) {
          woke = true;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
      }
      pollfd p{PQsocket(listen_.raw()), POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        (void)PQconsumeInput(listen_.raw());
        while (PGnotify* n = PQnotifies(listen_.raw())) {
          if (events_channel_ == n->relname) {
            Receive(n->extra);
          } else {
            woke = true;
          }
          PQfreemem(n);
        }
      }
      if (woke) {
        {
          MutexLock lock(notify_mu_);
          ++notified_;
        }
        notify_cv_.notify_all();
      }
    }
  }

  static std::string SenderId() {
    static std::atomic<uint64_t> counter{0};
    char id[kSenderIdBytes + 1];
    std::snprintf(id, sizeof(id), "%08x%08x", static_cast<unsigned>(::getpid()),
                  static_cast<unsigned>(counter.fetch_add(1) * 2654435761u));
    return std::string(id, kSenderIdBytes);
  }

  // Sends what Broadcast queued, all that is waiting in one statement.
  void SendLoop() {
    std::vector<std::string> batch;
    for (;;) {
      {
        MutexLock lock(broadcast_mu_);
        lock.Wait(broadcast_cv_,
                  [&]() WEFT_REQUIRES(broadcast_mu_) { return broadcast_stopping_ || !outbox_.empty(); });
        if (broadcast_stopping_) return;
        batch.assign(std::make_move_iterator(outbox_.begin()), std::make_move_iterator(outbox_.end()));
        outbox_.clear();
      }
      for (std::string& m : batch) m.insert(0, sender_id_ + " ");
      if (!send_.healthy() && !send_.Connect(options_.url, options_.schema, options_.connect_timeout_s).ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // dropped: best effort
        continue;
      }
      (void)send_.Run("SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m",
                      Params().Text(events_channel_).TextArray(batch));
      batch.clear();
    }
  }

  void Receive(const char* payload) {
    const std::string_view text(payload);
    if (text.size() <= kSenderIdBytes || text.substr(0, kSenderIdBytes) == sender_id_) return;
    std::function<void(std::string_view)> receiver;
    {
      MutexLock lock(broadcast_mu_);
      receiver = receiver_;
    }
    if (receiver) receiver(text.substr(kSenderIdBytes + 1));
  }

  PostgresOptions options_;
  const Clock& clock_;
  const std::string channel_;         // NOTIFY channel of new work
  const std::string events_channel_;  // NOTIFY channel of Broadcast
  const std::string sender_id_;       // this store's, on what it broadcasts
  Mutex broadcast_mu_;
  std::condition_variable_any broadcast_cv_;
  std::deque<std::string> outbox_ WEFT_GUARDED_BY(broadcast_mu_);
  bool broadcast_stopping_ WEFT_GUARDED_BY(broadcast_mu_) = false;
  std::function<void(std::string_view)> receiver_ WEFT_GUARDED_BY(broadcast_mu_);
  std::thread sender_;  // started with the first Broadcast
  Conn send_;           // the sender thread's
  Pool pool_;
  std::atomic<uint64_t> cache_puts_{0};
  Mutex write_mu_;
  Conn write_ WEFT_GUARDED_BY(write_mu_);  // the writer thread's
  Conn listen_;                            // the listener thread's (after Open)
  internal::WriterQueue<Pending> queue_;
  Mutex notify_mu_;
  std::condition_variable_any notify_cv_;              // a NOTIFY of new work arrived
  uint64_t notified_ WEFT_GUARDED_BY(notify_mu_) = 0;  // how many
  bool listening_ WEFT_GUARDED_BY(notify_mu_) = true;  // false once the store closes
  std::thread writer_;
  std::thread listener_;
};

#undef WEFT_RUN_COLUMNS
#undef WEFT_STEP_COLUMNS
#undef WEFT_MESSAGE_COLUMNS

}  // namespace

int PostgresSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

bool IsPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  auto store = std::make_unique<PostgresStore>(options);
  WEFT_RETURN_IF_ERROR(store->Open().WithContext("opening the PostgreSQL store"));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace weft::store

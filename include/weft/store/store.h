// Store: the durable state of workflows and runs, behind one interface.
//
// The engine writes through Commit: each call carries one or more run
// updates (a new run, a status change, step records) that become durable
// together or not at all. Implementations batch concurrent commits into one
// transaction (group commit), so many runs share one fsync.
//
// Shaped for several workers sharing one database: a run is executed by the
// worker holding its lease (ClaimRuns); a dead worker's runs are claimable
// once its lease has lapsed.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::store {

enum class RunStatus : uint8_t { kRunning, kSuspended, kCompleted, kFailed, kCancelled };
std::string_view RunStatusName(RunStatus s);  // "running", ...
std::optional<RunStatus> ParseRunStatus(std::string_view name);
inline bool IsTerminal(RunStatus s) { return s >= RunStatus::kCompleted; }

enum class StepStatus : uint8_t {
  kCompleted,  // succeeded (or was resumed with a payload); `output` holds the result
  kRetrying,   // this attempt failed; another follows
  kFailed,     // failed for good; the step's on_error decides what follows
  kSuspended,  // the run waits here for a resume call
  kCancelled,  // stopped: a wait_any branch that lost, or a cancelled run
};
std::string_view StepStatusName(StepStatus s);
std::optional<StepStatus> ParseStepStatus(std::string_view name);

struct WorkflowRecord {
  std::string name;
  int64_t version = 0;
  std::string hash;    // of the source text
  std::string source;  // the workflow file as written
  int64_t created_ms = 0;
};

struct MessageRecord {
  std::string conversation;
  int64_t seq = 0;  // assigned by the store, increasing
  std::string run_id;
  std::string step_path;
  std::string key;   // unique within the conversation
  std::string role;  // "assistant", "user", "system"
  std::string kind;  // "text", "handover", ...
  Value content;     // {text, quick_replies, buttons}, {queue, reason}, ...
  int64_t created_ms = 0;
};

// An API key: the caller presents "wk_<id>_<secret>"; only a hash of the
// secret is kept.
struct ApiKeyRecord {
  std::string id;
  std::string name;         // what it is for
  std::string role;         // admin, editor, operator, viewer
  std::string secret_hash;  // hex SHA-256 of the secret
  int64_t created_ms = 0;
  int64_t expires_ms = 0;  // 0 = never
  int64_t revoked_ms = 0;  // 0 = live
  // The workflows the key may reach ("*" wildcards); empty = every one.
  std::vector<std::string> workflows;
};

// A person who signs in to the console. The password is kept as an
// Argon2id encoded hash.
struct UserRecord {
  std::string name;
  std::string role;  // admin, editor, operator, viewer
  std::string password_hash;
  // Workflows this user may see and work on (names, "*" wildcards);
  // empty = every workflow.
  std::vector<std::string> workflows;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// A signed-in browser: the cookie carries a random token, the store a hash
// of it.
struct SessionRecord {
  std::string token_hash;
  std::string user;
  std::string csrf_token;  // sent back in X-CSRF-Token on unsafe requests
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
};

// A secret's value sealed with the master key (see runtime/secrets.h);
// the store never sees the value.
struct SecretRecord {
  std::string name;
  std::string sealed;  // nonce + ciphertext + tag, base64
  int64_t updated_ms = 0;
};

// One entry of the audit log. The store assigns seq, prev_hash and hash
// when it appends (AuditHash), so the log is a chain: editing or deleting
// an entry breaks every hash after it.
struct AuditEntry {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string actor;    // "user:alice", "key:3f2a", "cli", "system"
  std::string action;   // "login", "deploy", "task.approve", ...
  std::string target;   // what it acted on: a workflow, run, user, key, secret
  std::string details;  // JSON text
  std::string prev_hash;
  std::string hash;
};
// The hash of an entry: SHA-256 (hex) over prev_hash and every field,
// each length-prefixed.
std::string AuditHash(const AuditEntry& entry);

// Messages of a conversation, or of a run (one of the two), after a seq.
struct MessageFilter {
  std::string conversation;
  std::string run_id;
  int64_t after_seq = 0;
  int limit = 100;
};

struct RunRecord {
  std::string id;
  std::string workflow;
  int64_t version = 0;
  RunStatus status = RunStatus::kRunning;
  Value input;
  Value context;
  Value outputs;
  std::string error_code;  // StatusCode name when failed
  std::string error;
  std::string parent_run;      // set for call_workflow children
  std::string parent_path;     // the parent's step waiting for this run
  Value wait;                  // when suspended: {kind, path, task, ...}
  int64_t wake_at_ms = 0;      // suspended on a timer: when to resume (0 = not a timer)
  uint64_t seed = 0;           // the run's random seed (replay draws the same numbers)
  int64_t retry_from_seq = 0;  // failures recorded at or before this seq are retried
  std::string lease_owner;
  int64_t lease_until_ms = 0;
  // Grows each time the run's lease passes to another owner (ClaimRuns
  // taking over a lapsed lease, or an update naming a new owner with a
  // higher epoch): what a fenced update is checked against.
  int64_t lease_epoch = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  // Set when the run is created, never changed: what started it ("webhook",
  // "schedule", "manual", "cli", ...; "" for child runs), and the key that
  // starts at most one run (a webhook's idempotency key, a schedule slot,
  // an event): creating a second run with the same key fails with
  // AlreadyExists, in the same transaction.
  std::string trigger;
  std::string start_key;
};

struct StepRecord {
  std::string run_id;
  int64_t seq = 0;   // assigned by the store; increases within a run
  std::string path;  // e.g. "2.collector.0:loop_task[3]"
  std::string task;
  std::string action;
  int attempt = 1;
  StepStatus status = StepStatus::kCompleted;
  Value input;
  Value output;
  std::string error_code;
  std::string error;
  Value detail;  // action-specific record (model, prompt, HTTP exchange, ...)
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
};

// One run's part of a commit.
struct RunUpdate {
  enum class Kind : uint8_t {
    kCreate,     // insert `run`
    kUpdate,     // replace the run's mutable fields with `run`'s
    kStepsOnly,  // only append `steps`
  };
  Kind kind = Kind::kStepsOnly;
  std::string run_id;
  RunRecord run;  // kCreate/kUpdate: every field but id and created_ms, lease included
  std::vector<StepRecord> steps;
  // When set, the update applies only if the run's status is this one;
  // otherwise it fails with FailedPrecondition and changes nothing (resume
  // races, double cancellation).
  std::optional<RunStatus> expect_status;
  // When fence_owner is set, the update applies only while the run's lease
  // is still `fence_owner`'s at `fence_epoch`; otherwise it fails with
  // FailedPrecondition and changes nothing. A worker that was paused past
  // its lease (and whose run another worker took over) cannot commit
  // anything more for that run.
  std::string fence_owner;
  int64_t fence_epoch = 0;
};

struct Commit {
  std::vector<RunUpdate> updates;  // applied atomically, all or none
};

// What model calls cost, summed per scope ("run:<id>", "workflow:<name>:
// <yyyy-mm-dd>", "day:<yyyy-mm-dd>", "usage:<yyyy-mm-dd>:<workflow>:<model
// alias>").
struct Spend {
  double cost = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t calls = 0;
};

struct RunFilter {
  std::optional<RunStatus> status;
  std::string workflow;
  std::string trigger;
  std::string parent_run;
  int limit = 100;
  // Only runs created before this id (for paging, newest first); "" = from the newest.
  std::string before_id;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores a workflow's source. The same text again returns the version it
  // already has; new text gets the next version (or `declared_version`, which
  // must then be unused: AlreadyExists otherwise).
  virtual Result<int64_t> PutWorkflow(const std::string& name, const std::string& source,
                                      int64_t declared_version = 0) = 0;
  // version 0 = the latest.
  virtual Result<WorkflowRecord> GetWorkflow(const std::string& name, int64_t version = 0) = 0;
  virtual Result<std::vector<WorkflowRecord>> ListWorkflows() = 0;

  // Applies a commit durably and calls `done` (on a store thread) once it is
  // durable or has failed. Concurrent commits are grouped into one transaction.
  virtual void CommitAsync(Commit commit, std::function<void(Status)> done) = 0;
  // True when CommitAsync always calls `done` before it returns (a store
  // with nothing to wait for): callers may then skip suspending.
  virtual bool commits_inline() const { return false; }
  // Blocking form of CommitAsync.
  Status CommitSync(Commit commit);
  // Called after each durable group commit with how many commits it held
  // and how long it took, on the store's thread (metrics). nullptr stops.
  using CommitObserver = std::function<void(size_t commits, double seconds)>;
  virtual void ObserveCommits(const CommitObserver& /*observer*/) {}
  // The most frequent commit: one step record of a running run. The same as
  // CommitAsync with one kStepsOnly update expecting kRunning; a store may do
  // it without building the Commit.
  virtual void AppendStepAsync(const std::string& run_id, StepRecord&& step, std::function<void(Status)> done);

  virtual Result<RunRecord> GetRun(const std::string& run_id) = 0;
  // The run created with `start_key`; NotFound when there is none.
  virtual Result<RunRecord> GetRunByStartKey(const std::string& start_key) = 0;
  // The run's step records in commit order.
  virtual Result<std::vector<StepRecord>> GetSteps(const std::string& run_id) = 0;
  // Newest first.
  virtual Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;
  // How many runs are suspended now, per workflow and what they wait for
  // (wait.kind: approval, user_input, handover, timer, child, ...).
  struct SuspendedCount {
    std::string workflow;
    std::string waiting_for;
    int64_t count = 0;
  };
  virtual Result<std::vector<SuspendedCount>> CountSuspended() = 0;

  // Leases up to `limit` runs that need a worker: status running with no
  // live lease, or suspended on a timer that is due (wake_at_ms <= now).
  // A run whose lease passes to `owner` from another owner gets the next
  // lease_epoch (returned in its record).
  // A lease is live while lease_until_ms > now; single-machine stores also
  // treat the lease of a process that no longer exists as lapsed, so that a
  // restarted weft resumes its runs at once.
  virtual Result<std::vector<RunRecord>> ClaimRuns(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                                   int limit) = 0;
  // Gives up the lease on a run (when it suspends or finishes, or on shutdown).
  virtual Status ReleaseRun(const std::string& run_id, const std::string& owner) = 0;
  // Extends every lease `owner` holds to `until_ms` (a worker's heartbeat).
  virtual Status RenewLeases(const std::string& owner, int64_t until_ms) = 0;
  // Blocks until a commit (from this process or, for shared databases,
  // another one) may have created work any worker can claim (a running run
  // nobody holds, a run waiting on a timer), or `timeout_ms` passes.
  // Returns whether something changed. Workers sleep on it between
  // ClaimRuns calls (and still claim now and then: timers fall due).
  virtual bool WaitForWork(int64_t timeout_ms) = 0;

  // Live messages between the processes sharing a database (the server's
  // events: a step recorded on one process reaches a browser connected to
  // another). Best effort and small (at most kMaxBroadcastBytes each): what
  // is missed is in the store. Stores of one process do nothing.
  static constexpr size_t kMaxBroadcastBytes = 7000;
  virtual bool broadcasts() const { return false; }
  // Sends `messages` to every other process's receiver (and not to this
  // store's own); returns at once.
  virtual void Broadcast(std::vector<std::string>&& /*messages*/) {}
  // `receiver` gets what other processes broadcast, one message at a time,
  // on a store thread; nullptr stops.
  virtual void OnBroadcast(const std::function<void(std::string_view message)>& /*receiver*/) {}

  // An exact-match cache with expiry (AI step answers). Get returns nullopt
  // for a missing or expired entry.
  virtual Result<std::optional<std::string>> CacheGet(const std::string& key, int64_t now_ms) = 0;
  virtual Status CachePut(const std::string& key, const std::string& value, int64_t expires_ms) = 0;

  // Adds `amount` to each scope's spending, atomically.
  virtual Status AddSpend(const std::vector<std::string>& scopes, const Spend& amount) = 0;
  // A scope's spending so far (zero when nothing was spent).
  virtual Result<Spend> GetSpend(const std::string& scope) = 0;
  // Every scope in [from, to) with its spending, in scope order, at most
  // `limit` of them (the usage by day, workflow and model: "usage:<day>:...").
  virtual Result<std::vector<std::pair<std::string, Spend>>> ListSpend(const std::string& from, const std::string& to,
                                                                       int limit) = 0;

  // Per-conversation memory (recent messages, running summary, named
  // facts): one JSON document per conversation. Get returns undefined for a
  // conversation with none.
  virtual Result<Value> GetMemory(const std::string& conversation) = 0;
  virtual Status PutMemory(const std::string& conversation, const Value& memory) = 0;

  // The conversation log: what runs said (send_message), handovers, and
  // (with the chat channel) what users said. Appending a message whose key
  // the conversation already has returns the stored one instead: a step
  // run again after a crash says nothing twice.
  virtual Result<MessageRecord> AppendMessage(MessageRecord message) = 0;
  // Oldest first.
  virtual Result<std::vector<MessageRecord>> ListMessages(const MessageFilter& filter) = 0;

  // Completed steps of `action` after `after_seq`, oldest first (the
  // events `emit` steps published, for their dispatch).
  virtual Result<std::vector<StepRecord>> ListCompletedSteps(const std::string& action, int64_t after_seq,
                                                             int limit) = 0;

  // Small named values the triggers keep (a schedule's last slot, an
  // outbox's cursor). Get returns nullopt for a key never put.
  virtual Result<std::optional<std::string>> GetState(const std::string& key) = 0;
  virtual Status PutState(const std::string& key, const std::string& value) = 0;
  // Puts `value` only when `key` has none; returns whether it did (who
  // claims a task first, a one-time link used once), atomically across
  // processes.
  virtual Result<bool> InsertState(const std::string& key, const std::string& value) = 0;
  virtual Status DeleteState(const std::string& key) = 0;

  // API keys. Put refuses an id in use (AlreadyExists).
  virtual Status PutApiKey(const ApiKeyRecord& key) = 0;
  virtual Result<ApiKeyRecord> GetApiKey(const std::string& id) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
  // Marks the key revoked at `now_ms` (NotFound for an unknown id).
  virtual Status RevokeApiKey(const std::string& id, int64_t now_ms) = 0;

  // Users. Put adds (AlreadyExists when the name is taken) or, with
  // `replace`, overwrites (NotFound when there is none).
  virtual Status PutUser(const UserRecord& user, bool replace) = 0;
  virtual Result<UserRecord> GetUser(const std::string& name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;  // by name
  // Removes the user and every session of theirs (NotFound when none).
  virtual Status DeleteUser(const std::string& name) = 0;

  // Browser sessions.
  virtual Status PutSession(const SessionRecord& session) = 0;
  // NotFound for an unknown or expired session.
  virtual Result<SessionRecord> GetSession(const std::string& token_hash, int64_t now_ms) = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;

  // Secrets, sealed. Put inserts or replaces.
  virtual Status PutSecret(const SecretRecord& secret) = 0;
  virtual Result<SecretRecord> GetSecret(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<SecretRecord>> ListSecrets() = 0;          // by name
  virtual Status DeleteSecret(const std::string& name) = 0;             // NotFound

  // The audit log: appends `entry` after the last one, atomically (seq,
  // prev_hash and hash are set here) and returns it as stored.
  virtual Result<AuditEntry> AppendAudit(AuditEntry entry) = 0;
  // Entries after `after_seq`, oldest first.
  virtual Result<std::vector<AuditEntry>> ListAudit(int64_t after_seq, int limit) = 0;
};

}  // namespace weft::store

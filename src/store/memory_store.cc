#include "weft/store/memory_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>

#include "update_checks.h"
#include "weft/core/clock.h"
#include "weft/core/mutex.h"

namespace weft::store {

class MemoryStore final : public Store {
 public:
  MemoryStore(size_t keep_finished, const Clock& clock) : keep_finished_(keep_finished), clock_(clock) {}

  Result<int64_t> PutWorkflow(const std::string& name, const std::string& source, int64_t declared) override {
    MutexLock lock(mu_);
    auto& versions = workflows_[name];
    std::string hash = std::to_string(std::hash<std::string>{}(source));
    for (const auto& [v, rec] : versions) {
      if (rec.source == source && (declared == 0 || declared == v)) return v;
    }
    int64_t version = declared != 0 ? declared : (versions.empty() ? 1 : versions.rbegin()->first + 1);
    if (versions.count(version) != 0) {
      return Status(StatusCode::kAlreadyExists, "workflow '" + name + "' version " + std::to_string(version) +
                                                    " is already stored with different content");
    }
    versions[version] = WorkflowRecord{name, version, hash, source, clock_.NowMillis()};
    return version;
  }

  Result<WorkflowRecord> GetWorkflow(const std::string& name, int64_t version) override {
    MutexLock lock(mu_);
    auto it = workflows_.find(name);
    if (it == workflows_.end() || it->second.empty()) return NotFoundError("no workflow named '" + name + "'");
    if (version == 0) return it->second.rbegin()->second;
    auto v = it->second.find(version);
    if (v == it->second.end()) {
      return NotFoundError("workflow '" + name + "' has no version " + std::to_string(version));
    }
    return v->second;
  }

  Result<std::vector<WorkflowRecord>> ListWorkflows() override {
    MutexLock lock(mu_);
    std::vector<WorkflowRecord> out;
    for (const auto& [name, versions] : workflows_) {
      for (const auto& [v, rec] : versions) out.push_back(rec);
    }
    return out;
  }

  void CommitAsync(Commit commit, std::function<void(Status)> done) override {
    Status s = Apply(std::move(commit));
    if (s.ok()) work_cv_.notify_all();
    done(std::move(s));
  }
  bool commits_inline() const override { return true; }

  void AppendStepAsync(const std::string& run_id, StepRecord&& step, std::function<void(Status)> done) override {
    Status s = Append(run_id, std::move(step));
    if (s.ok()) work_cv_.notify_all();
    done(std::move(s));
  }

  Result<RunRecord> GetRun(const std::string& run_id) override {
    MutexLock lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return NotFoundError("no run '" + run_id + "'");
    return it->second.record;
  }

  Result<RunRecord> GetRunByStartKey(const std::string& start_key) override {
    MutexLock lock(mu_);
    auto key = start_keys_.find(start_key);
    if (key == start_keys_.end()) return NotFoundError("no run with start key '" + start_key + "'");
    return runs_.at(key->second).record;
  }

  Result<std::vector<StepRecord>> ListCompletedSteps(const std::string& action, int64_t after_seq, int limit) override {
    MutexLock lock(mu_);
    std::vector<StepRecord> out;
    for (const auto& [id, entry] : runs_) {
      for (const StepRecord& step : entry.steps) {
        if (step.action != action || step.status != StepStatus::kCompleted || step.seq <= after_seq) continue;
        out.push_back(step);
        out.back().run_id = id;
      }
    }
    std::sort(out.begin(), out.end(), [](const StepRecord& a, const StepRecord& b) { return a.seq < b.seq; });
    if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
    return out;
  }

  Result<std::vector<SuspendedCount>> CountSuspended() override {
    MutexLock lock(mu_);
    std::map<std::pair<std::string, std::string>, int64_t> counts;
    for (const auto& [id, entry] : runs_) {
      if (entry.record.status != RunStatus::kSuspended) continue;
      const Value kind = entry.record.wait.get("kind");
      ++counts[{entry.record.workflow, kind.is_string() ? kind.as_string() : ""}];
    }
    std::vector<SuspendedCount> out;
    out.reserve(counts.size());
    for (const auto& [key, n] : counts) out.push_back({key.first, key.second, n});
    return out;
  }

  Result<std::optional<std::string>> GetState(const std::string& key) override {
    MutexLock lock(mu_);
    auto it = state_.find(key);
    if (it == state_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status PutState(const std::string& key, const std::string& value) override {
    MutexLock lock(mu_);
    state_[key] = value;
    return Status::Ok();
  }

  Result<bool> InsertState(const std::string& key, const std::string& value) override {
    MutexLock lock(mu_);
    return state_.emplace(key, value).second;
  }

  Status DeleteState(const std::string& key) override {
    MutexLock lock(mu_);
    state_.erase(key);
    return Status::Ok();
  }

  Status PutApiKey(const ApiKeyRecord& key) override {
    MutexLock lock(mu_);
    if (!api_keys_.emplace(key.id, key).second) {
      return Status(StatusCode::kAlreadyExists, "API key '" + key.id + "' already exists");
    }
    return Status::Ok();
  }

  Result<ApiKeyRecord> GetApiKey(const std::string& id) override {
    MutexLock lock(mu_);
    auto it = api_keys_.find(id);
    if (it == api_keys_.end()) return NotFoundError("no API key '" + id + "'");
    return it->second;
  }

  Result<std::vector<ApiKeyRecord>> ListApiKeys() override {
    MutexLock lock(mu_);
    std::vector<ApiKeyRecord> out;
    for (const auto& [id, key] : api_keys_) out.push_back(key);
    std::sort(out.begin(), out.end(), [](const ApiKeyRecord& a, const ApiKeyRecord& b) {
      return std::tie(a.created_ms, a.id) < std::tie(b.created_ms, b.id);
    });
    return out;
  }

  Status RevokeApiKey(const std::string& id, int64_t now_ms) override {
    MutexLock lock(mu_);
    auto it = api_keys_.find(id);
    if (it == api_keys_.end()) return NotFoundError("no API key '" + id + "'");
    if (it->second.revoked_ms == 0) it->second.revoked_ms = now_ms;
    return Status::Ok();
  }

  Status PutUser(const UserRecord& user, bool replace) override {
    MutexLock lock(mu_);
    auto it = users_.find(user.name);
    if (replace && it == users_.end()) return NotFoundError("no user '" + user.name + "'");
    if (!replace && it != users_.end()) {
      return Status(StatusCode::kAlreadyExists, "user '" + user.name + "' already exists");
    }
    users_[user.name] = user;
    return Status::Ok();
  }

  Result<UserRecord> GetUser(const std::string& name) override {
    MutexLock lock(mu_);
    auto it = users_.find(name);
    if (it == users_.end()) return NotFoundError("no user '" + name + "'");
    return it->second;
  }

  Result<std::vector<UserRecord>> ListUsers() override {
    MutexLock lock(mu_);
    std::vector<UserRecord> out;
    for (const auto& [name, user] : users_) out.push_back(user);
    return out;
  }

  Status DeleteUser(const std::string& name) override {
    MutexLock lock(mu_);
    if (users_.erase(name) == 0) return NotFoundError("no user '" + name + "'");
    std::erase_if(sessions_, [&name](const auto& entry) { return entry.second.user == name; });
    return Status::Ok();
  }

  Status PutSession(const SessionRecord& session) override {
    MutexLock lock(mu_);
    sessions_[session.token_hash] = session;
    return Status::Ok();
  }

  Result<SessionRecord> GetSession(const std::string& token_hash, int64_t now_ms) override {
    MutexLock lock(mu_);
    auto it = sessions_.find(token_hash);
    if (it == sessions_.end() || it->second.expires_ms <= now_ms) return NotFoundError("no such session");
    return it->second;
  }

  Status DeleteSession(const std::string& token_hash) override {
    MutexLock lock(mu_);
    sessions_.erase(token_hash);
    return Status::Ok();
  }

  Status PutSecret(const SecretRecord& secret) override {
    MutexLock lock(mu_);
    secrets_[secret.name] = secret;
    return Status::Ok();
  }

  Result<SecretRecord> GetSecret(const std::string& name) override {
    MutexLock lock(mu_);
    auto it = secrets_.find(name);
    if (it == secrets_.end()) return NotFoundError("no secret '" + name + "'");
    return it->second;
  }

  Result<std::vector<SecretRecord>> ListSecrets() override {
    MutexLock lock(mu_);
    std::vector<SecretRecord> out;
    for (const auto& [name, secret] : secrets_) out.push_back(secret);
    return out;
  }

  Status DeleteSecret(const std::string& name) override {
    MutexLock lock(mu_);
    if (secrets_.erase(name) == 0) return NotFoundError("no secret '" + name + "'");
    return Status::Ok();
  }

  Result<AuditEntry> AppendAudit(AuditEntry entry) override {
    MutexLock lock(mu_);
    entry.seq = audit_.empty() ? 1 : audit_.back().seq + 1;
    entry.prev_hash = audit_.empty() ? "" : audit_.back().hash;
    entry.hash = AuditHash(entry);
    audit_.push_back(entry);
    return entry;
  }

  Result<std::vector<AuditEntry>> ListAudit(int64_t after_seq, int limit) override {
    MutexLock lock(mu_);
    std::vector<AuditEntry> out;
    for (const AuditEntry& e : audit_) {
      if (e.seq <= after_seq) continue;
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back(e);
    }
    return out;
  }

  Result<std::vector<StepRecord>> GetSteps(const std::string& run_id) override {
    MutexLock lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return NotFoundError("no run '" + run_id + "'");
    std::vector<StepRecord> out(it->second.steps.begin(), it->second.steps.end());
    for (StepRecord& s : out) s.run_id = run_id;
    return out;
  }

  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override {
    MutexLock lock(mu_);
    std::vector<RunRecord> out;
    for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
      const RunRecord& r = runs_.at(*id).record;
      if (!filter.before_id.empty() && r.id >= filter.before_id) continue;
      if (filter.status && r.status != *filter.status) continue;
      if (!filter.workflow.empty() && r.workflow != filter.workflow) continue;
      if (!filter.trigger.empty() && r.trigger != filter.trigger) continue;
      if (!filter.parent_run.empty() && r.parent_run != filter.parent_run) continue;
      out.push_back(r);
      if (static_cast<int>(out.size()) >= filter.limit) break;
    }
    return out;
  }

  Result<std::vector<RunRecord>> ClaimRuns(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                           int limit) override {
    MutexLock lock(mu_);
    std::vector<RunRecord> out;
    // Runs nobody holds first, then the owner's own (which it only extends).
    std::vector<RunRecord*> waiting;
    std::vector<RunRecord*> own;
    for (const std::string& id : order_) {
      RunRecord& r = runs_.at(id).record;
      const bool runnable = r.status == RunStatus::kRunning ||
                            (r.status == RunStatus::kSuspended && r.wake_at_ms > 0 && r.wake_at_ms <= now_ms);
      if (!runnable) continue;
      if (r.lease_owner == owner) {
        own.push_back(&r);
      } else if (r.lease_owner.empty() || r.lease_until_ms <= now_ms) {
        waiting.push_back(&r);
      }
    }
    waiting.insert(waiting.end(), own.begin(), own.end());
    for (RunRecord* r : waiting) {
      if (static_cast<int>(out.size()) >= limit) break;
      r->lease_epoch = internal::EpochAfterClaim(r->lease_owner, owner, r->lease_epoch);
      r->lease_owner = owner;
      r->lease_until_ms = now_ms + lease_ms;
      out.push_back(*r);
    }
    return out;
  }

  Status ReleaseRun(const std::string& run_id, const std::string& owner) override {
    MutexLock lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return NotFoundError("no run '" + run_id + "'");
    if (it->second.record.lease_owner == owner) {
      it->second.record.lease_owner.clear();
      it->second.record.lease_until_ms = 0;
    }
    return Status::Ok();
  }

  Status RenewLeases(const std::string& owner, int64_t until_ms) override {
    MutexLock lock(mu_);
    for (auto& [id, entry] : runs_) {
      if (entry.record.lease_owner == owner) entry.record.lease_until_ms = until_ms;
    }
    return Status::Ok();
  }

  bool WaitForWork(int64_t timeout_ms) override {
    MutexLock lock(mu_);
    const uint64_t seen = commits_;
    return lock.WaitFor(work_cv_, std::chrono::milliseconds(timeout_ms),
                        [&]() WEFT_REQUIRES(mu_) { return commits_ != seen; });
  }

  Result<std::optional<std::string>> CacheGet(const std::string& key, int64_t now_ms) override {
    MutexLock lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end() || it->second.second <= now_ms) return std::optional<std::string>();
    return std::optional<std::string>(it->second.first);
  }

  Status CachePut(const std::string& key, const std::string& value, int64_t expires_ms) override {
    MutexLock lock(mu_);
    cache_[key] = {value, expires_ms};
    return Status::Ok();
  }

  Status AddSpend(const std::vector<std::string>& scopes, const Spend& amount) override {
    MutexLock lock(mu_);
    for (const std::string& scope : scopes) {
      Spend& s = spend_[scope];
      s.cost += amount.cost;
      s.input_tokens += amount.input_tokens;
      s.output_tokens += amount.output_tokens;
      s.calls += amount.calls;
    }
    return Status::Ok();
  }

  Result<Spend> GetSpend(const std::string& scope) override {
    MutexLock lock(mu_);
    auto it = spend_.find(scope);
    return it == spend_.end() ? Spend{} : it->second;
  }

  Result<std::vector<std::pair<std::string, Spend>>> ListSpend(const std::string& from, const std::string& to,
                                                               int limit) override {
    MutexLock lock(mu_);
    std::vector<std::pair<std::string, Spend>> out;
    for (const auto& [scope, spend] : spend_) {
      if (scope >= from && scope < to) out.emplace_back(scope, spend);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (limit >= 0 && out.size() > static_cast<size_t>(limit)) out.resize(static_cast<size_t>(limit));
    return out;
  }

  Result<Value> GetMemory(const std::string& conversation) override {
    MutexLock lock(mu_);
    auto it = memory_.find(conversation);
    return it == memory_.end() ? Value() : it->second;
  }

  Status PutMemory(const std::string& conversation, const Value& memory) override {
    MutexLock lock(mu_);
    memory_[conversation] = memory;
    return Status::Ok();
  }

  Result<MessageRecord> AppendMessage(MessageRecord m) override {
    MutexLock lock(mu_);
    for (const MessageRecord& existing : messages_) {
      if (existing.conversation == m.conversation && existing.key == m.key) return existing;
    }
    m.seq = static_cast<int64_t>(messages_.size()) + 1;
    messages_.push_back(m);
    return m;
  }

  Result<std::vector<MessageRecord>> ListMessages(const MessageFilter& f) override {
    MutexLock lock(mu_);
    std::vector<MessageRecord> out;
    for (const MessageRecord& m : messages_) {
      if (m.seq <= f.after_seq) continue;
      if (!f.conversation.empty() && m.conversation != f.conversation) continue;
      if (!f.run_id.empty() && m.run_id != f.run_id) continue;
      out.push_back(m);
      if (static_cast<int>(out.size()) >= f.limit) break;
    }
    return out;
  }

  void FailNth(int n) {
    MutexLock lock(mu_);
    fail_countdown_ = n;
  }

 private:
  struct Entry {
    RunRecord record;
    std::vector<StepRecord> steps;
  };

  Status Append(const std::string& run_id, StepRecord&& step) {
    MutexLock lock(mu_);
    if (fail_countdown_ > 0 && --fail_countdown_ == 0) return UnavailableError("injected commit failure");
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return NotFoundError("no run '" + run_id + "'");
    if (Status s = ExpectStatus(run_id, it->second.record.status, RunStatus::kRunning); !s.ok()) return s;
    ++commits_;
    StepRecord& added = it->second.steps.emplace_back(std::move(step));
    added.seq = ++seq_;  // run_id is filled in when read
    return Status::Ok();
  }

  static Status ExpectStatus(const std::string& run_id, RunStatus is, RunStatus expected) {
    if (is == expected) return Status::Ok();
    return FailedPreconditionError("run '" + run_id + "' is " + std::string(RunStatusName(is)) + ", not " +
                                   std::string(RunStatusName(expected)));
  }

  Status Apply(Commit commit) {
    MutexLock lock(mu_);
    if (fail_countdown_ > 0 && --fail_countdown_ == 0) return UnavailableError("injected commit failure");
    // Check everything first so that a failing update changes nothing; keep
    // the entries found, so each run is looked up once.
    Entry* found[kInlineUpdates];
    const bool remember = commit.updates.size() <= kInlineUpdates;
    // Runs this commit creates or changes, as its earlier updates leave
    // them (a run may be created and updated in one commit); kept only for
    // commits of several updates (a single one, the usual, allocates none).
    const bool several = commit.updates.size() > 1;
    std::map<std::string, const RunRecord*> earlier;
    for (size_t i = 0; i < commit.updates.size(); ++i) {
      const RunUpdate& u = commit.updates[i];
      auto it = runs_.find(u.run_id);
      if (remember) found[i] = it == runs_.end() ? nullptr : &it->second;
      auto before = earlier.find(u.run_id);
      if (u.kind == RunUpdate::Kind::kCreate) {
        if (it != runs_.end() || before != earlier.end()) {
          return Status(StatusCode::kAlreadyExists, "run '" + u.run_id + "' already exists");
        }
        if (!u.run.start_key.empty() && start_keys_.count(u.run.start_key) != 0) {
          return Status(StatusCode::kAlreadyExists, "a run with start key '" + u.run.start_key + "' already exists");
        }
        if (several) earlier[u.run_id] = &u.run;
        continue;
      }
      if (it == runs_.end() && before == earlier.end()) return NotFoundError("no run '" + u.run_id + "'");
      const RunRecord& r = before != earlier.end() ? *before->second : it->second.record;
      if (Status s = internal::CheckUpdate(u, r.status, r.lease_owner, r.lease_epoch); !s.ok()) return s;
      if (several && u.kind == RunUpdate::Kind::kUpdate) earlier[u.run_id] = &u.run;
    }
    ++commits_;
    for (size_t i = 0; i < commit.updates.size(); ++i) {
      RunUpdate& u = commit.updates[i];
      // A run created twice in one commit was refused above, so an entry
      // found there is still the one to update.
      Entry& e = remember && found[i] != nullptr ? *found[i] : runs_[u.run_id];
      if (u.kind == RunUpdate::Kind::kCreate) {
        order_.insert(u.run_id);
        if (!u.run.start_key.empty()) start_keys_[u.run.start_key] = u.run_id;
        e.record = u.run;
        e.record.id = u.run_id;
        const int64_t now = clock_.NowMillis();
        if (e.record.created_ms == 0) e.record.created_ms = now;
        e.record.updated_ms = now;  // when committed: a run may be created as it ended
      } else if (u.kind == RunUpdate::Kind::kUpdate) {
        int64_t created = e.record.created_ms;
        e.record = std::move(u.run);
        e.record.id = u.run_id;
        e.record.created_ms = created;
        e.record.updated_ms = clock_.NowMillis();
      }
      for (StepRecord& s : u.steps) {
        e.steps.push_back(std::move(s));
        e.steps.back().seq = ++seq_;  // run_id is filled in when read
      }
      if (keep_finished_ > 0 && u.kind != RunUpdate::Kind::kStepsOnly && IsTerminal(e.record.status)) {
        finished_.push_back(u.run_id);
      }
    }
    // Evicted last: the entries found above stay valid through the loop.
    while (finished_.size() > keep_finished_ && keep_finished_ > 0) {
      if (auto gone = runs_.find(finished_.front()); gone != runs_.end() && !gone->second.record.start_key.empty()) {
        start_keys_.erase(gone->second.record.start_key);
      }
      runs_.erase(finished_.front());
      order_.erase(finished_.front());
      finished_.pop_front();
    }
    return Status::Ok();
  }

  static constexpr size_t kInlineUpdates = 8;

  Mutex mu_;
  std::condition_variable_any work_cv_;
  uint64_t commits_ WEFT_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::map<int64_t, WorkflowRecord>> workflows_ WEFT_GUARDED_BY(mu_);
  std::unordered_map<std::string, Entry> runs_ WEFT_GUARDED_BY(mu_);
  std::set<std::string> order_ WEFT_GUARDED_BY(mu_);  // run ids: ids sort by creation time
  int64_t seq_ WEFT_GUARDED_BY(mu_) = 0;
  int fail_countdown_ WEFT_GUARDED_BY(mu_) = 0;
  const size_t keep_finished_;
  const Clock& clock_;
  std::deque<std::string> finished_ WEFT_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::pair<std::string, int64_t>> cache_ WEFT_GUARDED_BY(mu_);  // value, expires_ms
  std::unordered_map<std::string, Spend> spend_ WEFT_GUARDED_BY(mu_);
  std::unordered_map<std::string, Value> memory_ WEFT_GUARDED_BY(mu_);
  std::vector<MessageRecord> messages_ WEFT_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::string> start_keys_ WEFT_GUARDED_BY(mu_);  // -> run id
  std::map<std::string, ApiKeyRecord> api_keys_ WEFT_GUARDED_BY(mu_);
  std::map<std::string, std::string> state_ WEFT_GUARDED_BY(mu_);
  std::map<std::string, UserRecord> users_ WEFT_GUARDED_BY(mu_);
  std::map<std::string, SessionRecord> sessions_ WEFT_GUARDED_BY(mu_);
  std::map<std::string, SecretRecord> secrets_ WEFT_GUARDED_BY(mu_);
  std::vector<AuditEntry> audit_ WEFT_GUARDED_BY(mu_);
};

std::unique_ptr<Store> NewMemoryStore(size_t keep_finished, const Clock* clock) {
  return std::make_unique<MemoryStore>(keep_finished, clock != nullptr ? *clock : SystemClock::Instance());
}

void FailNthCommit(Store& memory_store, int n) { static_cast<MemoryStore&>(memory_store).FailNth(n); }

}  // namespace weft::store

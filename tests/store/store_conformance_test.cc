// One suite for every Store backend: what the engine relies on.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "sqlite_queries.h"
#include "weft/core/json.h"
#include "weft/store/memory_store.h"
#include "weft/store/postgres_store.h"
#include "weft/store/sqlite_store.h"

namespace weft::store {
namespace {

namespace fs = std::filesystem;

// Debian's PostgreSQL when WEFT_TEST_POSTGRES names one (CI starts it).
std::string PostgresUrl() {
  const char* url = std::getenv("WEFT_TEST_POSTGRES");
  return url != nullptr ? url : "";
}

// A schema of its own per test (and per process), dropped afterwards.
std::string TestSchema() {
  std::string name =
      "weft_t" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return name.substr(0, 63);
}

void DropSchema(const std::string& schema) {
  if (PostgresUrl().empty()) return;
  const std::string command =
      "psql -q -d '" + PostgresUrl() + "' -c 'DROP SCHEMA IF EXISTS " + schema + " CASCADE' >/dev/null 2>&1";
  (void)std::system(command.c_str());
}

Result<std::unique_ptr<Store>> OpenTestPostgres(const std::string& schema, const Clock* clock = nullptr) {
  PostgresOptions o;
  o.url = PostgresUrl();
  o.schema = schema;
  o.clock = clock;
  o.pool = 2;
  return OpenPostgresStore(o);
}

// Six processes open a store at once (released together by a pipe's
// EOF); each must succeed (exit 0), whatever the others are doing.
void OpenFromSixProcessesAtOnce(const std::function<Result<std::unique_ptr<Store>>()>& open) {
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < 6; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      (void)!::read(go[0], &c, 1);  // all start together
      auto s = open();
      if (!s.ok()) std::fprintf(stderr, "child: %s\n", s.status().ToString().c_str());
      std::_Exit(s.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // EOF releases every child at once
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = NewMemoryStore(0, &clock_);
      return;
    }
    if (GetParam() == "postgres") {
      if (PostgresUrl().empty()) GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
      schema_ = TestSchema();
      DropSchema(schema_);
      Reopen();
      return;
    }
    dir_ = fs::temp_directory_path() / ("weft_store_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!schema_.empty()) DropSchema(schema_);
  }
  void Reopen() {
    store_.reset();
    if (!schema_.empty()) {
      auto s = OpenTestPostgres(schema_, &clock_);
      ASSERT_TRUE(s.ok()) << s.status();
      store_ = std::move(s).value();
      return;
    }
    SqliteOptions o;
    o.path = (dir_ / "weft.db").string();
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }
  bool durable() const { return GetParam() != "memory"; }

  static RunRecord NewRun(const std::string& id, RunStatus status = RunStatus::kRunning) {
    RunRecord r;
    r.id = id;
    r.workflow = "wf";
    r.version = 1;
    r.status = status;
    r.input = *ParseJson(R"({"message":"hi","n":[1,2,{"deep":null}]})");
    r.context = Value::MakeObject();
    r.seed = 0xfeedbeefcafe1234ULL;
    r.created_ms = 1000;
    return r;
  }
  static StepRecord NewStep(const std::string& path, StepStatus status, Value output = Value()) {
    StepRecord s;
    s.path = path;
    s.task = "t";
    s.action = "set";
    s.status = status;
    s.output = std::move(output);
    s.started_ms = 5;
    s.ended_ms = 7;
    return s;
  }
  Status Create(const RunRecord& r, std::vector<StepRecord> steps = {}) {
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, std::move(steps), std::nullopt});
    return store_->CommitSync(std::move(c));
  }

  fs::path dir_;
  std::string schema_;
  SimulatedClock clock_{1'700'000'000'000};  // declared before the store, which holds it
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, WorkflowVersions) {
  auto v1 = store_->PutWorkflow("triage", "flow: [a]");
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(*v1, 1);
  EXPECT_EQ(*store_->PutWorkflow("triage", "flow: [a]"), 1) << "same text, same version";
  EXPECT_EQ(*store_->PutWorkflow("triage", "flow: [b]"), 2);
  EXPECT_EQ(*store_->PutWorkflow("other", "x"), 1);
  EXPECT_EQ(store_->GetWorkflow("triage")->source, "flow: [b]");
  EXPECT_EQ(store_->GetWorkflow("triage", 1)->source, "flow: [a]");
  EXPECT_EQ(store_->GetWorkflow("triage", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetWorkflow("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->PutWorkflow("declared", "v7 text", 7), 7);
  EXPECT_EQ(store_->PutWorkflow("declared", "other text", 7).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->ListWorkflows()->size(), 4u);
}

TEST_P(StoreTest, RunRoundTrip) {
  RunRecord r = NewRun("01A");
  r.parent_run = "00P";
  r.parent_path = "0:call";
  ASSERT_TRUE(Create(r).ok());
  auto got = store_->GetRun("01A");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->workflow, "wf");
  EXPECT_EQ(got->status, RunStatus::kRunning);
  EXPECT_TRUE(got->input == r.input);
  EXPECT_EQ(got->seed, r.seed);
  EXPECT_EQ(got->parent_run, "00P");
  EXPECT_EQ(got->parent_path, "0:call");
  EXPECT_EQ(store_->GetRun("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Create(r).code(), StatusCode::kAlreadyExists);
}

// A start key starts at most one run, in the same transaction; the run
// carries what started it.
TEST_P(StoreTest, StartKeysAreUnique) {
  RunRecord a = NewRun("01A");
  a.trigger = "webhook";
  a.start_key = "webhook:wf:abc";
  ASSERT_TRUE(Create(a).ok());
  RunRecord b = NewRun("01B");
  b.start_key = "webhook:wf:abc";
  Status again = Create(b);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("start key"), std::string::npos) << again.message();
  EXPECT_EQ(store_->GetRun("01B").status().code(), StatusCode::kNotFound) << "nothing of the refused run is stored";
  RunRecord c = NewRun("01C");  // runs without a key never clash
  RunRecord d = NewRun("01D");
  ASSERT_TRUE(Create(c).ok());
  ASSERT_TRUE(Create(d).ok());
  Result<RunRecord> found = store_->GetRunByStartKey("webhook:wf:abc");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, "01A");
  EXPECT_EQ(found->trigger, "webhook");
  EXPECT_EQ(store_->GetRunByStartKey("webhook:wf:other").status().code(), StatusCode::kNotFound);
  RunFilter by_trigger;
  by_trigger.trigger = "webhook";
  EXPECT_EQ(store_->ListRuns(by_trigger)->size(), 1u);
}

TEST_P(StoreTest, ApiKeysAndTriggerState) {
  ApiKeyRecord k;
  k.id = "k1";
  k.name = "ci";
  k.role = "viewer";
  k.secret_hash = "abc";
  k.created_ms = 5;
  k.workflows = {"billing-*", "triage"};
  ASSERT_TRUE(store_->PutApiKey(k).ok());
  EXPECT_EQ(store_->PutApiKey(k).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetApiKey("k1")->role, "viewer");
  EXPECT_EQ(store_->GetApiKey("k1")->workflows, k.workflows);
  EXPECT_EQ(store_->GetApiKey("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->RevokeApiKey("k1", 9).ok());
  EXPECT_EQ(store_->GetApiKey("k1")->revoked_ms, 9);
  EXPECT_EQ(store_->RevokeApiKey("nope", 9).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListApiKeys()->size(), 1u);
  EXPECT_FALSE(store_->GetState("schedule:wf:0")->has_value());
  ASSERT_TRUE(store_->PutState("schedule:wf:0", "100").ok());
  ASSERT_TRUE(store_->PutState("schedule:wf:0", "160").ok());
  EXPECT_EQ(store_->GetState("schedule:wf:0")->value_or(""), "160");
  // Insert-only: the first one wins.
  EXPECT_TRUE(*store_->InsertState("claim:r1", "ana"));
  EXPECT_FALSE(*store_->InsertState("claim:r1", "bob"));
  EXPECT_EQ(store_->GetState("claim:r1")->value_or(""), "ana");
  ASSERT_TRUE(store_->DeleteState("claim:r1").ok());
  EXPECT_TRUE(*store_->InsertState("claim:r1", "bob"));
}

TEST_P(StoreTest, UsersAndSessions) {
  UserRecord u{"alice", "operator", "$argon2id$x", {"triage", "billing-*"}, 1, 1};
  ASSERT_TRUE(store_->PutUser(u, false).ok());
  EXPECT_EQ(store_->PutUser(u, false).code(), StatusCode::kAlreadyExists);
  UserRecord bob{"bob", "viewer", "h", {}, 2, 2};
  EXPECT_EQ(store_->PutUser(bob, true).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->PutUser(bob, false).ok());
  u.role = "admin";
  ASSERT_TRUE(store_->PutUser(u, true).ok());
  Result<UserRecord> got = store_->GetUser("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, "admin");
  EXPECT_EQ(got->workflows, (std::vector<std::string>{"triage", "billing-*"}));
  ASSERT_EQ(store_->ListUsers()->size(), 2u);
  EXPECT_EQ(store_->ListUsers()->front().name, "alice");

  ASSERT_TRUE(store_->PutSession({"t1", "alice", "c1", 10, 100}).ok());
  ASSERT_TRUE(store_->PutSession({"t2", "bob", "c2", 10, 100}).ok());
  EXPECT_EQ(store_->GetSession("t1", 50)->csrf_token, "c1");
  EXPECT_EQ(store_->GetSession("t1", 100).status().code(), StatusCode::kNotFound);  // expired
  ASSERT_TRUE(store_->DeleteSession("t2").ok());
  EXPECT_EQ(store_->GetSession("t2", 50).status().code(), StatusCode::kNotFound);
  // Removing a user ends their sessions.
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  EXPECT_EQ(store_->GetSession("t1", 50).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser("alice").code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, SecretsAreReplacedAndDeleted) {
  ASSERT_TRUE(store_->PutSecret({"crm_token", "sealed1", 1}).ok());
  ASSERT_TRUE(store_->PutSecret({"crm_token", "sealed2", 2}).ok());
  ASSERT_TRUE(store_->PutSecret({"alpha", "x", 3}).ok());
  EXPECT_EQ(store_->GetSecret("crm_token")->sealed, "sealed2");
  ASSERT_EQ(store_->ListSecrets()->size(), 2u);
  EXPECT_EQ(store_->ListSecrets()->front().name, "alpha");
  ASSERT_TRUE(store_->DeleteSecret("alpha").ok());
  EXPECT_EQ(store_->DeleteSecret("alpha").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetSecret("alpha").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, AuditEntriesFormAHashChain) {
  std::string prev;
  for (int i = 0; i < 5; ++i) {
    AuditEntry e;
    e.at_ms = 100 + i;
    e.actor = "user:alice";
    e.action = "deploy";
    e.target = "wf" + std::to_string(i);
    e.details = R"({"version":1})";
    Result<AuditEntry> stored = store_->AppendAudit(e);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->seq, i + 1);
    EXPECT_EQ(stored->prev_hash, prev);
    EXPECT_EQ(stored->hash, AuditHash(*stored));
    prev = stored->hash;
  }
  Result<std::vector<AuditEntry>> all = store_->ListAudit(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->back().hash, prev);
  EXPECT_EQ(all->at(2).target, "wf2");
  EXPECT_EQ(store_->ListAudit(3, 1)->front().seq, 4);
  // Any change to an entry changes its hash.
  AuditEntry edited = all->at(1);
  edited.target = "other";
  EXPECT_NE(AuditHash(edited), all->at(1).hash);
}

TEST_P(StoreTest, StepsKeepCommitOrderAndValues) {
  ASSERT_TRUE(Create(NewRun("01A"), {NewStep("0:a", StepStatus::kCompleted, *ParseJson(R"({"x":1})"))}).ok());
  for (int i = 1; i < 5; ++i) {
    Commit c;
    RunUpdate u;
    u.run_id = "01A";
    u.steps.push_back(NewStep(std::to_string(i) + ":b", StepStatus::kRetrying));
    u.steps.back().error = "boom";
    u.steps.back().error_code = "UNAVAILABLE";
    u.steps.back().attempt = i;
    c.updates.push_back(u);
    ASSERT_TRUE(store_->CommitSync(std::move(c)).ok());
  }
  auto steps = store_->GetSteps("01A");
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), 5u);
  EXPECT_EQ((*steps)[0].path, "0:a");
  EXPECT_EQ(ToJson((*steps)[0].output), R"({"x":1})");
  for (size_t i = 1; i < steps->size(); ++i) {
    EXPECT_GT((*steps)[i].seq, (*steps)[i - 1].seq);
    EXPECT_EQ((*steps)[i].status, StepStatus::kRetrying);
    EXPECT_EQ((*steps)[i].error, "boom");
    EXPECT_EQ((*steps)[i].attempt, static_cast<int>(i));
  }
  EXPECT_TRUE((*steps)[1].output.is_undefined());
}

// A run that finishes in its first commit (most webhook runs): created and
// updated in one commit, its steps in order, any text in their values.
TEST_P(StoreTest, ARunCreatedAndFinishedInOneCommit) {
  RunRecord r = NewRun("01C");
  r.trigger = "webhook";
  r.start_key = "webhook:wf:c";
  RunRecord done = r;
  done.status = RunStatus::kCompleted;
  done.outputs = *ParseJson(R"({"route":"human"})");
  done.created_ms = 0;  // an update does not carry it
  StepRecord odd = NewStep("1:b", StepStatus::kCompleted, Value("a \"quote\", a \\ backslash, {braces}, NULL"));
  odd.detail = *ParseJson(R"({"k":[null,"}"]})");
  Commit c;
  c.updates.push_back({RunUpdate::Kind::kCreate, "01C", r, {NewStep("0:a", StepStatus::kCompleted)}, std::nullopt});
  c.updates.push_back(
      {RunUpdate::Kind::kUpdate, "01C", done, {odd, NewStep("2:c", StepStatus::kFailed)}, RunStatus::kRunning});
  ASSERT_TRUE(store_->CommitSync(std::move(c)).ok());
  RunRecord got = *store_->GetRun("01C");
  EXPECT_EQ(got.status, RunStatus::kCompleted);
  EXPECT_EQ(ToJson(got.outputs), R"({"route":"human"})");
  EXPECT_EQ(got.trigger, "webhook");
  EXPECT_EQ(got.created_ms, 1000);
  EXPECT_EQ(store_->GetRunByStartKey("webhook:wf:c")->id, "01C");
  auto steps = store_->GetSteps("01C");
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 3u);
  EXPECT_EQ((*steps)[0].path, "0:a");
  EXPECT_EQ((*steps)[1].path, "1:b");
  EXPECT_EQ((*steps)[1].output, Value("a \"quote\", a \\ backslash, {braces}, NULL"));
  EXPECT_EQ(ToJson((*steps)[1].detail), R"({"k":[null,"}"]})");
  EXPECT_TRUE((*steps)[1].input.is_undefined());
  EXPECT_EQ((*steps)[2].status, StepStatus::kFailed);
}

TEST_P(StoreTest, ExpectedStatusGuardsUpdates) {
  ASSERT_TRUE(Create(NewRun("01A", RunStatus::kSuspended)).ok());
  RunRecord resumed = NewRun("01A", RunStatus::kRunning);
  Commit c1;
  c1.updates.push_back(
      {RunUpdate::Kind::kUpdate, "01A", resumed, {NewStep("0:a", StepStatus::kCompleted)}, RunStatus::kSuspended});
  ASSERT_TRUE(store_->CommitSync(std::move(c1)).ok());
  // A second resume of the same suspension must fail and change nothing.
  Commit c2;
  c2.updates.push_back(
      {RunUpdate::Kind::kUpdate, "01A", resumed, {NewStep("0:a", StepStatus::kCompleted)}, RunStatus::kSuspended});
  Status s = store_->CommitSync(std::move(c2));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(store_->GetSteps("01A")->size(), 1u);
}

// AppendStepAsync is a one-step commit that expects the run running.
TEST_P(StoreTest, AppendStepAddsToRunningRunsOnly) {
  ASSERT_TRUE(Create(NewRun("01A")).ok());
  ASSERT_TRUE(Create(NewRun("01B", RunStatus::kSuspended)).ok());
  auto append = [&](const std::string& run, StepRecord step) {
    std::promise<Status> done;
    store_->AppendStepAsync(run, std::move(step), [&done](Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  };
  ASSERT_TRUE(append("01A", NewStep("0:a", StepStatus::kCompleted, *ParseJson(R"({"x":1})"))).ok());
  ASSERT_TRUE(append("01A", NewStep("1:b", StepStatus::kFailed)).ok());
  EXPECT_EQ(append("01B", NewStep("0:a", StepStatus::kCompleted)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(append("missing", NewStep("0:a", StepStatus::kCompleted)).code(), StatusCode::kNotFound);
  auto steps = store_->GetSteps("01A");
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].path, "0:a");
  EXPECT_EQ((*steps)[0].run_id, "01A");
  EXPECT_EQ(ToJson((*steps)[0].output), R"({"x":1})");
  EXPECT_GT((*steps)[1].seq, (*steps)[0].seq);
  EXPECT_EQ((*steps)[1].status, StepStatus::kFailed);
  EXPECT_EQ(store_->GetSteps("01B")->size(), 0u);
}

TEST_P(StoreTest, CacheEntriesExpire) {
  EXPECT_FALSE(store_->CacheGet("k", 100)->has_value());
  ASSERT_TRUE(store_->CachePut("k", R"({"answer":1})", 1000).ok());
  EXPECT_EQ(store_->CacheGet("k", 999)->value_or(""), R"({"answer":1})");
  EXPECT_FALSE(store_->CacheGet("k", 1000)->has_value()) << "expired at its expiry time";
  ASSERT_TRUE(store_->CachePut("k", "newer", 5000).ok());
  EXPECT_EQ(store_->CacheGet("k", 1000)->value_or(""), "newer");
  if (durable()) {
    Reopen();
    EXPECT_EQ(store_->CacheGet("k", 1000)->value_or(""), "newer");
  }
}

TEST_P(StoreTest, SpendIsListedByScopeRange) {
  ASSERT_TRUE(store_->AddSpend({"usage:2026-11-30:triage:gpt", "day:2026-11-30"}, Spend{0.25, 100, 20, 1}).ok());
  ASSERT_TRUE(store_->AddSpend({"usage:2026-12-01:triage:gpt"}, Spend{0.5, 10, 2, 2}).ok());
  ASSERT_TRUE(store_->AddSpend({"usage:2026-12-01:billing:local"}, Spend{0, 0, 0, 3}).ok());
  ASSERT_TRUE(store_->AddSpend({"usage:2026-12-02:triage:gpt"}, Spend{1, 1, 1, 1}).ok());
  auto days = store_->ListSpend("usage:2026-11-30:", "usage:2026-12-01:~", 100);
  ASSERT_TRUE(days.ok()) << days.status();
  ASSERT_EQ(days->size(), 3u);
  EXPECT_EQ((*days)[0].first, "usage:2026-11-30:triage:gpt");
  EXPECT_EQ((*days)[1].first, "usage:2026-12-01:billing:local");
  EXPECT_EQ((*days)[1].second.calls, 3);
  EXPECT_DOUBLE_EQ((*days)[2].second.cost, 0.5);
  EXPECT_EQ(store_->ListSpend("usage:", "usage;", 2)->size(), 2u);
  EXPECT_TRUE(store_->ListSpend("usage:2027", "usage:2028", 10)->empty());
}

TEST_P(StoreTest, SpendAddsUpPerScope) {
  EXPECT_EQ(store_->GetSpend("run:01A")->calls, 0);
  ASSERT_TRUE(store_->AddSpend({"run:01A", "day:2026-11-30"}, Spend{0.25, 100, 20, 1}).ok());
  ASSERT_TRUE(store_->AddSpend({"run:01B", "day:2026-11-30"}, Spend{0.5, 10, 2, 2}).ok());
  Spend a = *store_->GetSpend("run:01A");
  EXPECT_DOUBLE_EQ(a.cost, 0.25);
  EXPECT_EQ(a.input_tokens, 100);
  EXPECT_EQ(a.output_tokens, 20);
  EXPECT_EQ(a.calls, 1);
  Spend day = *store_->GetSpend("day:2026-11-30");
  EXPECT_DOUBLE_EQ(day.cost, 0.75);
  EXPECT_EQ(day.calls, 3);
  if (durable()) {
    Reopen();
    EXPECT_DOUBLE_EQ(store_->GetSpend("day:2026-11-30")->cost, 0.75);
  }
}

TEST_P(StoreTest, ConversationMemoryRoundTrips) {
  EXPECT_TRUE(store_->GetMemory("conv-1")->is_undefined());
  Value memory = *ParseJson(R"({"messages":[{"role":"user","text":"hi"}],"summary":"","facts":{"plan":"pro"}})");
  ASSERT_TRUE(store_->PutMemory("conv-1", memory).ok());
  EXPECT_EQ(*store_->GetMemory("conv-1"), memory);
  EXPECT_TRUE(store_->GetMemory("conv-2")->is_undefined());
  if (durable()) {
    Reopen();
    EXPECT_EQ(*store_->GetMemory("conv-1"), memory);
  }
}

TEST_P(StoreTest, ConversationLogKeepsOrderAndSaysNothingTwice) {
  auto message = [](const char* conversation, const char* run, const char* key, const char* text) {
    MessageRecord m;
    m.conversation = conversation;
    m.run_id = run;
    m.step_path = "3:reply";
    m.key = key;
    m.role = "assistant";
    m.kind = "text";
    m.content = Value::MakeObject();
    m.content.set("text", text);
    m.created_ms = 1000;
    return m;
  };
  auto a = store_->AppendMessage(message("c1", "r1", "r1/3:reply", "hello"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->seq, 0);
  auto b = store_->AppendMessage(message("c1", "r2", "r2/3:reply", "again"));
  ASSERT_TRUE(b.ok());
  EXPECT_GT(b->seq, a->seq);
  ASSERT_TRUE(store_->AppendMessage(message("c2", "r3", "r1/3:reply", "other conversation, same key")).ok());
  // The same key again: the first message, unchanged.
  auto repeat = store_->AppendMessage(message("c1", "r1", "r1/3:reply", "changed"));
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->seq, a->seq);
  EXPECT_EQ(repeat->content.get("text"), Value("hello"));

  auto check = [&] {
    auto c1 = *store_->ListMessages({.conversation = "c1"});
    ASSERT_EQ(c1.size(), 2u);
    EXPECT_EQ(c1[0].content.get("text"), Value("hello"));
    EXPECT_EQ(c1[1].run_id, "r2");
    EXPECT_EQ(c1[0].role, "assistant");
    EXPECT_EQ(c1[0].step_path, "3:reply");
    auto after = *store_->ListMessages({.conversation = "c1", .after_seq = c1[0].seq});
    ASSERT_EQ(after.size(), 1u);
    auto of_run = *store_->ListMessages({.run_id = "r3"});
    ASSERT_EQ(of_run.size(), 1u);
    EXPECT_EQ(of_run[0].conversation, "c2");
  };
  check();
  if (durable()) {
    Reopen();
    check();
  }
}

TEST_P(StoreTest, ACommitIsAllOrNothing) {
  ASSERT_TRUE(Create(NewRun("01A")).ok());
  Commit c;
  RunUpdate ok_part;
  ok_part.run_id = "01A";
  ok_part.steps.push_back(NewStep("0:a", StepStatus::kCompleted));
  c.updates.push_back(ok_part);
  RunUpdate bad_part;
  bad_part.run_id = "missing";
  bad_part.steps.push_back(NewStep("0:a", StepStatus::kCompleted));
  c.updates.push_back(bad_part);
  EXPECT_FALSE(store_->CommitSync(std::move(c)).ok());
  EXPECT_EQ(store_->GetSteps("01A")->size(), 0u) << "the failed commit left a step behind";
}

TEST_P(StoreTest, ConcurrentCommitsAllLand) {
  constexpr int kRuns = 16;
  constexpr int kSteps = 50;
  for (int r = 0; r < kRuns; ++r) ASSERT_TRUE(Create(NewRun("R" + std::to_string(100 + r))).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int r = 0; r < kRuns; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < kSteps; ++i) {
        Commit c;
        RunUpdate u;
        u.run_id = "R" + std::to_string(100 + r);
        u.steps.push_back(NewStep(std::to_string(i) + ":t", StepStatus::kCompleted, Value(i)));
        c.updates.push_back(std::move(u));
        if (!store_->CommitSync(std::move(c)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int r = 0; r < kRuns; ++r) {
    auto steps = store_->GetSteps("R" + std::to_string(100 + r));
    ASSERT_EQ(steps->size(), static_cast<size_t>(kSteps));
    for (int i = 0; i < kSteps; ++i) EXPECT_EQ((*steps)[i].output.as_number(), i) << "order within a run";
  }
}

// Commits refused in the middle of a group commit (a run id taken) fail
// alone: the others of the same group land whole, the refused ones leave
// nothing behind.
TEST_P(StoreTest, RefusedCommitsInAGroupLeaveTheOthersWhole) {
  ASSERT_TRUE(Create(NewRun("TAKEN")).ok());
  constexpr int kThreads = 8;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  std::atomic<int> other_failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const bool bad = (i + t) % 3 == 0;
        RunRecord run = NewRun(bad ? "TAKEN" : "G" + std::to_string(t) + "_" + std::to_string(i));
        Status st = Create(run, {NewStep("0:t", StepStatus::kCompleted, Value(i))});
        if (bad && st.code() == StatusCode::kAlreadyExists) ++refused;
        if (bad != !st.ok()) ++other_failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_failures.load(), 0);
  int bad_count = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      if ((i + t) % 3 == 0) {
        ++bad_count;
        continue;
      }
      auto steps = store_->GetSteps("G" + std::to_string(t) + "_" + std::to_string(i));
      ASSERT_TRUE(steps.ok()) << steps.status();
      EXPECT_EQ(steps->size(), 1u);
    }
  }
  EXPECT_EQ(refused.load(), bad_count);
  EXPECT_TRUE(store_->GetSteps("TAKEN")->empty()) << "a refused create wrote its steps";
}

TEST_P(StoreTest, ListRunsNewestFirstWithFilters) {
  ASSERT_TRUE(Create(NewRun("01A", RunStatus::kCompleted)).ok());
  ASSERT_TRUE(Create(NewRun("01B", RunStatus::kSuspended)).ok());
  RunRecord child = NewRun("01C", RunStatus::kRunning);
  child.parent_run = "01A";
  ASSERT_TRUE(Create(child).ok());
  RunFilter all;
  auto runs = store_->ListRuns(all);
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].id, "01C");
  EXPECT_EQ((*runs)[2].id, "01A");
  RunFilter suspended;
  suspended.status = RunStatus::kSuspended;
  EXPECT_EQ(store_->ListRuns(suspended)->size(), 1u);
  RunFilter kids;
  kids.parent_run = "01A";
  EXPECT_EQ(store_->ListRuns(kids)->front().id, "01C");
  RunFilter page;
  page.before_id = "01C";
  page.limit = 1;
  EXPECT_EQ(store_->ListRuns(page)->front().id, "01B");
}

TEST_P(StoreTest, ClaimsRunnableRunsUnderALease) {
  ASSERT_TRUE(Create(NewRun("01A", RunStatus::kRunning)).ok());
  ASSERT_TRUE(Create(NewRun("01B", RunStatus::kCompleted)).ok());
  RunRecord timer = NewRun("01C", RunStatus::kSuspended);
  timer.wake_at_ms = 5000;
  ASSERT_TRUE(Create(timer).ok());
  RunRecord waiting = NewRun("01D", RunStatus::kSuspended);
  ASSERT_TRUE(Create(waiting).ok());

  auto first = store_->ClaimRuns("remote-host/1", 1000, 60000, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u) << "only the running run; the timer is not due";
  EXPECT_EQ(first->front().id, "01A");
  EXPECT_EQ(store_->ClaimRuns("remote-host/2", 2000, 60000, 10)->size(), 0u) << "the lease is held";
  EXPECT_EQ(store_->ClaimRuns("remote-host/2", 70000, 60000, 10)->size(), 2u) << "lease lapsed, timer due";
  ASSERT_TRUE(store_->ReleaseRun("01A", "remote-host/2").ok());
  EXPECT_EQ(store_->ClaimRuns("remote-host/3", 70001, 60000, 10)->size(), 1u) << "released: only 01A";
}

TEST_P(StoreTest, LeasesFollowTheRecordAndRenew) {
  RunRecord r = NewRun("01A");
  r.lease_owner = "host/1";
  r.lease_until_ms = 2000;
  ASSERT_TRUE(Create(r).ok());
  EXPECT_EQ(store_->GetRun("01A")->lease_owner, "host/1");
  EXPECT_EQ(store_->ClaimRuns("host/2", 1000, 60000, 10)->size(), 0u) << "created under a lease";
  ASSERT_TRUE(store_->RenewLeases("host/1", 9000).ok());
  EXPECT_EQ(store_->GetRun("01A")->lease_until_ms, 9000);
  EXPECT_EQ(store_->ClaimRuns("host/2", 5000, 60000, 10)->size(), 0u) << "renewed";
  EXPECT_EQ(store_->ClaimRuns("host/2", 9000, 60000, 10)->size(), 1u) << "lapsed";
  // An update carries the lease it is given.
  RunRecord updated = *store_->GetRun("01A");
  updated.lease_owner.clear();
  updated.lease_until_ms = 0;
  Commit c;
  c.updates.push_back({RunUpdate::Kind::kUpdate, "01A", updated, {}, RunStatus::kRunning});
  ASSERT_TRUE(store_->CommitSync(std::move(c)).ok());
  EXPECT_EQ(store_->GetRun("01A")->lease_owner, "");
}

// A bounded claim takes new work before the runs the worker already holds
// (which it would only extend): a busy worker still picks up what waits.
TEST_P(StoreTest, ABoundedClaimTakesWaitingRunsBeforeTheWorkersOwn) {
  for (const char* id : {"01A", "01B", "01C"}) {
    RunRecord r = NewRun(id);
    r.lease_owner = "me/1";
    r.lease_until_ms = 90'000;
    ASSERT_TRUE(Create(r).ok());
  }
  ASSERT_TRUE(Create(NewRun("01Z")).ok());  // nobody's
  auto claimed = store_->ClaimRuns("me/1", 1000, 60000, 1);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().id, "01Z");
  EXPECT_EQ(store_->ClaimRuns("me/1", 1000, 60000, 10)->size(), 4u) << "then its own, extended";
}

// A worker paused past its lease (SIGSTOP, a long GC, a partition) must not
// commit for a run another worker has taken over since.
TEST_P(StoreTest, FencedUpdatesNeedTheLeaseTheyWereMadeUnder) {
  RunRecord r = NewRun("01F");
  r.lease_owner = "a/1";
  r.lease_until_ms = 2000;
  r.lease_epoch = 1;
  ASSERT_TRUE(Create(r).ok());
  const auto fenced = [&](const std::string& owner, int64_t epoch) {
    Commit c;
    RunUpdate& u = c.updates.emplace_back();
    u.kind = RunUpdate::Kind::kStepsOnly;
    u.run_id = "01F";
    u.steps.push_back(NewStep("0:" + owner, StepStatus::kCompleted));
    u.expect_status = RunStatus::kRunning;
    u.fence_owner = owner;
    u.fence_epoch = epoch;
    return store_->CommitSync(std::move(c));
  };
  EXPECT_TRUE(fenced("a/1", 1).ok());
  auto taken = store_->ClaimRuns("b/2", 5000, 60000, 10);
  ASSERT_TRUE(taken.ok() && taken->size() == 1u);
  EXPECT_EQ(taken->front().lease_epoch, 2) << "the lease passed to another owner";
  EXPECT_EQ(store_->GetRun("01F")->lease_epoch, 2);
  const Status late = fenced("a/1", 1);
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition) << late;
  EXPECT_NE(late.message().find("b/2 holds it"), std::string::npos) << late;
  EXPECT_TRUE(fenced("b/2", 2).ok());
  // Claiming its own lapsed lease again keeps the epoch: the run is still
  // the same worker's, and what it commits still applies.
  EXPECT_EQ(store_->ClaimRuns("b/2", 70000, 60000, 10)->front().lease_epoch, 2);
  EXPECT_TRUE(fenced("b/2", 2).ok());
  // Released, then claimed again: a new lease, a new epoch.
  ASSERT_TRUE(store_->ReleaseRun("01F", "b/2").ok());
  EXPECT_EQ(store_->ClaimRuns("b/2", 70001, 60000, 10)->front().lease_epoch, 3);
  EXPECT_EQ(fenced("b/2", 2).code(), StatusCode::kFailedPrecondition);
  auto steps = store_->GetSteps("01F");
  ASSERT_TRUE(steps.ok());
  std::vector<std::string> paths;
  for (const StepRecord& s : *steps) paths.push_back(s.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"0:a/1", "0:b/2", "0:b/2"}));
  // An update writes the epoch it carries (a resume taking the run over).
  RunRecord next = *store_->GetRun("01F");
  next.lease_epoch = 7;
  Commit c;
  c.updates.push_back({RunUpdate::Kind::kUpdate, "01F", next, {}, RunStatus::kRunning});
  ASSERT_TRUE(store_->CommitSync(std::move(c)).ok());
  EXPECT_EQ(store_->GetRun("01F")->lease_epoch, 7);
}

TEST_P(StoreTest, WaitForWorkWakesOnCommit) {
  EXPECT_FALSE(store_->WaitForWork(30)) << "nothing happened";
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)Create(NewRun("01W"));
  });
  EXPECT_TRUE(store_->WaitForWork(10000));
  committer.join();
}

TEST_P(StoreTest, SurvivesReopening) {
  if (!durable()) GTEST_SKIP() << "the memory store keeps nothing";
  ASSERT_TRUE(store_->PutWorkflow("wf", "text").ok());
  ASSERT_TRUE(Create(NewRun("01A"), {NewStep("0:a", StepStatus::kCompleted, Value("out"))}).ok());
  Reopen();
  EXPECT_EQ(store_->GetRun("01A")->status, RunStatus::kRunning);
  EXPECT_EQ(store_->GetSteps("01A")->at(0).output.as_string(), "out");
  EXPECT_EQ(store_->GetWorkflow("wf")->source, "text");
}

TEST(SqliteStore, RefusesADatabaseFromTheFuture) {
  fs::path dir = fs::temp_directory_path() / ("weft_future_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "weft.db").string();
  {
    SqliteOptions o;
    o.path = path;
    ASSERT_TRUE(OpenSqliteStore(o).ok());
  }
  ASSERT_EQ(std::system(("sqlite3 " + path +
                         " 'PRAGMA user_version = 999' 2>/dev/null || python3 -c \"import "
                         "sqlite3; c=sqlite3.connect('" +
                         path + "'); c.execute('PRAGMA user_version = 999'); c.commit()\"")
                            .c_str()),
            0);
  SqliteOptions o;
  o.path = path;
  auto s = OpenSqliteStore(o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer than this weft"), std::string::npos) << s.status();
  fs::remove_all(dir);
}

// A database file in a folder of its own, removed afterwards.
struct TempDb {
  explicit TempDb(const std::string& name)
      : dir(fs::temp_directory_path() / ("weft_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    options.path = (dir / "weft.db").string();
  }
  ~TempDb() { fs::remove_all(dir); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  fs::path dir;
  SqliteOptions options;
};

// What SQLite plans for a statement: one line per step ("SEARCH runs USING
// INDEX ...", "SCAN runs", ...).
std::vector<std::string> QueryPlan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::vector<std::string> plan;
  if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &s, nullptr) != SQLITE_OK) {
    plan.push_back(std::string("error: ") + sqlite3_errmsg(db));
  }
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    plan.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return plan;
}

// The statements run every second or every scrape reach the runs still in
// flight through a partial index: never a pass over every finished run,
// which grew with the table and held the write lock (lease renewal).
TEST(SqliteStore, PeriodicStatementsReadOnlyTheRunsInFlight) {
  TempDb db("plans");
  const SqliteOptions& o = db.options;
  {
    auto store = OpenSqliteStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 50; ++i) {
      RunRecord r;
      r.id = "01R" + std::to_string(1000 + i);
      r.workflow = "wf";
      r.status = i % 10 == 0 ? RunStatus::kRunning : RunStatus::kCompleted;
      r.lease_owner = i % 10 == 0 ? "worker" : "";
      Commit c;
      c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, {}, std::nullopt});
      ASSERT_TRUE((*store)->CommitSync(std::move(c)).ok());
    }
    ASSERT_TRUE((*store)->RenewLeases("worker", 123).ok());
    EXPECT_EQ((*store)->GetRun("01R1000")->lease_until_ms, 123);
    EXPECT_EQ((*store)->GetRun("01R1001")->lease_until_ms, 0);
  }
  const std::pair<const char*, const char*> expected[] = {
      {sqlite_queries::kClaimable, "runs_in_flight"},
      {sqlite_queries::kCountSuspended, "runs_in_flight"},
      {sqlite_queries::kRenewLeases, "runs_by_owner"},
  };
  for (const auto& [sql, index] : expected) {
    const std::vector<std::string> plan = QueryPlan(o.path, sql);
    bool searched = false;
    for (const std::string& line : plan) {
      EXPECT_EQ(line.find("SCAN runs"), std::string::npos) << sql << "\n" << line;
      searched = searched || line.find(std::string("SEARCH runs USING INDEX ") + index) == 0;
    }
    EXPECT_TRUE(searched) << sql << "\n" << (plan.empty() ? "" : plan[0]);
  }
}

// The write connection gathers a commit's WAL frames and writes them at
// once when SQLite syncs (sqlite_wal_gather.h). Another connection reading
// all along must only ever see whole records, a commit larger than the
// gathering buffer must land whole, and a reopened file must hold it all.
TEST(SqliteStore, GatheredWalWritesAreWholeForReadersAndAfterReopening) {
  TempDb temp("gather");
  const SqliteOptions& o = temp.options;
  auto input_of = [](int i) {
    Value v = Value::MakeObject();
    v.set("n", i);
    v.set("text", std::string(static_cast<size_t>(100 + (i * 37) % 3000), static_cast<char>('a' + i % 26)));
    return v;
  };
  auto new_run = [](const std::string& id) {
    RunRecord r;
    r.id = id;
    r.workflow = "wf";
    r.status = RunStatus::kCompleted;
    return r;
  };
  constexpr int kRuns = 400;
  {
    auto store = OpenSqliteStore(o);
    ASSERT_TRUE(store.ok()) << store.status();
    std::atomic<bool> done{false};
    std::atomic<int> checked{0};
    std::thread reader([&] {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open_v2(o.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
      sqlite3_busy_timeout(db, 5000);
      while (!done) {
        sqlite3_stmt* s = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, input FROM runs WHERE id <> '01GBIG'", -1, &s, nullptr),
                  SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
          Result<Value> input = ParseJson(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
          ASSERT_TRUE(input.ok()) << input.status();
          const int n = static_cast<int>(input->get("n").as_number());
          ASSERT_EQ(*input, input_of(n));
          checked.fetch_add(1);
        }
        sqlite3_finalize(s);
      }
      sqlite3_close(db);
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = w; i < kRuns; i += 4) {
          RunRecord r = new_run("01G" + std::to_string(10000 + i));
          r.input = input_of(i);
          Commit c;
          c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, {}, std::nullopt});
          const Status st = (*store)->CommitSync(std::move(c));
          ASSERT_TRUE(st.ok()) << st;
        }
      });
    }
    for (std::thread& t : writers) t.join();
    // One commit larger than what is gathered before writing (1 MiB), and
    // than the default VFS writes at once (128 KiB).
    RunRecord big = new_run("01GBIG");
    big.input = Value(std::string(size_t{9} << 20, 'z'));
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, big.id, big, {}, std::nullopt});
    const Status big_stored = (*store)->CommitSync(std::move(c));
    done = true;
    reader.join();
    ASSERT_TRUE(big_stored.ok()) << big_stored;
    EXPECT_GT(checked.load(), 0);
  }
  auto reopened = OpenSqliteStore(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  for (int i = 0; i < kRuns; ++i) {
    Result<RunRecord> r = (*reopened)->GetRun("01G" + std::to_string(10000 + i));
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    EXPECT_EQ(r->input, input_of(i));
  }
  EXPECT_EQ((*reopened)->GetRun("01GBIG")->input.as_string().size(), size_t{9} << 20);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(o.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

// SQLite's memory statistics take a process-wide mutex on every
// allocation; the store turns them off before SQLite is first used (a
// lookup of the gathering VFS once came first and left them on).
TEST(SqliteStore, SqliteKeepsNoMemoryStatistics) {
  TempDb db("memstat");
  auto store = OpenSqliteStore(db.options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutWorkflow("wf", "text").ok());
  sqlite3_int64 used = -1;
  sqlite3_int64 high = -1;
  ASSERT_EQ(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &high, 0), SQLITE_OK);
  EXPECT_EQ(used, 0) << "SQLite counts its allocations (memory statistics are on)";
}

TEST(SqliteStore, WaitForWorkSeesOtherConnections) {
  fs::path dir = fs::temp_directory_path() / ("weft_wake_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  SqliteOptions o;
  o.path = (dir / "weft.db").string();
  auto a = OpenSqliteStore(o);
  auto b = OpenSqliteStore(o);  // another worker on the same file
  ASSERT_TRUE(a.ok() && b.ok());
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    RunRecord r;
    r.id = "01X";
    r.workflow = "wf";
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, {}, std::nullopt});
    (void)(*b)->CommitSync(std::move(c));
  });
  EXPECT_TRUE((*a)->WaitForWork(10000));
  committer.join();
  fs::remove_all(dir);
}

// Several processes opening a new database at once (`weft run --db x.db &`
// six times): every one migrates it or finds it migrated. Before, some
// failed with "table workflows already exists".
TEST(SqliteStore, ProcessesOpeningANewDatabaseAtOnceAllSucceed) {
  for (int round = 0; round < 5; ++round) {
    fs::path dir = fs::temp_directory_path() / ("weft_race_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = (dir / "weft.db").string();
    OpenFromSixProcessesAtOnce([&] {
      SqliteOptions o;
      o.path = path;
      return OpenSqliteStore(o);
    });
    SqliteOptions o;
    o.path = path;
    EXPECT_TRUE(OpenSqliteStore(o).ok());
    fs::remove_all(dir);
  }
}

// What only several processes on one PostgreSQL can do. Each test has its
// schema; the stores stand for processes (their connections are separate).
class PostgresShared : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PostgresUrl().empty()) GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
    schema_ = TestSchema();
    DropSchema(schema_);
  }
  void TearDown() override {
    if (!schema_.empty()) DropSchema(schema_);
  }
  std::unique_ptr<Store> Open() {
    auto s = OpenTestPostgres(schema_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static Status CreateRunning(Store& store, const std::string& id) {
    RunRecord r;
    r.id = id;
    r.workflow = "wf";
    r.version = 1;
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, id, r, {}, std::nullopt});
    return store.CommitSync(std::move(c));
  }
  std::string schema_;
};

TEST_F(PostgresShared, ConcurrentClaimsNeverHandTheSameRunToTwoWorkers) {
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 200; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "R%04d", i);
    ASSERT_TRUE(CreateRunning(*a, id).ok());
  }
  std::vector<std::string> got_a, got_b;
  const auto claim = [](Store& store, const std::string& owner, std::vector<std::string>& got) {
    for (int round = 0; round < 100; ++round) {
      auto runs = store.ClaimRuns(owner, 1000, 60000, 7);
      ASSERT_TRUE(runs.ok()) << runs.status();
      for (const RunRecord& r : *runs) {
        EXPECT_EQ(r.lease_owner, owner);
        EXPECT_EQ(r.lease_epoch, 1) << "claimed once from nobody, then re-claimed by the same worker";
        got.push_back(r.id);
      }
    }
  };
  std::thread ta([&] { claim(*a, "host-a/1", got_a); });
  std::thread tb([&] { claim(*b, "host-b/1", got_b); });
  ta.join();
  tb.join();
  // A worker re-claiming its own live leases is allowed (it extends them);
  // the same run in both is not.
  const std::set<std::string> of_a(got_a.begin(), got_a.end());
  const std::set<std::string> of_b(got_b.begin(), got_b.end());
  for (const std::string& id : of_b) EXPECT_EQ(of_a.count(id), 0u) << id << " was claimed by both";
  EXPECT_EQ(of_a.size() + of_b.size(), 200u);
  EXPECT_GT(got_a.size(), 0u);
  EXPECT_GT(got_b.size(), 0u);
}

TEST_F(PostgresShared, ReleasedWorkWakesAnotherProcess) {
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(CreateRunning(*a, "R1").ok());
  ASSERT_EQ(a->ClaimRuns("host-a/1", 1000, 60000, 10)->size(), 1u);
  EXPECT_FALSE(b->WaitForWork(50)) << "nothing for b yet";
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(a->ReleaseRun("R1", "host-a/1").ok());
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(b->WaitForWork(10000)) << "NOTIFY reaches the other process";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  release.join();
  auto taken = b->ClaimRuns("host-b/1", 2000, 60000, 10);
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ(taken->front().lease_epoch, 2);
}

TEST_F(PostgresShared, ProcessesOpeningANewDatabaseAtOnceAllSucceed) {
  OpenFromSixProcessesAtOnce([&] { return OpenTestPostgres(schema_); });
  EXPECT_TRUE(Open() != nullptr);
}

TEST_F(PostgresShared, RefusesADatabaseFromTheFutureAndABadUrl) {
  ASSERT_TRUE(Open() != nullptr);
  const std::string command =
      "psql -q -d '" + PostgresUrl() + "' -c 'UPDATE " + schema_ + ".weft_schema SET version = 999' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto s = OpenTestPostgres(schema_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer than this weft"), std::string::npos) << s.status();
  PostgresOptions o;
  o.url = "postgresql://127.0.0.1:1/nothing";
  o.connect_timeout_s = 2;
  auto refused = OpenPostgresStore(o);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("cannot connect"), std::string::npos) << refused.status();
  o.url = "/var/lib/weft.db";
  EXPECT_EQ(OpenPostgresStore(o).status().code(), StatusCode::kInvalidArgument);
}

// `weft migrate --to`: everything an SQLite database holds, read back
// through the PostgreSQL store the same.
TEST_F(PostgresShared, CopiesAnSqliteDatabaseWhole) {
  const fs::path dir = fs::temp_directory_path() / ("weft_copy_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "weft.db").string();
  {
    SqliteOptions o;
    o.path = path;
    auto from = OpenSqliteStore(o);
    ASSERT_TRUE(from.ok()) << from.status();
    Store& s = **from;
    ASSERT_EQ(*s.PutWorkflow("wf", "flow: [a]"), 1);
    ASSERT_EQ(*s.PutWorkflow("wf", "flow: [b]"), 2);
    RunRecord r;
    r.id = "01A";
    r.workflow = "wf";
    r.version = 2;
    r.status = RunStatus::kSuspended;
    r.input = *ParseJson(R"({"x":[1,2.5,"three"]})");
    r.wait = *ParseJson(R"({"kind":"approval","path":"1:ok"})");
    r.seed = 0xfeedbeefcafe1234ULL;
    r.start_key = "webhook:wf:1";
    r.lease_epoch = 3;
    StepRecord step;
    step.path = "0:a";
    step.action = "set";
    step.output = Value("done");
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, {step, step}, std::nullopt});
    ASSERT_TRUE(s.CommitSync(std::move(c)).ok());
    MessageRecord m;
    m.conversation = "c1";
    m.run_id = "01A";
    m.key = "k1";
    m.role = "assistant";
    m.kind = "text";
    m.content = *ParseJson(R"({"text":"hello"})");
    ASSERT_TRUE(s.AppendMessage(m).ok());
    ASSERT_TRUE(s.AddSpend({"usage:2026-12-01:wf:gpt"}, Spend{0.125, 10, 5, 1}).ok());
    ASSERT_TRUE(s.PutState("schedule:wf:0", "1700000000000").ok());
    ASSERT_TRUE(s.PutUser({"ada", "admin", "$argon2id$x", {"billing-*"}, 1, 2}, false).ok());
    ASSERT_TRUE(s.PutSession({"tok", "ada", "csrf", 1, 4'000'000'000'000}).ok());
    ASSERT_TRUE(s.PutSecret({"API", "sealed==", 3}).ok());
    ASSERT_TRUE(s.PutMemory("c1", *ParseJson(R"({"facts":{"plan":"pro"}})")).ok());
    ASSERT_TRUE(s.AppendAudit({0, 5, "cli", "deploy", "wf", "{}", "", ""}).ok());
    ASSERT_TRUE(s.AppendAudit({0, 6, "user:ada", "login", "ada", "{}", "", ""}).ok());
  }
  PostgresOptions to;
  to.url = PostgresUrl();
  to.schema = schema_;
  auto report = CopySqliteToPostgres(path, to);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows.size(), 13u);
  std::unique_ptr<Store> pg = Open();
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg->GetWorkflow("wf", 0)->source, "flow: [b]");
  EXPECT_EQ(pg->ListWorkflows()->size(), 2u);
  RunRecord run = *pg->GetRun("01A");
  EXPECT_EQ(run.status, RunStatus::kSuspended);
  EXPECT_EQ(ToJson(run.input), R"({"x":[1,2.5,"three"]})");
  EXPECT_EQ(run.seed, 0xfeedbeefcafe1234ULL);
  EXPECT_EQ(run.lease_epoch, 3);
  EXPECT_EQ(pg->GetRunByStartKey("webhook:wf:1")->id, "01A");
  auto steps = pg->GetSteps("01A");
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_LT((*steps)[0].seq, (*steps)[1].seq);
  EXPECT_EQ(pg->ListMessages({.conversation = "c1"})->at(0).content.get("text"), Value("hello"));
  EXPECT_DOUBLE_EQ(pg->GetSpend("usage:2026-12-01:wf:gpt")->cost, 0.125);
  EXPECT_EQ(pg->GetState("schedule:wf:0")->value_or(""), "1700000000000");
  EXPECT_EQ(pg->GetUser("ada")->workflows, std::vector<std::string>{"billing-*"});
  EXPECT_EQ(pg->GetSession("tok", 10)->user, "ada");
  EXPECT_EQ(pg->GetSecret("API")->sealed, "sealed==");
  EXPECT_EQ(pg->GetMemory("c1")->get("facts").get("plan"), Value("pro"));
  // The audit chain is the same chain: a new entry links to the copied ones.
  auto audit = *pg->ListAudit(0, 10);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].prev_hash, audit[0].hash);
  EXPECT_EQ(audit[1].hash, AuditHash(audit[1]));
  EXPECT_EQ(pg->AppendAudit({0, 7, "cli", "migrate", "", "{}", "", ""})->prev_hash, audit[1].hash);
  // New history numbers on from the copied history.
  Commit more;
  more.updates.push_back({RunUpdate::Kind::kStepsOnly, "01A", {}, {StepRecord{}}, std::nullopt});
  ASSERT_TRUE(pg->CommitSync(std::move(more)).ok());
  EXPECT_GT(pg->GetSteps("01A")->back().seq, (*steps)[1].seq);

  // Into a database that holds weft data already: refused, nothing added.
  auto again = CopySqliteToPostgres(path, to);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition) << again.status();
  EXPECT_EQ(pg->ListWorkflows()->size(), 2u);
  fs::remove_all(dir);
}

TEST_F(PostgresShared, WillNotCopyADatabaseALiveWeftWorksOn) {
  const fs::path dir = fs::temp_directory_path() / ("weft_copy_live_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "weft.db").string();
  {
    SqliteOptions o;
    o.path = path;
    auto from = OpenSqliteStore(o);
    ASSERT_TRUE(from.ok());
    RunRecord r;
    r.id = "01L";
    r.workflow = "wf";
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    r.lease_owner = std::string(host) + "/" + std::to_string(::getpid());  // this process: alive
    r.lease_until_ms = 9'000'000'000'000;
    Commit c;
    c.updates.push_back({RunUpdate::Kind::kCreate, r.id, r, {}, std::nullopt});
    ASSERT_TRUE((*from)->CommitSync(std::move(c)).ok());
  }
  PostgresOptions to;
  to.url = PostgresUrl();
  to.schema = schema_;
  auto refused = CopySqliteToPostgres(path, to);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("stop weft before migrating"), std::string::npos) << refused.status();
  fs::remove_all(dir);
}

TEST(SqliteStore, NeedsAFile) {
  SqliteOptions o;
  o.path = ":memory:";
  EXPECT_EQ(OpenSqliteStore(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(MemoryStore, InjectedCommitFailure) {
  auto store = NewMemoryStore();
  FailNthCommit(*store, 2);
  RunRecord r;
  r.id = "a";
  Commit c1;
  c1.updates.push_back({RunUpdate::Kind::kCreate, "a", r, {}, std::nullopt});
  EXPECT_TRUE(store->CommitSync(std::move(c1)).ok());
  Commit c2;
  c2.updates.push_back({RunUpdate::Kind::kStepsOnly, "a", {}, {StepRecord{}}, std::nullopt});
  EXPECT_EQ(store->CommitSync(std::move(c2)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->GetSteps("a")->size(), 0u);
}

// Records are stamped by the clock the store is given, as everything else
// in weft is (a simulated clock makes them deterministic).
TEST_P(StoreTest, StampsRecordsWithItsClock) {
  clock_.SetMillis(1'800'000'000'000);
  ASSERT_TRUE(store_->PutWorkflow("stamped", "flow: []", 0).ok());
  EXPECT_EQ(store_->GetWorkflow("stamped", 0)->created_ms, 1'800'000'000'000);
  RunRecord unstamped = NewRun("01T");
  unstamped.created_ms = 0;  // the store's clock says when
  ASSERT_TRUE(Create(unstamped).ok());
  EXPECT_EQ(store_->GetRun("01T")->created_ms, 1'800'000'000'000);
  EXPECT_EQ(store_->GetRun("01T")->updated_ms, 1'800'000'000'000);
  ASSERT_TRUE(Create(NewRun("01S")).ok());
  EXPECT_EQ(store_->GetRun("01S")->created_ms, 1000);               // when the engine says it started
  EXPECT_EQ(store_->GetRun("01S")->updated_ms, 1'800'000'000'000);  // when it was stored
  // A run stored as it ended (a webhook's pure run: one commit) took from
  // its start to that commit.
  ASSERT_TRUE(Create(NewRun("01E", RunStatus::kCompleted)).ok());
  EXPECT_EQ(store_->GetRun("01E")->created_ms, 1000);
  EXPECT_EQ(store_->GetRun("01E")->updated_ms, 1'800'000'000'000);
  clock_.AdvanceMillis(5000);
  RunRecord done = NewRun("01S", RunStatus::kCompleted);
  Commit c;
  c.updates.push_back({RunUpdate::Kind::kUpdate, "01S", done, {}, RunStatus::kRunning});
  ASSERT_TRUE(store_->CommitSync(std::move(c)).ok());
  EXPECT_EQ(store_->GetRun("01S")->updated_ms, 1'800'000'005'000);
  EXPECT_EQ(store_->GetRun("01S")->created_ms, 1000);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace weft::store

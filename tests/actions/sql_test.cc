// The sql action against real databases: an SQLite file always, and
// PostgreSQL when WEFT_TEST_POSTGRES names one (CI starts a server).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "run_workflow.h"
#include "weft/actions/builtin.h"
#include "weft/actions/sql.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

struct Backend {
  std::string name;
  Value config;
  std::string placeholder;  // "?" or "$"
  std::string slow_query;   // runs for an hour or more
  std::string id_column;    // an auto-assigned key
  std::string setup;        // run once before each test ("" for none)
  std::string teardown;     // and after it
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

std::vector<Backend> Backends() {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("weft_sql_" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  std::vector<Backend> out;
  Value sqlite = Value::MakeObject();
  sqlite.set("driver", "sqlite");
  sqlite.set("path", path);
  out.push_back({"sqlite", sqlite, "?",
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
                 "id INTEGER PRIMARY KEY"});
  if (const char* url = std::getenv("WEFT_TEST_POSTGRES"); url != nullptr && *url != '\0') {
    // A schema for this process: ctest runs test processes in parallel, and
    // they would otherwise drop and create the same table under each other.
    const std::string schema = "weft_test_" + std::to_string(::getpid());
    std::string u = url;
    u += (u.find('?') == std::string::npos ? "?" : "&") + std::string("options=-csearch_path%3D") + schema;
    Value pg = Value::MakeObject();
    pg.set("driver", "postgres");
    pg.set("url", u);
    out.push_back({"postgres", pg, "$", "SELECT pg_sleep(3600)", "id SERIAL PRIMARY KEY",
                   "CREATE SCHEMA IF NOT EXISTS " + schema, "DROP SCHEMA IF EXISTS " + schema + " CASCADE"});
  }
  return out;
}

class SqlTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    // One worker: a query stuck on it would hold up the next.
    auto conn = OpenSqlConnection("crm", GetParam().config, 1);
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(RegisterSqlAction(registry_, {{"crm", *conn}}).ok());
    store_ = store::NewMemoryStore();
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
    // A fresh table for each test.
    if (!GetParam().setup.empty()) Exec("write", GetParam().setup, "[]");
    Exec("write", "DROP TABLE IF EXISTS accounts", "[]");
    Exec("write", "CREATE TABLE accounts (" + GetParam().id_column + ", email TEXT NOT NULL, plan TEXT, credit REAL)",
         "[]");
  }
  void TearDown() override {
    if (!GetParam().teardown.empty() && engine_ != nullptr) Exec("write", GetParam().teardown, "[]");
  }
  // $1 or ?1 as the backend writes it.
  std::string P(int i) const { return GetParam().placeholder + std::to_string(i); }

  store::RunRecord Exec(const std::string& grant, const std::string& query, const std::string& params_json,
                        const std::string& settings = "{}") {
    const std::string yaml = "workflow: { name: q }\npermissions: { sql: { crm: " + grant +
                             " } }\n"
                             "defs:\n  q: { kind: task, action: sql, inputs: { connection: crm, query: \"=$input.q\", "
                             "params: \"=$input.p\" }, settings: " +
                             settings + " }\nflow:\n  - do: q\noutputs: { r: \"=$output.q\" }\n";
    Value input = Value::MakeObject();
    input.set("q", query);
    input.set("p", *ParseJson(params_json));
    return RunWorkflow(*engine_, registry_, yaml, input);
  }

  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_P(SqlTest, WritesWithAGrantAndReadsRowsAsJson) {
  auto run =
      Exec("write", "INSERT INTO accounts (email, plan, credit) VALUES (" + P(1) + ", " + P(2) + ", " + P(3) + ")",
           R"(["ada@example.com","pro",12.5])");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("r").get("changes"), Value(1));
  ASSERT_EQ(
      Exec("write", "INSERT INTO accounts (email, plan) VALUES (" + P(1) + ", NULL)", R"(["bob@example.com"])").status,
      store::RunStatus::kCompleted);

  run = Exec("read", "SELECT email, plan, credit FROM accounts WHERE email = " + P(1), R"(["ada@example.com"])");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs.get("r").get("rows")), R"([{"email":"ada@example.com","plan":"pro","credit":12.5}])");
  EXPECT_EQ(ToJson(run.outputs.get("r").get("columns")), R"(["email","plan","credit"])");

  // A value is a value, never SQL.
  run = Exec("read", "SELECT count(*) AS n FROM accounts WHERE email = " + P(1), R"(["x' OR '1'='1"])");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("r").get("rows").as_array()[0].get("n"), Value(0));

  run = Exec("read", "SELECT email FROM accounts ORDER BY email", "[]", "{ max_rows: 1 }");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("r").get("row_count"), Value(1));
  EXPECT_EQ(run.outputs.get("r").get("truncated"), Value(true));
}

TEST_P(SqlTest, HugeNumbersAreValuesAndLimits) {
  // Beyond int64: bound as a float, never cast (undefined behaviour, which
  // the sanitizer build turns into a crash). Limits saturate.
  auto run = Exec("write", "INSERT INTO accounts (email, credit) VALUES (" + P(1) + ", " + P(2) + ")",
                  R"(["big@example.com", 1e30])");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  run = Exec("read", "SELECT credit FROM accounts", "[]", "{ max_rows: 1e300, max_millis: 1e300 }");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_GT(run.outputs.get("r").get("rows").as_array()[0].get("credit").as_number(), 9.9e29);
}

TEST_P(SqlTest, ReadGrantRefusesWritesAndNothingChanges) {
  ASSERT_EQ(Exec("write", "INSERT INTO accounts (email) VALUES ('ada@example.com')", "[]").status,
            store::RunStatus::kCompleted);
  for (const std::string& q :
       {std::string("DELETE FROM accounts"), std::string("UPDATE accounts SET plan = 'free'"),
        std::string("WITH x AS (SELECT 1) DELETE FROM accounts"), std::string("DROP TABLE accounts")}) {
    auto run = Exec("read", q, "[]");
    ASSERT_EQ(run.status, store::RunStatus::kFailed) << q;
    EXPECT_EQ(run.error_code, "PERMISSION_DENIED") << q << ": " << run.error;
  }
  auto run = Exec("read", "SELECT count(*) AS n, max(plan) AS plan FROM accounts", "[]");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("r").get("rows").as_array()[0].get("n"), Value(1));
  EXPECT_TRUE(run.outputs.get("r").get("rows").as_array()[0].get("plan").is_null());
}

TEST_P(SqlTest, BadQueriesFailClearly) {
  auto run = Exec("write", "SELECT 1; DELETE FROM accounts", "[]");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("connection 'crm'"), std::string::npos) << run.error;
  run = Exec("read", "SELEC 1", "[]");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "INVALID_ARGUMENT") << run.error;
  EXPECT_NE(run.error.find("syntax error"), std::string::npos) << run.error;
  run = Exec("read", GetParam().slow_query, "[]", "{ max_millis: 200 }");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "DEADLINE_EXCEEDED") << run.error;
}

TEST_P(SqlTest, AStepTimeoutStopsTheQueryUnderWay) {
  // The query has an hour of its own; only the step's timeout can stop it,
  // and the next query on the connection's one worker runs only once it has.
  auto run = Exec("read", GetParam().slow_query, "[]", "{ max_millis: 3600000, timeout_ms: 300 }");
  ASSERT_EQ(run.status, store::RunStatus::kFailed) << run.error;
  EXPECT_EQ(run.error_code, "DEADLINE_EXCEEDED") << run.error;
  run = Exec("read", "SELECT count(*) AS n FROM accounts", "[]");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("r").get("rows").as_array()[0].get("n"), Value(0));
}

TEST_P(SqlTest, CancellingTheRunStopsTheQueryUnderWay) {
  const std::string yaml =
      "workflow: { name: slow }\npermissions: { sql: { crm: read } }\n"
      "defs:\n  q: { kind: task, action: sql, inputs: { connection: crm, query: \"" +
      GetParam().slow_query + "\" }, settings: { max_millis: 3600000 } }\nflow:\n  - do: q\n";
  auto wf = dsl::LoadWorkflow(yaml, "slow.yaml", registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  const std::string id = *engine_->Start("slow", *engine_->Deploy(*wf), Value::MakeObject());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // most likely under way (either way it must stop)
  ASSERT_TRUE(engine_->Cancel(id).ok());
  auto run = engine_->Wait(id, std::chrono::seconds(60));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->status, store::RunStatus::kCancelled);
  // The connection's one worker is free again.
  auto next = Exec("read", "SELECT count(*) AS n FROM accounts", "[]");
  ASSERT_EQ(next.status, store::RunStatus::kCompleted) << next.error;
}

TEST_P(SqlTest, LoaderChecksGrantsOfLiteralQueries) {
  auto load = [&](const std::string& permissions, const std::string& query) {
    return dsl::LoadWorkflow("workflow: { name: l }\n" + permissions +
                                 "\ndefs:\n  q: { kind: task, action: sql, inputs: { connection: crm, query: \"" +
                                 query + "\" } }\nflow:\n  - do: q\n",
                             "l.yaml", registry_);
  };
  EXPECT_TRUE(load("permissions: { sql: { crm: read } }", "SELECT 1").ok());
  auto r = load("permissions: { sql: { crm: read } }", "DELETE FROM accounts");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("grants only read on 'crm'"), std::string::npos) << r.status();
  r = load("permissions: { sql: { other: write } }", "SELECT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("connection 'crm' is not in the workflow's permissions.sql"), std::string::npos)
      << r.status();
  r = load("", "SELECT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs the 'sql' permission"), std::string::npos) << r.status();
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& i) { return i.param.name; });

TEST(SqlConfig, NamesWhatIsWrong) {
  EXPECT_NE(OpenSqlConnection("crm", *ParseJson(R"({"driver":"mysql"})")).status().message().find("unknown driver"),
            std::string::npos);
  EXPECT_NE(OpenSqlConnection("crm", *ParseJson(R"({"driver":"sqlite"})")).status().message().find("needs a path"),
            std::string::npos);
  EXPECT_NE(OpenSqlConnection("crm", *ParseJson(R"({})")).status().message().find("needs a driver"), std::string::npos);
}

}  // namespace
}  // namespace weft::actions

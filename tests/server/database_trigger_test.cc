// Database-change triggers through the real server: an SQLite outbox
// polled after a cursor (each row one run, exactly once, also across a
// restart that lost the cursor's last move), and PostgreSQL LISTEN and a
// PostgreSQL outbox against Debian's server when WEFT_TEST_POSTGRES names
// one (CI starts it).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "server_fixture.h"
#include "sqlite_query.h"

namespace weft::server {
namespace {

class DatabaseTriggerTest : public ServerTest {
 protected:
  // Waits for `n` runs of `workflow` to be stored and to have stopped
  // executing (a run is listed a moment before its execution starts, which
  // Drain alone would not see).
  size_t WaitForRuns(const std::string& workflow, size_t n) {
    const auto settled = [&] {
      std::vector<store::RunRecord> runs = Runs(workflow);
      return runs.size() >= n && std::all_of(runs.begin(), runs.end(), [](const store::RunRecord& r) {
               return r.status != store::RunStatus::kRunning;
             });
    };
    for (int i = 0; i < 400 && !settled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    runtime_->engine().Drain();
    return RunCount(workflow);
  }

  std::vector<store::RunRecord> Runs(const std::string& workflow) {
    store::RunFilter f;
    f.workflow = workflow;
    f.limit = 1000;
    return runtime_->store().ListRuns(f).value();
  }
};

const char* const kOutboxFlow = R"yaml(name: outbox
trigger:
  database: { connection: shop, table: outbox, cursor: id, interval_ms: 20 }
defs:
  note: { kind: task, action: set, inputs: { kind: "=$input.kind", amount: "=$input.amount" } }
flow: [ { do: note } ]
outputs:
  kind: "=$output.note.kind"
)yaml";

TEST_F(DatabaseTriggerTest, EachOutboxRowStartsOneRunAcrossRestarts) {
  const std::string shop = (dir_ / "shop.db").string();
  ASSERT_EQ(testing::ExecSql(shop,
                             "CREATE TABLE outbox (id INTEGER PRIMARY KEY, kind TEXT, amount REAL);"
                             "INSERT INTO outbox (kind, amount) VALUES ('refund', 10), ('order', 20), "
                             "('order', 30);"),
            "");
  config_ = "connections:\n  shop: { driver: sqlite, path: " + shop + " }\n";
  Write("outbox.yaml", kOutboxFlow);
  Open();
  ASSERT_EQ(WaitForRuns("outbox", 3), 3u);
  ASSERT_EQ(testing::ExecSql(shop, "INSERT INTO outbox (kind, amount) VALUES ('order', 40), ('refund', 50);"), "");
  ASSERT_EQ(WaitForRuns("outbox", 5), 5u);
  std::set<std::string> kinds_by_cursor;
  for (const store::RunRecord& r : Runs("outbox")) {
    EXPECT_EQ(r.trigger, "database");
    EXPECT_EQ(r.status, store::RunStatus::kCompleted);
    const int64_t cursor = static_cast<int64_t>(r.context.get("database").get("cursor").as_number());
    kinds_by_cursor.insert(std::to_string(cursor) + ":" + r.outputs.get("kind").as_string());
  }
  EXPECT_EQ(kinds_by_cursor, (std::set<std::string>{"1:refund", "2:order", "3:order", "4:order", "5:refund"}));
  // A crash after the runs were committed but before the cursor moved:
  // the restarted server finds the runs by their start keys and only moves
  // the cursor.
  server_.reset();
  ASSERT_TRUE(runtime_->store().PutState("db:outbox:0:outbox.id", "2").ok());
  Open();
  ASSERT_EQ(testing::ExecSql(shop, "INSERT INTO outbox (kind, amount) VALUES ('order', 60);"), "");
  ASSERT_EQ(WaitForRuns("outbox", 6), 6u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(RunCount("outbox"), 6u);
  EXPECT_EQ(runtime_->store().GetState("db:outbox:0:outbox.id")->value_or(""), "6");
}

TEST_F(DatabaseTriggerTest, AMissingTableIsReportedAndNothingStarts) {
  const std::string shop = (dir_ / "empty.db").string();
  ASSERT_EQ(testing::ExecSql(shop, "CREATE TABLE other (id INTEGER);"), "");
  config_ = "connections:\n  shop: { driver: sqlite, path: " + shop + " }\n";
  Write("outbox.yaml", kOutboxFlow);
  Open();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(RunCount("outbox"), 0u);
  EXPECT_FALSE(runtime_->store().GetState("db:outbox:0:outbox.id")->has_value());
}

// Runs SQL on the test's PostgreSQL; "" or the error.
std::string PgExec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return error;
}

TEST_F(DatabaseTriggerTest, PostgresNotificationsAndOutboxStartRuns) {
  const char* url = std::getenv("WEFT_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
  ASSERT_EQ(PgExec(url,
                   "DROP TABLE IF EXISTS weft_outbox; CREATE TABLE weft_outbox (seq BIGSERIAL PRIMARY KEY, "
                   "kind TEXT); INSERT INTO weft_outbox (kind) VALUES ('a'), ('b');"),
            "");
  config_ = std::string("connections:\n  pg: { driver: postgres, url: \"") + url + "\" }\n";
  Write("listen.yaml", R"yaml(name: listen
trigger:
  database: { connection: pg, channel: weft_orders }
defs:
  note: { kind: task, action: set, inputs: { total: "=$input.total" } }
flow: [ { do: note } ]
)yaml");
  Write("pgoutbox.yaml", R"yaml(name: pgoutbox
trigger:
  database: { connection: pg, table: weft_outbox, cursor: seq, interval_ms: 20 }
defs:
  note: { kind: task, action: set, inputs: { kind: "=$input.kind" } }
flow: [ { do: note } ]
)yaml");
  Open();
  ASSERT_EQ(WaitForRuns("pgoutbox", 2), 2u);
  ASSERT_EQ(PgExec(url, "INSERT INTO weft_outbox (kind) VALUES ('c')"), "");
  ASSERT_EQ(WaitForRuns("pgoutbox", 3), 3u);
  // The listener connects in the background: notify until it hears.
  for (int i = 0; i < 100 && RunCount("listen") == 0; ++i) {
    ASSERT_EQ(PgExec(url, R"(SELECT pg_notify('weft_orders', '{"id": 7, "total": 12}'))"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(WaitForRuns("listen", 1), 1u);
  // The same id again starts nothing; another id starts one more.
  ASSERT_EQ(PgExec(url, R"(SELECT pg_notify('weft_orders', '{"id": 7, "total": 12}'))"), "");
  ASSERT_EQ(PgExec(url, R"(SELECT pg_notify('weft_orders', '{"id": 8, "total": 30}'))"), "");
  ASSERT_EQ(WaitForRuns("listen", 2), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(RunCount("listen"), 2u);
  double total = 0;
  for (const store::RunRecord& r : Runs("listen")) total += r.input.get("total").as_number();
  EXPECT_EQ(total, 42);
  EXPECT_EQ(PgExec(url, "DROP TABLE weft_outbox"), "");
}

}  // namespace
}  // namespace weft::server

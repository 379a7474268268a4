// Four `weft serve` processes on one PostgreSQL, under chaos: webhooks start
// runs on any of them while processes are SIGKILLed (and restarted) and
// SIGSTOPped past their leases (and continued). Every run has two side
// effects on a loopback sink that deduplicates by idempotency key, as a
// payment API does. Afterwards: every answered webhook has exactly one run,
// every run completed, no step was recorded completed twice, every side
// effect took effect exactly once, and no schedule slot started two runs.
//
// Short by default (CI); WEFT_CHAOS_RUNS=2000 WEFT_CHAOS_SECONDS=60 is the
// long form. Needs WEFT_TEST_POSTGRES.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_http_server.h"
#include "http_test_client.h"

namespace {

namespace fs = std::filesystem;
using weft::testing::FakeHttpServer;
using weft::testing::FakeRequest;
using weft::testing::FakeResponse;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The side effects' receiver: applies each idempotency key once, counts
// every delivery.
class Sink {
 public:
  Sink()
      : server_([this](const FakeRequest& r) {
          std::lock_guard<std::mutex> lock(mu_);
          const std::string key = r.target + " " + r.header("Idempotency-Key");
          ++deliveries_[key];
          FakeResponse answer = FakeResponse::Json(R"({"ok":true})");
          // A slow API: kills and pauses land while calls are under way.
          answer.delay_ms = r.target == "/charge" ? 150 : 0;
          return answer;
        }) {}
  int port() const { return server_.port(); }
  std::map<std::string, int> deliveries() {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> deliveries_;
  FakeHttpServer server_;
};

class Database {
 public:
  explicit Database(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~Database() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::vector<std::vector<std::string>> rows;
    EXPECT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
        << sql << ": " << PQresultErrorMessage(r);
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      row.reserve(static_cast<size_t>(PQnfields(r)));
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  std::string One(const std::string& sql) {
    auto rows = Query(sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }

 private:
  PGconn* conn_;
};

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

bool WaitHealthy(int port) {
  for (int i = 0; i < 400; ++i) {
    if (weft::testing::HttpCall(port, "GET", "/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

int FreePort() {
  FakeHttpServer probe([](const FakeRequest&) { return FakeResponse(); });
  return probe.port();  // free again once the probe is gone
}

const char* const kOrders = R"yaml(name: orders
trigger:
  webhook:
    path: orders
    respond: accepted
    idempotency: { key: "=$input.id" }
permissions: { network: { hosts: ["127.0.0.1:SINK_PORT"], private: true } }
inputs:
  schema:
    id: { type: string, required: true }
defs:
  charge:
    kind: task
    action: http
    inputs: { url: "http://127.0.0.1:SINK_PORT/charge", method: POST, json: { id: "=$input.id" } }
  pause: { kind: task, action: wait, inputs: { duration_ms: 300 } }
  receipt:
    kind: task
    action: http
    inputs: { url: "http://127.0.0.1:SINK_PORT/receipt", method: POST, json: { id: "=$input.id" } }
flow:
  - do: charge
  - do: pause
  - do: receipt
)yaml";

const char* const kTicks = R"yaml(name: ticks
trigger:
  schedule: "* * * * * *"
permissions: { network: { hosts: ["127.0.0.1:SINK_PORT"], private: true } }
defs:
  tick:
    kind: task
    action: http
    inputs: { url: "http://127.0.0.1:SINK_PORT/tick", method: POST, json: { at: "=$context.schedule.slot_ms" } }
flow:
  - do: tick
)yaml";

TEST(Cluster, FourProcessesUnderKillsAndPausesLoseNothingAndDoNothingTwice) {
  const char* url = std::getenv("WEFT_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
  const int total_runs = EnvInt("WEFT_CHAOS_RUNS", 300);
  const int chaos_seconds = EnvInt("WEFT_CHAOS_SECONDS", 12);
  const std::string schema = "weft_chaos_" + std::to_string(getpid());
  Database db(url);
  ASSERT_TRUE(db.ok());
  db.Query("DROP SCHEMA IF EXISTS " + schema + " CASCADE");

  const fs::path dir = fs::temp_directory_path() / ("weft_cluster_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "workflows");
  Sink sink;
  const std::string sink_port = std::to_string(sink.port());
  std::ofstream(dir / "workflows" / "orders.yaml") << Replace(kOrders, "SINK_PORT", sink_port);
  std::ofstream(dir / "workflows" / "ticks.yaml") << Replace(kTicks, "SINK_PORT", sink_port);
  std::ofstream(dir / "weft.yaml") << "store: { postgres: \"" << url << "\", schema: " << schema << " }\n"
                                   << "engine: { lease_ms: 2000 }\n";

  constexpr int kProcesses = 4;
  struct Process {
    int port = 0;
    pid_t pid = 0;
    std::atomic<bool> live{false};
  };
  std::vector<Process> procs(kProcesses);
  const auto start = [&](int i) {
    if (procs[i].port == 0) procs[i].port = FreePort();
    const std::string log = (dir / ("serve" + std::to_string(i) + ".log")).string();
    procs[i].pid = Spawn({WEFT_BINARY, "serve", "--config", (dir / "weft.yaml").string(), "--workflows",
                          (dir / "workflows").string(), "--listen", "127.0.0.1:" + std::to_string(procs[i].port)},
                         log);
    ASSERT_TRUE(WaitHealthy(procs[i].port)) << "process " << i << " did not start; see " << log;
    procs[i].live = true;
  };
  for (int i = 0; i < kProcesses; ++i) start(i);

  // Clients: each order goes to a live process until one answers 2xx. The
  // orders are spread over the chaos, so that runs are under way at every
  // kill and pause.
  const auto load_start = std::chrono::steady_clock::now();
  const auto spacing = std::chrono::microseconds(int64_t{chaos_seconds} * 900'000 / total_runs);
  std::atomic<int> next{0};
  std::atomic<int> answered{0};
  std::atomic<int> retries{0};
  std::vector<std::thread> clients;
  clients.reserve(8);
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c));
      for (int id = next++; id < total_runs; id = next++) {
        std::this_thread::sleep_until(load_start + spacing * id);
        const std::string body = "{\"id\":\"o" + std::to_string(id) + "\"}";
        for (int attempt = 0;; ++attempt) {
          const int i = static_cast<int>(rng() % kProcesses);
          if (!procs[i].live) continue;
          const auto reply = weft::testing::HttpCall(procs[i].port, "POST", "/hooks/orders", body,
                                                     {{"Content-Type", "application/json"}});
          if (reply.status >= 200 && reply.status < 300) break;
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ++answered;
      }
    });
  }

  // Chaos: every ~second, kill one process (restarted after a moment) or
  // pause one past its lease (then continue it: it must not commit what
  // another process has taken over).
  std::mt19937 rng(42);
  int kills = 0;
  int pauses = 0;
  const auto chaos_end = std::chrono::steady_clock::now() + std::chrono::seconds(chaos_seconds);
  while (std::chrono::steady_clock::now() < chaos_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700 + rng() % 600));
    const int i = static_cast<int>(rng() % kProcesses);
    procs[i].live = false;
    if (rng() % 2 == 0) {
      kill(procs[i].pid, SIGKILL);
      waitpid(procs[i].pid, nullptr, 0);
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      start(i);
    } else {
      kill(procs[i].pid, SIGSTOP);
      ++pauses;
      std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // past the 2 s lease
      kill(procs[i].pid, SIGCONT);
      procs[i].live = true;
    }
  }
  for (std::thread& t : clients) t.join();
  ASSERT_EQ(answered.load(), total_runs);

  // Everything finishes on the processes left.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::string unfinished;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    unfinished = db.One("SELECT count(*) FROM " + schema + ".runs WHERE workflow = 'orders' AND status <> 'completed'");
  } while (unfinished != "0" && std::chrono::steady_clock::now() < deadline);
  for (Process& p : procs) kill(p.pid, SIGTERM);
  for (Process& p : procs) {
    int status = 0;
    waitpid(p.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "SIGTERM drains and exits 0";
  }

  EXPECT_EQ(unfinished, "0") << "runs left unfinished";
  EXPECT_EQ(db.One("SELECT count(*) FROM " + schema + ".runs WHERE workflow = 'orders'"), std::to_string(total_runs))
      << "one run per order";
  EXPECT_TRUE(db.Query("SELECT run_id, path FROM " + schema +
                       ".steps WHERE status = 'completed' GROUP BY run_id, path HAVING count(*) > 1")
                  .empty())
      << "a step recorded completed twice";
  EXPECT_TRUE(db.Query("SELECT r.id FROM " + schema +
                       ".runs r WHERE r.workflow = 'orders' AND (SELECT count(DISTINCT "
                       "path) FROM " +
                       schema + ".steps s WHERE s.run_id = r.id AND s.status = 'completed') <> 3")
                  .empty())
      << "a completed run without its three steps";
  EXPECT_TRUE(db.Query("SELECT start_key FROM " + schema +
                       ".runs WHERE workflow = 'ticks' GROUP BY start_key HAVING count(*) > 1")
                  .empty())
      << "a schedule slot started twice";

  // Side effects: each order charged and receipted exactly once (as the
  // sink applies them: once per key); deliveries beyond one are the
  // retries of work a killed or paused process had sent.
  const std::map<std::string, int> deliveries = sink.deliveries();
  int charges = 0;
  int receipts = 0;
  int ticks = 0;
  int redelivered = 0;
  for (const auto& [key, n] : deliveries) {
    if (key.rfind("/charge ", 0) == 0) ++charges;
    if (key.rfind("/receipt ", 0) == 0) ++receipts;
    if (key.rfind("/tick ", 0) == 0) ++ticks;
    redelivered += n - 1;
  }
  EXPECT_EQ(charges, total_runs);
  EXPECT_EQ(receipts, total_runs);
  const std::string tick_runs =
      db.One("SELECT count(*) FROM " + schema + ".runs WHERE workflow = 'ticks' AND status = 'completed'");
  // A tick whose run SIGTERM interrupted took effect without completing.
  EXPECT_GE(ticks, std::stoi(tick_runs)) << "a completed schedule slot without its effect";
  EXPECT_LE(ticks, std::stoi(db.One("SELECT count(*) FROM " + schema + ".runs WHERE workflow = 'ticks'")));
  std::printf(
      "chaos: %d runs over %d processes, %d kills, %d pauses past the lease; %d webhook retries; %d "
      "deliveries repeated (deduplicated by key); %s schedule slots, none twice\n",
      total_runs, kProcesses, kills, pauses, retries.load(), redelivered, tick_runs.c_str());
  db.Query("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  fs::remove_all(dir);
}

}  // namespace

namespace {

const char* const kTriage = R"yaml(name: triage
trigger:
  - webhook: { path: triage, respond: completion }
  - webhook: { path: triage-later, respond: accepted }
inputs:
  schema:
    urgency: { type: string, required: true }
defs:
  human: { kind: task, action: set, inputs: { route: human } }
  auto: { kind: task, action: set, inputs: { route: auto } }
flow:
  - conditional:
      when:
        - condition: "=$input.urgency = 'high'"
          steps: [ { do: human } ]
      else:
        steps: [ { do: auto } ]
outputs:
  route: "=$output.human.route ? 'human' : 'auto'"
)yaml";

// `--role api` only serves: what it starts waits for a worker; `--role
// worker` executes without listening. A webhook answered with the run's
// outputs through an api process is executed by a worker.
TEST(Cluster, ApiProcessesServeAndWorkersExecute) {
  const char* url = std::getenv("WEFT_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "WEFT_TEST_POSTGRES is not set";
  const std::string schema = "weft_roles_" + std::to_string(getpid());
  Database db(url);
  ASSERT_TRUE(db.ok());
  db.Query("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  const fs::path dir = fs::temp_directory_path() / ("weft_roles_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "workflows");
  std::ofstream(dir / "workflows" / "triage.yaml") << kTriage;
  std::ofstream(dir / "weft.yaml") << "store: { postgres: \"" << url << "\", schema: " << schema << " }\n";
  const auto serve = [&](const std::string& role, int port, const std::string& log) {
    std::vector<std::string> args = {WEFT_BINARY,   "serve",
                                     "--role",      role,
                                     "--config",    (dir / "weft.yaml").string(),
                                     "--workflows", (dir / "workflows").string()};
    if (port != 0) {
      args.emplace_back("--listen");
      args.push_back("127.0.0.1:" + std::to_string(port));
    }
    return Spawn(args, (dir / log).string());
  };
  const int port = FreePort();
  const pid_t api = serve("api", port, "api.log");
  ASSERT_TRUE(WaitHealthy(port));
  const weft::testing::Headers json = {{"Content-Type", "application/json"}};
  ASSERT_EQ(weft::testing::HttpCall(port, "POST", "/hooks/triage-later", R"({"urgency":"low"})", json).status, 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(db.One("SELECT status FROM " + schema + ".runs"), "running") << "no worker yet: nothing executes it";

  const pid_t worker = serve("worker", 0, "worker.log");
  std::string status;
  for (int i = 0; i < 100 && status != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = db.One("SELECT status FROM " + schema + ".runs");
  }
  EXPECT_EQ(status, "completed") << "the worker took the run the api process stored";
  const auto answered = weft::testing::HttpCall(port, "POST", "/hooks/triage", R"({"urgency":"high"})", json);
  EXPECT_EQ(answered.status, 200) << answered.body;
  EXPECT_NE(answered.body.find("\"route\":\"human\""), std::string::npos) << answered.body;
  EXPECT_EQ(db.One("SELECT count(*) FROM " + schema + ".runs WHERE status = 'completed'"), "2");
  for (pid_t p : {api, worker}) {
    kill(p, SIGTERM);
    int st = 0;
    waitpid(p, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  db.Query("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  fs::remove_all(dir);
}

}  // namespace

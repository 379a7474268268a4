// `weft serve` killed under webhook load: a real server process takes
// webhooks from several client threads, is SIGKILLed in the middle, then
// restarted on the same database. Every request it answered 2xx must have
// exactly one run, every run must finish, and no step may be recorded as
// completed twice. Requests in flight at the kill are answered nothing,
// which tells their clients to send them again (the idempotency key then
// finds the run if it was stored).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sqlite_query.h"

#include "http_test_client.h"

namespace {

namespace fs = std::filesystem;

const char* const kWorkflow = R"yaml(name: orders
trigger:
  webhook:
    path: orders
    respond: accepted
    idempotency: { key: "=$input.id" }
inputs:
  schema:
    id: { type: string, required: true }
defs:
  first: { kind: task, action: set, inputs: { seen: "=$input.id" } }
  pause: { kind: task, action: wait, inputs: { duration_ms: 30 } }
  last: { kind: task, action: set, inputs: { done: true } }
flow:
  - do: first
  - do: pause
  - do: last
outputs:
  id: "=$input.id"
)yaml";

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::vector<std::vector<std::string>> Query(const std::string& db_path, const std::string& sql) {
  return weft::testing::QueryRows(db_path, sql);
}

int FreePort() {
  // Bind port 0 through a throwaway server socket to learn a free port.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

bool WaitHealthy(int port) {
  for (int i = 0; i < 200; ++i) {
    if (weft::testing::HttpCall(port, "GET", "/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

TEST(ServeKill, EveryAnsweredWebhookHasExactlyOneRunThatFinishes) {
  const fs::path dir = fs::temp_directory_path() / ("weft_kill_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "workflows");
  std::ofstream(dir / "workflows" / "orders.yaml") << kWorkflow;
  const std::string db = (dir / "weft.db").string();
  const std::string log = (dir / "serve.log").string();
  const int port = FreePort();
  const std::vector<std::string> args = {WEFT_BINARY,   "serve",
                                         "--db",        db,
                                         "--workflows", (dir / "workflows").string(),
                                         "--listen",    "127.0.0.1:" + std::to_string(port)};
  std::set<std::string> answered;  // ids answered 2xx
  std::mutex mu;
  int next_id = 0;
  for (int round = 0; round < 3; ++round) {
    pid_t server = Spawn(args, log);
    ASSERT_TRUE(WaitHealthy(port)) << "weft serve did not start; see " << log;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
      clients.emplace_back([&] {
        while (!stop) {
          std::string id;
          {
            std::lock_guard<std::mutex> lock(mu);
            id = "o" + std::to_string(next_id++);
          }
          weft::testing::HttpReply r = weft::testing::HttpCall(port, "POST", "/hooks/orders", "{\"id\":\"" + id + "\"}",
                                                               {{"Content-Type", "application/json"}});
          if (r.status >= 200 && r.status < 300) {
            std::lock_guard<std::mutex> lock(mu);
            answered.insert(id);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    kill(server, SIGKILL);  // in the middle of requests, commits and timers
    stop = true;
    for (std::thread& t : clients) t.join();
    int status = 0;
    waitpid(server, &status, 0);
  }
  // The last start finishes what every kill interrupted.
  pid_t server = Spawn(args, log);
  ASSERT_TRUE(WaitHealthy(port));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string unfinished;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    unfinished = Query(db, "SELECT COUNT(*) FROM runs WHERE status <> 'completed'").at(0).at(0);
  } while (unfinished != "0" && std::chrono::steady_clock::now() < deadline);
  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "SIGTERM should drain and exit 0";

  EXPECT_EQ(unfinished, "0") << "runs left unfinished";
  ASSERT_GT(answered.size(), 20U) << "too little load to mean anything";
  printf("%zu requests answered 2xx across 3 kills; %s runs stored\n", answered.size(),
         Query(db, "SELECT COUNT(*) FROM runs").at(0).at(0).c_str());
  std::map<std::string, int> runs_by_id;
  for (const auto& row : Query(db, "SELECT start_key FROM runs")) ++runs_by_id[row.at(0)];
  for (const std::string& id : answered) {
    EXPECT_EQ(runs_by_id["webhook:orders:" + id], 1) << id << " was answered 2xx";
  }
  for (const auto& [key, n] : runs_by_id) EXPECT_EQ(n, 1) << key;
  // No step recorded completed twice, and each completed run has its three.
  EXPECT_TRUE(Query(db,
                    "SELECT run_id, path FROM steps WHERE status = 'completed' GROUP BY run_id, path "
                    "HAVING COUNT(*) > 1")
                  .empty());
  EXPECT_TRUE(Query(db,
                    "SELECT r.id FROM runs r WHERE (SELECT COUNT(DISTINCT path) FROM steps s WHERE s.run_id = "
                    "r.id AND s.status = 'completed') <> 3")
                  .empty());
  EXPECT_EQ(Query(db, "PRAGMA integrity_check").at(0).at(0), "ok");
  fs::remove_all(dir);
}

}  // namespace

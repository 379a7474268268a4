// The crash test: a weft process running workflows (500 or more, added as
// the test goes) is SIGKILLed at random instants, 60 times, and restarted. At the end every run
// must have completed, every completed step's side effect must have happened
// under exactly one idempotency key (a step that was in flight may have been
// called again, with the same key), and both databases must be intact.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "sqlite_query.h"

namespace {

namespace fs = std::filesystem;

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::vector<std::string>> Query(const std::string& db_path, const std::string& sql) {
  return weft::testing::QueryRows(db_path, sql);
}

TEST(CrashTest, KilledAtRandomNothingLostNothingRepeated) {
  const int runs = std::getenv("WEFT_CRASH_RUNS") ? std::atoi(std::getenv("WEFT_CRASH_RUNS")) : 500;
  const int kills = std::getenv("WEFT_CRASH_KILLS") ? std::atoi(std::getenv("WEFT_CRASH_KILLS")) : 60;
  fs::path dir = fs::temp_directory_path() / ("weft_crash_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string worker = WEFT_CRASH_WORKER;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(5, 120);

  // Work is added as the test goes (every third worker tops the runs up to a
  // growing target), so that a fast engine cannot finish everything before
  // it has been killed often enough.
  const int per_start = std::max(1, runs / 20);
  int target = 0;
  int killed = 0;
  int finished_early = 0;
  for (int i = 0; killed < kills; ++i) {
    const bool start = i % 3 == 0;
    if (start) target += per_start;
    pid_t pid = Spawn({worker, start ? "start" : "recover", dir.string(), std::to_string(target)});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      ++finished_early;  // nothing left to do: start another round
      if (finished_early > 200) break;
      continue;
    }
    kill(pid, SIGKILL);
    WaitExit(pid);
    ++killed;
  }
  ASSERT_GE(killed, kills) << "the worker finished before it could be killed often enough";
  // Let the last one finish.
  const int total = std::max(target, runs);
  ASSERT_EQ(WaitExit(Spawn({worker, "start", dir.string(), std::to_string(total)})), 0);

  const std::string runs_db = (dir / "runs.db").string();
  const std::string effects_db = (dir / "effects.db").string();
  EXPECT_EQ(Query(runs_db, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(Query(effects_db, "PRAGMA integrity_check")[0][0], "ok");
  auto statuses = Query(runs_db, "SELECT status, COUNT(*) FROM runs GROUP BY status");
  ASSERT_EQ(statuses.size(), 1u) << "some runs did not complete";
  EXPECT_EQ(statuses[0][0], "completed");
  EXPECT_EQ(statuses[0][1], std::to_string(total));
  auto outputs = Query(runs_db, "SELECT COUNT(*) FROM runs WHERE outputs = '{\"total\":6}'");
  EXPECT_EQ(outputs[0][0], std::to_string(total));

  // Each completed step: one completion record, and its side effect under
  // exactly one key, the step's (the same for every attempt).
  auto completions = Query(runs_db,
                           "SELECT run_id, path, attempt, COUNT(*) FROM steps WHERE status = 'completed' AND action = "
                           "'effect' GROUP BY run_id, path");
  EXPECT_EQ(completions.size(), static_cast<size_t>(total) * 7);
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> keys;
  int repeated_calls = 0;
  for (const auto& row : Query(effects_db, "SELECT run_id, path, key, calls FROM effects")) {
    keys[{row[0], row[1]}].push_back(row[2]);
    repeated_calls += std::stoi(row[3]) - 1;
  }
  for (const auto& c : completions) {
    EXPECT_EQ(c[3], "1") << c[0] << " " << c[1] << " completed more than once";
    auto it = keys.find({c[0], c[1]});
    ASSERT_NE(it, keys.end()) << "no side effect for " << c[0] << " " << c[1];
    EXPECT_EQ(it->second.size(), 1u) << "side effects under several keys for " << c[0] << " " << c[1];
    EXPECT_EQ(it->second[0], c[0] + "/" + c[1]);
  }
  EXPECT_EQ(keys.size(), completions.size()) << "side effects of steps that never completed";
  std::printf("killed %d times; %d calls were repeats of an in-flight attempt (same key)\n", killed, repeated_calls);
  fs::remove_all(dir);
}

}  // namespace

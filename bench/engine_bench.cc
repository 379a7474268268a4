// Engine overhead: per step in memory, per step durable on SQLite with many
// concurrent runs (group commit), the fsync limit beside it, and the memory
// a suspended run costs.
//
//   build/release/bench/engine_bench
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "weft/actions/builtin.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"
#include "weft/store/postgres_store.h"
#include "weft/store/sqlite_store.h"

namespace {

namespace fs = std::filesystem;
using namespace weft;

// Long runs in memory, so that the per-run cost (start, wait) does not hide
// the per-step cost; shorter ones on SQLite, many at once.
constexpr int kMemorySteps = 1000;
constexpr int kSqliteSteps = 100;

// A workflow of `steps` steps: `set` tasks, or conditionals each choosing
// one `set`.
std::string Workflow(const std::string& kind, int steps) {
  std::string y = "workflow: { name: bench_" + kind + " }\ndefs:\n";
  y += "  put: { kind: task, action: set, inputs: { n: \"=$input.n + 1\", urgency: high } }\n";
  y += "  other: { kind: task, action: set, inputs: { n: 0 } }\nflow:\n";
  for (int i = 0; i < steps; ++i) {
    if (kind == "set") {
      y += "  - do: put\n";
    } else {
      y += "  - conditional:\n      when:\n        - condition: \"urgency == 'high' and n > 0\"\n"
           "          steps: [{ do: put }]\n      else: { steps: [{ do: other }] }\n";
    }
  }
  return y;
}

struct Rig {
  explicit Rig(std::unique_ptr<store::Store> s, int threads = 1) : store(std::move(s)) {
    (void)actions::RegisterBuiltinActions(registry);
    engine::EngineOptions o;
    o.store = store.get();
    o.actions = &registry;
    o.threads = threads;
    engine = std::move(engine::Engine::Create(std::move(o))).value();
  }
  int64_t Deploy(const std::string& text) {
    auto wf = dsl::LoadWorkflow(text, "bench.yaml", registry);
    if (!wf.ok()) std::abort();
    name = (*wf)->name;
    return std::move(engine->Deploy(*wf)).value();
  }
  engine::ActionRegistry registry;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Engine> engine;
  std::string name;
};

Value Input() {
  Value v = Value::MakeObject();
  v.set("n", 1);
  return v;
}

// In memory: the engine's own cost per step (evaluate inputs, call the
// action, record the step, merge the result).
void BM_MemorySteps(benchmark::State& state, const std::string& kind) {
  Rig rig(store::NewMemoryStore(/*keep_finished=*/16));
  int64_t version = rig.Deploy(Workflow(kind, kMemorySteps));
  for (auto _ : state) {
    auto id = rig.engine->Start(rig.name, version, Input());
    auto rec = rig.engine->Wait(*id);
    if (!rec.ok() || rec->status != store::RunStatus::kCompleted) state.SkipWithError("run did not complete");
  }
  // A conditional workflow executes two steps per node: the conditional and
  // the task it chooses.
  const int steps = kind == "conditional" ? 2 * kMemorySteps : kMemorySteps;
  state.counters["per_step"] = benchmark::Counter(static_cast<double>(state.iterations()) * steps,
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(BM_MemorySteps, set, std::string("set"))->Unit(benchmark::kMicrosecond)->UseRealTime();
// Fixed iteration counts, for instruction counting under callgrind (the
// difference between the two divided by 20,000 steps is the cost per step).
BENCHMARK_CAPTURE(BM_MemorySteps, set_fixed, std::string("set"))->Iterations(20)->UseRealTime();
BENCHMARK_CAPTURE(BM_MemorySteps, set_fixed, std::string("set"))->Iterations(40)->UseRealTime();
BENCHMARK_CAPTURE(BM_MemorySteps, conditional, std::string("conditional"))
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("weft_bench_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Durable on SQLite: 64 runs at once, every step committed before the run
// moves on; concurrent commits share transactions (group commit).
void BM_SqliteSteps(benchmark::State& state, bool full) {
  const int concurrent = static_cast<int>(state.range(0));
  fs::path dir = TempDir(full ? "full" : "normal");
  {
    store::SqliteOptions so;
    so.path = (dir / "weft.db").string();
    so.synchronous_full = full;
    Rig rig(std::move(store::OpenSqliteStore(so)).value(), 2);
    int64_t version = rig.Deploy(Workflow("set", kSqliteSteps));
    for (auto _ : state) {
      std::vector<std::string> ids;
      for (int i = 0; i < concurrent; ++i) ids.push_back(*rig.engine->Start(rig.name, version, Input()));
      rig.engine->Drain();
    }
    state.counters["per_step"] = benchmark::Counter(static_cast<double>(state.iterations()) * concurrent * kSqliteSteps,
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  }
  fs::remove_all(dir);
}
BENCHMARK_CAPTURE(BM_SqliteSteps, synchronous_normal, false)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(BM_SqliteSteps, synchronous_full, true)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// The limit a one-fsync-per-step design would hit on this disk: write 4 KiB
// and fdatasync, as a commit does.
void BM_Fdatasync(benchmark::State& state) {
  fs::path dir = TempDir("fsync");
  int fd = open((dir / "f").c_str(), O_CREAT | O_WRONLY, 0600);
  char page[4096] = {0};
  for (auto _ : state) {
    if (pwrite(fd, page, sizeof(page), 0) != sizeof(page)) state.SkipWithError("write failed");
    fdatasync(fd);
  }
  close(fd);
  fs::remove_all(dir);
}
BENCHMARK(BM_Fdatasync)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The same, where each write makes the file longer (a WAL being appended to
// before its first reset, a database file growing): on ext4 an fdatasync
// that changes the file's size also commits the journal.
void BM_FdatasyncGrowing(benchmark::State& state) {
  fs::path dir = TempDir("fsync-grow");
  int fd = open((dir / "f").c_str(), O_CREAT | O_WRONLY, 0600);
  char page[4096] = {0};
  off_t end = 0;
  for (auto _ : state) {
    if (pwrite(fd, page, sizeof(page), end) != sizeof(page)) state.SkipWithError("write failed");
    end += sizeof(page);
    fdatasync(fd);
  }
  close(fd);
  fs::remove_all(dir);
}
BENCHMARK(BM_FdatasyncGrowing)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Durable on PostgreSQL (WEFT_BENCH_POSTGRES or WEFT_TEST_POSTGRES names
// it; synchronous_commit as the server has it, on by default): 64 runs at
// once, shared by 1, 2 or 4 engines that each have their own store — their
// own writer, pool and listener connections, as separate processes have.
void BM_PostgresSteps(benchmark::State& state) {
  const char* url = std::getenv("WEFT_BENCH_POSTGRES");
  if (url == nullptr || *url == '\0') url = std::getenv("WEFT_TEST_POSTGRES");
  if (url == nullptr || *url == '\0') {
    state.SkipWithError("WEFT_BENCH_POSTGRES is not set");
    return;
  }
  const int engines = static_cast<int>(state.range(0));
  const int concurrent = static_cast<int>(state.range(1));
  const std::string schema = "weft_bench_" + std::to_string(getpid());
  std::vector<std::unique_ptr<Rig>> rigs;
  int64_t version = 0;
  for (int e = 0; e < engines; ++e) {
    store::PostgresOptions po;
    po.url = url;
    po.schema = schema;
    auto opened = store::OpenPostgresStore(po);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      return;
    }
    rigs.push_back(std::make_unique<Rig>(std::move(opened).value(), 2));
    version = rigs.back()->Deploy(Workflow("set", kSqliteSteps));
  }
  for (auto _ : state) {
    for (int i = 0; i < concurrent; ++i) {
      Rig& rig = *rigs[static_cast<size_t>(i % engines)];
      (void)*rig.engine->Start(rig.name, version, Input());
    }
    for (auto& rig : rigs) rig->engine->Drain();
  }
  state.counters["per_step"] = benchmark::Counter(static_cast<double>(state.iterations()) * concurrent * kSqliteSteps,
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  rigs.clear();
  const std::string drop =
      "psql -q -d '" + std::string(url) + "' -c 'DROP SCHEMA " + schema + " CASCADE' >/dev/null 2>&1";
  (void)std::system(drop.c_str());
}
BENCHMARK(BM_PostgresSteps)
    ->Args({1, 64})
    ->Args({2, 64})
    ->Args({4, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

int64_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  int64_t pages = 0;
  int64_t resident = 0;
  f >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Memory per suspended run: start runs that park on await_user_input and
// compare the process's resident memory before and after.
void BM_SuspendedRunMemory(benchmark::State& state) {
  const int runs = static_cast<int>(state.range(0));
  fs::path dir = TempDir("suspended");
  {
    store::SqliteOptions so;
    so.path = (dir / "weft.db").string();
    so.synchronous_full = false;
    Rig rig(std::move(store::OpenSqliteStore(so)).value(), 2);
    int64_t version = rig.Deploy(
        "workflow: { name: parked }\ndefs:\n  ask: { kind: task, action: await_user_input, inputs: { prompt: hi } }\n"
        "flow:\n  - do: ask\n");
    // Warm up: SQLite's page cache and the allocator reach their steady size.
    for (int i = 0; i < 2000; ++i) (void)rig.engine->Start(rig.name, version, Input());
    rig.engine->Drain();
    const int64_t before = RssBytes();
    for (auto _ : state) {
      for (int i = 0; i < runs; ++i) {
        (void)rig.engine->Start(rig.name, version, Input());
        if (i % 1000 == 999) rig.engine->Drain();
      }
      rig.engine->Drain();
    }
    const int64_t after = RssBytes();
    state.counters["rss_growth_MiB"] = static_cast<double>(after - before) / (1 << 20);
    state.counters["bytes_per_run"] = static_cast<double>(after - before) / runs;
    store::RunFilter suspended;
    suspended.status = store::RunStatus::kSuspended;
    suspended.limit = runs + 10000;
    state.counters["suspended_runs"] = static_cast<double>(rig.store->ListRuns(suspended)->size());
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_SuspendedRunMemory)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

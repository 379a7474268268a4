// A weft process for the crash test, killed at random instants by the test.
//
//   crash_worker start  DIR N   create runs until DIR/runs.db holds N, run them
//   crash_worker recover DIR    continue every unfinished run
//
// Its `effect` action stands for an outside system that deduplicates by the
// idempotency key: it records every call in DIR/effects.db (a separate
// database, synchronous=FULL), counting repeats of the same key.
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "weft/actions/builtin.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/sqlite_store.h"

namespace {

constexpr const char* kWorkflow = R"yaml(
workflow: { name: crashy }
defs:
  first: { kind: task, action: effect, inputs: { step: first } }
  left: { kind: task, action: effect, inputs: { step: left } }
  right: { kind: task, action: effect, inputs: { step: right } }
  each: { kind: task, action: effect, inputs: { step: "='each ' & $string($iteration.item)" } }
  note: { kind: task, action: set, inputs: { total: "=$output.items.sum" } }
  last: { kind: task, action: effect, inputs: { step: last } }
flow:
  - do: first
  - parallel:
      steps:
        - do: left
        - do: right
  - loop:
      name: items
      for_each: { in: "=[1, 2, 3]" }
      accumulate: { as: sum, initial: 0, merge: "=$accumulator + $iteration.item" }
      steps:
        - do: each
  - do: note
  - conditional:
      when:
        - condition: "total = 6"
          steps:
            - do: last
outputs:
  total: "=total"
)yaml";

class EffectAction final : public weft::engine::Action {
 public:
  explicit EffectAction(const std::string& path) {
    spec_.name = "effect";
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) std::abort();
    sqlite3_busy_timeout(db_, 10000);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, run_id TEXT, path TEXT, calls INTEGER)");
  }
  ~EffectAction() override { sqlite3_close(db_); }
  const weft::dsl::ActionSpec& spec() const override { return spec_; }

  boost::asio::awaitable<weft::engine::ActionResult> Execute(weft::engine::ActionContext& ctx) const override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_,
                       "INSERT INTO effects (key, run_id, path, calls) VALUES (?1, ?2, ?3, 1) "
                       "ON CONFLICT (key) DO UPDATE SET calls = calls + 1",
                       -1, &s, nullptr);
    const std::string key = ctx.IdempotencyKey();
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, ctx.run_id.data(), static_cast<int>(ctx.run_id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, ctx.step_path.data(), static_cast<int>(ctx.step_path.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) co_return weft::engine::ActionResult::Error(weft::UnavailableError("effects db busy"));
    weft::Value out = weft::Value::MakeObject();
    out.set("key", key);
    co_return weft::engine::ActionResult::Ok(out);
  }

 private:
  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) std::abort();
  }
  weft::dsl::ActionSpec spec_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

int Fail(const weft::Status& s) {
  std::fprintf(stderr, "crash_worker: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crash_worker start DIR N | recover DIR\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string dir = argv[2];
  weft::engine::ActionRegistry actions;
  if (auto s = weft::actions::RegisterBuiltinActions(actions); !s.ok()) return Fail(s);
  if (auto s = actions.Register(std::make_unique<EffectAction>(dir + "/effects.db")); !s.ok()) return Fail(s);
  weft::store::SqliteOptions so;
  so.path = dir + "/runs.db";
  auto store = weft::store::OpenSqliteStore(so);
  if (!store.ok()) return Fail(store.status());
  weft::engine::EngineOptions eo;
  eo.store = store->get();
  eo.actions = &actions;
  eo.threads = 2;
  auto engine = weft::engine::Engine::Create(std::move(eo));
  if (!engine.ok()) return Fail(engine.status());
  auto wf = weft::dsl::LoadWorkflow(kWorkflow, "crashy.yaml", actions);
  if (!wf.ok()) return Fail(wf.status());
  auto version = (*engine)->Deploy(*wf);
  if (!version.ok()) return Fail(version.status());

  // Continue what a killed predecessor left first, then top up the runs.
  auto recovered = (*engine)->Recover();
  if (!recovered.ok()) return Fail(recovered.status());
  if (mode == "start") {
    const int target = std::atoi(argv[3]);
    weft::store::RunFilter all;
    all.limit = 1000000;
    auto runs = (*store)->ListRuns(all);
    if (!runs.ok()) return Fail(runs.status());
    for (int i = static_cast<int>(runs->size()); i < target; ++i) {
      auto id = (*engine)->Start("crashy", *version, weft::Value::MakeObject());
      if (!id.ok()) return Fail(id.status());
    }
  }
  (*engine)->Drain();
  return 0;
}

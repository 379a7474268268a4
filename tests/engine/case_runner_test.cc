// Runs every data-driven workflow case in tests/engine/cases/*.yaml, on the
// memory store and on SQLite.
//
// A case file is a workflow, then a line "--- # cases", then a list:
//   - name: escalates when urgent
//     input: {message: "..."}
//     context: {...}                      # optional
//     switches_on: [crm]                  # test_switch names that start on
//     expect:
//       status: completed | suspended | failed | cancelled
//       outputs: {...}                    # exact
//       error: "substring of the run's error"
//       start_error: "substring"          # Start itself must fail
//       waiting: approval                 # the suspension's kind
//       trace: ["0:a completed", "1:b retrying", "1:b completed@2"]   # in order
//       trace_set: [...]                  # any order (parallel branches)
//       calls: {"0:a": 1}                 # executions per step path (test actions)
//       clock_ms: 200                     # simulated time passed since the start
//     then:                               # more steps, each with its own expect
//       - resume: {approved: true}        # or resume_child / resume_error / advance_ms / retry /
//                                         #    cancel / switch_off
//         expect: {...}
// Workflows that cases call by name live in cases/workflows/. Adding a case
// needs no C++.
//
// Between the workflow and the cases, an optional "--- # stand-ins" section
// maps action names the workflow uses to stand-ins (see test_actions.h):
//   call_llm: { result: "={'intent': 'support'}" }
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_actions.h"
#include "weft/actions/builtin.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"
#include "weft/store/sqlite_store.h"
#include "yaml_reader.h"

namespace weft::engine {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string file;
  std::string workflow_text;
  Value spec;
  Value stand_ins;
  std::string store;  // "memory" | "sqlite"
  std::string name;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file << ": " << c.name; }

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<Case> LoadCases() {
  std::vector<Case> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(WEFT_ENGINE_TEST_DIR) / "cases")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::string text = ReadFile(f);
    size_t split = text.find("\n--- # cases\n");
    if (split == std::string::npos) {
      ADD_FAILURE() << f << ": no '--- # cases' line";
      continue;
    }
    dsl::Diagnostics diag;
    std::string workflow_text = text.substr(0, split + 1);
    Value stand_ins;
    if (size_t at = workflow_text.find("\n--- # stand-ins\n"); at != std::string::npos) {
      Result<YAML::Node> section = dsl::ParseYaml(workflow_text.substr(at + 17), f.string());
      if (!section.ok()) {
        ADD_FAILURE() << section.status();
        continue;
      }
      stand_ins = dsl::YamlToValue(*section, f.string(), diag);
      workflow_text.resize(at + 1);
    }
    Result<YAML::Node> node = dsl::ParseYaml(text.substr(split + 13), f.string());
    if (!node.ok()) {
      ADD_FAILURE() << node.status();
      continue;
    }
    Value cases = dsl::YamlToValue(*node, f.string(), diag);
    if (!cases.is_array()) {
      ADD_FAILURE() << f << ": the cases must be a list";
      continue;
    }
    for (const Value& spec : cases.as_array()) {
      for (const char* store : {"memory", "sqlite"}) {
        Case c;
        c.file = f.filename().string();
        c.workflow_text = workflow_text;
        c.stand_ins = stand_ins;
        c.spec = spec;
        c.store = store;
        c.name = spec.get("name").is_string() ? spec.get("name").as_string() : "unnamed";
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

std::string TestName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = fs::path(info.param.file).stem().string() + "_" + info.param.name + "_" + info.param.store;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name + "_" + std::to_string(info.index);
}

class WorkflowCaseTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(actions::RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(testing::RegisterTestActions(registry_, ledger_).ok());
    if (const Value& stand_ins = GetParam().stand_ins; stand_ins.is_object()) {
      for (const auto& m : stand_ins.members()) {
        Status s = testing::RegisterStandIn(registry_, ledger_, m.key, m.value);
        ASSERT_TRUE(s.ok()) << s;
      }
    }
    if (GetParam().store == "memory") {
      store_ = store::NewMemoryStore(0, &clock_);
    } else {
      dir_ = fs::temp_directory_path() /
             ("weft_case_" + std::to_string(::getpid()) + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
      fs::create_directories(dir_);
      store::SqliteOptions o;
      o.path = (dir_ / "runs.db").string();
      o.synchronous_full = false;
      o.clock = &clock_;
      auto s = store::OpenSqliteStore(o);
      ASSERT_TRUE(s.ok()) << s.status();
      store_ = std::move(s).value();
    }
    EngineOptions eo;
    eo.store = store_.get();
    eo.actions = &registry_;
    eo.clock = &clock_;
    eo.random = &random_;
    eo.threads = 2;
    eo.resolve_workflow = [this](const std::string& name) {
      return dsl::LoadWorkflowFile((fs::path(WEFT_ENGINE_TEST_DIR) / "cases" / "workflows" / (name + ".yaml")).string(),
                                   registry_);
    };
    eo.sleep = [this](int64_t ms) -> boost::asio::awaitable<void> {
      clock_.AdvanceMillis(ms);
      co_return;
    };
    auto e = Engine::Create(std::move(eo));
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(e).value();
  }

  void TearDown() override {
    engine_.reset();
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Checks `expect` against the run's record and history.
  void Check(const std::string& run_id, const Value& expect, const std::string& where) {
    SCOPED_TRACE(where);
    auto rec = engine_->Wait(run_id, std::chrono::seconds(30));
    ASSERT_TRUE(rec.ok()) << rec.status();
    auto steps = store_->GetSteps(run_id);
    ASSERT_TRUE(steps.ok()) << steps.status();
    std::string trace_text;
    std::vector<std::string> trace;
    for (const store::StepRecord& s : *steps) {
      std::string t = s.path + " " + std::string(store::StepStatusName(s.status));
      if (s.attempt > 1) t += "@" + std::to_string(s.attempt);
      trace.push_back(t);
      trace_text += "  " + t + (s.error.empty() ? "" : "  (" + s.error + ")") + "\n";
    }
    SCOPED_TRACE("run " + std::string(store::RunStatusName(rec->status)) + " error='" + rec->error + "'\nhistory:\n" +
                 trace_text);
    if (Value v = expect.get("status"); v.is_string()) {
      EXPECT_EQ(store::RunStatusName(rec->status), v.as_string());
    }
    if (Value v = expect.get("outputs"); v.is_defined()) {
      EXPECT_EQ(ToJson(rec->outputs), ToJson(v)) << "outputs differ";
      EXPECT_TRUE(rec->outputs == v);
    }
    if (Value v = expect.get("error"); v.is_string()) {
      EXPECT_NE(rec->error.find(v.as_string()), std::string::npos) << "error: " << rec->error;
    }
    if (Value v = expect.get("waiting"); v.is_string()) {
      EXPECT_EQ(rec->wait.get("kind"), v);
    }
    if (Value v = expect.get("trace"); v.is_array()) {
      std::vector<std::string> want;
      for (const Value& t : v.as_array()) want.push_back(t.as_string());
      EXPECT_EQ(trace, want);
    }
    if (Value v = expect.get("trace_set"); v.is_array()) {
      std::vector<std::string> want;
      for (const Value& t : v.as_array()) want.push_back(t.as_string());
      std::vector<std::string> got = trace;
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want);
    }
    if (Value v = expect.get("calls"); v.is_object()) {
      for (const auto& m : v.members()) {
        EXPECT_EQ(ledger_.Calls(run_id, m.key), static_cast<int>(m.value.as_number())) << "calls of " << m.key;
      }
    }
    if (Value v = expect.get("clock_ms"); v.is_number()) {
      EXPECT_EQ(clock_.NowMillis() - kStart, static_cast<int64_t>(v.as_number()));
    }
  }

  static constexpr int64_t kStart = 1'700'000'000'000;
  SimulatedClock clock_{kStart};
  DefaultRandom random_{42};
  ActionRegistry registry_;
  testing::Ledger ledger_;
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(WorkflowCaseTest, Runs) {
  const Case& c = GetParam();
  const Value& spec = c.spec;
  dsl::Diagnostics diagnostics;
  auto wf = dsl::LoadWorkflow(c.workflow_text, c.file, registry_, &diagnostics);
  ASSERT_TRUE(wf.ok()) << wf.status();
  // Files named hexabot_* are in Hexabot's syntax: weft finds nothing in
  // them that Hexabot would not take.
  if (c.file.rfind("hexabot_", 0) == 0) {
    for (const dsl::Diagnostic& d : diagnostics.all()) {
      EXPECT_NE(d.severity, dsl::Diagnostic::Severity::kPortability) << d.ToString();
    }
  }
  auto version = engine_->Deploy(*wf);
  ASSERT_TRUE(version.ok()) << version.status();
  if (Value on = spec.get("switches_on"); on.is_array()) {
    for (const Value& name : on.as_array()) ledger_.SetSwitch(name.as_string(), true);
  }
  StartOptions so;
  so.context = spec.get("context");
  const Value expect = spec.get("expect");
  auto run = engine_->Start((*wf)->name, *version, spec.get("input"), so);
  if (Value e = expect.get("start_error"); e.is_string()) {
    ASSERT_FALSE(run.ok()) << "the start should have failed";
    EXPECT_NE(run.status().message().find(e.as_string()), std::string::npos) << run.status();
    return;
  }
  ASSERT_TRUE(run.ok()) << run.status();
  Check(*run, expect, "after start");
  const Value then = spec.get("then");
  for (size_t i = 0; i < then.size(); ++i) {
    const Value& step = then.as_array()[i];
    const std::string where = "then[" + std::to_string(i) + "]";
    Status s;
    if (Value p = step.get("resume"); p.is_defined()) s = engine_->Resume(*run, p);
    if (Value p = step.get("resume_error"); p.is_string()) {
      s = engine_->ResumeWithError(*run, UnavailableError(p.as_string()));
    }
    if (Value p = step.get("resume_child"); p.is_defined()) {
      store::RunFilter children;
      children.parent_run = *run;
      auto kids = store_->ListRuns(children);
      ASSERT_TRUE(kids.ok() && !kids->empty()) << where << ": no child run";
      s = engine_->Resume(kids->front().id, p);
    }
    if (Value p = step.get("switch_off"); p.is_string()) ledger_.SetSwitch(p.as_string(), false);
    if (Value p = step.get("advance_ms"); p.is_number()) {
      clock_.AdvanceMillis(static_cast<int64_t>(p.as_number()));
      auto n = engine_->Recover();
      s = n.ok() ? Status::Ok() : n.status();
    }
    if (step.get("retry").is_defined()) s = engine_->Retry(*run);
    if (step.get("cancel").is_defined()) s = engine_->Cancel(*run);
    if (Value e = step.get("expect_error"); e.is_string()) {
      EXPECT_FALSE(s.ok()) << where << ": should have failed";
      EXPECT_NE(s.message().find(e.as_string()), std::string::npos) << where << ": " << s;
    } else {
      ASSERT_TRUE(s.ok()) << where << ": " << s;
    }
    engine_->Drain();
    Check(*run, step.get("expect"), where);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, WorkflowCaseTest, ::testing::ValuesIn(LoadCases()), TestName);

}  // namespace
}  // namespace weft::engine

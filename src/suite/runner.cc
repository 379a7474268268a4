// Running test cases: one engine per case on an in-memory store, with a
// simulated clock, the case's answers standing in for the outside world.
#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "limits.h"
#include "weft/core/clock.h"
#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/core/random.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/expr/expression.h"
#include "weft/runtime/runtime.h"
#include "weft/store/memory_store.h"
#include "weft/suite/suite.h"

namespace weft::suite {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// No model provider in a test: an AI step gets its answer from the case.
class NoModels final : public http::Client {
 public:
  asio::awaitable<Result<http::Response>> Send(http::Request request) override {
    co_return FailedPreconditionError("a test calls no model (" + request.url +
                                      "): give this AI step's result in the case's `mocks:`");
  }
};

// HTTP answered from the case's fixtures, the first that matches.
class Fixtures final : public http::Client {
 public:
  explicit Fixtures(const std::vector<HttpFixture>& fixtures) : fixtures_(fixtures) {}
  asio::awaitable<Result<http::Response>> Send(http::Request request) override {
    for (const HttpFixture& f : fixtures_) {
      if (!f.method.empty() && !EqualsIgnoringCase(f.method, request.method)) continue;
      if (f.url != request.url && fnmatch(f.url.c_str(), request.url.c_str(), 0) != 0) continue;
      http::Response r;
      r.status = f.status;
      for (const auto& [name, value] : f.headers) r.headers.push_back({name, value});
      r.body = f.body;
      if (request.on_body) {
        request.on_body(r.body);
        r.body.clear();
      }
      co_return r;
    }
    co_return FailedPreconditionError("unexpected HTTP request " + request.method + " " + request.url +
                                      ": no entry of the case's `http:` matches it");
  }

 private:
  static bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  }
  const std::vector<HttpFixture>& fixtures_;
};

// One action as a case sees it: the case's result or failure for the task
// when it gives one; otherwise the action itself, unless it would reach
// outside weft other than by HTTP (SQL, email), which needs an answer.
class CaseAction final : public engine::Action {
 public:
  CaseAction(const engine::Action* inner, const Case* c, std::mutex* mu, std::map<std::string, size_t>* calls)
      : inner_(inner), case_(c), mu_(mu), calls_(calls) {}
  const dsl::ActionSpec& spec() const override { return inner_->spec(); }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    const std::string task(ctx.task);
    if (auto f = case_->failures.find(task); f != case_->failures.end()) {
      co_return engine::ActionResult::Error(f->second);
    }
    if (auto m = case_->mocks.find(task); m != case_->mocks.end()) {
      size_t n = 0;
      {
        std::lock_guard lock(*mu_);
        n = (*calls_)[task]++;
      }
      Value detail = Value::MakeObject();
      detail.set("mocked", true);
      ctx.detail = detail;
      co_return engine::ActionResult::Ok(m->second[std::min(n, m->second.size() - 1)]);
    }
    if ((inner_->spec().needs & (dsl::kNeedSql | dsl::kNeedEmail)) != 0) {
      co_return engine::ActionResult::Error(FailedPreconditionError(
          "step '" + task + "' (action '" + inner_->spec().name +
          "') would reach outside weft: give its result in the case's `mocks:` (or a failure in `failures:`)"));
    }
    co_return co_await inner_->Execute(ctx);
  }

 private:
  const engine::Action* inner_;
  const Case* case_;
  std::mutex* mu_;
  std::map<std::string, size_t>* calls_;
};

std::string Json(const Value& v) { return v.is_undefined() ? "(nothing)" : ToJson(v); }

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out.append(i ? ", " : "").append(items[i]);
  return out + "]";
}

struct Loaded {
  std::string text;  // the workflow file
  std::string path;
};

class CaseRun {
 public:
  CaseRun(const TestFile& file, const Case& c, const Loaded& workflow, runtime::Runtime& shared)
      : file_(file), case_(c), workflow_(workflow), shared_(shared), clock_(c.now_ms), random_(42), fixtures_(c.http) {}

  CaseResult Run() {
    const auto start = std::chrono::steady_clock::now();
    CaseResult out;
    out.file = file_.path;
    out.name = case_.name;
    Status s = Execute(out);
    if (!s.ok()) out.failures.push_back({"the case could not run", "", s.message()});
    out.passed = out.failures.empty();
    out.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    return out;
  }

 private:
  std::optional<std::string> Secret(std::string_view name) const {
    auto it = case_.secrets.find(std::string(name));
    if (it == case_.secrets.end()) return std::nullopt;
    return it->second;
  }

  Status Execute(CaseResult& out) {
    store_ = store::NewMemoryStore(0, &clock_);
    runtime::ActionsSetup setup;
    setup.store = store_.get();
    setup.model_http = &no_models_;
    setup.workflow_http = &fixtures_;
    setup.knowledge = shared_.knowledge();
    setup.secrets = [this](std::string_view name) { return Secret(name); };
    setup.clock = &clock_;
    setup.open_connections = false;
    WEFT_RETURN_IF_ERROR(runtime::RegisterConfiguredActions(inner_, shared_.config(), setup).status());
    for (const std::string& name : inner_.Names()) {
      WEFT_RETURN_IF_ERROR(
          actions_.Register(std::make_unique<CaseAction>(inner_.FindAction(name), &case_, &mu_, &calls_)));
    }
    Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflow(workflow_.text, workflow_.path, actions_);
    if (!wf.ok()) return wf.status();
    engine::EngineOptions eo;
    eo.store = store_.get();
    eo.actions = &actions_;
    eo.clock = &clock_;
    eo.random = &random_;
    eo.threads = 1;
    eo.owner = "weft-test";
    // Back-off between retries passes on the simulated clock, at once.
    SimulatedClock* clock = &clock_;
    eo.sleep = [clock](int64_t ms) -> asio::awaitable<void> {
      clock->AdvanceMillis(ms);
      co_return;
    };
    eo.secrets = [this](std::string_view name) { return Secret(name); };
    const std::string dir = fs::path(workflow_.path).parent_path().string();
    const engine::ActionRegistry* actions = &actions_;
    eo.resolve_workflow = [dir, actions](const std::string& name) -> Result<std::shared_ptr<const dsl::Workflow>> {
      for (const char* ext : {".yaml", ".yml"}) {
        const fs::path p = fs::path(dir) / (name + ext);
        if (fs::exists(p)) return dsl::LoadWorkflowFile(p.string(), *actions);
      }
      return NotFoundError("no workflow named '" + name + "' beside the tested one (" + dir + ")");
    };
    WEFT_ASSIGN_OR_RETURN(engine_, engine::Engine::Create(std::move(eo)));
    WEFT_ASSIGN_OR_RETURN(const int64_t version, engine_->Deploy(*wf));
    engine::StartOptions so;
    so.trigger = "test";
    WEFT_ASSIGN_OR_RETURN(const std::string run_id, engine_->Start((*wf)->name, version, case_.input, so));
    WEFT_ASSIGN_OR_RETURN(store::RunRecord run, engine_->Wait(run_id, std::chrono::seconds(60)));
    size_t reply = 0;
    for (int rounds = 0; run.status == store::RunStatus::kSuspended && rounds < 1000; ++rounds) {
      if (run.wake_at_ms > 0) {  // a timer: time passes
        clock_.SetMillis(std::max(clock_.NowMillis(), run.wake_at_ms));
        WEFT_RETURN_IF_ERROR(engine_->Recover().status());
      } else if (reply < case_.replies.size()) {
        const Reply& r = case_.replies[reply++];
        const std::string waiting = run.wait.get("task").is_string() ? run.wait.get("task").as_string() : "";
        if (!r.step.empty() && r.step != waiting) {
          out.failures.push_back({"replies[" + std::to_string(reply - 1) + "]", "step " + r.step + " waiting",
                                  "step " + (waiting.empty() ? "(none)" : waiting) + " waiting"});
          break;
        }
        WEFT_RETURN_IF_ERROR(engine_->Resume(run_id, r.with));
      } else {
        break;
      }
      WEFT_ASSIGN_OR_RETURN(run, engine_->Wait(run_id, std::chrono::seconds(60)));
    }
    if (reply < case_.replies.size()) {
      out.failures.push_back({"replies", std::to_string(case_.replies.size()) + " used",
                              std::to_string(reply) + " used (the run did not wait for the others)"});
    }
    return Check(run, out);
  }

  Status Check(const store::RunRecord& run, CaseResult& out) {
    const Expectation& x = case_.expect;
    out.status = std::string(store::RunStatusName(run.status));
    out.outputs = run.outputs;
    WEFT_ASSIGN_OR_RETURN(std::vector<store::StepRecord> steps, store_->GetSteps(run.id));
    std::vector<std::string> path;
    Value outputs_by_task = Value::MakeObject();
    double cost = 0;
    std::string last_path;
    for (const store::StepRecord& s : steps) {
      if (s.path.find('/') != std::string::npos || s.task.empty()) continue;  // sub-steps
      if (s.path != last_path) path.push_back(s.task);
      last_path = s.path;
      if (s.status == store::StepStatus::kCompleted) outputs_by_task.set(s.task, s.output);
      if (const Value c = s.detail.get("cost"); c.is_number()) cost += c.as_number();
    }
    store::MessageFilter mf;
    mf.run_id = run.id;
    mf.limit = 10'000;
    WEFT_ASSIGN_OR_RETURN(std::vector<store::MessageRecord> messages, store_->ListMessages(mf));
    std::vector<std::string> said;
    for (const store::MessageRecord& m : messages) {
      if (m.role != "assistant") continue;
      const Value text = m.content.get("text");
      said.push_back(text.is_string() ? text.as_string() : m.kind);
    }

    const std::string expected_status = x.status.empty() && x.error.empty() ? "completed" : x.status;
    if (!expected_status.empty() && expected_status != out.status) {
      out.failures.push_back({"status", expected_status, out.status + (run.error.empty() ? "" : ": " + run.error)});
    }
    if (x.outputs.is_object()) {
      for (const auto& m : x.outputs.members()) {
        const Value actual = run.outputs.get(m.key);
        if (actual != m.value) out.failures.push_back({"outputs." + m.key, Json(m.value), Json(actual)});
      }
    }
    if (x.path && *x.path != path) out.failures.push_back({"path", List(*x.path), List(path)});
    for (const std::string& t : x.ran) {
      if (std::find(path.begin(), path.end(), t) == path.end()) {
        out.failures.push_back({"ran", t + " runs", "it did not (path " + List(path) + ")"});
      }
    }
    for (const std::string& t : x.not_ran) {
      if (std::find(path.begin(), path.end(), t) != path.end()) {
        out.failures.push_back({"not_ran", t + " does not run", "it ran"});
      }
    }
    if (x.messages) {
      bool same = x.messages->size() == said.size();
      for (size_t i = 0; same && i < said.size(); ++i) same = said[i].find((*x.messages)[i]) != std::string::npos;
      if (!same) out.failures.push_back({"messages", List(*x.messages), List(said)});
    }
    if (!x.error.empty() && run.error.find(x.error) == std::string::npos) {
      out.failures.push_back(
          {"error", "an error containing \"" + x.error + "\"", run.error.empty() ? "no error" : run.error});
    }
    if (x.max_cost && cost > *x.max_cost) {
      out.failures.push_back({"cost", "at most " + std::to_string(*x.max_cost), std::to_string(cost)});
    }
    if (!x.asserts.empty()) {
      Value data = Value::MakeObject();
      data.set("status", out.status);
      data.set("outputs", run.outputs);
      data.set("error", run.error);
      data.set("steps", outputs_by_task);
      data.set("path", StringArray(path));
      data.set("messages", StringArray(said));
      data.set("cost", cost);
      for (const std::string& text : x.asserts) {
        Result<expr::Expression> e = expr::Expression::Compile(text);
        Result<Value> v = e.ok() ? e->Evaluate(data, Value(), internal::WorkflowLimits()) : Result<Value>(e.status());
        if (!v.ok()) {
          out.failures.push_back({"assert " + text, "true", "error: " + v.status().message()});
        } else if (*v != Value(true)) {
          out.failures.push_back({"assert " + text, "true", Json(*v)});
        }
      }
    }
    return Status::Ok();
  }

  const TestFile& file_;
  const Case& case_;
  const Loaded& workflow_;
  runtime::Runtime& shared_;
  SimulatedClock clock_;
  DefaultRandom random_;
  NoModels no_models_;
  Fixtures fixtures_;
  std::mutex mu_;
  std::map<std::string, size_t> calls_;
  // Destroyed in reverse: the engine first, then the actions and the store.
  std::unique_ptr<store::Store> store_;
  engine::ActionRegistry inner_;
  engine::ActionRegistry actions_;
  std::unique_ptr<engine::Engine> engine_;
};

}  // namespace

Result<std::vector<CaseResult>> RunTests(const std::vector<std::string>& files, const SuiteOptions& options) {
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Runtime> shared,
                        runtime::Runtime::OpenOffline(options.config_path, std::make_unique<NoModels>()));
  std::vector<TestFile> tests;
  std::vector<Loaded> workflows;
  for (const std::string& path : files) {
    WEFT_ASSIGN_OR_RETURN(TestFile t, ReadTestFile(path));
    WEFT_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(t.workflow_path));
    // The workflow must load before anything runs.
    if (Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflow(text, t.workflow_path, shared->actions());
        !wf.ok()) {
      return wf.status().WithContext(path + ": its workflow");
    }
    workflows.push_back({std::move(text), t.workflow_path});
    tests.push_back(std::move(t));
  }
  std::vector<std::pair<size_t, size_t>> order;  // (file, case)
  for (size_t f = 0; f < tests.size(); ++f)
    for (size_t c = 0; c < tests[f].cases.size(); ++c) order.emplace_back(f, c);
  std::vector<CaseResult> results(order.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < order.size(); i = next++) {
      const auto [f, c] = order[i];
      CaseRun run(tests[f], tests[f].cases[c], workflows[f], *shared);
      results[i] = run.Run();
    }
  };
  std::vector<std::thread> threads;
  const int jobs = std::clamp(options.jobs, 1, 64);
  for (int i = 1; i < jobs; ++i) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return results;
}

}  // namespace weft::suite

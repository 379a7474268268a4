// AI steps: the local classifier (speed, accuracy on a held-out set, the
// share of messages the cascade answers locally) and the overhead of an AI
// step outside the model (prompt, validation, recording) against a bare
// HTTP exchange with the same fake provider on loopback.
//
//   build/release/bench/ai_bench
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "fake_provider.h"
#include "triage_data.h"
#include "weft/actions/builtin.h"
#include "weft/ai/actions.h"
#include "weft/ai/local_classifier.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace {

using namespace weft;
using ai::LabelledText;

// The support-triage example's examples (training) and its test set.
std::vector<LabelledText> Examples(const std::string& field) { return testing::TriageExamples(field); }
std::vector<LabelledText> TestSet(const std::string& field) { return testing::TriageTestSet(field); }

void BM_LocalTrain(benchmark::State& state) {
  auto issue = Examples("issue_type");
  auto urgency = Examples("urgency");
  for (auto _ : state) {
    benchmark::DoNotOptimize(ai::LocalClassifier::Train(issue));
    benchmark::DoNotOptimize(ai::LocalClassifier::Train(urgency));
  }
  state.counters["examples"] = static_cast<double>(issue.size());
}
BENCHMARK(BM_LocalTrain)->Unit(benchmark::kMillisecond);

void BM_LocalClassify(benchmark::State& state) {
  auto c = *ai::LocalClassifier::Train(Examples("issue_type"));
  auto test = TestSet("issue_type");
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.Predict(test[i++ % test.size()].text));
  }
}
BENCHMARK(BM_LocalClassify)->Unit(benchmark::kMicrosecond);

constexpr const char* kAnswer = R"({"label":"billing","confidence":0.9,"rationale":"a duplicate charge"})";

// Runs a one-step workflow over and over on an engine over `registry` and
// `store`: a classify step with `classify_settings` when `ai`, otherwise a
// set step (what starting, running and waiting for a run costs alone).
void RunOneStep(benchmark::State& state, const engine::ActionRegistry& registry, store::Store* store, bool ai,
                const std::string& classify_settings) {
  engine::EngineOptions o;
  o.store = store;
  o.actions = &registry;
  auto engine = std::move(engine::Engine::Create(std::move(o))).value();
  const std::string classify =
      "workflow: { name: one }\ndefs:\n  c:\n    kind: task\n    action: classify\n"
      "    inputs: { text: \"=$input.text\" }\n    settings: " +
      classify_settings + "\nflow: [{ do: c }]\n";
  const std::string set =
      "workflow: { name: one }\ndefs:\n  c: { kind: task, action: set, inputs: { text: \"=$input.text\" } }\n"
      "flow: [{ do: c }]\n";
  auto wf = dsl::LoadWorkflow(ai ? classify : set, "one.yaml", registry);
  const int64_t v = *engine->Deploy(*wf);
  Value input = Value::MakeObject();
  input.set("text", "I was charged twice and nobody answered");
  for (auto _ : state) {
    auto id = engine->Start("one", v, input);
    auto rec = engine->Wait(*id);
    if (rec->status != store::RunStatus::kCompleted) state.SkipWithError("run failed");
  }
}

// An AI step in a real run (engine, memory store, curl client) against the
// fake provider: the step's full cost, model time being ~0 here. With
// `set`, the same run with a `set` step instead: what starting, running and
// waiting for a one-step run costs without any AI. The AI step's own
// overhead is BM_AiStep/classify - BM_AiStep/set - BM_BareHttp.
void BM_AiStep(benchmark::State& state, bool ai) {
  testing::FakeProvider fake([](const testing::ProviderCall&) { return testing::ProviderReply::Text(kAnswer); });
  auto http = http::NewCurlClient();
  ai::Env env = [&fake](std::string_view n) -> std::optional<std::string> {
    if (n == "OPENAI_BASE_URL") return fake.base_url();
    return std::nullopt;
  };
  auto models = *ai::Models::FromConfig(*ParseJson(R"({"fast":{"provider":"openai","model":"m"}})"), http.get(), env);
  engine::ActionRegistry registry;
  (void)actions::RegisterBuiltinActions(registry);
  auto store = store::NewMemoryStore(16);
  // No cache: every iteration must reach the provider.
  (void)ai::RegisterAiActions(registry, {.models = models, .store = nullptr});
  RunOneStep(state, registry, store.get(), ai, "{ model: fast, labels: [billing, bug, other] }");
}
BENCHMARK_CAPTURE(BM_AiStep, classify, true)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_AiStep, set, false)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A provider answering at once, in process: what remains of an AI step is
// weft's own work (prompt, schema validation, history record, engine).
class CannedProvider final : public ai::Provider {
 public:
  std::string_view kind() const override { return "canned"; }
  boost::asio::awaitable<Result<ai::ModelResponse>> Complete(const ai::ModelRequest&) override {
    ai::ModelResponse r;
    r.text = kAnswer;
    r.usage = {120, 20, false};
    co_return r;
  }
};

// One-step runs in memory: a classify step on the canned provider, or a set
// step; their difference is the AI step's overhead outside the model.
void BM_StepInProcess(benchmark::State& state, bool ai) {
  auto models = *ai::Models::FromConfig(Value(), nullptr, ai::ProcessEnv());
  ai::ModelConfig canned;
  canned.alias = "fast";
  canned.provider = "canned";
  canned.model = "m";
  canned.input_per_1k = 0.001;
  models->Add(canned, std::make_unique<CannedProvider>());
  engine::ActionRegistry registry;
  (void)actions::RegisterBuiltinActions(registry);
  auto store = store::NewMemoryStore(16);
  (void)ai::RegisterAiActions(registry, {.models = models, .store = store.get()});
  RunOneStep(state, registry, store.get(), ai,
             "{ model: fast, labels: [billing, bug, other], cache: false, budget: { per_run: 1 } }");
}
BENCHMARK_CAPTURE(BM_StepInProcess, classify, true)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_StepInProcess, set, false)->Unit(benchmark::kMicrosecond)->UseRealTime();
// Fixed counts, for instruction counting under callgrind: the difference of
// the :400 and :200 runs over 200 runs is the cost of one run.
BENCHMARK_CAPTURE(BM_StepInProcess, classify_fixed, true)->Iterations(200)->UseRealTime();
BENCHMARK_CAPTURE(BM_StepInProcess, classify_fixed, true)->Iterations(400)->UseRealTime();
BENCHMARK_CAPTURE(BM_StepInProcess, set_fixed, false)->Iterations(200)->UseRealTime();
BENCHMARK_CAPTURE(BM_StepInProcess, set_fixed, false)->Iterations(400)->UseRealTime();

// The same exchange without weft: one POST with the client alone.
boost::asio::awaitable<void> Post(http::Client& client, http::Request req) {
  (void)co_await client.Send(std::move(req));
}

void BM_BareHttp(benchmark::State& state) {
  testing::FakeProvider fake([](const testing::ProviderCall&) { return testing::ProviderReply::Text(kAnswer); });
  auto http = http::NewCurlClient();
  http::Request req;
  req.method = "POST";
  req.url = fake.base_url() + "/chat/completions";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = R"({"model":"m","messages":[{"role":"user","content":"I was charged twice and nobody answered"}]})";
  for (auto _ : state) {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, Post(*http, req), boost::asio::detached);
    io.run();
  }
}
BENCHMARK(BM_BareHttp)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The provider client alone, with the request the classify step sends.
boost::asio::awaitable<void> Ask(ai::Provider& p, const ai::ModelRequest& r) { (void)co_await p.Complete(r); }

void BM_ProviderAlone(benchmark::State& state) {
  testing::FakeProvider fake([](const testing::ProviderCall&) { return testing::ProviderReply::Text(kAnswer); });
  auto http = http::NewCurlClient();
  ai::ProviderOptions po;
  po.base_url = fake.base_url();
  po.http = http.get();
  auto provider = ai::NewOpenAiProvider(po);
  ai::ModelRequest req;
  req.model = "m";
  req.messages = {{"system", std::string(120, 's')}, {"user", std::string(400, 'u')}};
  req.json_schema = *ParseJson(R"({"type":"object","properties":{"label":{"enum":["billing","bug","other"]},
      "confidence":{"type":"number","minimum":0,"maximum":1},"rationale":{"type":"string"}},"required":["label","confidence"]})");
  for (auto _ : state) {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, Ask(*provider, req), boost::asio::detached);
    io.run();
  }
}
BENCHMARK(BM_ProviderAlone)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

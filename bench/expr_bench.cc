// Expression engine benchmarks. The expressions and inputs come from
// bench/expr_cases.json, the same file bench/jsonata_compare.mjs feeds to
// jsonata-js, so both engines are measured on identical work.
//
//   build/release/bench/expr_bench                    # all
//   build/release/bench/expr_bench --benchmark_filter=eval/condition
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace {

using weft::Value;
using weft::expr::Expression;

Value LoadCases() {
  std::ifstream f(WEFT_BENCH_CASES);
  std::ostringstream ss;
  ss << f.rdbuf();
  auto v = weft::ParseJson(ss.str());
  if (!v.ok()) {
    std::fprintf(stderr, "cannot load %s: %s\n", WEFT_BENCH_CASES, v.status().ToString().c_str());
    std::exit(1);
  }
  return *v;
}

void RegisterAll() {
  static const Value spec = LoadCases();
  for (const auto& c : spec.get("cases").as_array()) {
    std::string name = c.get("name").as_string();
    std::string text = c.get("expr").as_string();
    Value input = spec.get("data").get(c.get("data").as_string());
    benchmark::RegisterBenchmark(("eval/" + name).c_str(), [text, input](benchmark::State& state) {
      auto e = Expression::Compile(text);
      if (!e.ok()) {
        state.SkipWithError(e.status().ToString().c_str());
        return;
      }
      for (auto _ : state) {
        auto r = e->Evaluate(input);
        benchmark::DoNotOptimize(r);
      }
    });
    benchmark::RegisterBenchmark(("compile/" + name).c_str(), [text](benchmark::State& state) {
      for (auto _ : state) {
        auto e = Expression::Compile(text);
        benchmark::DoNotOptimize(e);
      }
    });
  }
}

void BM_JsonParseCatalog(benchmark::State& state) {
  static const std::string text = [] {
    std::ifstream f(WEFT_BENCH_CASES);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }();
  for (auto _ : state) {
    auto v = weft::ParseJson(text);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_JsonParseCatalog);

}  // namespace

int main(int argc, char** argv) {
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

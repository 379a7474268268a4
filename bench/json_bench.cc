// JSON request bodies into weft::Value: weft's own strict parser against
// Debian's simdjson (DOM, then converted to Value), on 1 KB to 1 MB
// payloads shaped like webhook bodies (records with strings, numbers,
// nested objects and arrays). bench/RESULTS.md records what this says.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>

#include "weft/core/json.h"
#include "weft/core/value.h"

namespace {

std::string Payload(size_t bytes) {
  std::string out = "{\"event\":\"orders.batch\",\"records\":[";
  for (int i = 0; out.size() < bytes; ++i) {
    if (i > 0) out += ",";
    out += "{\"id\":" + std::to_string(100000 + i) + ",\"name\":\"customer " + std::to_string(i) +
           " \\u00e9l\\u00e8ve\",\"email\":\"c" + std::to_string(i) +
           "@example.com\",\"amount\":" + std::to_string(i % 997) + ".25,\"tags\":[\"vip\",\"eu\",\"q" +
           std::to_string(i % 4) + "\"],\"active\":" + (i % 3 == 0 ? "true" : "false") +
           ",\"address\":{\"city\":\"Paris\",\"zip\":\"750" + std::to_string(10 + i % 20) + "\"},\"note\":null}";
  }
  return out + "]}";
}

weft::Value Convert(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object o = e.get_object();
      weft::Value v = weft::Value::MakeObject(o.size());
      for (auto field : o) v.set(std::string(field.key), Convert(field.value));
      return v;
    }
    case simdjson::dom::element_type::ARRAY: {
      weft::Value v = weft::Value::MakeArray();
      for (simdjson::dom::element item : e.get_array()) v.push_back(Convert(item));
      return v;
    }
    case simdjson::dom::element_type::STRING: return weft::Value(std::string(std::string_view(e.get_string())));
    case simdjson::dom::element_type::INT64: return weft::Value(static_cast<double>(int64_t(e.get_int64())));
    case simdjson::dom::element_type::UINT64: return weft::Value(static_cast<double>(uint64_t(e.get_uint64())));
    case simdjson::dom::element_type::DOUBLE: return weft::Value(double(e.get_double()));
    case simdjson::dom::element_type::BOOL: return weft::Value(bool(e.get_bool()));
    case simdjson::dom::element_type::NULL_VALUE: return weft::Value::Null();
  }
  return weft::Value();
}

void BM_WeftParse(benchmark::State& state) {
  const std::string json = Payload(static_cast<size_t>(state.range(0)));
  weft::JsonParseOptions options;
  options.strict = true;
  options.max_depth = 64;
  for (auto _ : state) {
    weft::Result<weft::Value> v = weft::ParseJson(json, options);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}

void BM_SimdjsonToValue(benchmark::State& state) {
  const std::string json = Payload(static_cast<size_t>(state.range(0)));
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc = parser.parse(json);
    weft::Value v = Convert(doc);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}

void BM_SimdjsonParseOnly(benchmark::State& state) {
  const std::string json = Payload(static_cast<size_t>(state.range(0)));
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc = parser.parse(json);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}

}  // namespace

BENCHMARK(BM_WeftParse)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_SimdjsonToValue)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_SimdjsonParseOnly)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK_MAIN();

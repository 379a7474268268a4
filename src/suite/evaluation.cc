// `weft eval-dataset`: labelled data through AI steps, on the configured
// models, with accuracy, confusion, cost and latency per variant.
#include "weft/suite/evaluation.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "limits.h"
#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/expr/expression.h"
#include "weft/runtime/runtime.h"

namespace weft::suite {
namespace {

namespace fs = std::filesystem;

const std::set<std::string, std::less<>>& AiActions() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "classify", "extract", "summarize", "generate_text", "generate_object", "decide", "agent"};
  return *names;
}

std::string Label(const Value& v) {
  if (v.is_undefined()) return "(none)";
  return v.is_string() ? v.as_string() : ToJson(v);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Sets the model (when given) of an AI task and turns its answer cache off
// (an evaluation measures the model, not the cache).
void Configure(Value& def, const std::string& model) {
  if (!def.is_object() || !def.get("action").is_string() || !AiActions().count(def.get("action").as_string())) return;
  Value settings = def.get("settings").is_object() ? def.get("settings") : Value::MakeObject();
  Value copy = Value::MakeObject();
  for (const auto& m : settings.members()) copy.set(m.key, m.value);
  if (!model.empty()) copy.set("model", model);
  copy.set("cache", false);
  def.set("settings", copy);
}

Value Copy(const Value& object) {
  Value out = Value::MakeObject();
  for (const auto& m : object.members()) out.set(m.key, m.value);
  return out;
}

struct Variant {
  std::string name;
  std::string workflow;  // its name once deployed
  int64_t version = 0;
};

struct Example {
  Value input;
  Value expected;  // field -> label
};

}  // namespace

Result<std::vector<VariantReport>> EvaluateDataset(const EvalOptions& options) {
  if (options.workflows.empty()) return InvalidArgumentError("eval-dataset: name a workflow (--workflow)");
  // The data set.
  WEFT_ASSIGN_OR_RETURN(std::string data, ReadFileBounded(options.data_path, size_t{256} << 20));
  std::optional<expr::Expression> input_expr;
  if (!options.input.empty()) {
    expr::ExprError error;
    Result<expr::Expression> e = expr::Expression::Compile(options.input, &error);
    if (!e.ok()) return InvalidArgumentError("--input: " + error.message);
    input_expr = std::move(*e);
  }
  const expr::EvalOptions limits = internal::WorkflowLimits();
  std::vector<Example> examples;
  size_t pos = 0;
  int line_no = 0;
  while (pos < data.size() && (options.limit <= 0 || static_cast<int>(examples.size()) < options.limit)) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) nl = data.size();
    const std::string_view line = std::string_view(data).substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = options.data_path + ":" + std::to_string(line_no);
    Result<Value> v = ParseJson(line);
    if (!v.ok() || !v->is_object()) return InvalidArgumentError(where + ": expected a JSON object");
    Example ex;
    if (input_expr) {
      Result<Value> in = input_expr->Evaluate(*v, Value(), limits);
      if (!in.ok()) return InvalidArgumentError(where + ": --input: " + in.status().message());
      ex.input = *in;
    } else {
      ex.input = v->get("input").is_object() ? v->get("input") : *v;
    }
    ex.expected = Value::MakeObject();
    if (!options.fields.empty()) {
      const Value source = v->get("expected").is_object() ? v->get("expected") : *v;
      for (const std::string& f : options.fields) ex.expected.set(f, source.get(f));
    } else if (v->get("expected").is_object()) {
      ex.expected = v->get("expected");
    } else {
      return InvalidArgumentError(where + ": no `expected` object, and no --fields to compare");
    }
    examples.push_back(std::move(ex));
  }
  if (examples.empty()) return InvalidArgumentError(options.data_path + ": no examples");

  runtime::RuntimeOptions ro;
  ro.config_path = options.config_path;
  ro.db = ":memory:";
  ro.threads = 2;
  WEFT_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Runtime> rt, runtime::Runtime::Open(ro));

  // The variants: each workflow version with each model.
  std::vector<Variant> variants;
  const std::vector<std::string> models = options.models.empty() ? std::vector<std::string>{""} : options.models;
  for (const std::string& path : options.workflows) {
    WEFT_ASSIGN_OR_RETURN(Value doc, dsl::LoadYamlFile(path));
    if (!doc.is_object() || !doc.get("defs").is_object()) return InvalidArgumentError(path + ": not a workflow");
    std::string base_name = doc.get("workflow").get("name").is_string() ? doc.get("workflow").get("name").as_string()
                                                                        : fs::path(path).stem().string();
    if (!options.step.empty()) {
      const Value def = doc.get("defs").get(options.step);
      if (!def.is_object()) return InvalidArgumentError(path + ": no task '" + options.step + "' in defs");
      if (!def.get("action").is_string() || !AiActions().count(def.get("action").as_string())) {
        return InvalidArgumentError(path + ": '" + options.step + "' is not an AI step (" + Label(def.get("action")) +
                                    ")");
      }
    }
    for (const std::string& model : models) {
      const int index = static_cast<int>(variants.size());
      Value wf = Value::MakeObject();
      Value header = Value::MakeObject();
      header.set("name", base_name + "-eval-" + std::to_string(index));
      wf.set("workflow", header);
      for (const char* key : {"inputs", "context", "defaults", "permissions", "imports", "actions"}) {
        if (doc.get(key).is_defined()) wf.set(key, doc.get(key));
      }
      Value defs = Value::MakeObject();
      if (options.step.empty()) {
        for (const auto& m : doc.get("defs").members()) {
          Value def = m.value.is_object() ? Copy(m.value) : m.value;
          Configure(def, model);
          defs.set(m.key, def);
        }
        wf.set("flow", doc.get("flow"));
        if (doc.get("outputs").is_defined()) wf.set("outputs", doc.get("outputs"));
      } else {
        // The step alone: nothing else of the workflow runs.
        Value def = Copy(doc.get("defs").get(options.step));
        Configure(def, model);
        defs.set(options.step, def);
        Value step = Value::MakeObject();
        step.set("do", options.step);
        wf.set("flow", Value::MakeArray({step}));
        Value outputs = Value::MakeObject();
        outputs.set("result", "=$output." + options.step);
        wf.set("outputs", outputs);
      }
      wf.set("defs", defs);
      dsl::Diagnostics diagnostics;
      Result<std::shared_ptr<const dsl::Workflow>> loaded =
          dsl::LoadWorkflow(ToJson(wf), path, rt->actions(), &diagnostics);
      if (!loaded.ok()) return loaded.status();
      WEFT_ASSIGN_OR_RETURN(const int64_t version, rt->engine().Deploy(*loaded));
      std::string name = fs::path(path).filename().string();
      if (!model.empty()) name += " · " + model;
      variants.push_back({name, (*loaded)->name, version});
    }
  }

  std::vector<VariantReport> reports;
  for (const Variant& v : variants) {
    VariantReport report;
    report.name = v.name;
    report.examples = static_cast<int>(examples.size());
    std::mutex mu;
    std::vector<double> latencies;
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < examples.size(); i = next++) {
        const Example& ex = examples[i];
        const auto start = std::chrono::steady_clock::now();
        Result<std::string> id = rt->engine().Start(v.workflow, v.version, ex.input);
        Result<store::RunRecord> run =
            id.ok() ? rt->engine().Wait(*id, std::chrono::minutes(10)) : Result<store::RunRecord>(id.status());
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        Value predicted;
        std::string error;
        int64_t in_tokens = 0;
        int64_t out_tokens = 0;
        double cost = 0;
        if (!run.ok()) {
          error = run.status().message();
        } else {
          if (run->status != store::RunStatus::kCompleted) {
            error = std::string(store::RunStatusName(run->status)) + (run->error.empty() ? "" : ": " + run->error);
          }
          predicted = options.step.empty() ? run->outputs : run->outputs.get("result");
          if (Result<std::vector<store::StepRecord>> steps = rt->store().GetSteps(run->id); steps.ok()) {
            for (const store::StepRecord& s : *steps) {
              if (const Value c = s.detail.get("cost"); c.is_number()) cost += c.as_number();
              const Value t = s.detail.get("tokens");
              if (t.get("input").is_number()) in_tokens += static_cast<int64_t>(t.get("input").as_number());
              if (t.get("output").is_number()) out_tokens += static_cast<int64_t>(t.get("output").as_number());
            }
          }
        }
        std::lock_guard lock(mu);
        latencies.push_back(ms);
        report.input_tokens += in_tokens;
        report.output_tokens += out_tokens;
        report.cost += cost;
        if (!error.empty()) {
          ++report.failed;
          if (report.errors.size() < 5) report.errors.push_back("example " + std::to_string(i + 1) + ": " + error);
        }
        bool all = error.empty();
        for (const auto& f : ex.expected.members()) {
          FieldScore& score = report.fields[f.key];
          const std::string expected = Label(f.value);
          const std::string got = error.empty() ? Label(predicted.get(f.key)) : "(failed)";
          ++score.total;
          ++score.confusion[expected][got];
          if (expected == got) {
            ++score.correct;
          } else {
            all = false;
          }
        }
        if (all) ++report.all_correct;
      }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < std::clamp(options.jobs, 1, 64); ++i) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    report.p50_ms = Percentile(latencies, 0.5);
    report.p90_ms = Percentile(latencies, 0.9);
    report.p99_ms = Percentile(latencies, 0.99);
    reports.push_back(std::move(report));
  }
  return reports;
}

namespace {

std::string Percent(int correct, int total) {
  if (total == 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%% (%d/%d)", 100.0 * correct / total, correct, total);
  return buf;
}

std::string Number(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::string EvalReport(const std::vector<VariantReport>& reports) {
  std::ostringstream out;
  if (reports.empty()) return "";
  std::vector<std::string> fields;
  for (const VariantReport& r : reports)
    for (const auto& [f, s] : r.fields)
      if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  out << "| " << reports.front().examples << " examples |";
  for (const VariantReport& r : reports) out << " " << r.name << " |";
  out << "\n|---|";
  for (size_t i = 0; i < reports.size(); ++i) out << "---|";
  out << "\n";
  auto row = [&](const std::string& label, auto cell) {
    out << "| " << label << " |";
    for (const VariantReport& r : reports) out << " " << cell(r) << " |";
    out << "\n";
  };
  for (const std::string& f : fields) {
    row(f + " accuracy", [&](const VariantReport& r) {
      auto it = r.fields.find(f);
      return it == r.fields.end() ? std::string("-") : Percent(it->second.correct, it->second.total);
    });
  }
  row("every field right", [](const VariantReport& r) { return Percent(r.all_correct, r.examples); });
  row("failed", [](const VariantReport& r) { return std::to_string(r.failed); });
  row("tokens in / out",
      [](const VariantReport& r) { return std::to_string(r.input_tokens) + " / " + std::to_string(r.output_tokens); });
  row("cost", [](const VariantReport& r) { return Number(r.cost, "%.6f"); });
  row("latency p50 / p90 / p99 (ms)", [](const VariantReport& r) {
    return Number(r.p50_ms, "%.1f") + " / " + Number(r.p90_ms, "%.1f") + " / " + Number(r.p99_ms, "%.1f");
  });
  for (const VariantReport& r : reports) {
    for (const auto& [f, score] : r.fields) {
      std::vector<std::string> predicted;
      for (const auto& [e, row_counts] : score.confusion)
        for (const auto& [p, n] : row_counts)
          if (std::find(predicted.begin(), predicted.end(), p) == predicted.end()) predicted.push_back(p);
      std::sort(predicted.begin(), predicted.end());
      out << "\n" << f << " — " << r.name << " (rows: expected, columns: answered)\n\n| |";
      for (const std::string& p : predicted) out << " " << p << " |";
      out << "\n|---|";
      for (size_t i = 0; i < predicted.size(); ++i) out << "---|";
      out << "\n";
      for (const auto& [e, row_counts] : score.confusion) {
        out << "| " << e << " |";
        for (const std::string& p : predicted) {
          auto it = row_counts.find(p);
          out << " " << (it == row_counts.end() ? 0 : it->second) << " |";
        }
        out << "\n";
      }
    }
    for (const std::string& e : r.errors) out << "\n" << r.name << ": " << e;
    if (!r.errors.empty()) out << "\n";
  }
  return out.str();
}

Value EvalReportJson(const std::vector<VariantReport>& reports) {
  Value out = Value::MakeArray();
  for (const VariantReport& r : reports) {
    Value v = Value::MakeObject();
    v.set("variant", r.name);
    v.set("examples", r.examples);
    v.set("failed", r.failed);
    v.set("all_correct", r.all_correct);
    Value fields = Value::MakeObject();
    for (const auto& [f, s] : r.fields) {
      Value fv = Value::MakeObject();
      fv.set("correct", s.correct);
      fv.set("total", s.total);
      fv.set("accuracy", s.total ? static_cast<double>(s.correct) / s.total : 0.0);
      Value confusion = Value::MakeObject();
      for (const auto& [e, row] : s.confusion) {
        Value rv = Value::MakeObject();
        for (const auto& [p, n] : row) rv.set(p, n);
        confusion.set(e, rv);
      }
      fv.set("confusion", confusion);
      fields.set(f, fv);
    }
    v.set("fields", fields);
    Value tokens = Value::MakeObject();
    tokens.set("input", static_cast<double>(r.input_tokens));
    tokens.set("output", static_cast<double>(r.output_tokens));
    v.set("tokens", tokens);
    v.set("cost", r.cost);
    Value latency = Value::MakeObject();
    latency.set("p50_ms", r.p50_ms);
    latency.set("p90_ms", r.p90_ms);
    latency.set("p99_ms", r.p99_ms);
    v.set("latency", latency);
    v.set("errors", StringArray(r.errors));
    out.push_back(v);
  }
  return out;
}

}  // namespace weft::suite

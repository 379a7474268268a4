#include "workflow_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iomanip>
#include <iostream>
#include <mutex>

#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/runtime/runtime.h"
#include "weft/store/record_json.h"

namespace weft::cli {
namespace {

using store::RunRecord;
using store::StepRecord;

// A JSON argument (`@file` reads a file), read strictly: duplicate keys and
// numbers beyond a double are errors, not a silent last-wins or Infinity.
Result<Value> ReadJsonArgument(const std::string& text, std::string_view what, bool object_only) {
  std::string source = text;
  if (!text.empty() && text[0] == '@') {
    Result<std::string> read = ReadFileBounded(text.substr(1));
    if (!read.ok()) return read.status().WithContext(std::string(what) + " file");
    source = std::move(read).value();
  }
  Result<Value> v = ParseJson(source, {.strict = true});
  if (!v.ok()) return v.status().WithContext(std::string(what) + " is not valid JSON");
  if (object_only && !v->is_object()) {
    return InvalidArgumentError(std::string(what) + " must be a JSON object (the workflow's input fields), not " +
                                (v->is_array() ? "an array" : "a " + std::string(KindName(v->kind()))));
  }
  return v;
}

std::string Preview(const Value& v, size_t max = 100) {
  if (v.is_undefined()) return "";
  std::string s = ToJson(v);
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string Duration(int64_t ms) { return std::to_string(ms) + " ms"; }

void PrintStep(std::ostream& out, const StepRecord& s) {
  out << "  " << std::left << std::setw(10) << store::StepStatusName(s.status) << std::setw(0) << s.path;
  if (!s.action.empty() && s.action != "parallel") out << "  (" << s.action;
  if (s.attempt > 1) out << ", attempt " << s.attempt;
  if (!s.action.empty() && s.action != "parallel") out << ")";
  out << "  " << Duration(s.ended_ms - s.started_ms);
  if (!s.error.empty()) {
    out << "\n      error: " << s.error;
  } else if (s.output.is_defined() && !s.output.is_null()) {
    out << "\n      -> " << Preview(s.output);
  }
  if (s.action == "log" && s.detail.is_object()) out << "\n      log: " << Preview(s.detail.get("message"), 200);
  out << "\n";
}

// A runtime for a command; `trace` (when given) gets each step as it is
// recorded; `dir` is where call_workflow finds workflow files by name.
Result<std::unique_ptr<runtime::Runtime>> OpenSession(const StoreOptions& options, std::ostream* trace,
                                                      const std::string& dir = "") {
  runtime::RuntimeOptions ro;
  ro.db = options.db;
  ro.synchronous_normal = options.synchronous_normal;
  ro.config_path = options.config;
  ro.workflows_dir = dir;
  if (trace != nullptr) {
    auto mu = std::make_shared<std::mutex>();
    ro.on_step = [trace, mu](const engine::StepEvent& e) {
      std::lock_guard lock(*mu);
      PrintStep(*trace, e.step);
      trace->flush();
    };
  }
  return runtime::Runtime::Open(ro);
}

int ExitCode(const RunRecord& r) {
  switch (r.status) {
    case store::RunStatus::kCompleted:
    case store::RunStatus::kSuspended:
    case store::RunStatus::kRunning: return 0;
    default: return 1;
  }
}

void PrintOutcome(std::ostream& out, const RunRecord& r) {
  out << "run " << r.id << " " << store::RunStatusName(r.status) << "\n";
  switch (r.status) {
    case store::RunStatus::kCompleted:
      out << ToJson(r.outputs.is_defined() ? r.outputs : Value::MakeObject(), 2) << "\n";
      break;
    case store::RunStatus::kSuspended: {
      const Value& w = r.wait;
      out << "waiting for " << Preview(w.get("kind")) << " at " << Preview(w.get("path"));
      if (w.get("wake_at_ms").is_number()) out << " until " << Preview(w.get("wake_at_ms")) << " ms";
      out << "\n";
      if (w.get("data").is_defined()) out << "  " << Preview(w.get("data"), 300) << "\n";
      out << "continue with: weft resume " << r.id << " --with '<json>'\n";
      break;
    }
    case store::RunStatus::kFailed:
    case store::RunStatus::kCancelled: out << "error: " << r.error << "\n"; break;
    default: break;
  }
}

int Finish(runtime::Runtime& session, const std::string& run_id, bool json, std::ostream& out, std::ostream& err) {
  session.engine().Drain();
  Result<RunRecord> rec = session.store().GetRun(run_id);
  if (!rec.ok()) {
    err << "weft: " << rec.status().message() << "\n";
    return 1;
  }
  if (json) {
    Result<std::vector<StepRecord>> steps = session.store().GetSteps(run_id);
    out << ToJson(store::RunToJson(*rec, steps.ok() ? &*steps : nullptr), 2) << "\n";
  } else {
    PrintOutcome(out, *rec);
  }
  return ExitCode(*rec);
}

}  // namespace

int RunWorkflow(const RunCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::string dir = std::filesystem::path(options.file).parent_path().string();
  if (dir.empty()) dir = ".";
  Result<std::unique_ptr<runtime::Runtime>> session =
      OpenSession(options.store, options.json || options.quiet ? nullptr : &out, dir);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  runtime::Runtime& s = **session;
  dsl::Diagnostics diagnostics;
  Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflowFile(options.file, s.actions(), &diagnostics);
  for (const dsl::Diagnostic& d : diagnostics.all()) {
    if (d.severity == dsl::Diagnostic::Severity::kWarning) err << d.ToString() << "\n";
  }
  if (!wf.ok()) {
    err << wf.status().message() << "\n";
    return 2;
  }
  Value input = Value::MakeObject();
  if (!options.input.empty()) {
    Result<Value> v = ReadJsonArgument(options.input, "--input", true);
    if (!v.ok()) {
      err << "weft: " << v.status().message() << "\n";
      return 2;
    }
    input = *v;
  }
  Result<int64_t> version = s.engine().Deploy(*wf);
  if (!version.ok()) {
    err << "weft: " << version.status().message() << "\n";
    return 2;
  }
  if (!options.json && !options.quiet) out << "workflow " << (*wf)->name << " v" << *version << "\n";
  Result<std::string> run_id = s.engine().Start((*wf)->name, *version, input);
  if (!run_id.ok()) {
    err << "weft: " << run_id.status().message() << "\n";
    return 2;
  }
  return Finish(s, *run_id, options.json, out, err);
}

int ValidateWorkflows(const ValidateCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<runtime::Runtime>> rt = runtime::Runtime::OpenActions(options.config);
  if (!rt.ok()) {
    err << "weft: " << rt.status().message() << "\n";
    return 2;
  }
  const engine::ActionRegistry& actions = (*rt)->actions();
  if (options.files.empty()) {
    err << "weft validate: give at least one workflow file\n";
    return 2;
  }
  int errors = 0;
  int warnings = 0;
  int not_portable = 0;
  for (const std::string& file : options.files) {
    dsl::Diagnostics diagnostics;
    Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflowFile(file, actions, &diagnostics);
    if (!wf.ok() && diagnostics.all().empty()) {
      err << wf.status().message() << "\n";
      ++errors;
      continue;
    }
    std::vector<dsl::Diagnostic> sorted = diagnostics.all();
    std::stable_sort(sorted.begin(), sorted.end(), [](const dsl::Diagnostic& a, const dsl::Diagnostic& b) {
      return std::pair(a.location.line, a.location.column) < std::pair(b.location.line, b.location.column);
    });
    int file_notes = 0;
    for (const dsl::Diagnostic& d : sorted) {
      if (d.severity == dsl::Diagnostic::Severity::kPortability) {
        if (!options.hexabot) continue;
        ++file_notes;
      } else {
        (d.severity == dsl::Diagnostic::Severity::kError ? errors : warnings)++;
      }
      err << d.ToString() << "\n";
    }
    not_portable += file_notes > 0 ? 1 : 0;
    if (wf.ok()) {
      out << file << ": ok (" << (*wf)->name << ", " << (*wf)->tasks.size() << " tasks)";
      if (options.hexabot) {
        out << (file_notes == 0 ? "; portable to Hexabot v3"
                                : "; " + std::to_string(file_notes) + " form" + (file_notes == 1 ? "" : "s") +
                                      " Hexabot v3 does not share");
      }
      out << "\n";
    }
  }
  if (errors > 0) {
    err << errors << " error" << (errors == 1 ? "" : "s") << ", " << warnings << " warning"
        << (warnings == 1 ? "" : "s") << "\n";
    return 1;
  }
  return not_portable > 0 ? 1 : 0;
}

int ResumeRun(const ResumeCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<runtime::Runtime>> session = OpenSession(options.store, options.json ? nullptr : &out);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  Value payload = Value::MakeObject();
  if (!options.with.empty()) {
    Result<Value> v = ReadJsonArgument(options.with, "--with", false);
    if (!v.ok()) {
      err << "weft: " << v.status().message() << "\n";
      return 2;
    }
    payload = *v;
  }
  Status s = (*session)->engine().Resume(options.run_id, payload);
  if (!s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int RetryRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<runtime::Runtime>> session = OpenSession(options.store, options.json ? nullptr : &out);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  if (Status s = (*session)->engine().Retry(options.run_id, options.version); !s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int CancelRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<runtime::Runtime>> session = OpenSession(options.store, nullptr);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  if (Status s = (*session)->engine().Cancel(options.run_id); !s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int RecoverRuns(const StoreOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<runtime::Runtime>> session = OpenSession(options, &out);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  Result<int> n = (*session)->engine().Recover();
  if (!n.ok()) {
    err << "weft: " << n.status().message() << "\n";
    return 2;
  }
  (*session)->engine().Drain();
  out << "recovered " << *n << " run" << (*n == 1 ? "" : "s") << "\n";
  return 0;
}

int ListRuns(const ListCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<store::Store>> st =
      runtime::OpenStore({.db = options.store.db, .synchronous_normal = options.store.synchronous_normal});
  if (!st.ok()) {
    err << "weft: " << st.status().message() << "\n";
    return 2;
  }
  store::RunFilter filter;
  filter.limit = options.limit;
  filter.workflow = options.workflow;
  if (!options.status.empty()) {
    filter.status = store::ParseRunStatus(options.status);
    if (!filter.status) {
      err << "weft: unknown status '" << options.status << "' (running, suspended, completed, failed, cancelled)\n";
      return 2;
    }
  }
  Result<std::vector<RunRecord>> runs = (*st)->ListRuns(filter);
  if (!runs.ok()) {
    err << "weft: " << runs.status().message() << "\n";
    return 2;
  }
  if (options.json) {
    Value list = Value::MakeArray();
    for (const RunRecord& r : *runs) list.push_back(store::RunToJson(r, nullptr));
    out << ToJson(list, 2) << "\n";
    return 0;
  }
  for (const RunRecord& r : *runs) {
    out << r.id << "  " << std::left << std::setw(10) << store::RunStatusName(r.status) << std::setw(0) << r.workflow
        << " v" << r.version;
    if (!r.error.empty()) out << "  " << Preview(Value(r.error), 80);
    out << "\n";
  }
  return 0;
}

int ShowRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<store::Store>> st =
      runtime::OpenStore({.db = options.store.db, .synchronous_normal = options.store.synchronous_normal});
  if (!st.ok()) {
    err << "weft: " << st.status().message() << "\n";
    return 2;
  }
  Result<RunRecord> rec = (*st)->GetRun(options.run_id);
  if (!rec.ok()) {
    err << "weft: " << rec.status().message() << "\n";
    return 2;
  }
  Result<std::vector<StepRecord>> steps = (*st)->GetSteps(options.run_id);
  if (!steps.ok()) {
    err << "weft: " << steps.status().message() << "\n";
    return 2;
  }
  // What the run's model calls cost (AI steps count it as they call).
  Result<store::Spend> spend = (*st)->GetSpend("run:" + rec->id);
  // What it said into its conversation (send_message, handover).
  Result<std::vector<store::MessageRecord>> said = (*st)->ListMessages({.run_id = rec->id, .limit = 1000});
  if (options.json) {
    Value doc = store::RunToJson(*rec, &*steps);
    if (said.ok() && !said->empty()) {
      Value::Array messages;
      for (const store::MessageRecord& m : *said) messages.push_back(store::MessageToJson(m));
      doc.set("messages", Value::MakeArray(std::move(messages)));
    }
    // Always present (zeros when the run called no model), so that a
    // script reading it needs no special case.
    const store::Spend none;
    const store::Spend& used = spend.ok() ? *spend : none;
    Value s = Value::MakeObject();
    s.set("cost", used.cost);
    s.set("input_tokens", used.input_tokens);
    s.set("output_tokens", used.output_tokens);
    s.set("model_calls", used.calls);
    doc.set("spend", s);
    out << ToJson(doc, 2) << "\n";
    return 0;
  }
  out << "run " << rec->id << "  " << rec->workflow << " v" << rec->version << "  " << store::RunStatusName(rec->status)
      << "\n";
  if (!rec->parent_run.empty()) out << "parent " << rec->parent_run << " at " << rec->parent_path << "\n";
  out << "input " << Preview(rec->input, 300) << "\n";
  for (const StepRecord& s : *steps) PrintStep(out, s);
  if (said.ok()) {
    for (const store::MessageRecord& m : *said) {
      out << "said [" << m.kind << "] " << Preview(m.content, 300);
      if (m.conversation != rec->id) out << "  (conversation " << m.conversation << ")";
      out << "\n";
    }
  }
  PrintOutcome(out, *rec);
  if (spend.ok() && spend->calls > 0) {
    out << "model calls " << spend->calls << ", tokens " << spend->input_tokens << " in / " << spend->output_tokens
        << " out, cost " << spend->cost << "\n";
  }
  return 0;
}

}  // namespace weft::cli

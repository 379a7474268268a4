#include "workflow_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iomanip>
#include <iostream>
#include <mutex>

#include "weft/actions/builtin.h"
#include "weft/actions/email.h"
#include "weft/actions/http.h"
#include "weft/actions/script.h"
#include "weft/actions/sql.h"
#include "weft/ai/actions.h"
#include "weft/core/file.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"
#include "weft/store/sqlite_store.h"

namespace weft::cli {
namespace {

using store::RunRecord;
using store::StepRecord;

// Everything a command needs: the store, the actions, the engine.
// The HTTP clients the actions use (before the actions): one for model
// providers, one for calls made on workflows' behalf (the SSRF guard
// relies on their connections not being shared).
struct Clients {
  std::unique_ptr<http::Client> models;
  std::unique_ptr<http::Client> workflows;
};

struct Session {
  Clients http;
  std::unique_ptr<store::Store> store;
  engine::ActionRegistry actions;
  std::unique_ptr<engine::Engine> engine;
};

// $secret('NAME') (and api_key_secret: NAME) read WEFT_SECRET_NAME; a
// secret store comes with the server.
std::optional<std::string> EnvSecrets(std::string_view name) {
  const char* v = std::getenv(("WEFT_SECRET_" + std::string(name)).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// The configuration file: $WEFT_CONFIG, else ./weft.yaml when present.
struct Config {
  std::string path;  // empty when there is none
  Value value;
};

Result<Config> ReadConfig() {
  const char* env = std::getenv("WEFT_CONFIG");
  std::string path = env != nullptr && *env != '\0' ? env : "weft.yaml";
  if (env == nullptr && !std::filesystem::exists(path)) return Config{"", Value::MakeObject()};
  WEFT_ASSIGN_OR_RETURN(Value value, dsl::LoadYamlFile(path));
  if (value.is_null() || value.is_undefined()) value = Value::MakeObject();  // an empty file
  if (!value.is_object()) return InvalidArgumentError(path + ": the configuration must be a mapping");
  return Config{path, value};
}

// A misspelt key must not be ignored (a password that silently stays unset).
Status CheckKeys(const Value& section, std::string_view where, std::initializer_list<std::string_view> known) {
  for (const auto& m : section.members()) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
    return InvalidArgumentError(std::string(where) + ": unknown key '" + m.key + "' (" + list + ")");
  }
  return Status::Ok();
}

// `<where>.<key>`, when given, must be a whole number from 1 to `max`.
template <typename T>
Status WholeNumber(const Value& section, std::string_view where, const char* key, double max, T& out) {
  const Value v = section.get(key);
  if (v.is_undefined()) return Status::Ok();
  if (v.is_number() && v.as_number() >= 1 && v.as_number() <= max && v.as_number() == std::floor(v.as_number())) {
    out = static_cast<T>(v.as_number());
    return Status::Ok();
  }
  return InvalidArgumentError(std::string(where) + "." + key + " must be a whole number from 1 to " +
                              std::to_string(static_cast<int64_t>(max)));
}

// The actions whose servers and connections the configuration names: http,
// script, sql (`connections:`), email (`email:`).
Status RegisterDeploymentActions(engine::ActionRegistry& actions, const Value& config, Clients& http) {
  WEFT_RETURN_IF_ERROR(actions::RegisterHttpActions(actions, {.client = http.workflows.get()}));
  WEFT_RETURN_IF_ERROR(actions::RegisterScriptAction(actions));
  // SQL connections (weft.yaml `connections:`), opened lazily by their threads.
  std::map<std::string, std::shared_ptr<actions::SqlConnection>, std::less<>> connections;
  if (Value c = config.get("connections"); c.is_object()) {
    for (const auto& m : c.members()) {
      if (!m.value.is_object()) return InvalidArgumentError("connections." + m.key + " must be a mapping");
      WEFT_RETURN_IF_ERROR(CheckKeys(m.value, "connections." + m.key, {"driver", "path", "url", "url_env"}));
      Value conn = Value::MakeObject();  // a copy to add to (Values share what they hold)
      for (const auto& field : m.value.members()) conn.set(field.key, field.value);
      // A password stays out of weft.yaml: url_env names a variable.
      if (Value env = conn.get("url_env"); env.is_string()) {
        const char* url = std::getenv(env.as_string().c_str());
        if (url == nullptr) {
          return InvalidArgumentError("connections." + m.key + ": environment variable " + env.as_string() +
                                      " is not set");
        }
        conn.set("url", std::string(url));
      }
      WEFT_ASSIGN_OR_RETURN(connections[m.key], actions::OpenSqlConnection(m.key, conn));
    }
  }
  WEFT_RETURN_IF_ERROR(actions::RegisterSqlAction(actions, std::move(connections)));
  // The SMTP server (weft.yaml `email:`); the password from an environment variable.
  actions::SmtpOptions smtp;
  if (Value e = config.get("email"); e.is_defined()) {
    if (!e.is_object()) return InvalidArgumentError("email must be a mapping");
    WEFT_RETURN_IF_ERROR(
        CheckKeys(e, "email", {"url", "tls", "username", "password_env", "from", "ca_file", "timeout_ms", "threads"}));
    Status wrong;
    auto text = [&](const char* key, std::string& out) {
      if (Value v = e.get(key); v.is_string()) {
        out = v.as_string();
      } else if (v.is_defined() && wrong.ok()) {
        wrong = InvalidArgumentError(std::string("email.") + key + " must be a string");
      }
    };
    text("url", smtp.url);
    text("tls", smtp.tls);
    text("username", smtp.username);
    text("from", smtp.from);
    text("ca_file", smtp.ca_file);
    WEFT_RETURN_IF_ERROR(wrong);
    WEFT_RETURN_IF_ERROR(WholeNumber(e, "email", "timeout_ms", 86'400'000, smtp.timeout_ms));  // a day
    WEFT_RETURN_IF_ERROR(WholeNumber(e, "email", "threads", 64, smtp.threads));
    if (Value env = e.get("password_env"); env.is_string()) {
      const char* pw = std::getenv(env.as_string().c_str());
      if (pw == nullptr) return InvalidArgumentError("email: environment variable " + env.as_string() + " is not set");
      smtp.password = pw;
    }
  }
  return actions::RegisterEmailAction(actions, smtp);
}

// The built-in actions and the AI steps, with the model aliases of the
// configuration (`models:`); the store (when given) caches AI answers and
// counts their cost.
Status RegisterActions(const Config& config, engine::ActionRegistry& actions, Clients& http,
                       store::Store* store = nullptr) {
  WEFT_RETURN_IF_ERROR(actions::RegisterBuiltinActions(actions, store));
  if (!http.models) http.models = http::NewCurlClient();
  if (!http.workflows) http.workflows = http::NewCurlClient();
  Status s = RegisterDeploymentActions(actions, config.value, http);
  if (s.ok()) {
    Result<std::shared_ptr<ai::Models>> models =
        ai::Models::FromConfig(config.value.get("models"), http.models.get(), ai::ProcessEnv(), nullptr, EnvSecrets);
    s = models.ok() ? ai::RegisterAiActions(actions, {.models = *models, .store = store}) : models.status();
  }
  return config.path.empty() ? s : s.WithContext(config.path);
}

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

Value StepToJson(const StepRecord& s) {
  Value o = Value::MakeObject();
  o.set("seq", static_cast<double>(s.seq));
  o.set("path", s.path);
  o.set("task", s.task);
  o.set("action", s.action);
  o.set("attempt", s.attempt);
  o.set("status", std::string(store::StepStatusName(s.status)));
  if (s.input.is_defined()) o.set("input", s.input);
  if (s.output.is_defined()) o.set("output", s.output);
  if (!s.error.empty()) {
    Value e = Value::MakeObject();
    e.set("code", s.error_code);
    e.set("message", s.error);
    o.set("error", e);
  }
  if (s.detail.is_defined()) o.set("detail", s.detail);
  o.set("started_ms", static_cast<double>(s.started_ms));
  o.set("ended_ms", static_cast<double>(s.ended_ms));
  return o;
}

Value RunToJson(const RunRecord& r, const std::vector<StepRecord>* steps) {
  Value o = Value::MakeObject();
  o.set("run_id", r.id);
  o.set("workflow", r.workflow);
  o.set("version", static_cast<double>(r.version));
  o.set("status", std::string(store::RunStatusName(r.status)));
  o.set("input", r.input.is_defined() ? r.input : Value::MakeObject());
  if (r.outputs.is_defined()) o.set("outputs", r.outputs);  // a finished run's outputs
  if (!r.error.empty()) {
    Value e = Value::MakeObject();
    e.set("code", r.error_code);
    e.set("message", r.error);
    o.set("error", e);
  }
  if (r.wait.is_defined()) o.set("waiting", r.wait);
  if (!r.parent_run.empty()) o.set("parent_run", r.parent_run);
  o.set("created_ms", static_cast<double>(r.created_ms));
  o.set("updated_ms", static_cast<double>(r.updated_ms));
  if (steps != nullptr) {
    Value list = Value::MakeArray();
    // What the run has so far, also while it waits: each task's latest
    // result (what $output.<task> reads).
    Value results = Value::MakeObject();
    for (const StepRecord& s : *steps) {
      list.push_back(StepToJson(s));
      if (s.status == store::StepStatus::kCompleted && !s.task.empty() && s.output.is_defined()) {
        results.set(s.task, s.output);
      }
    }
    o.set("results", results);
    o.set("steps", list);
  }
  return o;
}

Result<std::unique_ptr<store::Store>> OpenStore(const StoreOptions& options) {
  std::string path = options.db.empty() ? DefaultDatabasePath() : options.db;
  if (path == ":memory:") return store::NewMemoryStore();
  store::SqliteOptions sqlite;
  sqlite.path = path;
  sqlite.synchronous_full = !options.synchronous_normal;
  return store::OpenSqliteStore(sqlite);
}

// Looks for a child workflow file next to the parent file.
std::function<Result<std::shared_ptr<const dsl::Workflow>>(const std::string&)> FileResolver(
    std::string dir, const engine::ActionRegistry* actions) {
  return [dir = std::move(dir), actions](const std::string& name) -> Result<std::shared_ptr<const dsl::Workflow>> {
    for (const char* ext : {".yaml", ".yml"}) {
      std::filesystem::path p = std::filesystem::path(dir) / (name + ext);
      if (std::filesystem::exists(p)) return dsl::LoadWorkflowFile(p.string(), *actions);
    }
    return NotFoundError("no workflow named '" + name + "' is stored, and there is no " + name + ".yaml in " + dir);
  };
}

Result<std::unique_ptr<Session>> OpenSession(const StoreOptions& options, std::ostream* trace,
                                             const std::string& dir = "") {
  auto session = std::make_unique<Session>();
  WEFT_ASSIGN_OR_RETURN(session->store, OpenStore(options));
  WEFT_ASSIGN_OR_RETURN(Config config, ReadConfig());
  WEFT_RETURN_IF_ERROR(RegisterActions(config, session->actions, session->http, session->store.get()));
  engine::EngineOptions eo;
  // Limits of every expression a workflow evaluates (weft.yaml `expressions:`).
  if (Value e = config.value.get("expressions"); e.is_defined()) {
    Status bad = !e.is_object() ? InvalidArgumentError("expressions must be a mapping")
                                : CheckKeys(e, "expressions", {"timeout_ms", "max_memory_mb"});
    int64_t memory_mb = eo.expression_max_memory_bytes >> 20;
    if (bad.ok()) bad = WholeNumber(e, "expressions", "timeout_ms", 86'400'000, eo.expression_timeout_ms);
    if (bad.ok()) bad = WholeNumber(e, "expressions", "max_memory_mb", 1 << 20, memory_mb);
    if (!bad.ok()) return config.path.empty() ? bad : bad.WithContext(config.path);
    eo.expression_max_memory_bytes = memory_mb << 20;
  }
  eo.store = session->store.get();
  eo.actions = &session->actions;
  if (!dir.empty()) eo.resolve_workflow = FileResolver(dir, &session->actions);
  eo.secrets = EnvSecrets;
  if (trace != nullptr) {
    auto mu = std::make_shared<std::mutex>();
    eo.on_step = [trace, mu](const engine::StepEvent& e) {
      std::lock_guard lock(*mu);
      PrintStep(*trace, e.step);
      trace->flush();
    };
  }
  WEFT_ASSIGN_OR_RETURN(session->engine, engine::Engine::Create(std::move(eo)));
  return session;
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

int Finish(Session& session, const std::string& run_id, bool json, std::ostream& out, std::ostream& err) {
  session.engine->Drain();
  Result<RunRecord> rec = session.store->GetRun(run_id);
  if (!rec.ok()) {
    err << "weft: " << rec.status().message() << "\n";
    return 1;
  }
  if (json) {
    Result<std::vector<StepRecord>> steps = session.store->GetSteps(run_id);
    out << ToJson(RunToJson(*rec, steps.ok() ? &*steps : nullptr), 2) << "\n";
  } else {
    PrintOutcome(out, *rec);
  }
  return ExitCode(*rec);
}

}  // namespace

std::string DefaultDatabasePath() {
  const char* env = std::getenv("WEFT_DB");
  return env != nullptr && *env != '\0' ? env : "weft.db";
}

int RunWorkflow(const RunCommandOptions& options, std::ostream& out, std::ostream& err) {
  std::string dir = std::filesystem::path(options.file).parent_path().string();
  if (dir.empty()) dir = ".";
  Result<std::unique_ptr<Session>> session =
      OpenSession(options.store, options.json || options.quiet ? nullptr : &out, dir);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  Session& s = **session;
  dsl::Diagnostics diagnostics;
  Result<std::shared_ptr<const dsl::Workflow>> wf = dsl::LoadWorkflowFile(options.file, s.actions, &diagnostics);
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
  Result<int64_t> version = s.engine->Deploy(*wf);
  if (!version.ok()) {
    err << "weft: " << version.status().message() << "\n";
    return 2;
  }
  if (!options.json && !options.quiet) out << "workflow " << (*wf)->name << " v" << *version << "\n";
  Result<std::string> run_id = s.engine->Start((*wf)->name, *version, input);
  if (!run_id.ok()) {
    err << "weft: " << run_id.status().message() << "\n";
    return 2;
  }
  return Finish(s, *run_id, options.json, out, err);
}

int ValidateWorkflows(const ValidateCommandOptions& options, std::ostream& out, std::ostream& err) {
  engine::ActionRegistry actions;
  Clients http;
  Result<Config> config = ReadConfig();
  if (Status s = config.ok() ? RegisterActions(*config, actions, http) : config.status(); !s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
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
  Result<std::unique_ptr<Session>> session = OpenSession(options.store, options.json ? nullptr : &out);
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
  Status s = (*session)->engine->Resume(options.run_id, payload);
  if (!s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int RetryRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<Session>> session = OpenSession(options.store, options.json ? nullptr : &out);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  if (Status s = (*session)->engine->Retry(options.run_id, options.version); !s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int CancelRun(const RunIdCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<Session>> session = OpenSession(options.store, nullptr);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  if (Status s = (*session)->engine->Cancel(options.run_id); !s.ok()) {
    err << "weft: " << s.message() << "\n";
    return 2;
  }
  return Finish(**session, options.run_id, options.json, out, err);
}

int RecoverRuns(const StoreOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<Session>> session = OpenSession(options, &out);
  if (!session.ok()) {
    err << "weft: " << session.status().message() << "\n";
    return 2;
  }
  Result<int> n = (*session)->engine->Recover();
  if (!n.ok()) {
    err << "weft: " << n.status().message() << "\n";
    return 2;
  }
  (*session)->engine->Drain();
  out << "recovered " << *n << " run" << (*n == 1 ? "" : "s") << "\n";
  return 0;
}

int ListRuns(const ListCommandOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<store::Store>> st = OpenStore(options.store);
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
    for (const RunRecord& r : *runs) list.push_back(RunToJson(r, nullptr));
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
  Result<std::unique_ptr<store::Store>> st = OpenStore(options.store);
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
    Value doc = RunToJson(*rec, &*steps);
    if (said.ok() && !said->empty()) {
      Value::Array messages;
      for (const store::MessageRecord& m : *said) {
        Value v = Value::MakeObject();
        v.set("conversation", m.conversation);
        v.set("seq", static_cast<double>(m.seq));
        v.set("step", m.step_path);
        v.set("role", m.role);
        v.set("kind", m.kind);
        v.set("content", m.content);
        messages.push_back(v);
      }
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

#include "weft/store/record_json.h"

namespace weft::store {
namespace {

// {code, message} under "error", when there is one.
void SetError(Value& o, const std::string& code, const std::string& message) {
  if (message.empty()) return;
  Value e = Value::MakeObject();
  e.set("code", code);
  e.set("message", message);
  o.set("error", e);
}

}  // namespace

Value StepToJson(const StepRecord& s) {
  Value o = Value::MakeObject();
  o.set("seq", static_cast<double>(s.seq));
  o.set("path", s.path);
  o.set("task", s.task);
  o.set("action", s.action);
  o.set("attempt", s.attempt);
  o.set("status", std::string(StepStatusName(s.status)));
  if (s.input.is_defined()) o.set("input", s.input);
  if (s.output.is_defined()) o.set("output", s.output);
  SetError(o, s.error_code, s.error);
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
  o.set("status", std::string(RunStatusName(r.status)));
  o.set("input", r.input.is_defined() ? r.input : Value::MakeObject());
  if (r.outputs.is_defined()) o.set("outputs", r.outputs);  // a finished run's outputs
  SetError(o, r.error_code, r.error);
  if (r.wait.is_defined()) o.set("waiting", r.wait);
  if (!r.parent_run.empty()) o.set("parent_run", r.parent_run);
  if (!r.trigger.empty()) o.set("trigger", r.trigger);
  o.set("created_ms", static_cast<double>(r.created_ms));
  o.set("updated_ms", static_cast<double>(r.updated_ms));
  if (steps != nullptr) {
    Value list = Value::MakeArray();
    // What the run has so far, also while it waits: each task's latest
    // result (what $output.<task> reads).
    Value results = Value::MakeObject();
    for (const StepRecord& s : *steps) {
      list.push_back(StepToJson(s));
      if (s.status == StepStatus::kCompleted && !s.task.empty() && s.output.is_defined()) {
        results.set(s.task, s.output);
      }
    }
    o.set("results", results);
    o.set("steps", list);
  }
  return o;
}

Value MessageToJson(const MessageRecord& m) {
  Value o = Value::MakeObject();
  o.set("conversation", m.conversation);
  o.set("seq", static_cast<double>(m.seq));
  o.set("run_id", m.run_id);
  o.set("step", m.step_path);
  o.set("role", m.role);
  o.set("kind", m.kind);
  o.set("content", m.content);
  o.set("created_ms", static_cast<double>(m.created_ms));
  return o;
}

}  // namespace weft::store

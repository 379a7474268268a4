// What the loader needs to know about an action: its name, whether it
// suspends the run, and the JSON Schemas of its inputs and output. The engine's
// action registry implements ActionCatalog; the loader only reads it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/value.h"
#include "weft/dsl/permissions.h"
#include "weft/dsl/schema.h"
#include "weft/dsl/template.h"

namespace weft::dsl {

struct Workflow;

struct ActionSpec {
  std::string name;
  std::string description;
  // A suspending action parks the run until a resume call carries its result
  // (await_user_input, approval, wait, handover). Refused inside `parallel`.
  bool suspends = false;
  // An immediate action never waits on I/O or timers (set, log, fail, the
  // suspending ones): the engine calls it inline, without the timeout and
  // cancellation machinery that actions doing I/O need.
  bool immediate = false;
  // A pure action has no effect outside the run (set, log, fail, emit,
  // script): a run may do it before the run is stored. Before any other
  // action the engine makes sure the run is (see RunState::unborn).
  bool pure = false;
  // JSON Schemas of the evaluated `inputs` object and of the result; absent
  // means "anything".
  std::optional<Schema> input_schema;
  std::optional<Schema> output_schema;
  // JSON Schema of the action's own settings: the keys of a task's
  // `settings` besides the step's (timeout_ms, retries, on_error, export,
  // stop_step_count). Validation refuses a key it does not list and a
  // literal value that breaks it. Absent: the action's settings are not
  // checked (an extension that declares none).
  std::optional<Schema> settings_schema;
  // What the action needs the workflow to grant (a mask of dsl::Need).
  uint32_t needs = 0;
  // A human approves each call before it runs (the engine suspends the step
  // for an approval first).
  bool sensitive = false;
  // What can be checked before running: given the task's literal inputs
  // (the members that hold no expression) and the workflow's grants, why
  // the call cannot be allowed ("" when it can, or when it cannot tell).
  std::function<std::string(const Value& literal_inputs, const Permissions& granted)> check_grants;
  // Other checks of a task's literal settings against the whole workflow
  // (an agent's tools must be actions it declares, a model alias must be
  // configured): why the task cannot work (`error`), or what may go wrong
  // (`warning`); empty when all is well or it cannot tell.
  struct TaskFindings {
    std::string error;
    std::string warning;
  };
  // `settings` is the task's action settings (LiteralMembers() are the
  // values known before running; HasMember() tells an expression apart from
  // an absent key).
  std::function<TaskFindings(const Template& settings, const Workflow& workflow)> check_task;
  // Whether a task may park the run though the action does not always
  // (an agent with a sensitive tool); unset: `suspends || sensitive`.
  std::function<bool(const Value& literal_settings, const Workflow& workflow)> may_suspend;
};

class ActionCatalog {
 public:
  virtual ~ActionCatalog() = default;
  // nullptr when there is no such action.
  virtual const ActionSpec* Find(std::string_view name) const = 0;
  virtual std::vector<std::string> Names() const = 0;
};

}  // namespace weft::dsl

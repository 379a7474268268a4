// The workflow loader's insides, shared by its files: loader.cc (typed YAML
// reading, expressions, the header, inputs, the whole load), loader_defs.cc
// (definitions, settings, bindings), loader_actions.cc (permissions, imports,
// declared actions), loader_flow.cc (flow blocks, outputs), loader_checks.cc
// (checks that need the whole workflow). Not part of the public API.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/dsl/loader.h"
#include "weft/dsl/trigger.h"
#include "weft/dsl/workflow.h"
#include "yaml_reader.h"

namespace weft::dsl::internal {

using Keys = std::vector<std::string>;

inline const Keys kTopKeys = {"inputs",  "context",     "defaults",    "defs",     "flow",
                              "outputs", "workflow",    "trigger",     "triggers", "name",
                              "version", "description", "permissions", "actions",  "imports"};
inline const Keys kWorkflowKeys = {"name", "version", "description"};
inline const Keys kPermissionKeys = {"network", "sql", "email", "scripts"};
inline const Keys kNetworkKeys = {"hosts", "private"};
inline const Keys kNamedActionKeys = {"description", "inputs", "output", "sensitive", "implementation"};
inline const Keys kImplementationKeys = {"action", "inputs", "settings"};
inline const Keys kCatalogKeys = {"actions", "description"};
inline constexpr std::string_view kImportMarker = "\n--- # weft import: ";
inline const Keys kInputsKeys = {"schema"};
inline const Keys kDefaultsKeys = {"settings"};
inline const Keys kTaskKeys = {"kind", "action", "inputs", "settings", "bindings", "description", "export"};
inline const Keys kBindingDefKeys = {"kind", "settings", "description", "action", "bindings"};
// The keys of a task's `settings` that belong to the step, not its action.
inline const Keys kStepSettingKeys = {"timeout_ms", "stop_step_count", "export", "retries", "on_error"};
inline const Keys kRetryKeys = {"enabled", "max_attempts", "backoff_ms", "max_delay_ms",
                                "jitter",  "multiplier",   "retry_on"};
inline const Keys kOnErrorKeys = {"fallback", "steps"};
inline const Keys kStepKeys = {"do", "parallel", "conditional", "loop"};
inline const Keys kParallelKeys = {"description", "strategy", "steps"};
inline const Keys kConditionalKeys = {"description", "when", "else"};
inline const Keys kWhenKeys = {"condition", "steps", "else"};
inline const Keys kElseKeys = {"steps"};
inline const Keys kLoopKeys = {"type",  "name",  "description",     "for_each",  "while",
                               "until", "steps", "max_concurrency", "accumulate"};
// Keys of the top level and of an input field that Hexabot v3 knows.
inline const Keys kHexabotTopKeys = {"inputs", "context", "defaults", "defs", "flow", "outputs"};
inline const Keys kHexabotFieldKeys = {"type", "description", "enum", "items", "properties"};
inline const Keys kForEachKeys = {"item", "in"};
inline const Keys kAccumulateKeys = {"as", "initial", "merge"};
// Names expressions see as $name; a loop item may not shadow them.
inline const Keys kReservedBindings = {"input", "context", "output", "iteration", "accumulator", "error", "secret"};

// Concatenation without the temporaries of a + b + c.
inline std::string Cat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

inline bool IsSnakeCaseName(const std::string& s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

inline bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

// Whether a loop body reads its loop's $accumulator / names $`name`.
bool ReadsAccumulator(const std::vector<FlowNode>& body);
bool NamesVariable(const std::vector<FlowNode>& body, const std::string& name);

class Loader {
 public:
  // `embedded`: imported catalogs stored with the source (path -> text).
  Loader(std::string file, const ActionCatalog& actions, Diagnostics& diagnostics,
         std::map<std::string, std::string> embedded)
      : file_(std::move(file)), actions_(actions), diag_(diagnostics), embedded_(std::move(embedded)) {}

  std::shared_ptr<Workflow> Load(const YAML::Node& root, std::string_view source, const LoadOptions& options);

 private:
  SourceLocation Loc(const YAML::Node& n) const { return LocationOf(n, file_); }

  // Reports keys of `map` not in `allowed`, with a suggestion.
  void CheckKeys(const YAML::Node& map, const Keys& allowed, std::string_view what);
  // Errors for required inputs missing and literal inputs breaking `spec`.
  void CheckInputs(const std::string& who, const ActionSpec& spec, const YAML::Node& inputs, const Template& compiled,
                   const YAML::Node& owner);
  bool ExpectMap(const YAML::Node& n, std::string_view what);
  bool ExpectSequence(const YAML::Node& n, std::string_view what);
  bool ExpectString(const YAML::Node& n, std::string_view what, std::string& out);
  bool ExpectInt(const YAML::Node& n, std::string_view what, int64_t min, int64_t& out);
  bool ExpectNumber(const YAML::Node& n, std::string_view what, double& out);
  bool ExpectBool(const YAML::Node& n, std::string_view what, bool& out);
  Value ToValue(const YAML::Node& n) { return YamlToValue(n, file_, diag_); }

  std::optional<expr::Expression> CompileExpression(const YAML::Node& n, std::string_view what, bool require_equals);
  // Records a form Hexabot v3 refuses or runs differently (shown by
  // `weft validate --hexabot`).
  // Inside a section Hexabot lacks altogether (declared actions, imported
  // catalogs), the section itself is the one note.
  void Portable(const YAML::Node& n, std::string message) {
    if (!in_weft_section_) diag_.Portability(Loc(n), std::move(message));
  }
  void LoadRetryOn(const YAML::Node& n, const std::string& where, std::vector<StatusCode>& out);
  // A task's or a binding def's `bindings`: binding kind -> def name, or a
  // list of names. Returns the mounted payloads (Hexabot's shape).
  Value LoadBindings(const YAML::Node& n, const std::string& where);
  Value MountBindings(const YAML::Node& n, const std::string& where, bool report, std::set<std::string>& visiting);
  Value MountBindingDef(const std::string& name, std::set<std::string>& visiting);
  void CheckBindingCycles();
  Template CompileTemplate(const YAML::Node& n, const std::string& where);

  void LoadHeader(const YAML::Node& root, const LoadOptions& options);
  void LoadInputs(const YAML::Node& n);
  std::optional<Schema> ReadSchema(const YAML::Node& schema_node, const std::string& where, Value& document);
  void LoadPermissions(const YAML::Node& n);
  // loader_triggers.cc
  void LoadTriggers(const YAML::Node& root);
  void LoadTrigger(const YAML::Node& n, const std::string& where);
  void LoadWebhook(const YAML::Node& n, const std::string& where, WebhookTrigger& out);
  void LoadWebhookAuth(const YAML::Node& n, const std::string& where, WebhookAuth& out);
  void LoadSchedule(const YAML::Node& n, const std::string& where, ScheduleTrigger& out);
  void CheckTriggerClashes();
  void LoadImports(const YAML::Node& n);
  void LoadNamedActions(const YAML::Node& n);
  const ActionSpec* FindAction(const std::string& name, const NamedAction** named) const;
  void CheckGrants(const std::string& who, const ActionSpec& spec, const ActionSpec* impl, const Template& inputs,
                   const YAML::Node& node);
  void LoadSettings(const YAML::Node& n, const std::string& where, StepSettings& settings,
                    std::vector<std::pair<std::string, Template>>& action_settings, YAML::Node* on_error_steps);
  void CheckActionSettings(const std::string& who, const std::string& action, const Schema& schema,
                           const YAML::Node& own, const Template& merged, bool step_keys);
  void CheckDefaultSettings();
  void LoadDefs(const YAML::Node& n);
  void LoadSteps(const YAML::Node& seq, const std::string& prefix, std::vector<FlowNode>& out);
  void LoadStep(const YAML::Node& n, const std::string& path, std::vector<FlowNode>& out);
  void LoadDo(const YAML::Node& n, const YAML::Node& name_node, FlowNode& node);
  void LoadParallel(const YAML::Node& n, FlowNode& node);
  void LoadConditional(const YAML::Node& n, FlowNode& node);
  void LoadLoop(const YAML::Node& n, FlowNode& node);
  void LoadOutputs(const YAML::Node& n);

  // Checks that need the whole flow.
  void CheckConcurrentSuspension(const std::vector<FlowNode>& nodes, const char* where_kind);
  void CheckFallbackCycles();
  void CheckOutputs(const YAML::Node& outputs_node);
  void WarnUnusedTasks();
  void CheckSecrets(const YAML::Node& root);
  void RefuseSecrets(const std::vector<FlowNode>& nodes);

  std::string file_;
  const ActionCatalog& actions_;
  Diagnostics& diag_;
  std::shared_ptr<Workflow> wf_;
  StepSettings defaults_;
  std::vector<std::pair<std::string, Template>> default_action_settings_;
  YAML::Node default_settings_node_;
  // Settings some task's action reads; unknown_settings_ when a task's
  // action declares none (then nothing can be said of the defaults).
  std::set<std::string> known_settings_;
  bool unknown_settings_ = false;
  std::map<std::string, YAML::Node> binding_defs_;
  std::map<std::string, Value> mounted_defs_;  // binding def -> {settings, action?, bindings?}
  bool in_weft_section_ = false;
  bool defaults_set_retries_enabled_ = false;  // defaults.settings.retries says `enabled`
  std::map<std::string, YAML::Node> task_nodes_;
  std::map<std::string, SourceLocation> def_locations_;
  std::map<std::string, YAML::Node> fallback_nodes_;
  std::set<std::string> used_tasks_;
  std::map<std::string, SourceLocation> loop_names_;
  std::vector<std::string> def_names_;
  std::map<std::string, std::string> embedded_;
  std::vector<std::pair<std::string, std::string>> imported_;  // path -> text, in order
};

// Whether nodes can suspend the run (`visiting` guards fallback cycles).
bool CanSuspend(const std::vector<FlowNode>& nodes, std::set<const TaskDef*>& visiting);

}  // namespace weft::dsl::internal

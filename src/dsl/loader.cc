// The workflow loader: YAML nodes → Workflow. Works on yaml-cpp nodes (which
// keep positions) so that every diagnostic can say file:line:col; converts
// leaves to Values only where a value is what the file means.
#include "weft/dsl/loader.h"

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include "weft/core/file.h"
#include "weft/core/json.h"
#include "yaml_reader.h"

namespace weft::dsl {
namespace {

using Keys = std::vector<std::string>;

const Keys kTopKeys = {"inputs",  "context", "defaults", "defs",        "flow",        "outputs", "workflow",
                       "trigger", "name",    "version",  "description", "permissions", "actions", "imports"};
const Keys kWorkflowKeys = {"name", "version", "description"};
const Keys kPermissionKeys = {"network", "sql", "email", "scripts"};
const Keys kNetworkKeys = {"hosts", "private"};
const Keys kNamedActionKeys = {"description", "inputs", "output", "sensitive", "implementation"};
const Keys kImplementationKeys = {"action", "inputs", "settings"};
const Keys kCatalogKeys = {"actions", "description"};
constexpr std::string_view kImportMarker = "\n--- # weft import: ";
const Keys kInputsKeys = {"schema"};
const Keys kDefaultsKeys = {"settings"};
const Keys kTaskKeys = {"kind", "action", "inputs", "settings", "bindings", "description", "export"};
const Keys kBindingDefKeys = {"kind", "settings", "description", "action", "bindings"};
// The keys of a task's `settings` that belong to the step, not its action.
const Keys kStepSettingKeys = {"timeout_ms", "stop_step_count", "export", "retries", "on_error"};
const Keys kRetryKeys = {"enabled", "max_attempts", "backoff_ms", "max_delay_ms", "jitter", "multiplier", "retry_on"};
const Keys kOnErrorKeys = {"fallback", "steps"};
const Keys kStepKeys = {"do", "parallel", "conditional", "loop"};
const Keys kParallelKeys = {"description", "strategy", "steps"};
const Keys kConditionalKeys = {"description", "when", "else"};
const Keys kWhenKeys = {"condition", "steps", "else"};
const Keys kElseKeys = {"steps"};
const Keys kLoopKeys = {"type",  "name",  "description",     "for_each",  "while",
                        "until", "steps", "max_concurrency", "accumulate"};
// Keys of the top level and of an input field that Hexabot v3 knows.
const Keys kHexabotTopKeys = {"inputs", "context", "defaults", "defs", "flow", "outputs"};
const Keys kHexabotFieldKeys = {"type", "description", "enum", "items", "properties"};
const Keys kForEachKeys = {"item", "in"};
const Keys kAccumulateKeys = {"as", "initial", "merge"};
// Names expressions see as $name; a loop item may not shadow them.
const Keys kReservedBindings = {"input", "context", "output", "iteration", "accumulator", "error", "secret"};

// Concatenation without the temporaries of a + b + c.
std::string Cat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

bool IsSnakeCaseName(const std::string& s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsIdentifier(const std::string& s) {
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
  Value MountBindingDef(const std::string& name, std::set<std::string>& visiting);
  void CheckBindingCycles();
  Template CompileTemplate(const YAML::Node& n, const std::string& where);

  void LoadHeader(const YAML::Node& root, const LoadOptions& options);
  void LoadInputs(const YAML::Node& n);
  std::optional<Schema> ReadSchema(const YAML::Node& schema_node, const std::string& where, Value& document);
  void LoadPermissions(const YAML::Node& n);
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
  std::map<std::string, Value> mounted_defs_;
  bool in_weft_section_ = false;  // binding def -> {settings, action?, bindings?}
  std::map<std::string, YAML::Node> task_nodes_;
  std::map<std::string, SourceLocation> def_locations_;
  std::map<std::string, YAML::Node> fallback_nodes_;
  std::set<std::string> used_tasks_;
  std::map<std::string, SourceLocation> loop_names_;
  std::vector<std::string> def_names_;
  std::map<std::string, std::string> embedded_;
  std::vector<std::pair<std::string, std::string>> imported_;  // path -> text, in order
};

void Loader::CheckKeys(const YAML::Node& map, const Keys& allowed, std::string_view what) {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "' in " + std::string(what);
    std::string suggestion = ClosestMatch(key, allowed);
    if (!suggestion.empty()) {
      message += " (did you mean '" + suggestion + "'?)";
    } else {
      std::string list;
      for (const std::string& k : allowed) list += (list.empty() ? "" : ", ") + k;
      message += " (expected one of: " + list + ")";
    }
    diag_.Error(Loc(kv.first), message);
  }
}

bool Loader::ExpectMap(const YAML::Node& n, std::string_view what) {
  if (n.IsMap()) return true;
  diag_.Error(Loc(n), std::string(what) + " must be a mapping");
  return false;
}

bool Loader::ExpectSequence(const YAML::Node& n, std::string_view what) {
  if (n.IsSequence()) return true;
  diag_.Error(Loc(n), std::string(what) + " must be a list");
  return false;
}

bool Loader::ExpectString(const YAML::Node& n, std::string_view what, std::string& out) {
  if (n.IsScalar()) {
    out = n.Scalar();
    return true;
  }
  diag_.Error(Loc(n), std::string(what) + " must be a string");
  return false;
}

bool Loader::ExpectInt(const YAML::Node& n, std::string_view what, int64_t min, int64_t& out) {
  Value v = n.IsScalar() ? ToValue(n) : Value();
  if (v.is_number() && std::isfinite(v.as_number()) && v.as_number() == std::floor(v.as_number()) &&
      v.as_number() >= static_cast<double>(min) && v.as_number() < 9.0e15) {
    out = static_cast<int64_t>(v.as_number());
    return true;
  }
  diag_.Error(Loc(n), std::string(what) + " must be an integer >= " + std::to_string(min));
  return false;
}

bool Loader::ExpectNumber(const YAML::Node& n, std::string_view what, double& out) {
  Value v = n.IsScalar() ? ToValue(n) : Value();
  if (v.is_number() && std::isfinite(v.as_number()) && v.as_number() >= 0) {
    out = v.as_number();
    return true;
  }
  diag_.Error(Loc(n), std::string(what) + " must be a number >= 0");
  return false;
}

bool Loader::ExpectBool(const YAML::Node& n, std::string_view what, bool& out) {
  Value v = n.IsScalar() ? ToValue(n) : Value();
  if (v.is_bool()) {
    out = v.as_bool();
    return true;
  }
  diag_.Error(Loc(n), std::string(what) + " must be true or false");
  return false;
}

std::optional<expr::Expression> Loader::CompileExpression(const YAML::Node& n, std::string_view what,
                                                          bool require_equals) {
  if (!n.IsScalar()) {
    diag_.Error(Loc(n), std::string(what) + " must be an expression string");
    return std::nullopt;
  }
  std::string text = n.Scalar();
  size_t offset = 0;
  if (!text.empty() && text[0] == '=') {
    offset = 1;
  } else if (require_equals) {
    diag_.Error(Loc(n), std::string(what) + " must be an expression (a string starting with '=')");
    return std::nullopt;
  } else {
    Portable(n, Cat({what, " without the '=' prefix (Hexabot requires it)"}));
  }
  expr::ExprError error;
  Result<expr::Expression> e = expr::Expression::Compile(std::string_view(text).substr(offset), &error);
  if (e.ok()) {
    if (e->UsesDoubleEquals()) Portable(n, Cat({what, ": '==' is weft's alias; JSONata (and Hexabot) write '='"}));
    if (e->ReadsInput()) {
      Portable(n, Cat({what,
                       " reads weft's working state (a bare field name or $); Hexabot evaluates against an "
                       "empty document: use $input, $output, $context, $iteration or $accumulator"}));
    }
    if (e->Names("secret")) Portable(n, Cat({what, ": $secret() is weft's"}));
    return std::move(e).value();
  }
  SourceLocation where = Loc(n);
  if (where.line > 0 && error.position >= 0 && text.find('\n') == std::string::npos) {
    where.column += static_cast<int>(offset) + (IsQuotedScalar(n) ? 1 : 0) + std::max(0, error.position - 1);
  }
  diag_.Error(where, std::string(what) + ": " + error.code + ": " + error.message);
  return std::nullopt;
}

Template Loader::CompileTemplate(const YAML::Node& n, const std::string& where) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      if (n.Scalar().empty() || n.Scalar()[0] != '=') return Template::Literal(ToValue(n));
      std::optional<expr::Expression> e = CompileExpression(n, where, true);
      if (!e) return Template();
      return Template::Expr(std::move(*e), where);
    }
    case YAML::NodeType::Sequence: {
      std::vector<Template> items;
      size_t i = 0;
      for (const YAML::Node& child : n)
        items.push_back(CompileTemplate(child, where + "[" + std::to_string(i++) + "]"));
      return Template::Array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<std::string, Template>> members;
      std::set<std::string> seen;
      for (const auto& kv : n) {
        std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
        if (!seen.insert(key).second) diag_.Error(Loc(kv.first), "duplicate key '" + key + "'");
        members.emplace_back(key, CompileTemplate(kv.second, Cat({where, ".", key})));
      }
      return Template::Object(std::move(members));
    }
    default: return Template::Literal(Value::Null());
  }
}

void Loader::LoadHeader(const YAML::Node& root, const LoadOptions& options) {
  wf_->name = options.default_name;
  auto read_header = [&](const YAML::Node& map) {
    if (const YAML::Node name = map["name"]) {
      std::string s;
      if (ExpectString(name, "workflow name", s)) {
        if (!IsIdentifier(s)) {
          diag_.Error(Loc(name), "workflow name '" + s + "' must be letters, digits, '_' or '-'");
        }
        wf_->name = s;
      }
    }
    if (const YAML::Node version = map["version"]) {
      Value v = ToValue(version);
      if (v.is_number() && v.as_number() >= 1 && v.as_number() == std::floor(v.as_number()) && v.as_number() < 1e15) {
        wf_->version = static_cast<int64_t>(v.as_number());
      } else if (!v.is_string()) {
        diag_.Error(Loc(version), "workflow version must be a positive integer or a string");
      }
    }
    if (const YAML::Node d = map["description"]) ExpectString(d, "description", wf_->description);
  };
  read_header(root);
  if (const YAML::Node w = root["workflow"]) {
    if (ExpectMap(w, "'workflow'")) {
      CheckKeys(w, kWorkflowKeys, "'workflow'");
      read_header(w);
    }
  }
  if (wf_->name.empty()) wf_->name = "workflow";
  if (const YAML::Node t = root["trigger"]) wf_->trigger = ToValue(t);
}

void Loader::LoadInputs(const YAML::Node& n) {
  if (!ExpectMap(n, "'inputs'")) return;
  CheckKeys(n, kInputsKeys, "'inputs'");
  const YAML::Node schema_node = n["schema"];
  if (!schema_node) return;
  if (!ExpectMap(schema_node, "'inputs.schema'")) return;
  wf_->input_schema = ReadSchema(schema_node, "inputs.schema", wf_->input_schema_document);
}

// A schema as a workflow writes it: a full JSON Schema (with `type` and
// `properties`), or Hexabot's map of field -> schema where a field is
// required when it says `required: true`.
std::optional<Schema> Loader::ReadSchema(const YAML::Node& schema_node, const std::string& where, Value& document) {
  Value fields = ToValue(schema_node);
  const Value* type = fields.find("type");
  if (type != nullptr && type->is_string()) {
    document = fields;  // already a full JSON Schema (a field's schema is a mapping)
    Portable(schema_node, where + " is a full JSON Schema; Hexabot takes a map of fields");
  } else {
    Value properties = Value::MakeObject();
    Value::Array required;
    for (const auto& kv : schema_node) {
      const std::string key = kv.first.Scalar();
      Value field = ToValue(kv.second);
      if (!field.is_object()) {
        diag_.Error(Loc(kv.second), Cat({where, ".", key, " must be a mapping such as {type: string}"}));
        continue;
      }
      for (const auto& m : field.members()) {
        if (std::find(kHexabotFieldKeys.begin(), kHexabotFieldKeys.end(), m.key) == kHexabotFieldKeys.end()) {
          constexpr std::string_view kFieldKeys =
              ": Hexabot's input fields take only type, description, enum, items and properties";
          Portable(kv.second, Cat({where, ".", key, ".", m.key, kFieldKeys}));
        }
      }
      if (const Value* r = field.find("required"); r != nullptr && r->is_bool()) {
        if (r->as_bool()) required.push_back(Value(key));
        Value copy = Value::MakeObject();
        for (const auto& m : field.members()) {
          if (m.key != "required") copy.set(m.key, m.value);
        }
        field = copy;
      }
      properties.set(key, field);
    }
    document = Value::MakeObject();
    document.set("type", "object");
    document.set("properties", properties);
    if (!required.empty()) document.set("required", Value::MakeArray(std::move(required)));
  }
  // valijson ignores unknown "type" names or rejects them without a place;
  // name them here, with a suggestion.
  static const Keys kTypes = {"string", "number", "integer", "boolean", "object", "array", "null"};
  const int errors_before = diag_.error_count();
  std::function<void(const YAML::Node&)> check_types = [&](const YAML::Node& node) {
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (kv.first.IsScalar() && kv.first.Scalar() == "type" && kv.second.IsScalar() &&
            std::find(kTypes.begin(), kTypes.end(), kv.second.Scalar()) == kTypes.end()) {
          std::string message = "unknown schema type '" + kv.second.Scalar() + "'";
          std::string s = ClosestMatch(kv.second.Scalar(), kTypes);
          if (!s.empty()) message += " (did you mean '" + s + "'?)";
          diag_.Error(Loc(kv.second), message);
        }
        check_types(kv.second);
      }
    } else if (node.IsSequence()) {
      for (const YAML::Node& child : node) check_types(child);
    }
  };
  check_types(schema_node);
  if (diag_.error_count() > errors_before) return std::nullopt;
  Result<Schema> schema = Schema::Compile(document);
  if (!schema.ok()) {
    diag_.Error(Loc(schema_node), where + ": " + schema.status().message());
    return std::nullopt;
  }
  return std::move(schema).value();
}

void Loader::LoadSettings(const YAML::Node& n, const std::string& where, StepSettings& settings,
                          std::vector<std::pair<std::string, Template>>& action_settings, YAML::Node* on_error_steps) {
  if (!ExpectMap(n, where)) return;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "timeout_ms") {
      ExpectInt(v, where + ".timeout_ms", 0, settings.timeout_ms);
    } else if (key == "stop_step_count") {
      int64_t count = 0;
      if (ExpectInt(v, where + ".stop_step_count", 0, count)) {
        settings.stop_step_count = static_cast<int>(count);
        action_settings.emplace_back(key, Template::Literal(Value(static_cast<double>(count))));  // the agent reads it
      }
    } else if (key == "export") {
      Portable(kv.first, where + ".export is weft's");
      ExpectBool(v, where + ".export", settings.export_result);
    } else if (key == "retries") {
      if (!ExpectMap(v, where + ".retries")) continue;
      CheckKeys(v, kRetryKeys, where + ".retries");
      RetryPolicy& r = settings.retries;
      // Hexabot: a retries block retries unless it says `enabled: false`;
      // blocks merge field by field, so a task's block keeps the default's
      // explicit `enabled`.
      if (v["enabled"]) {
        if (ExpectBool(v["enabled"], where + ".retries.enabled", r.enabled)) r.enabled_given = true;
      } else if (!r.enabled_given) {
        r.enabled = true;
      }
      int64_t attempts = r.max_attempts;
      if (v["max_attempts"] && ExpectInt(v["max_attempts"], where + ".retries.max_attempts", 1, attempts)) {
        r.max_attempts = static_cast<int>(std::min<int64_t>(attempts, 1000));
      }
      if (v["backoff_ms"]) ExpectInt(v["backoff_ms"], where + ".retries.backoff_ms", 0, r.backoff_ms);
      if (v["max_delay_ms"]) ExpectInt(v["max_delay_ms"], where + ".retries.max_delay_ms", 0, r.max_delay_ms);
      if (v["jitter"] && ExpectNumber(v["jitter"], where + ".retries.jitter", r.jitter) && r.jitter < 0) {
        diag_.Error(Loc(v["jitter"]), where + ".retries.jitter must not be negative");
      }
      if (v["multiplier"] && ExpectNumber(v["multiplier"], where + ".retries.multiplier", r.multiplier) &&
          r.multiplier < 1) {
        diag_.Error(Loc(v["multiplier"]), where + ".retries.multiplier must be at least 1");
      }
      if (const YAML::Node on = v["retry_on"]) {
        Portable(on, where + ".retries.retry_on is weft's");
        LoadRetryOn(on, where + ".retries.retry_on", r.retry_on);
      }
    } else if (key == "on_error") {
      Portable(kv.first, where + ".on_error is weft's (in Hexabot a failed step fails the run)");
      ErrorHandler& h = settings.on_error;
      if (v.IsScalar() && (v.Scalar() == "fail" || v.Scalar() == "continue")) {
        h = ErrorHandler{};
        h.kind = v.Scalar() == "fail" ? ErrorHandler::Kind::kFail : ErrorHandler::Kind::kContinue;
      } else if (v.IsMap()) {
        CheckKeys(v, kOnErrorKeys, where + ".on_error");
        if (v["fallback"] && v["steps"]) {
          diag_.Error(Loc(v), where + ".on_error takes either 'fallback' or 'steps', not both");
        } else if (v["fallback"]) {
          h = ErrorHandler{};
          h.kind = ErrorHandler::Kind::kFallbackValue;
          h.fallback = CompileTemplate(v["fallback"], where + ".on_error.fallback");
        } else if (v["steps"]) {
          if (on_error_steps == nullptr) {
            diag_.Error(Loc(v), "on_error steps belong to a task's settings, not to defaults");
          } else if (ExpectSequence(v["steps"], where + ".on_error.steps")) {
            h = ErrorHandler{};
            h.kind = ErrorHandler::Kind::kFallbackSteps;
            *on_error_steps = v["steps"];
          }
        } else {
          diag_.Error(Loc(v), where + ".on_error needs 'fallback' or 'steps'");
        }
      } else {
        diag_.Error(Loc(v), where + ".on_error must be 'fail', 'continue', {fallback: value} or {steps: [...]}");
      }
    } else {
      // Everything else belongs to the action; a task's key replaces the
      // default's.
      Template t = CompileTemplate(v, Cat({where, ".", key}));
      auto it =
          std::find_if(action_settings.begin(), action_settings.end(), [&](const auto& p) { return p.first == key; });
      if (it != action_settings.end()) {
        it->second = std::move(t);
      } else {
        action_settings.emplace_back(key, std::move(t));
      }
    }
  }
}

// A task's own settings (not the step's, when `step_keys`) must be ones its
// action reads, with literal values its schema allows; a default is checked
// against the actions that read it. `who` names the owner in messages.
void Loader::CheckActionSettings(const std::string& who, const std::string& action, const Schema& schema,
                                 const YAML::Node& own, const Template& merged, bool step_keys) {
  const Value properties = schema.document().get("properties");
  std::vector<std::string> known;
  for (const auto& m : properties.members()) {
    known.push_back(m.key);
    known_settings_.insert(m.key);
  }
  const bool has_own = own && own.IsMap();
  if (has_own) {
    for (const auto& kv : own) {
      const std::string key = kv.first.Scalar();
      const bool step_key = std::find(kStepSettingKeys.begin(), kStepSettingKeys.end(), key) != kStepSettingKeys.end();
      if ((step_keys && step_key) || properties.find(key) != nullptr) continue;
      std::string message = Cat({who, ": '", key, "' is not a setting of ", action});
      if (std::string s = ClosestMatch(key, known); !s.empty()) {
        message += " (did you mean '" + s + "'?)";
      } else if (known.empty()) {
        message +=
            step_keys ? " (it has none; the step's are timeout_ms, retries, on_error, export)" : " (it has none)";
      } else {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        message += " (its settings: " + list + ")";
      }
      diag_.Error(Loc(kv.first), message);
    }
  }
  const Value literal = merged.LiteralMembers();
  for (const auto& m : literal.members()) {
    if (properties.find(m.key) == nullptr) continue;
    Value one = Value::MakeObject();
    one.set(m.key, m.value);
    if (Status s = schema.Validate(one, "setting"); !s.ok()) {
      const YAML::Node at = has_own && own[m.key] ? own[m.key] : default_settings_node_[m.key];
      diag_.Error(Loc(at), Cat({who, " (", action, "): ", s.message()}));
    }
  }
}

void Loader::CheckDefaultSettings() {
  if (unknown_settings_ || !default_settings_node_ || !default_settings_node_.IsMap()) return;
  for (const auto& kv : default_settings_node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(kStepSettingKeys.begin(), kStepSettingKeys.end(), key) != kStepSettingKeys.end()) continue;
    if (known_settings_.count(key) == 0) {
      std::string message = "defaults.settings." + key + " is not a setting of any action this workflow uses";
      if (std::string s = ClosestMatch(key, {known_settings_.begin(), known_settings_.end()}); !s.empty()) {
        message += " (did you mean '" + s + "'?)";
      }
      diag_.Warning(Loc(kv.first), message);
    }
  }
}

void Loader::CheckInputs(const std::string& who, const ActionSpec& spec, const YAML::Node& inputs,
                         const Template& compiled, const YAML::Node& owner) {
  if (!spec.input_schema) return;
  const Value* req = spec.input_schema->document().find("required");
  if (!inputs) {
    if (req != nullptr && req->is_array() && req->size() > 0) {
      diag_.Error(Loc(owner), who + ": action '" + spec.name + "' needs inputs (" + ToJson(*req) + ")");
    }
    return;
  }
  // What can be checked before running: required inputs present, literal
  // inputs valid.
  bool missing = false;
  if (req != nullptr && req->is_array()) {
    for (const Value& r : req->as_array()) {
      if (r.is_string() && !inputs[r.as_string()]) {
        diag_.Error(Loc(inputs), who + ": action '" + spec.name + "' needs input '" + r.as_string() + "'");
        missing = true;
      }
    }
  }
  if (compiled.is_literal() && !missing) {
    Status s = spec.input_schema->Validate(compiled.literal(), "inputs of " + who);
    if (!s.ok()) diag_.Error(Loc(inputs), s.message());
  }
}

void Loader::LoadPermissions(const YAML::Node& n) {
  if (!ExpectMap(n, "'permissions'")) return;
  CheckKeys(n, kPermissionKeys, "'permissions'");
  Permissions& p = wf_->permissions;
  if (const YAML::Node net = n["network"]) {
    // A list of hosts, or {hosts, private}. (YAML::Node assignment would
    // write into the document: pick the node by construction.)
    if (net.IsMap()) {
      CheckKeys(net, kNetworkKeys, "'permissions.network'");
      if (const YAML::Node priv = net["private"]) ExpectBool(priv, "permissions.network.private", p.private_network);
    }
    const YAML::Node hosts = net.IsMap() ? net["hosts"] : net;
    if (hosts && ExpectSequence(hosts, "permissions.network.hosts")) {
      for (const YAML::Node& h : hosts) {
        std::string text;
        if (!ExpectString(h, "a network host", text)) continue;
        HostRule rule;
        if (text.find("://") != std::string::npos || text.find('/') != std::string::npos) {
          diag_.Error(Loc(h), "permissions.network.hosts: '" + text +
                                  "' is a URL; give the host name (and :port), such as api.example.com");
          continue;
        }
        // "host", "host:port", "[v6]:port", or a bare IPv6 address.
        std::string host = text;
        std::string port;
        if (!host.empty() && host[0] == '[') {
          const size_t close = host.find(']');
          if (close == std::string::npos) {
            diag_.Error(Loc(h), "permissions.network.hosts: '" + text + "' lacks its closing ']'");
            continue;
          }
          if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
          host = host.substr(1, close - 1);
        } else if (std::count(host.begin(), host.end(), ':') == 1) {
          port = host.substr(host.find(':') + 1);
          host = host.substr(0, host.find(':'));
        }
        if (!port.empty()) {
          const bool digits = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
          if (!digits || port.size() > 5 || std::stoi(port) < 1 || std::stoi(port) > 65535) {
            diag_.Error(Loc(h), "permissions.network.hosts: '" + text + "' has an invalid port");
            continue;
          }
          rule.port = std::stoi(port);
        }
        if (host.empty() || (host.find('*') != std::string::npos && host != "*" && host.rfind("*.", 0) != 0) ||
            host.find('*', 1) != std::string::npos) {
          diag_.Error(Loc(h), "permissions.network.hosts: '" + text +
                                  "' is not a host (a name, an address, '*.domain' or '*')");
          continue;
        }
        std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
        rule.host = host;
        p.hosts.push_back(rule);
      }
    }
  }
  if (const YAML::Node sql = n["sql"]) {
    if (ExpectMap(sql, "permissions.sql")) {
      for (const auto& kv : sql) {
        std::string mode;
        if (!ExpectString(kv.second, "permissions.sql." + kv.first.Scalar(), mode)) continue;
        if (mode != "read" && mode != "write") {
          diag_.Error(Loc(kv.second),
                      "permissions.sql." + kv.first.Scalar() + " must be 'read' or 'write', not '" + mode + "'");
          continue;
        }
        p.sql[kv.first.Scalar()] = mode == "write";
      }
    }
  }
  if (const YAML::Node e = n["email"]) ExpectBool(e, "permissions.email", p.email);
  if (const YAML::Node sc = n["scripts"]) ExpectBool(sc, "permissions.scripts", p.scripts);
}

// Catalog files of named actions, relative to the workflow file. A stored
// version has them embedded (see Workflow::source).
void Loader::LoadImports(const YAML::Node& n) {
  if (!ExpectSequence(n, "'imports'")) return;
  for (const YAML::Node& item : n) {
    std::string path;
    if (!ExpectString(item, "an import", path)) continue;
    // Catalogs sit beside the workflow or below it: a file served for a
    // workflow cannot reach elsewhere on the machine.
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos ||
        path.find('\\') != std::string::npos) {
      diag_.Error(Loc(item), "import '" + path + "' must be a relative path below the workflow's folder (no '..')");
      continue;
    }
    if (std::any_of(imported_.begin(), imported_.end(), [&](const auto& i) { return i.first == path; })) {
      diag_.Error(Loc(item), "'" + path + "' is imported twice");
      continue;
    }
    std::string text;
    if (auto it = embedded_.find(path); it != embedded_.end()) {
      text = it->second;
    } else {
      const size_t slash = file_.find_last_of('/');
      const std::string full = (slash == std::string::npos ? "" : file_.substr(0, slash + 1)) + path;
      Result<std::string> read = ReadFileBounded(full);
      if (!read.ok()) {
        diag_.Error(Loc(item), "imported catalog: " + read.status().message());
        continue;
      }
      text = std::move(read).value();
    }
    imported_.emplace_back(path, text);
    Result<YAML::Node> root = ParseYaml(text, path, &diag_);
    if (!root.ok()) continue;
    const std::string outer = file_;
    file_ = path;  // locations of what follows are the catalog's
    if (ExpectMap(*root, "an imported catalog")) {
      CheckKeys(*root, kCatalogKeys, "an imported catalog");
      if (const YAML::Node a = (*root)["actions"]) LoadNamedActions(a);
    }
    file_ = outer;
  }
}

void Loader::LoadNamedActions(const YAML::Node& n) {
  if (!ExpectMap(n, "'actions'")) return;
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    const std::string where = "actions." + name;
    if (!IsSnakeCaseName(name)) diag_.Error(Loc(kv.first), "action name '" + name + "' must be snake_case");
    if (actions_.Find(name) != nullptr) {
      diag_.Error(Loc(kv.first), "action '" + name + "' is built in; give the workflow's action another name");
      continue;
    }
    if (wf_->actions.count(name) != 0) {
      diag_.Error(Loc(kv.first), "action '" + name + "' is declared twice");
      continue;
    }
    const YAML::Node& def = kv.second;
    if (!ExpectMap(def, where)) continue;
    CheckKeys(def, kNamedActionKeys, where);
    NamedAction a;
    a.location = Loc(kv.first);
    a.spec.name = name;
    if (const YAML::Node d = def["description"]) ExpectString(d, where + ".description", a.spec.description);
    if (const YAML::Node sens = def["sensitive"]) ExpectBool(sens, where + ".sensitive", a.spec.sensitive);
    Value document;
    if (const YAML::Node in = def["inputs"]; in && ExpectMap(in, where + ".inputs")) {
      a.spec.input_schema = ReadSchema(in, where + ".inputs", document);
    }
    if (const YAML::Node out = def["output"]; out && ExpectMap(out, where + ".output")) {
      a.spec.output_schema = ReadSchema(out, where + ".output", document);
    }
    const YAML::Node impl = def["implementation"];
    if (!impl) {
      diag_.Error(Loc(def), where + " needs an 'implementation' ({action: http|sql|script|call_workflow|..., inputs})");
      continue;
    }
    if (!ExpectMap(impl, where + ".implementation")) continue;
    CheckKeys(impl, kImplementationKeys, where + ".implementation");
    if (!impl["action"] || !ExpectString(impl["action"], where + ".implementation.action", a.implementation)) {
      if (!impl["action"]) diag_.Error(Loc(impl), where + ".implementation needs an 'action'");
      continue;
    }
    a.implementation_spec = actions_.Find(a.implementation);
    if (a.implementation_spec == nullptr) {
      std::string message = where + ": unknown action '" + a.implementation + "'";
      if (wf_->actions.count(a.implementation) != 0) {
        message += " (an action of the workflow cannot implement another; use its implementation)";
      } else if (std::string s = ClosestMatch(a.implementation, actions_.Names()); !s.empty()) {
        message += " (did you mean '" + s + "'?)";
      }
      diag_.Error(Loc(impl["action"]), message);
      continue;
    }
    const ActionSpec& is = *a.implementation_spec;
    a.spec.needs = is.needs;
    a.spec.suspends = is.suspends;
    a.spec.immediate = is.immediate;
    a.spec.sensitive = a.spec.sensitive || is.sensitive;
    if (const YAML::Node in = impl["inputs"]; in && ExpectMap(in, where + ".implementation.inputs")) {
      a.inputs = CompileTemplate(in, where + ".implementation.inputs");
    }
    CheckInputs(where + ".implementation", is, impl["inputs"], a.inputs, impl);
    if (const YAML::Node st = impl["settings"]; st && ExpectMap(st, where + ".implementation.settings")) {
      a.settings = CompileTemplate(st, where + ".implementation.settings");
      if (is.settings_schema) {
        CheckActionSettings(where + ".implementation", a.implementation, *is.settings_schema, st, a.settings, false);
      }
    }
    wf_->actions.emplace(name, std::move(a));
  }
}

const ActionSpec* Loader::FindAction(const std::string& name, const NamedAction** named) const {
  *named = nullptr;
  if (auto it = wf_->actions.find(name); it != wf_->actions.end()) {
    *named = &it->second;
    return &it->second.spec;
  }
  return actions_.Find(name);
}

// A task may only use what the workflow grants; `spec` tells what is
// needed, `impl` (the action doing the work) what its literal inputs ask.
void Loader::CheckGrants(const std::string& who, const ActionSpec& spec, const ActionSpec* impl, const Template& inputs,
                         const YAML::Node& node) {
  const uint32_t missing = spec.needs & ~wf_->permissions.Granted();
  if (missing != 0) {
    diag_.Error(Loc(node), who + " needs the '" + NeedNames(missing) +
                               "' permission, which the workflow does not grant (add it under 'permissions:')");
    return;
  }
  if (impl == nullptr || !impl->check_grants) return;
  const Value literal = inputs.LiteralMembers();
  if (!literal.is_object()) return;
  if (std::string why = impl->check_grants(literal, wf_->permissions); !why.empty()) {
    diag_.Error(Loc(node), who + ": " + why);
  }
}

void Loader::LoadDefs(const YAML::Node& n) {
  if (!ExpectMap(n, "'defs'")) return;
  std::set<std::string> seen;
  // Pass 1: names, kinds, and binding defs.
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    if (!seen.insert(name).second) {
      diag_.Error(Loc(kv.first), "duplicate definition '" + name + "'");
      continue;
    }
    if (!IsSnakeCaseName(name)) {
      diag_.Error(Loc(kv.first), "definition name '" + name + "' must be snake_case (a-z, 0-9, _)");
    }
    def_names_.push_back(name);
    const YAML::Node& def = kv.second;
    if (!ExpectMap(def, "definition '" + name + "'")) continue;
    std::string kind;
    if (!def["kind"]) {
      diag_.Error(Loc(def), "definition '" + name + "' needs a 'kind' (task, or the kind of a binding)");
      continue;
    }
    if (!ExpectString(def["kind"], "kind", kind)) continue;
    if (kind == "task") {
      task_nodes_[name] = def;
      def_locations_[name] = Loc(kv.first);
    } else {
      CheckKeys(def, kBindingDefKeys, "definition '" + name + "'");
      binding_defs_[name] = def;
      if (!def["settings"]) Portable(def, "definition '" + name + "' has no 'settings' (Hexabot requires them)");
      if (const YAML::Node a = def["action"]) {
        std::string action;
        const NamedAction* named = nullptr;
        if (ExpectString(a, "defs." + name + ".action", action) && FindAction(action, &named) == nullptr) {
          diag_.Error(Loc(a), Cat({"definition '", name, "' names unknown action '", action, "'"}));
        }
      }
    }
  }
  // Binding defs may bind others; they are mounted once all names are known.
  for (const auto& [name, def] : binding_defs_) {
    if (const YAML::Node b = def["bindings"]) LoadBindings(b, "defs." + name);
  }
  CheckBindingCycles();
  // Pass 2: tasks.
  for (const auto& [name, def] : task_nodes_) {
    const std::string where = "defs." + name;
    CheckKeys(def, kTaskKeys, "task '" + name + "'");
    TaskDef task;
    task.name = name;
    task.location = def_locations_[name];
    if (const YAML::Node d = def["description"]) ExpectString(d, where + ".description", task.description);
    if (!def["action"]) {
      diag_.Error(Loc(def), "task '" + name + "' needs an 'action'");
    } else if (ExpectString(def["action"], where + ".action", task.action)) {
      task.spec = FindAction(task.action, &task.named);
      if (task.spec == nullptr) {
        std::string message = "unknown action '" + task.action + "' in task '" + name + "'";
        std::vector<std::string> names = actions_.Names();
        for (const auto& [n, _] : wf_->actions) names.push_back(n);
        std::string s = ClosestMatch(task.action, names);
        if (!s.empty()) message += " (did you mean '" + s + "'?)";
        diag_.Error(Loc(def["action"]), message);
      }
    }
    if (const YAML::Node inputs = def["inputs"]) {
      if (ExpectMap(inputs, where + ".inputs")) {
        task.inputs = CompileTemplate(inputs, where + ".inputs");
        if (task.spec != nullptr) CheckInputs("task '" + name + "'", *task.spec, inputs, task.inputs, def);
      }
    } else if (task.spec != nullptr) {
      CheckInputs("task '" + name + "'", *task.spec, def["inputs"], task.inputs, def);
    }
    if (task.spec != nullptr) {
      const YAML::Node at = def["action"];
      if (task.named != nullptr) {
        CheckGrants("task '" + name + "' (action '" + task.action + "', done by '" + task.named->implementation + "')",
                    task.named->spec, task.named->implementation_spec, task.named->inputs, at);
      } else {
        CheckGrants("task '" + name + "'", *task.spec, task.spec, task.inputs, at);
      }
    }
    task.settings = defaults_;
    std::vector<std::pair<std::string, Template>> action_settings = default_action_settings_;
    if (const YAML::Node s = def["settings"]) {
      YAML::Node steps;
      LoadSettings(s, where + ".settings", task.settings, action_settings, &steps);
      if (steps.IsDefined() && !steps.IsNull()) fallback_nodes_[name] = steps;
    }
    if (const YAML::Node e = def["export"]) {
      Portable(def["export"], where + ".export is weft's");
      ExpectBool(e, where + ".export", task.settings.export_result);
    }
    task.settings.action_settings = Template::Object(std::move(action_settings));
    if (const YAML::Node b = def["bindings"]) task.bindings = LoadBindings(b, where);
    if (task.spec != nullptr && task.named == nullptr) {
      if (task.spec->settings_schema) {
        CheckActionSettings("task '" + name + "'", task.action, *task.spec->settings_schema, def["settings"],
                            task.settings.action_settings, true);
      } else {
        unknown_settings_ = true;
      }
    }
    if (task.spec != nullptr && task.spec->check_task) {
      const ActionSpec::TaskFindings found = task.spec->check_task(task.settings.action_settings, *wf_);
      const SourceLocation at = Loc(def["settings"] ? def["settings"] : def);
      if (!found.error.empty()) diag_.Error(at, Cat({"task '", name, "': ", found.error}));
      if (!found.warning.empty()) diag_.Warning(at, Cat({"task '", name, "': ", found.warning}));
    }
    if (task.spec != nullptr) {
      const Value literal = task.settings.action_settings.LiteralMembers();
      task.may_suspend = task.spec->may_suspend
                             ? task.spec->may_suspend(literal.is_object() ? literal : Value::MakeObject(), *wf_)
                             : task.spec->suspends || task.spec->sensitive;
    }
    if (task.may_suspend) wf_->can_suspend = true;
    wf_->tasks.emplace(name, std::move(task));
  }
}

// `retry_on`: `transient` (the codes a later attempt may fix: UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED), or a list of error codes
// (any case), which may include `transient`.
void Loader::LoadRetryOn(const YAML::Node& n, const std::string& where, std::vector<StatusCode>& out) {
  out.clear();
  auto add = [&](const YAML::Node& item) {
    std::string name;
    if (!ExpectString(item, where, name)) return;
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper == "TRANSIENT") {
      for (int c = 0; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
        if (IsRetryable(static_cast<StatusCode>(c))) out.push_back(static_cast<StatusCode>(c));
      }
      return;
    }
    std::optional<StatusCode> code = ParseStatusCode(upper);
    if (!code || *code == StatusCode::kOk) {
      std::vector<std::string> names = {"transient"};
      for (int c = 1; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
        std::string lower(StatusCodeName(static_cast<StatusCode>(c)));
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
        names.push_back(lower);
      }
      std::string message = Cat({where, ": unknown error code '", name, "'"});
      std::string s = ClosestMatch(name, names);
      if (!s.empty()) message += " (did you mean '" + s + "'?)";
      diag_.Error(Loc(item), message);
      return;
    }
    out.push_back(*code);
  };
  if (n.IsSequence()) {
    for (const YAML::Node& item : n) add(item);
    if (n.size() == 0) diag_.Error(Loc(n), where + " lists no error code (leave it out to retry any failure)");
  } else {
    add(n);
  }
}

// Hexabot's bindings: the key is a binding kind, the value names a def of
// that kind, or lists several. Mounted as the def's {settings, action?,
// bindings?}; a list mounts {name: payload, ...}.
Value Loader::LoadBindings(const YAML::Node& n, const std::string& where) {
  Value mounted = Value::MakeObject();
  if (!ExpectMap(n, where + ".bindings")) return mounted;
  for (const auto& kv : n) {
    const std::string kind = kv.first.Scalar();
    const std::string at = Cat({where, ".bindings.", kind});
    std::vector<std::pair<std::string, YAML::Node>> refs;
    const bool several = kv.second.IsSequence();
    if (several) {
      for (const YAML::Node& item : kv.second) {
        std::string ref;
        if (ExpectString(item, at + " item", ref)) refs.emplace_back(ref, item);
      }
    } else {
      std::string ref;
      if (!ExpectString(kv.second, at + " (a def name, or a list of them)", ref)) continue;
      refs.emplace_back(ref, kv.second);
    }
    std::set<std::string> seen;
    Value payloads = Value::MakeObject();
    for (const auto& [ref, node] : refs) {
      if (!seen.insert(ref).second) {
        diag_.Error(Loc(node), Cat({at, ": duplicate def reference '", ref, "'"}));
        continue;
      }
      auto it = binding_defs_.find(ref);
      if (it == binding_defs_.end()) {
        std::string message;
        if (task_nodes_.count(ref) != 0) {
          message = Cat({at, ": '", ref, "' is a task; only a def of kind '", kind, "' can be bound as '", kind, "'"});
        } else {
          message = Cat({at, ": unknown def '", ref, "'"});
          std::string s = ClosestMatch(ref, def_names_);
          if (!s.empty()) message += " (did you mean '" + s + "'?)";
        }
        diag_.Error(Loc(node), message);
        continue;
      }
      const std::string ref_kind = it->second["kind"].Scalar();
      if (ref_kind != kind) {
        diag_.Error(Loc(node),
                    Cat({at, ": def '", ref, "' has kind '", ref_kind, "' and cannot be mounted as '", kind, "'"}));
        continue;
      }
      std::set<std::string> visiting;
      payloads.set(ref, MountBindingDef(ref, visiting));
    }
    if (several) {
      mounted.set(kind, payloads);
    } else if (payloads.size() == 1) {
      mounted.set(kind, payloads.members().front().value);
    }
  }
  return mounted;
}

Value Loader::MountBindingDef(const std::string& name, std::set<std::string>& visiting) {
  if (auto it = mounted_defs_.find(name); it != mounted_defs_.end()) return it->second;
  const YAML::Node& def = binding_defs_.at(name);
  Value payload = Value::MakeObject();
  payload.set("settings", def["settings"] ? ToValue(def["settings"]) : Value::MakeObject());
  if (def["action"] && def["action"].IsScalar()) payload.set("action", def["action"].Scalar());
  // A cycle is reported by CheckBindingCycles; here it just stops.
  if (const YAML::Node b = def["bindings"]; b && b.IsMap() && visiting.insert(name).second) {
    Value nested = Value::MakeObject();
    for (const auto& kv : b) {
      const std::string kind = kv.first.Scalar();
      auto mount = [&](const YAML::Node& ref_node) -> Value {
        if (!ref_node.IsScalar()) return Value();
        auto it = binding_defs_.find(ref_node.Scalar());
        if (it == binding_defs_.end() || it->second["kind"].Scalar() != kind) return Value();
        if (visiting.count(ref_node.Scalar()) != 0) return Value();
        return MountBindingDef(ref_node.Scalar(), visiting);
      };
      if (kv.second.IsSequence()) {
        Value several = Value::MakeObject();
        for (const YAML::Node& ref : kv.second) {
          if (Value p = mount(ref); p.is_defined()) several.set(ref.Scalar(), p);
        }
        nested.set(kind, several);
      } else if (Value p = mount(kv.second); p.is_defined()) {
        nested.set(kind, p);
      }
    }
    visiting.erase(name);
    if (nested.size() > 0) payload.set("bindings", nested);
  }
  if (visiting.empty()) mounted_defs_[name] = payload;
  return payload;
}

void Loader::CheckBindingCycles() {
  enum class Mark : uint8_t { kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    auto it = marks.find(name);
    if (it != marks.end()) {
      if (it->second == Mark::kDone) return;
      auto start = std::find(stack.begin(), stack.end(), name);
      std::string cycle;
      for (auto s = start; s != stack.end(); ++s) cycle += *s + " -> ";
      cycle += name;
      if (reported.insert(cycle).second) {
        diag_.Error(Loc(binding_defs_.at(name)["bindings"]),
                    "defs." + name + ".bindings: circular binding (" + cycle + ")");
      }
      return;
    }
    marks[name] = Mark::kVisiting;
    stack.push_back(name);
    const YAML::Node b = binding_defs_.at(name)["bindings"];
    if (b && b.IsMap()) {
      for (const auto& kv : b) {
        auto follow = [&](const YAML::Node& ref) {
          if (ref.IsScalar() && binding_defs_.count(ref.Scalar()) != 0) visit(ref.Scalar());
        };
        if (kv.second.IsSequence()) {
          for (const YAML::Node& ref : kv.second) follow(ref);
        } else {
          follow(kv.second);
        }
      }
    }
    stack.pop_back();
    marks[name] = Mark::kDone;
  };
  for (const auto& [name, def] : binding_defs_) visit(name);
}

void Loader::LoadSteps(const YAML::Node& seq, const std::string& prefix, std::vector<FlowNode>& out) {
  if (!ExpectSequence(seq, prefix.empty() ? "'flow'" : "'steps'")) return;
  size_t i = 0;
  for (const YAML::Node& step : seq) LoadStep(step, prefix + std::to_string(i++), out);
}

void Loader::LoadStep(const YAML::Node& n, const std::string& path, std::vector<FlowNode>& out) {
  if (!n.IsMap()) {
    diag_.Error(Loc(n), "a flow step must be a mapping with one of: do, parallel, conditional, loop");
    return;
  }
  CheckKeys(n, kStepKeys, "a flow step");
  int blocks = 0;
  for (const std::string& k : kStepKeys) blocks += n[k] ? 1 : 0;
  if (blocks != 1) {
    if (blocks > 1) diag_.Error(Loc(n), "a flow step has exactly one of: do, parallel, conditional, loop");
    if (blocks == 0 && n.size() > 0) return;  // unknown key already reported
    if (blocks == 0) diag_.Error(Loc(n), "empty flow step");
    return;
  }
  FlowNode node;
  node.location = Loc(n);
  node.path = path;
  if (n["do"]) {
    node.kind = FlowNode::Kind::kDo;
    LoadDo(n, n["do"], node);
  } else if (n["parallel"]) {
    node.kind = FlowNode::Kind::kParallel;
    LoadParallel(n["parallel"], node);
  } else if (n["conditional"]) {
    node.kind = FlowNode::Kind::kConditional;
    LoadConditional(n["conditional"], node);
  } else {
    node.kind = FlowNode::Kind::kLoop;
    LoadLoop(n["loop"], node);
  }
  out.push_back(std::move(node));
}

void Loader::LoadDo(const YAML::Node& /*step*/, const YAML::Node& name_node, FlowNode& node) {
  std::string name;
  if (!ExpectString(name_node, "'do'", name)) return;
  auto it = wf_->tasks.find(name);
  if (it == wf_->tasks.end()) {
    std::string message;
    if (binding_defs_.count(name) != 0) {
      message = "'" + name + "' is not a task (its kind is '" + binding_defs_[name]["kind"].Scalar() + "')";
    } else if (task_nodes_.count(name) != 0) {
      return;  // a task whose definition had errors, already reported
    } else {
      message = "unknown task '" + name + "'";
      std::vector<std::string> names;
      for (const auto& [k, _] : task_nodes_) names.push_back(k);
      std::string s = ClosestMatch(name, names);
      if (!s.empty()) message += " (did you mean '" + s + "'?)";
    }
    diag_.Error(Loc(name_node), message);
    return;
  }
  node.task = &it->second;
  node.step_key = Cat({node.path, ":", name});
  used_tasks_.insert(name);
}

void Loader::LoadParallel(const YAML::Node& n, FlowNode& node) {
  if (!ExpectMap(n, "'parallel'")) return;
  CheckKeys(n, kParallelKeys, "'parallel'");
  std::string description;
  if (const YAML::Node d = n["description"]) ExpectString(d, "parallel.description", description);
  if (const YAML::Node s = n["strategy"]) {
    std::string strategy;
    if (ExpectString(s, "parallel.strategy", strategy)) {
      if (strategy == "wait_all") {
        node.strategy = FlowNode::Strategy::kWaitAll;
      } else if (strategy == "wait_any") {
        node.strategy = FlowNode::Strategy::kWaitAny;
      } else {
        diag_.Error(Loc(s), "parallel.strategy must be wait_all or wait_any, not '" + strategy + "'");
      }
    }
  }
  if (!n["steps"]) {
    diag_.Error(Loc(n), "'parallel' needs 'steps'");
    return;
  }
  LoadSteps(n["steps"], node.path + ".parallel.", node.children);
  CheckConcurrentSuspension(node.children, "parallel");
}

void Loader::LoadConditional(const YAML::Node& n, FlowNode& node) {
  if (!ExpectMap(n, "'conditional'")) return;
  CheckKeys(n, kConditionalKeys, "'conditional'");
  std::string description;
  if (const YAML::Node d = n["description"]) ExpectString(d, "conditional.description", description);
  const YAML::Node when = n["when"];
  if (!when) {
    diag_.Error(Loc(n), "'conditional' needs 'when'");
    return;
  }
  if (!ExpectSequence(when, "conditional.when")) return;
  bool has_else = false;
  size_t index = 0;
  for (const YAML::Node& item : when) {
    FlowNode::Branch branch;
    branch.location = Loc(item);
    std::string prefix = node.path + ".branch." + std::to_string(index++) + ".";
    if (!ExpectMap(item, "a 'when' item")) continue;
    CheckKeys(item, kWhenKeys, "a 'when' item");
    // Hexabot: an item without a condition is the else branch, whatever
    // `else` says (`- else:` with no value, `else: true`, or no `else`).
    if (!item["condition"]) {
      if (const YAML::Node e = item["else"]; e && e.IsScalar() && e.Scalar() == "false") {
        diag_.Warning(Loc(e), "'else: false' still marks the else branch (any value does, as in Hexabot)");
      }
      if (has_else) diag_.Error(Loc(item), "a conditional has only one else branch");
      has_else = true;
    } else if (item["else"]) {
      diag_.Error(Loc(item), "a 'when' item has either 'condition' or 'else'");
      continue;
    } else {
      if (has_else) diag_.Warning(Loc(item), "this branch follows the else branch and can never be taken");
      branch.condition = CompileExpression(item["condition"], "condition", false);
    }
    if (!item["steps"]) {
      diag_.Error(Loc(item), "a 'when' item needs 'steps'");
      continue;
    }
    LoadSteps(item["steps"], prefix, branch.steps);
    node.branches.push_back(std::move(branch));
  }
  if (const YAML::Node e = n["else"]) {
    Portable(e, "'else' beside 'when' is weft's short form; Hexabot writes '- else:' with 'steps' inside 'when'");
    if (has_else) diag_.Error(Loc(e), "a conditional has only one else branch");
    FlowNode::Branch branch;
    branch.location = Loc(e);
    std::string prefix = node.path + ".branch." + std::to_string(index) + ".";
    if (e.IsSequence()) {
      LoadSteps(e, prefix, branch.steps);
    } else if (ExpectMap(e, "'else'")) {
      CheckKeys(e, kElseKeys, "'else'");
      if (e["steps"]) {
        LoadSteps(e["steps"], prefix, branch.steps);
      } else {
        diag_.Error(Loc(e), "'else' needs 'steps'");
      }
    }
    node.branches.push_back(std::move(branch));
  }
}

void Loader::LoadLoop(const YAML::Node& n, FlowNode& node) {
  if (!ExpectMap(n, "'loop'")) return;
  CheckKeys(n, kLoopKeys, "'loop'");
  std::string type;
  if (n["type"]) {
    ExpectString(n["type"], "loop.type", type);
  } else {
    type = n["while"] ? "while" : "for_each";
    Portable(n, "a loop without 'type' (Hexabot requires type: for_each or while)");
  }
  std::string description;
  if (const YAML::Node d = n["description"]) ExpectString(d, "loop.description", description);
  if (type == "for_each") {
    node.loop_type = FlowNode::LoopType::kForEach;
  } else if (type == "while") {
    node.loop_type = FlowNode::LoopType::kWhile;
  } else {
    diag_.Error(Loc(n["type"]), "loop.type must be for_each or while, not '" + type + "'");
    return;
  }
  node.name = "loop";
  if (n["name"]) {
    std::string name;
    if (ExpectString(n["name"], "loop.name", name)) {
      // Any name Hexabot takes; '/' would break the step keys sub-steps
      // and idempotency keys are made of.
      if (name.empty() || name.find('/') != std::string::npos) {
        diag_.Error(Loc(n["name"]), "loop name '" + name + "' must be non-empty and without '/'");
      }
      if (wf_->tasks.count(name) != 0) {
        diag_.Warning(Loc(n["name"]), "loop name '" + name + "' is also a task's: both write $output." + name);
      }
      auto [it, inserted] = loop_names_.emplace(name, Loc(n["name"]));
      if (!inserted) {
        diag_.Warning(Loc(n["name"]), "loop name '" + name + "' is used before (at " + it->second.ToString() +
                                          "): both write $output." + name);
      }
      node.name = name;
      node.named = true;
    }
  }
  if (node.loop_type == FlowNode::LoopType::kForEach) {
    if (n["while"]) diag_.Error(Loc(n["while"]), "a for_each loop takes 'for_each', not 'while'");
    const YAML::Node fe = n["for_each"];
    if (!fe) {
      diag_.Error(Loc(n), "a for_each loop needs 'for_each: {item, in}'");
    } else if (ExpectMap(fe, "loop.for_each")) {
      CheckKeys(fe, kForEachKeys, "loop.for_each");
      if (!fe["item"]) Portable(fe, "for_each without 'item' (Hexabot requires it)");
      if (fe["item"] && ExpectString(fe["item"], "for_each.item", node.item_name)) {
        if (std::find(kReservedBindings.begin(), kReservedBindings.end(), node.item_name) != kReservedBindings.end()) {
          diag_.Error(Loc(fe["item"]), "for_each.item '" + node.item_name + "' would hide $" + node.item_name);
        }
      }
      if (!fe["in"]) {
        diag_.Error(Loc(fe), "for_each needs 'in' (the list to go through)");
      } else {
        node.in = CompileExpression(fe["in"], "for_each.in", false);
      }
    }
  } else {
    if (n["for_each"]) diag_.Error(Loc(n["for_each"]), "a while loop takes 'while', not 'for_each'");
    if (!n["while"]) {
      diag_.Error(Loc(n), "a while loop needs 'while' (a condition)");
    } else {
      node.while_cond = CompileExpression(n["while"], "loop.while", false);
    }
  }
  if (n["until"]) {
    if (node.loop_type == FlowNode::LoopType::kWhile) {
      Portable(n["until"], "'until' on a while loop is weft's (Hexabot takes it on for_each loops only)");
    }
    node.until = CompileExpression(n["until"], "loop.until", false);
  }
  if (n["max_concurrency"]) {
    int64_t c = 1;
    if (ExpectInt(n["max_concurrency"], "loop.max_concurrency", 1, c)) {
      node.max_concurrency = static_cast<int>(std::min<int64_t>(c, 10000));

      if (node.loop_type == FlowNode::LoopType::kWhile && c > 1) {
        diag_.Error(Loc(n["max_concurrency"]), "a while loop runs one iteration at a time");
      }
    }
  }
  if (const YAML::Node acc = n["accumulate"]) {
    if (ExpectMap(acc, "loop.accumulate")) {
      CheckKeys(acc, kAccumulateKeys, "loop.accumulate");
      FlowNode::Accumulate a;
      bool ok = true;
      if (!acc["as"] || !ExpectString(acc["as"], "accumulate.as", a.as)) {
        if (!acc["as"]) diag_.Error(Loc(acc), "accumulate needs 'as' (the name of the result)");
        ok = false;
      }
      if (acc["initial"]) {
        a.initial = CompileTemplate(acc["initial"], "accumulate.initial");
        if (!a.initial.is_literal()) {
          Portable(acc["initial"], "accumulate.initial with an expression: Hexabot takes it as a literal value");
        }
      }
      if (!acc["merge"]) {
        diag_.Error(Loc(acc), "accumulate needs 'merge' (an expression over $accumulator and $iteration)");
        ok = false;
      } else if (auto merge = CompileExpression(acc["merge"], "accumulate.merge", false)) {
        a.merge = std::move(*merge);
      } else {
        ok = false;
      }
      if (ok) node.accumulate = std::move(a);
    }
  }
  if (!n["steps"]) {
    diag_.Error(Loc(n), "'loop' needs 'steps'");
    return;
  }
  LoadSteps(n["steps"], node.path + "." + node.name + ".", node.children);
  node.body_reads_accumulator = ReadsAccumulator(node.children);
  if (node.ConcurrentIterations()) {
    Portable(n["max_concurrency"],
             "max_concurrency > 1 runs these iterations concurrently in weft (they neither read "
             "$accumulator nor stop the loop with 'until'); Hexabot runs them one after another");
    CheckConcurrentSuspension(node.children, "a loop with max_concurrency > 1");
  }
  if (node.loop_type == FlowNode::LoopType::kForEach && NamesVariable(node.children, node.item_name)) {
    Portable(n, "the loop's steps read $" + node.item_name + ", weft's name for the item; Hexabot has $iteration.item");
  }
}

// Whether an expression evaluated in the scope of `nodes` (a loop's body:
// its tasks' inputs, settings and fallbacks, conditions, nested loops)
// passes `test`. `own_loops`: skip what a nested loop with its own
// accumulator evaluates in its scope (its $accumulator is not ours).
bool AnyScopeExpression(const std::vector<FlowNode>& nodes, const std::function<bool(const expr::Expression&)>& test,
                        bool own_loops, std::set<const TaskDef*>& seen) {
  auto expression = [&](const std::optional<expr::Expression>& e) { return e && test(*e); };
  auto templated = [&](const Template& t) {
    std::vector<const expr::Expression*> exprs;
    t.CollectExpressions(exprs);
    return std::any_of(exprs.begin(), exprs.end(), [&](const expr::Expression* e) { return test(*e); });
  };
  for (const FlowNode& n : nodes) {
    switch (n.kind) {
      case FlowNode::Kind::kDo: {
        const TaskDef* t = n.task;
        if (t == nullptr || !seen.insert(t).second) break;
        if (templated(t->inputs) || templated(t->settings.action_settings) ||
            templated(t->settings.on_error.fallback)) {
          return true;
        }
        if (t->settings.on_error.steps && AnyScopeExpression(*t->settings.on_error.steps, test, own_loops, seen)) {
          return true;
        }
        break;
      }
      case FlowNode::Kind::kParallel:
        if (AnyScopeExpression(n.children, test, own_loops, seen)) return true;
        break;
      case FlowNode::Kind::kConditional:
        for (const FlowNode::Branch& b : n.branches) {
          if (expression(b.condition) || AnyScopeExpression(b.steps, test, own_loops, seen)) return true;
        }
        break;
      case FlowNode::Kind::kLoop:
        if (expression(n.in) || (n.accumulate && templated(n.accumulate->initial))) return true;
        if (own_loops && n.accumulate) break;
        if (expression(n.while_cond) || expression(n.until) || (n.accumulate && expression(n.accumulate->merge)) ||
            AnyScopeExpression(n.children, test, own_loops, seen)) {
          return true;
        }
        break;
    }
  }
  return false;
}

bool ReadsAccumulator(const std::vector<FlowNode>& body) {
  std::set<const TaskDef*> seen;
  return AnyScopeExpression(
      body, [](const expr::Expression& e) { return e.Reads("accumulator"); }, true, seen);
}

bool NamesVariable(const std::vector<FlowNode>& body, const std::string& name) {
  std::set<const TaskDef*> seen;
  return AnyScopeExpression(
      body, [&](const expr::Expression& e) { return e.Names(name); }, false, seen);
}

bool CanSuspend(const std::vector<FlowNode>& nodes, std::set<const TaskDef*>& visiting);

bool TaskCanSuspend(const TaskDef* task, std::set<const TaskDef*>& visiting) {
  if (task == nullptr || !visiting.insert(task).second) return false;
  bool result =
      task->may_suspend || (task->settings.on_error.steps && CanSuspend(*task->settings.on_error.steps, visiting));
  visiting.erase(task);
  return result;
}

bool CanSuspend(const std::vector<FlowNode>& nodes, std::set<const TaskDef*>& visiting) {
  for (const FlowNode& n : nodes) {
    if (n.kind == FlowNode::Kind::kDo && TaskCanSuspend(n.task, visiting)) return true;
    if (CanSuspend(n.children, visiting)) return true;
    for (const FlowNode::Branch& b : n.branches) {
      if (CanSuspend(b.steps, visiting)) return true;
    }
  }
  return false;
}

void Loader::CheckConcurrentSuspension(const std::vector<FlowNode>& nodes, const char* where_kind) {
  // Fallback steps are read before the flow, so a task whose fallback can
  // suspend is caught here too.
  std::set<const TaskDef*> visiting;
  std::function<void(const std::vector<FlowNode>&)> walk = [&](const std::vector<FlowNode>& list) {
    for (const FlowNode& n : list) {
      if (n.kind == FlowNode::Kind::kDo && n.task != nullptr && TaskCanSuspend(n.task, visiting)) {
        diag_.Error(n.location, "task '" + n.task->name + "' can suspend the run (action '" + n.task->action +
                                    "'), which is not allowed inside " + where_kind);
      }
      walk(n.children);
      for (const FlowNode::Branch& b : n.branches) walk(b.steps);
    }
  };
  walk(nodes);
}

void Loader::CheckFallbackCycles() {
  // A task whose fallback steps lead back to itself would fail forever.
  for (auto& [name, task] : wf_->tasks) {
    if (!task.settings.on_error.steps) continue;
    std::set<std::string> seen;
    std::vector<const std::vector<FlowNode>*> todo{task.settings.on_error.steps.get()};
    bool cycle = false;
    while (!todo.empty() && !cycle) {
      const std::vector<FlowNode>* list = todo.back();
      todo.pop_back();
      for (const FlowNode& n : *list) {
        if (n.kind == FlowNode::Kind::kDo && n.task != nullptr) {
          if (n.task->name == name) cycle = true;
          if (seen.insert(n.task->name).second && n.task->settings.on_error.steps) {
            todo.push_back(n.task->settings.on_error.steps.get());
          }
        }
        todo.push_back(&n.children);
        for (const FlowNode::Branch& b : n.branches) todo.push_back(&b.steps);
      }
    }
    if (cycle) diag_.Error(task.location, Cat({"the on_error steps of task '", name, "' lead back to '", name, "'"}));
  }
}

// Tasks that run on every path through `nodes` (loops may run zero times;
// a conditional without else may take no branch).
void CollectDefinite(const std::vector<FlowNode>& nodes, std::set<std::string>& out) {
  for (const FlowNode& n : nodes) {
    switch (n.kind) {
      case FlowNode::Kind::kDo:
        if (n.task != nullptr) out.insert(n.task->name);
        break;
      case FlowNode::Kind::kParallel:
        if (n.strategy == FlowNode::Strategy::kWaitAll) CollectDefinite(n.children, out);
        break;
      case FlowNode::Kind::kConditional: {
        bool has_else =
            std::any_of(n.branches.begin(), n.branches.end(), [](const FlowNode::Branch& b) { return !b.condition; });
        if (!has_else) break;
        std::optional<std::set<std::string>> common;
        for (const FlowNode::Branch& b : n.branches) {
          std::set<std::string> s;
          CollectDefinite(b.steps, s);
          if (!common) {
            common = s;
          } else {
            std::set<std::string> both;
            std::set_intersection(common->begin(), common->end(), s.begin(), s.end(),
                                  std::inserter(both, both.begin()));
            common = both;
          }
        }
        if (common) out.insert(common->begin(), common->end());
        break;
      }
      case FlowNode::Kind::kLoop:
        out.insert(n.name);  // the loop itself always records its result
        break;
    }
  }
}

void Loader::CheckOutputs(const YAML::Node& outputs_node) {
  std::set<std::string> definite;
  CollectDefinite(wf_->flow, definite);
  std::set<std::string> known;
  for (const auto& [name, _] : wf_->tasks) known.insert(name);
  for (const auto& [name, _] : loop_names_) known.insert(name);
  static const std::regex kOutputRef(R"(\$output\.([A-Za-z_][A-Za-z0-9_]*))");
  for (const auto& kv : outputs_node) {
    if (!kv.second.IsScalar()) continue;
    const std::string& text = kv.second.Scalar();
    if (text.empty() || text[0] != '=') continue;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kOutputRef); it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      if (known.count(name) == 0) {
        std::string message =
            Cat({"output '", kv.first.Scalar(), "' reads $output.", name, ", but no task is named '", name, "'"});
        std::string s = ClosestMatch(name, std::vector<std::string>(known.begin(), known.end()));
        if (!s.empty()) message += " (did you mean '" + s + "'?)";
        diag_.Error(Loc(kv.second), message);
      } else if (definite.count(name) == 0 && text.find(Cat({"$exists($output.", name})) == std::string::npos) {
        diag_.Warning(Loc(kv.second), Cat({"output '", kv.first.Scalar(), "' reads $output.", name, ", but task '",
                                           name, "' may not have run (guard it with $exists)"}));
      }
    }
  }
}

void Loader::LoadOutputs(const YAML::Node& n) {
  if (!ExpectMap(n, "'outputs'")) return;
  std::set<std::string> seen;
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    if (!seen.insert(name).second) diag_.Error(Loc(kv.first), "duplicate output '" + name + "'");
    wf_->outputs.emplace_back(name, CompileTemplate(kv.second, "outputs." + name));
  }
}

void Loader::WarnUnusedTasks() {
  for (const auto& [name, task] : wf_->tasks) {
    if (used_tasks_.count(name) == 0) diag_.Warning(task.location, "task '" + name + "' is never used in the flow");
  }
}

std::shared_ptr<Workflow> Loader::Load(const YAML::Node& root, std::string_view source, const LoadOptions& options) {
  wf_ = std::make_shared<Workflow>();
  wf_->file = file_;
  wf_->source = std::string(source);
  if (!root.IsMap()) {
    diag_.Error(Loc(root), "a workflow file must be a mapping with at least 'defs' and 'flow'");
    return nullptr;
  }
  CheckKeys(root, kTopKeys, "the workflow");
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (std::find(kTopKeys.begin(), kTopKeys.end(), key) != kTopKeys.end() &&
        std::find(kHexabotTopKeys.begin(), kHexabotTopKeys.end(), key) == kHexabotTopKeys.end()) {
      Portable(kv.first, "'" + key + "' is a weft section");
    }
  }
  if (!root["outputs"]) Portable(root, "the workflow has no 'outputs' (Hexabot requires them)");
  LoadHeader(root, options);
  if (const YAML::Node inputs = root["inputs"]) LoadInputs(inputs);
  if (const YAML::Node context = root["context"]) wf_->context = CompileTemplate(context, "context");
  if (const YAML::Node defaults = root["defaults"]) {
    if (ExpectMap(defaults, "'defaults'")) {
      CheckKeys(defaults, kDefaultsKeys, "'defaults'");
      if (const YAML::Node s = defaults["settings"]) {
        default_settings_node_ = s;
        LoadSettings(s, "defaults.settings", defaults_, default_action_settings_, nullptr);
      }
    }
  }
  if (const YAML::Node p = root["permissions"]) LoadPermissions(p);
  in_weft_section_ = true;
  if (const YAML::Node i = root["imports"]) LoadImports(i);
  if (const YAML::Node a = root["actions"]) LoadNamedActions(a);
  in_weft_section_ = false;
  if (const YAML::Node defs = root["defs"]) LoadDefs(defs);
  CheckDefaultSettings();
  // Fallback steps may name any task, so they are read once all tasks are.
  for (const auto& [name, steps_node] : fallback_nodes_) {
    auto steps = std::make_shared<std::vector<FlowNode>>();
    LoadSteps(steps_node, "fallback.", *steps);
    wf_->tasks.at(name).settings.on_error.steps = std::move(steps);
  }
  CheckFallbackCycles();
  const YAML::Node flow = root["flow"];
  if (!flow) {
    diag_.Error(Loc(root), "the workflow has no 'flow'");
  } else {
    LoadSteps(flow, "", wf_->flow);
  }
  if (const YAML::Node outputs = root["outputs"]) {
    LoadOutputs(outputs);
    if (outputs.IsMap()) CheckOutputs(outputs);
  }
  std::set<const TaskDef*> visiting;
  wf_->can_suspend = CanSuspend(wf_->flow, visiting);
  WarnUnusedTasks();
  CheckSecrets(root);
  for (const auto& [path, text] : imported_) wf_->source.append(kImportMarker).append(path).append("\n").append(text);
  return wf_;
}

namespace {

// Whether an expression of `t` passes `test` ("secret").
bool AnyExpression(const Template& t, bool (expr::Expression::*test)(std::string_view) const) {
  std::vector<const expr::Expression*> exprs;
  t.CollectExpressions(exprs);
  return std::any_of(exprs.begin(), exprs.end(), [&](const expr::Expression* e) { return (e->*test)("secret"); });
}

// A task whose inputs may call $secret() (even through $eval) is marked, so
// that its history is redacted.
bool TemplateReadsSecret(const Template& t) { return AnyExpression(t, &expr::Expression::Reads); }

// Anywhere else $secret is not bound: only a use the text names is refused
// ($eval there cannot reach it; it fails when run, as any unknown function).
bool TemplateNamesSecret(const Template& t) { return AnyExpression(t, &expr::Expression::Names); }

constexpr const char* kSecretOnlyInTasks =
    "$secret() may only be used in a task's inputs or settings (anywhere else its value would enter the run's state "
    "and history)";

}  // namespace

// $secret() reaches actions only: tasks that call it are marked (the engine
// redacts their history), any other use is refused.
void Loader::CheckSecrets(const YAML::Node& root) {
  for (auto& [name, action] : wf_->actions) {
    action.uses_secrets = TemplateReadsSecret(action.inputs) || TemplateReadsSecret(action.settings);
  }
  for (auto& [name, task] : wf_->tasks) {
    task.uses_secrets = TemplateReadsSecret(task.inputs) || TemplateReadsSecret(task.settings.action_settings) ||
                        (task.named != nullptr && task.named->uses_secrets);
    if (TemplateNamesSecret(task.settings.on_error.fallback)) diag_.Error(task.location, kSecretOnlyInTasks);
  }
  RefuseSecrets(wf_->flow);
  if (TemplateNamesSecret(wf_->context)) diag_.Error(Loc(root["context"]), kSecretOnlyInTasks);
  for (const auto& [name, t] : wf_->outputs) {
    if (TemplateNamesSecret(t)) diag_.Error(Loc(root["outputs"][name]), kSecretOnlyInTasks);
  }
}

void Loader::RefuseSecrets(const std::vector<FlowNode>& nodes) {
  for (const FlowNode& n : nodes) {
    auto reads = [](const std::optional<expr::Expression>& e) { return e && e->Names("secret"); };
    bool bad = reads(n.in) || reads(n.while_cond) || reads(n.until);
    if (n.accumulate) bad = bad || reads(n.accumulate->merge) || TemplateNamesSecret(n.accumulate->initial);
    for (const FlowNode::Branch& b : n.branches) {
      if (reads(b.condition)) diag_.Error(b.location, kSecretOnlyInTasks);
      RefuseSecrets(b.steps);
    }
    if (bad) diag_.Error(n.location, kSecretOnlyInTasks);
    RefuseSecrets(n.children);
  }
}

}  // namespace

Result<std::shared_ptr<const Workflow>> LoadWorkflow(std::string_view source, std::string_view file,
                                                     const ActionCatalog& actions, Diagnostics* diagnostics,
                                                     const LoadOptions& options) {
  Diagnostics local;
  Diagnostics& diag = diagnostics != nullptr ? *diagnostics : local;
  const size_t first = diag.all().size();
  const int errors_before = diag.error_count();
  // A stored version carries its imported catalogs after the workflow.
  std::map<std::string, std::string> embedded;
  const std::string_view main = source.substr(0, std::min(source.size(), source.find(kImportMarker)));
  for (size_t at = source.find(kImportMarker); at != std::string_view::npos;) {
    const size_t path_start = at + kImportMarker.size();
    const size_t eol = source.find('\n', path_start);
    if (eol == std::string_view::npos) break;
    const size_t next = source.find(kImportMarker, eol);
    embedded[std::string(source.substr(path_start, eol - path_start))] =
        std::string(source.substr(eol + 1, next == std::string_view::npos ? std::string_view::npos : next - eol - 1));
    at = next;
  }
  Result<YAML::Node> root = ParseYaml(main, file, &diag);
  if (!root.ok()) return root.status();
  std::shared_ptr<Workflow> wf;
  try {
    Loader loader{std::string(file), actions, diag, std::move(embedded)};
    wf = loader.Load(*root, main, options);
  } catch (const YAML::Exception& e) {
    diag.Error(SourceLocation{std::string(file), e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  if (diag.error_count() > errors_before || wf == nullptr) {
    Diagnostics only_new;
    for (size_t i = first; i < diag.all().size(); ++i) {
      const Diagnostic& d = diag.all()[i];
      if (d.severity == Diagnostic::Severity::kError) only_new.Error(d.location, d.message);
    }
    return only_new.ToStatus();
  }
  if (options.version != 0) wf->version = options.version;
  for (size_t i = first; i < diag.all().size(); ++i) {
    const Diagnostic& d = diag.all()[i];
    if (d.severity == Diagnostic::Severity::kWarning) wf->warnings.push_back(d);
  }
  return std::shared_ptr<const Workflow>(std::move(wf));
}

Result<std::shared_ptr<const Workflow>> LoadWorkflowFile(const std::string& path, const ActionCatalog& actions,
                                                         Diagnostics* diagnostics) {
  Result<std::string> text = ReadFileBounded(path);
  if (!text.ok()) return text.status().WithContext("workflow file");
  LoadOptions options;
  std::string stem = path.substr(path.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  options.default_name = stem;
  return LoadWorkflow(*text, path, actions, diagnostics, options);
}

Result<Value> LoadYamlFile(const std::string& path) {
  WEFT_ASSIGN_OR_RETURN(const std::string text, ReadFileBounded(path));
  Diagnostics diagnostics;
  Result<YAML::Node> root = ParseYaml(text, path, &diagnostics);
  if (!root.ok()) return root.status();
  Value v = YamlToValue(*root, path, diagnostics);
  WEFT_RETURN_IF_ERROR(diagnostics.ToStatus());
  return v;
}

}  // namespace weft::dsl

// Definitions: tasks, their settings (the step's and the action's), retries,
// bindings between defs.
#include "loader_internal.h"
#include "weft/core/json.h"

namespace weft::dsl::internal {

// How deep defs may bind defs that bind defs (Hexabot sets no limit; the
// mounting and its checks must not grow without one).
constexpr size_t kMaxBindingDepth = 64;

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
      // blocks merge field by field, so a task's block keeps the defaults'
      // explicit `enabled`. (Only defaults are read without a place for
      // on_error steps.)
      if (v["enabled"]) {
        if (ExpectBool(v["enabled"], where + ".retries.enabled", r.enabled) && on_error_steps == nullptr) {
          defaults_set_retries_enabled_ = true;
        }
      } else if (!defaults_set_retries_enabled_) {
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
  std::set<std::string> visiting;
  return MountBindings(n, where, true, visiting);
}

// The entries of one binding: a def name, or each item of a list of them.
template <typename Fn>
void ForEachRef(const YAML::Node& refs, Fn fn) {
  if (refs.IsSequence()) {
    for (const YAML::Node& item : refs) fn(item);
  } else {
    fn(refs);
  }
}

// `report`: say what is wrong (the bindings as written); otherwise mount
// what is right, quietly (a bound def's own bindings, reported once when
// that def was read). Defs in `visiting` (a circle, reported by
// CheckBindingCycles) are left out.
Value Loader::MountBindings(const YAML::Node& n, const std::string& where, bool report,
                            std::set<std::string>& visiting) {
  Value mounted = Value::MakeObject();
  if (report ? !ExpectMap(n, where + ".bindings") : !n.IsMap()) return mounted;
  for (const auto& kv : n) {
    const std::string kind = kv.first.Scalar();
    const std::string at = Cat({where, ".bindings.", kind});
    const bool several = kv.second.IsSequence();
    std::vector<std::pair<std::string, YAML::Node>> refs;
    ForEachRef(kv.second, [&](const YAML::Node& item) {
      std::string ref;
      if (!report) {
        if (item.IsScalar()) refs.emplace_back(item.Scalar(), item);
      } else if (ExpectString(item, several ? at + " item" : at + " (a def name, or a list of them)", ref)) {
        refs.emplace_back(ref, item);
      }
    });
    std::set<std::string> seen;
    Value payloads = Value::MakeObject();
    for (const auto& [ref, node] : refs) {
      std::string fault;
      auto it = binding_defs_.find(ref);
      if (!seen.insert(ref).second) {
        fault = Cat({at, ": duplicate def reference '", ref, "'"});
      } else if (it == binding_defs_.end() && task_nodes_.count(ref) != 0) {
        fault = Cat({at, ": '", ref, "' is a task; only a def of kind '", kind, "' can be bound as '", kind, "'"});
      } else if (it == binding_defs_.end()) {
        fault = Cat({at, ": unknown def '", ref, "'"});
        std::string s = report ? ClosestMatch(ref, def_names_) : "";
        if (!s.empty()) fault += " (did you mean '" + s + "'?)";
      } else if (const std::string ref_kind = it->second["kind"].Scalar(); ref_kind != kind) {
        fault = Cat({at, ": def '", ref, "' has kind '", ref_kind, "' and cannot be mounted as '", kind, "'"});
      }
      if (!fault.empty()) {
        if (report) diag_.Error(Loc(node), fault);
        continue;
      }
      if (visiting.count(ref) == 0) payloads.set(ref, MountBindingDef(ref, visiting));
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
  if (const YAML::Node b = def["bindings"]; b && visiting.size() < kMaxBindingDepth) {
    visiting.insert(name);
    Value nested = MountBindings(b, "defs." + name, false, visiting);
    visiting.erase(name);
    if (nested.size() > 0) payload.set("bindings", nested);
  }
  // Kept, so that defs bound from many places are mounted once (the values
  // are shared). A mount cut short by a circle or the depth limit may
  // differ with where it started, but then loading fails anyway.
  mounted_defs_[name] = payload;
  return payload;
}

void Loader::CheckBindingCycles() {
  // Iterative: a chain of defs as long as the file allows must not take the
  // stack with it.
  enum class Mark : uint8_t { kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::set<std::string> reported;
  struct Visit {
    std::string name;
    std::vector<std::string> refs;  // the binding defs it binds
    size_t next = 0;
  };
  auto refs_of = [&](const std::string& name) {
    std::vector<std::string> refs;
    const YAML::Node b = binding_defs_.at(name)["bindings"];
    if (b && b.IsMap()) {
      for (const auto& kv : b) {
        ForEachRef(kv.second, [&](const YAML::Node& ref) {
          if (ref.IsScalar() && binding_defs_.count(ref.Scalar()) != 0) refs.push_back(ref.Scalar());
        });
      }
    }
    return refs;
  };
  for (const auto& [root, def] : binding_defs_) {
    if (marks.count(root) != 0) continue;
    std::vector<Visit> stack;
    marks[root] = Mark::kVisiting;
    stack.push_back({root, refs_of(root)});
    while (!stack.empty()) {
      Visit& top = stack.back();
      if (top.next == top.refs.size()) {
        marks[top.name] = Mark::kDone;
        stack.pop_back();
        continue;
      }
      const std::string name = top.refs[top.next++];
      auto it = marks.find(name);
      if (it != marks.end()) {
        if (it->second == Mark::kDone) continue;
        auto start = std::find_if(stack.begin(), stack.end(), [&](const Visit& v) { return v.name == name; });
        std::string cycle;
        for (auto v = start; v != stack.end(); ++v) cycle.append(v->name).append(" -> ");
        cycle += name;
        if (reported.insert(cycle).second) {
          diag_.Error(Loc(binding_defs_.at(name)["bindings"]),
                      Cat({"defs.", name, ".bindings: circular binding (", cycle, ")"}));
        }
        continue;
      }
      if (stack.size() >= kMaxBindingDepth) {
        if (reported.insert("depth").second) {
          diag_.Error(Loc(binding_defs_.at(top.name)["bindings"]),
                      Cat({"defs.", top.name, ".bindings: defs bind each other more than ",
                           std::to_string(kMaxBindingDepth), " deep"}));
        }
        continue;
      }
      marks[name] = Mark::kVisiting;
      stack.push_back({name, refs_of(name)});
    }
  }
}

}  // namespace weft::dsl::internal

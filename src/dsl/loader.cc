// The workflow loader: YAML nodes → Workflow. Works on yaml-cpp nodes (which
// keep positions) so that every diagnostic can say file:line:col; converts
// leaves to Values only where a value is what the file means. This file:
// typed reading, expressions, the header and inputs, and the whole load; the
// other loader_*.cc files have the rest (see loader_internal.h).
#include "loader_internal.h"
#include "weft/core/file.h"
#include "weft/core/json.h"

namespace weft::dsl {
namespace internal {

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
  LoadTriggers(root);
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

}  // namespace internal

using internal::kImportMarker;
using internal::Loader;

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

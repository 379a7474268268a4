// What a workflow may reach (permissions), the catalogs it imports, and the
// business actions it declares.
#include "loader_internal.h"

#include "weft/core/file.h"

namespace weft::dsl::internal {

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
    a.spec.pure = is.pure;
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

}  // namespace weft::dsl::internal

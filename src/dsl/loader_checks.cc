// Checks that need the whole workflow: suspension where branches run
// concurrently, fallback cycles, outputs that read tasks that may not run,
// what loop bodies read, where $secret() may go.
#include <regex>

#include "loader_internal.h"

namespace weft::dsl::internal {

namespace {

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

}  // namespace

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

namespace {

bool TaskCanSuspend(const TaskDef* task, std::set<const TaskDef*>& visiting) {
  if (task == nullptr || !visiting.insert(task).second) return false;
  bool result =
      task->may_suspend || (task->settings.on_error.steps && CanSuspend(*task->settings.on_error.steps, visiting));
  visiting.erase(task);
  return result;
}

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace weft::dsl::internal

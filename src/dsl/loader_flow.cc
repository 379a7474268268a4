// The flow: steps and blocks, their step paths, and the outputs.
#include "loader_internal.h"

namespace weft::dsl::internal {

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

}  // namespace weft::dsl::internal

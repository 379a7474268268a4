#include "rewriter.h"

#include <algorithm>

#include "error.h"
#include "evaluator.h"

namespace weft::expr {
namespace {

class Rewriter {
 public:
  RewrittenTree Run(NodePtr raw) {
    RewrittenTree out;
    out.root = Process(std::move(raw));
    if (out.root->type == NodeType::kParent || !out.root->seeking_parent.empty()) {
      JsonataError e("S0217", out.root->position);
      e.token = out.root->type == NodeType::kParent ? "parent" : "path";
      throw e;
    }
    MarkFastPaths(*out.root);
    CollectFreeVars(*out.root, out.free_vars, out.dynamic_scope);
    out.slots = std::move(slots_);
    return out;
  }

 private:
  static NodePtr MakePath(NodePtr first) {
    auto p = std::make_unique<Node>(NodeType::kPath, first->position);
    p->items.push_back(std::move(first));
    return p;
  }

  AncestorSlot* SeekParent(Node* node, AncestorSlot* slot) {
    switch (node->type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        slot->level--;
        if (slot->level == 0) {
          if (node->ancestor) {
            slot->label = node->ancestor->label;  // reuse the existing label
          }
          node->ancestor = slot;
          node->tuple = true;
        }
        break;
      case NodeType::kParent: slot->level++; break;
      case NodeType::kBlock:
        if (!node->items.empty()) {
          node->tuple = true;
          slot = SeekParent(node->items.back().get(), slot);
        }
        break;
      case NodeType::kPath: {
        node->tuple = true;
        int index = static_cast<int>(node->items.size()) - 1;
        slot = SeekParent(node->items[index--].get(), slot);
        while (slot->level > 0 && index >= 0) slot = SeekParent(node->items[index--].get(), slot);
        break;
      }
      default: {
        JsonataError e("S0217", node->position);
        e.token = "expression";
        throw e;
      }
    }
    return slot;
  }

  static void PushAncestry(Node* result, Node* value) {
    if (!value->seeking_parent.empty() || value->type == NodeType::kParent) {
      for (auto* s : value->seeking_parent) result->seeking_parent.push_back(s);
      if (value->type == NodeType::kParent) result->seeking_parent.push_back(value->slot);
    }
  }

  void ResolveAncestry(Node* path) {
    Node* last = path->items.back().get();
    std::vector<AncestorSlot*> slots = last->seeking_parent;
    if (last->type == NodeType::kParent) slots.push_back(last->slot);
    for (AncestorSlot* slot : slots) {
      int index = static_cast<int>(path->items.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path->seeking_parent.push_back(slot);
          break;
        }
        Node* step = path->items[index--].get();
        while (index >= 0 && !step->focus.empty() && !path->items[index]->focus.empty()) {
          step = path->items[index--].get();
        }
        slot = SeekParent(step, slot);
      }
    }
  }

  static NodePtr TailCallOptimize(NodePtr e) {
    if (e->type == NodeType::kFunction && e->predicates.empty()) {
      auto thunk = std::make_unique<Node>(NodeType::kLambda, e->position);
      thunk->thunk = true;
      thunk->body = std::move(e);
      return thunk;
    }
    if (e->type == NodeType::kCondition) {
      e->then = TailCallOptimize(std::move(e->then));
      if (e->otherwise) e->otherwise = TailCallOptimize(std::move(e->otherwise));
    } else if (e->type == NodeType::kBlock && !e->items.empty()) {
      e->items.back() = TailCallOptimize(std::move(e->items.back()));
    }
    return e;
  }

  NodePtr Process(NodePtr e) {
    bool keep_array = e->keep_array;
    NodePtr result;
    switch (e->type) {
      case NodeType::kBinary: result = ProcessBinary(std::move(e)); break;
      case NodeType::kUnary: {
        if (e->op == "[") {
          for (auto& item : e->items) {
            item = Process(std::move(item));
            PushAncestry(e.get(), item.get());
          }
        } else if (e->op == "{") {
          for (auto& pr : e->pairs) {
            pr.first = Process(std::move(pr.first));
            PushAncestry(e.get(), pr.first.get());
            pr.second = Process(std::move(pr.second));
            PushAncestry(e.get(), pr.second.get());
          }
        } else {  // unary minus
          e->lhs = Process(std::move(e->lhs));
          if (e->lhs->type == NodeType::kNumber) {
            NodePtr num = std::move(e->lhs);
            num->literal = Value(-num->literal.as_number());
            num->position = e->position;
            e = std::move(num);
          } else {
            PushAncestry(e.get(), e->lhs.get());
          }
        }
        result = std::move(e);
        break;
      }
      case NodeType::kFunction:
      case NodeType::kPartial:
        for (auto& arg : e->items) {
          arg = Process(std::move(arg));
          PushAncestry(e.get(), arg.get());
        }
        e->procedure = Process(std::move(e->procedure));
        result = std::move(e);
        break;
      case NodeType::kLambda:
        e->body = TailCallOptimize(Process(std::move(e->body)));
        result = std::move(e);
        break;
      case NodeType::kCondition:
        e->condition = Process(std::move(e->condition));
        PushAncestry(e.get(), e->condition.get());
        e->then = Process(std::move(e->then));
        PushAncestry(e.get(), e->then.get());
        if (e->otherwise) {
          e->otherwise = Process(std::move(e->otherwise));
          PushAncestry(e.get(), e->otherwise.get());
        }
        result = std::move(e);
        break;
      case NodeType::kElvis:
      case NodeType::kCoalesce:
        e->lhs = Process(std::move(e->lhs));
        PushAncestry(e.get(), e->lhs.get());
        e->rhs = Process(std::move(e->rhs));
        PushAncestry(e.get(), e->rhs.get());
        result = std::move(e);
        break;
      case NodeType::kTransform:
        e->pattern = Process(std::move(e->pattern));
        e->update = Process(std::move(e->update));
        if (e->remove) e->remove = Process(std::move(e->remove));
        result = std::move(e);
        break;
      case NodeType::kBlock: {
        for (auto& item : e->items) {
          item = Process(std::move(item));
          PushAncestry(e.get(), item.get());
          if (item->consarray || (item->type == NodeType::kPath && item->items[0]->consarray)) e->consarray = true;
        }
        result = std::move(e);
        break;
      }
      case NodeType::kName: {
        bool keep = e->keep_array;
        result = MakePath(std::move(e));
        if (keep) result->keep_singleton_array = true;
        break;
      }
      case NodeType::kParent: {
        auto slot = std::make_unique<AncestorSlot>();
        slot->label = "!" + std::to_string(label_counter_++);
        slot->level = 1;
        slot->index = index_counter_++;
        e->slot = slot.get();
        slots_.push_back(std::move(slot));
        result = std::move(e);
        break;
      }
      case NodeType::kEnd: {
        JsonataError err("S0207", e->position);
        err.token = "(end)";
        throw err;
      }
      case NodeType::kOperator:
        if (e->op == "?") {
          result = std::move(e);
          break;
        }
        {
          JsonataError err("S0201", e->position);
          err.token = e->op;
          throw err;
        }
      default: result = std::move(e); break;
    }
    if (keep_array) result->keep_array = true;
    return result;
  }

  NodePtr ProcessBinary(NodePtr e) {
    const std::string op = e->op;
    if (op == ".") {
      NodePtr lstep = Process(std::move(e->lhs));
      NodePtr result;
      bool lhs_is_parent = lstep->type == NodeType::kParent;
      AncestorSlot* parent_slot = lhs_is_parent ? lstep->slot : nullptr;
      if (lstep->type == NodeType::kPath) {
        result = std::move(lstep);
      } else {
        result = MakePath(std::move(lstep));
      }
      if (lhs_is_parent) result->seeking_parent = {parent_slot};
      NodePtr rest = Process(std::move(e->rhs));
      if (rest->type == NodeType::kPath) {
        for (auto& s : rest->items) result->items.push_back(std::move(s));
      } else {
        if (!rest->predicates.empty()) {
          rest->stages = std::move(rest->predicates);
          rest->predicates.clear();
        }
        result->items.push_back(std::move(rest));
      }
      for (auto& step : result->items) {
        if (step->type == NodeType::kNumber || step->type == NodeType::kValue) {
          JsonataError err("S0213", step->position);
          err.value = step->literal;
          throw err;
        }
        if (step->type == NodeType::kString) step->type = NodeType::kName;
      }
      for (auto& step : result->items)
        if (step->keep_array) result->keep_singleton_array = true;
      Node* first = result->items.front().get();
      if (first->type == NodeType::kUnary && first->op == "[") first->consarray = true;
      Node* last = result->items.back().get();
      if (last->type == NodeType::kUnary && last->op == "[") last->consarray = true;
      ResolveAncestry(result.get());
      return result;
    }
    if (op == "[") {
      NodePtr result = Process(std::move(e->lhs));
      Node* step = result.get();
      bool as_stages = false;
      if (result->type == NodeType::kPath) {
        step = result->items.back().get();
        as_stages = true;
      }
      if (step->group) throw JsonataError("S0209", e->position);
      NodePtr predicate = Process(std::move(e->rhs));
      if (!predicate->seeking_parent.empty()) {
        for (AncestorSlot* slot : predicate->seeking_parent) {
          if (slot->level == 1) {
            SeekParent(step, slot);
          } else {
            slot->level--;
          }
        }
        PushAncestry(step, predicate.get());
      }
      Stage st{Stage::Kind::kFilter, std::move(predicate), "", e->position};
      (as_stages ? step->stages : step->predicates).push_back(std::move(st));
      return result;
    }
    if (op == "{") {
      NodePtr result = Process(std::move(e->lhs));
      if (result->group) throw JsonataError("S0210", e->position);
      result->group = std::make_unique<GroupBy>();
      result->group->position = e->position;
      for (auto& pr : e->pairs) {
        result->group->pairs.emplace_back(Process(std::move(pr.first)), Process(std::move(pr.second)));
      }
      return result;
    }
    if (op == "^") {
      NodePtr result = Process(std::move(e->lhs));
      if (result->type != NodeType::kPath) result = MakePath(std::move(result));
      auto sort = std::make_unique<Node>(NodeType::kSort, e->position);
      for (auto& t : e->raw_terms) {
        SortTerm term;
        term.descending = t.descending;
        term.expr = Process(std::move(t.expr));
        PushAncestry(sort.get(), term.expr.get());
        sort->terms.push_back(std::move(term));
      }
      result->items.push_back(std::move(sort));
      ResolveAncestry(result.get());
      return result;
    }
    if (op == ":=") {
      auto result = std::make_unique<Node>(NodeType::kBind, e->position);
      result->lhs = Process(std::move(e->lhs));
      result->rhs = Process(std::move(e->rhs));
      PushAncestry(result.get(), result->rhs.get());
      return result;
    }
    if (op == "@") {
      NodePtr result = Process(std::move(e->lhs));
      Node* step = result.get();
      if (result->type == NodeType::kPath) step = result->items.back().get();
      if (!step->stages.empty() || !step->predicates.empty()) throw JsonataError("S0215", e->position);
      if (step->type == NodeType::kSort) throw JsonataError("S0216", e->position);
      if (e->keep_array) step->keep_array = true;
      step->focus = e->rhs->op;
      step->tuple = true;
      return result;
    }
    if (op == "#") {
      NodePtr result = Process(std::move(e->lhs));
      Node* step = result.get();
      if (result->type == NodeType::kPath) {
        step = result->items.back().get();
      } else {
        if (!step->predicates.empty()) {
          step->stages = std::move(step->predicates);
          step->predicates.clear();
        }
        result = MakePath(std::move(result));
        step = result->items.back().get();
      }
      if (step->stages.empty()) {
        step->index_var = e->rhs->op;
      } else {
        step->stages.push_back(Stage{Stage::Kind::kIndex, nullptr, e->rhs->op, e->position});
      }
      step->tuple = true;
      return result;
    }
    if (op == "~>") {
      auto result = std::make_unique<Node>(NodeType::kApply, e->position);
      result->lhs = Process(std::move(e->lhs));
      result->rhs = Process(std::move(e->rhs));
      result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
      return result;
    }
    // arithmetic, comparison, boolean, string concatenation, range, in
    e->bop = DecodeBinaryOp(e->op);
    e->lhs = Process(std::move(e->lhs));
    e->rhs = Process(std::move(e->rhs));
    PushAncestry(e.get(), e->lhs.get());
    PushAncestry(e.get(), e->rhs.get());
    return e;
  }

  // A path whose steps are all plain field names can be evaluated without
  // building intermediate sequences while the data it walks is objects.
  // Variables naming built-in functions get the function resolved once here.
  static void MarkFastPaths(Node& n) {
    if (n.type == NodeType::kVariable && !n.op.empty()) n.builtin = FindBuiltin(n.op);
    if (n.type == NodeType::kPath && !n.keep_singleton_array && !n.group && !n.tuple) {
      bool simple = true;
      for (size_t i = 0; i < n.items.size() && simple; ++i) {
        const auto& s = n.items[i];
        // The first step may also be a variable ($v.price); later ones are names.
        bool var_head = i == 0 && s->type == NodeType::kVariable && n.items.size() > 1;
        // Name steps may carry constant indexes (Order[0]).
        bool index_stages = s->type == NodeType::kName;
        for (const auto& st : s->stages)
          if (st.kind != Stage::Kind::kFilter || st.expr->type != NodeType::kNumber) index_stages = false;
        if ((s->type != NodeType::kName && !var_head) || (!s->stages.empty() && !index_stages) ||
            !s->predicates.empty() || s->tuple || s->group || s->keep_array || !s->focus.empty() ||
            !s->index_var.empty() || s->ancestor) {
          simple = false;
          break;
        }
      }
      n.simple_names = simple;
    }
    ForEachChild(n, [](Node& c) { MarkFastPaths(c); });
  }

  // Records, for every lambda, the variables its body may read from the
  // scopes around it (a superset). The evaluator uses it to tell which
  // bindings a function returned from an evaluation can still need.
  static void CollectFreeVars(Node& n, std::vector<std::string>& out, bool& dynamic) {
    auto add = [&](const std::string& name) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    };
    if (n.type == NodeType::kLambda) {
      std::vector<std::string> inner;
      bool inner_dynamic = false;
      if (n.body) CollectFreeVars(*n.body, inner, inner_dynamic);
      n.free_vars = inner;
      n.dynamic_scope = inner_dynamic;
      for (const auto& v : inner)
        if (std::find(n.params.begin(), n.params.end(), v) == n.params.end()) add(v);
      dynamic = dynamic || inner_dynamic;
      return;
    }
    if (n.type == NodeType::kVariable) add(n.op);
    if (n.type == NodeType::kParent && n.slot) add(n.slot->label);
    if (n.type == NodeType::kFunction && n.procedure && n.procedure->type == NodeType::kVariable &&
        n.procedure->op == "eval") {
      dynamic = true;
    }
    if (n.type == NodeType::kTransform) add("clone");
    // focus/index/ancestor variables bound by steps are local to the path
    ForEachChild(n, [&](Node& c) { CollectFreeVars(c, out, dynamic); });
  }

  int label_counter_ = 0;
  int index_counter_ = 0;
  std::vector<std::unique_ptr<AncestorSlot>> slots_;
};

}  // namespace

RewrittenTree Rewrite(NodePtr raw) { return Rewriter().Run(std::move(raw)); }

Node::~Node() {
  std::vector<NodePtr> pending;
  auto take = [&](NodePtr& p) {
    if (p) pending.push_back(std::move(p));
  };
  ForEachChildPtr(*this, take);
  while (!pending.empty()) {
    NodePtr n = std::move(pending.back());
    pending.pop_back();
    ForEachChildPtr(*n, take);
  }  // each node is freed here with its children already moved out
}

BinaryOp DecodeBinaryOp(const std::string& op) {
  static const std::pair<const char*, BinaryOp> kOps[] = {
      {"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub},    {"*", BinaryOp::kMul},    {"/", BinaryOp::kDiv},
      {"%", BinaryOp::kMod}, {"=", BinaryOp::kEq},     {"!=", BinaryOp::kNe},    {"<", BinaryOp::kLt},
      {"<=", BinaryOp::kLe}, {">", BinaryOp::kGt},     {">=", BinaryOp::kGe},    {"and", BinaryOp::kAnd},
      {"or", BinaryOp::kOr}, {"&", BinaryOp::kConcat}, {"..", BinaryOp::kRange}, {"in", BinaryOp::kIn}};
  for (const auto& [text, bop] : kOps)
    if (op == text) return bop;
  return BinaryOp::kOther;
}

}  // namespace weft::expr

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "evaluator.h"
#include "frame.h"

namespace weft::expr {
namespace {

// Finds the bindings a value can still read through the functions it
// contains: a lambda needs the bindings its body names (or all of its scope
// if it calls $eval), a transform needs all of its scope.
class Reach {
 public:
  explicit Reach(const FrameRegistry* self) : self_(self) {}
  std::unordered_map<const Frame*, std::unordered_set<std::string>> needed;
  std::unordered_set<const Frame*> whole;     // frames needed in full
  std::vector<const CallableBase*> escaping;  // this evaluation's lambdas/transforms reachable

  void Visit(const Value& v) {
    // Past kMaxNesting the search stops: at worst a function buried that
    // deep keeps owning its scope (a possible leak, never a dangling scope).
    if (depth_ > kMaxNesting) return;
    ++depth_;
    switch (v.kind()) {
      case Value::Kind::kArray:
        for (const auto& x : v.as_array()) Visit(x);
        break;
      case Value::Kind::kObject:
        for (const auto& m : v.members()) Visit(m.value);
        break;
      case Value::Kind::kFunction: Function(AsCallable(v)); break;
      default: break;
    }
    --depth_;
  }

 private:
  int depth_ = 0;
  void WholeChain(const Frame* f) {
    for (; f; f = f->parent().get()) {
      if (!whole.insert(f).second) return;
      for (const auto& kv : f->bindings()) Visit(kv.second);
    }
  }

  void Names(const Frame* f, std::vector<std::string> names) {
    for (; f && !names.empty(); f = f->parent().get()) {
      for (const auto& kv : f->bindings()) {
        auto it = std::find(names.begin(), names.end(), kv.first);
        if (it == names.end()) continue;
        names.erase(it);  // inner bindings shadow outer ones
        if (needed[f].insert(kv.first).second) Visit(kv.second);
      }
    }
  }

  void Function(const CallableBase* c) {
    if (!c || !seen_functions_.insert(c).second) return;
    switch (c->kind) {
      case CallableBase::Kind::kLambda: {
        const auto* l = static_cast<const LambdaFunction*>(c);
        // Functions of earlier evaluations are owned by their own heaps.
        if (l->origin != self_) return;
        escaping.push_back(c);
        Visit(l->input);
        if (l->node->dynamic_scope) {
          WholeChain(l->env.get());
        } else {
          std::vector<std::string> names = l->node->free_vars;
          // a partial application binds some parameters in its own scope
          names.insert(names.end(), l->node->params.begin(), l->node->params.end());
          Names(l->env.get(), std::move(names));
        }
        break;
      }
      case CallableBase::Kind::kTransform: {
        const auto* t = static_cast<const TransformFunction*>(c);
        if (t->origin != self_) return;
        escaping.push_back(c);
        WholeChain(t->env.get());
        break;
      }
      case CallableBase::Kind::kPartialNative: {
        const auto* p = static_cast<const PartialNativeFunction*>(c);
        Visit(p->target);
        for (const auto& a : p->args) Visit(a);
        break;
      }
      case CallableBase::Kind::kChain: {
        const auto* ch = static_cast<const ChainFunction*>(c);
        Visit(ch->first);
        Visit(ch->second);
        break;
      }
      default: break;
    }
  }

  std::unordered_set<const CallableBase*> seen_functions_;
  const FrameRegistry* self_;
};

// Replaces every function in a result by a closure that owns `heap`.
Value WrapFunctions(const Value& v, const std::shared_ptr<ClosureHeap>& heap, int depth = 0) {
  if (depth > kMaxNesting) return v;
  switch (v.kind()) {
    case Value::Kind::kFunction:
      if (AsCallable(v)->kind == CallableBase::Kind::kClosure) return v;
      return Value::FromFunction(new ClosureFunction(v, heap));
    case Value::Kind::kArray: {
      Value::Array out;
      out.reserve(v.size());
      for (const auto& x : v.as_array()) out.push_back(WrapFunctions(x, heap, depth + 1));
      return Value::MakeArray(std::move(out), v.array_flags());
    }
    case Value::Kind::kObject: {
      Value o = Value::MakeObject();
      for (const auto& m : v.members()) o.set(m.key, WrapFunctions(m.value, heap, depth + 1));
      return o;
    }
    default: return v;
  }
}

bool ContainsFunction(const Value& v, int depth = 0) {
  if (v.is_function()) return true;
  if (depth > kMaxNesting) return false;
  if (v.is_array()) {
    for (const auto& x : v.as_array())
      if (ContainsFunction(x, depth + 1)) return true;
  } else if (v.is_object()) {
    for (const auto& m : v.members())
      if (ContainsFunction(m.value, depth + 1)) return true;
  }
  return false;
}

}  // namespace

Value FrameRegistry::Collect(Value result) {
  if (!closures_created_) {
    DetachAll();
    return result;
  }
  std::vector<Frame*> candidates;
  for (Frame* f = head_; f; f = f->next_)
    if (f->may_cycle_) candidates.push_back(f);
  const bool has_functions = ContainsFunction(result);
  if (candidates.empty() && !has_functions) {
    DetachAll();
    return result;
  }
  Reach reach(this);
  if (has_functions) reach.Visit(result);
  // Bindings no returned function can read are dropped; that is what breaks
  // cycles such as a lambda bound in the scope it captured.
  std::vector<FrameRef> hold;
  std::vector<std::pair<std::string, Value>> dropped;
  for (Frame* f : candidates) {
    if (reach.whole.count(f)) continue;
    hold.push_back(f->shared_from_this());
    auto it = reach.needed.find(f);
    Frame::Vars kept;
    for (auto& kv : f->vars_) {
      bool keep = it != reach.needed.end() && it->second.count(kv.first);
      if (keep) {
        kept.push_back(std::move(kv));
      } else {
        dropped.push_back(std::move(kv));
      }
    }
    f->vars_.swap(kept);
  }
  if (!reach.escaping.empty()) {
    // Functions leave the evaluation: a heap takes ownership of the scopes
    // they read, and their own links to those scopes stop owning. The
    // result holds the heap through closure wrappers, so even a function
    // bound in its own scope ($f := function(){ $f() }) is freed with it.
    auto heap = std::make_shared<ClosureHeap>();
    for (const CallableBase* c : reach.escaping) {
      FrameRef& env = c->kind == CallableBase::Kind::kLambda ? static_cast<const LambdaFunction*>(c)->env
                                                             : static_cast<const TransformFunction*>(c)->env;
      if (!env) continue;
      if (env.use_count() > 0) heap->frames.push_back(env);
      env = FrameRef(FrameRef(), env.get());
    }
    result = WrapFunctions(result, heap);
  } else if (has_functions) {
    result = WrapFunctions(result, std::make_shared<ClosureHeap>());
  }
  // Values are released only now, when no frame is being edited.
  dropped.clear();
  hold.clear();
  DetachAll();
  return result;
}

void FrameRegistry::DetachAll() {
  while (head_) head_->Unlink();
}

}  // namespace weft::expr

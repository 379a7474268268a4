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
  std::unordered_map<const Frame*, std::unordered_set<std::string>> needed;
  std::unordered_set<const Frame*> whole;  // frames needed in full

  void Visit(const Value& v) {
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
  }

 private:
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
      case CallableBase::Kind::kTransform: WholeChain(static_cast<const TransformFunction*>(c)->env.get()); break;
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
};

}  // namespace

void FrameRegistry::Collect(const Value& result) {
  std::vector<Frame*> candidates;
  for (Frame* f = head_; f; f = f->next_)
    if (f->may_cycle_) candidates.push_back(f);
  if (!candidates.empty()) {
    Reach reach;
    reach.Visit(result);
    // Bindings no returned function can read are dropped; that is what
    // breaks cycles such as a lambda bound in the scope it captured.
    std::vector<FrameRef> hold;
    std::vector<std::pair<std::string, Value>> dropped;
    for (Frame* f : candidates) {
      if (reach.whole.count(f)) continue;
      hold.push_back(f->shared_from_this());
      auto it = reach.needed.find(f);
      std::vector<std::pair<std::string, Value>> kept;
      for (auto& kv : f->vars_) {
        bool keep = it != reach.needed.end() && it->second.count(kv.first);
        (keep ? kept : dropped).push_back(std::move(kv));
      }
      f->vars_.swap(kept);
      // `kept` now holds the moved-from entries; dropping it releases nothing.
    }
    // Values are released only now, when no frame is being edited.
    dropped.clear();
    hold.clear();
  }
  DetachAll();
}

void FrameRegistry::DetachAll() {
  while (head_) head_->Unlink();
}

}  // namespace weft::expr

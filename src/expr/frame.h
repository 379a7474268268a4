// Frame: one scope of variable bindings, linked to its enclosing scope.
//
// Lambdas capture their frame, so frames are shared (shared_ptr). Binding a
// lambda into the frame it captured makes a reference cycle
// (`$f := function(){ $f() }`); to reclaim those, every frame created during
// an evaluation is linked into that evaluation's FrameRegistry, and when the
// evaluation ends the registry clears the frames that could hold a cycle and
// that the result cannot reach (see FrameRegistry::Collect). The list holds
// no ownership: a frame unlinks itself when destroyed.
//
// Frames are used by one thread at a time: the evaluation that created them.
#pragma once

#include <boost/container/small_vector.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/core/value.h"

namespace weft::expr {

class Frame;
using FrameRef = std::shared_ptr<Frame>;

class FrameRegistry {
 public:
  FrameRegistry() = default;
  FrameRegistry(const FrameRegistry&) = delete;
  FrameRegistry& operator=(const FrameRegistry&) = delete;
  ~FrameRegistry() { DetachAll(); }

  // Ends an evaluation: drops the bindings that no function in `result` can
  // read (breaking cycles among this evaluation's frames), hands the scopes
  // that escaping functions need to a heap owned by the returned functions,
  // and forgets all frames. Returns the result with its functions wrapped.
  Value Collect(Value result);

  // Called when the evaluation creates a function that captures a scope.
  // Without one, no cycle or escaping scope can exist and Collect is free.
  void NoteClosureCreated() { closures_created_ = true; }

 private:
  friend class Frame;
  void DetachAll();
  Frame* head_ = nullptr;
  bool closures_created_ = false;
};

class Frame : public std::enable_shared_from_this<Frame> {
 public:
  Frame(FrameRef parent, FrameRegistry* registry) : parent_(std::move(parent)), registry_(registry) {
    if (registry_) {
      next_ = registry_->head_;
      if (next_) next_->prev_ = this;
      registry_->head_ = this;
    }
  }
  ~Frame() { Unlink(); }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  void Reserve(size_t n) { vars_.reserve(n); }

  void Bind(std::string_view name, Value v) {
    if (v.is_function() || v.is_array() || v.is_object()) may_cycle_ = true;
    for (auto& kv : vars_) {
      if (kv.first == name) {
        kv.second = std::move(v);
        return;
      }
    }
    vars_.emplace_back(std::string(name), std::move(v));
  }

  // The innermost binding of `name`, or nullptr.
  const Value* Lookup(std::string_view name) const {
    for (const Frame* f = this; f; f = f->parent_.get()) {
      for (const auto& kv : f->vars_)
        if (kv.first.size() == name.size() && (name.empty() || kv.first[0] == name[0]) && kv.first == name)
          return &kv.second;
    }
    return nullptr;
  }

  const FrameRef& parent() const { return parent_; }
  // Most scopes bind a few names (the workflow's $input, $output, a
  // lambda's parameters): those are kept inline, without an allocation.
  using Vars = boost::container::small_vector<std::pair<std::string, Value>, 4>;
  const Vars& bindings() const { return vars_; }

 private:
  friend class FrameRegistry;
  void Unlink() {
    if (!registry_) return;
    if (prev_) prev_->next_ = next_;
    if (next_) next_->prev_ = prev_;
    if (registry_->head_ == this) registry_->head_ = next_;
    prev_ = next_ = nullptr;
    registry_ = nullptr;
  }

  FrameRef parent_;
  Vars vars_;
  FrameRegistry* registry_;
  Frame* prev_ = nullptr;
  Frame* next_ = nullptr;
  bool may_cycle_ = false;
};

}  // namespace weft::expr

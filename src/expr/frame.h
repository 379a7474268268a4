// Frame: one scope of variable bindings, linked to its enclosing scope.
// Lambdas capture their frame, so frames are shared (shared_ptr). A frame is
// written only by the evaluation that created it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/core/value.h"

namespace weft::expr {

class Frame;
using FrameRef = std::shared_ptr<Frame>;

class Frame {
 public:
  explicit Frame(FrameRef parent) : parent_(std::move(parent)) {}

  void Bind(std::string_view name, Value v) {
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
        if (kv.first == name) return &kv.second;
    }
    return nullptr;
  }

  const FrameRef& parent() const { return parent_; }

 private:
  FrameRef parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace weft::expr

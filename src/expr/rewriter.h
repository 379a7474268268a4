// The rewriting pass after parsing (JSONata's "processAST"): turns the raw
// operator tree into paths of steps, attaches predicates, index and focus
// bindings, group-by and order-by to their steps, resolves the '%' parent
// operator to ancestor slots, and marks tail calls in lambda bodies.
#pragma once

#include <memory>
#include <vector>

#include "node.h"

namespace weft::expr {

struct RewrittenTree {
  NodePtr root;
  std::vector<std::unique_ptr<AncestorSlot>> slots;
  // The variables the expression may read from its bindings (a superset),
  // unless `dynamic_scope` ($eval can read any of them).
  std::vector<std::string> free_vars;
  bool dynamic_scope = false;
  // weft's own syntax and semantics, for portability reports: '==' in the
  // text; whether evaluation reads the input document (a field name, $, $$,
  // *, ** or % where the expression starts, not after a variable).
  bool double_equals = false;
  bool reads_input = false;
  // Nodes the parser made (the memory a compilation takes is about this
  // many times sizeof(Node)).
  int parsed_nodes = 0;
};

RewrittenTree Rewrite(NodePtr raw);

// Calls fn on every direct child node.
template <typename Fn>
void ForEachChild(Node& n, Fn&& fn) {
  ForEachChildPtr(n, [&](NodePtr& p) {
    if (p) fn(*p);
  });
}

}  // namespace weft::expr

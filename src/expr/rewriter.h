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
};

RewrittenTree Rewrite(NodePtr raw);

// Calls fn on every direct child node.
template <typename Fn>
void ForEachChild(Node& n, Fn&& fn) {
  auto visit = [&](NodePtr& p) {
    if (p) fn(*p);
  };
  visit(n.lhs);
  visit(n.rhs);
  visit(n.condition);
  visit(n.then);
  visit(n.otherwise);
  visit(n.procedure);
  visit(n.body);
  visit(n.pattern);
  visit(n.update);
  visit(n.remove);
  for (auto& c : n.items) visit(c);
  for (auto& pr : n.pairs) {
    visit(pr.first);
    visit(pr.second);
  }
  for (auto& st : n.stages) visit(st.expr);
  for (auto& st : n.predicates) visit(st.expr);
  for (auto& t : n.terms) visit(t.expr);
  for (auto& t : n.raw_terms) visit(t.expr);
  if (n.group) {
    for (auto& pr : n.group->pairs) {
      visit(pr.first);
      visit(pr.second);
    }
  }
}

}  // namespace weft::expr

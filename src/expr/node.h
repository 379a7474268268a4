// The expression syntax tree.
//
// The parser builds raw nodes (binary '.', '[', '{', ...) and the rewriter
// turns them into the evaluation tree: paths with steps, stages (filters and
// index bindings), group-by, sort steps, and ancestry slots for '%'. After
// compilation the tree is immutable and shared by every evaluation.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "signature.h"
#include "weft/core/value.h"

namespace re2 {
class RE2;
}

namespace weft::expr {

enum class NodeType : uint8_t {
  // Raw token / parse-time kinds
  kOperator,  // a bare operator token used as a value (only '?' in partial application survives)
  kEnd,
  // Shared kinds
  kName,      // field name step
  kVariable,  // $name ('' is the context, '$' the root)
  kString,
  kNumber,
  kValue,  // true / false / null
  kRegex,
  kWildcard,    // *
  kDescendant,  // **
  kParent,      // %
  kBinary,      // raw binary operator (value in op)
  kUnary,       // unary minus (op "-"), array constructor "[", object constructor "{"
  kFunction,    // function call
  kPartial,     // partial application
  kLambda,
  kCondition,  // ? :
  kElvis,      // ?:
  kCoalesce,   // ??
  kBlock,      // ( ...; ... )
  kTransform,  // | pattern | update, delete |
  // Rewritten kinds
  kPath,
  kBind,   // :=
  kApply,  // ~>
  kSort,   // order-by step
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

// Operators of kBinary nodes, decoded once at parse time.
enum class BinaryOp : uint8_t {
  kOther,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kConcat,
  kRange,
  kIn
};
BinaryOp DecodeBinaryOp(const std::string& op);

struct AncestorSlot {
  std::string label;  // variable name holding the ancestor in tuple streams
  int level = 1;
  int index = 0;
};

struct Stage {
  enum class Kind : uint8_t { kFilter, kIndex } kind;
  NodePtr expr;     // filter predicate
  std::string var;  // index variable name
  int position = 0;
};

struct SortTerm {
  bool descending = false;
  NodePtr expr;
};

struct GroupBy {
  std::vector<std::pair<NodePtr, NodePtr>> pairs;
  int position = 0;
};

struct Node {
  NodeType type;
  int position = 0;
  std::string op;                   // operator for kBinary/kUnary; name for kName/kVariable; string literal text
  BinaryOp bop = BinaryOp::kOther;  // kBinary: decoded `op`
  const Value* builtin = nullptr;   // kVariable: the built-in function of that name, if any
  Value literal;                    // value of kString/kNumber/kValue literals

  NodePtr lhs, rhs;                                // binary operands; bind; apply; coalesce/elvis
  NodePtr condition, then, otherwise;              // condition
  std::vector<NodePtr> items;                      // path steps, array items, block expressions, call arguments
  std::vector<std::pair<NodePtr, NodePtr>> pairs;  // object constructor
  NodePtr procedure;                               // function call target

  // Raw parse-tree helpers (only during parsing)
  std::vector<SortTerm> raw_terms;  // '^' order-by terms before rewriting

  // Step annotations (rewritten tree)
  std::vector<Stage> stages;      // filters / index bindings applied per step
  std::vector<Stage> predicates;  // filters applied to a non-step expression
  std::unique_ptr<GroupBy> group;
  std::vector<SortTerm> terms;       // kSort
  std::string focus;                 // '@' variable
  std::string index_var;             // '#' variable
  AncestorSlot* ancestor = nullptr;  // '%' target on this step
  AncestorSlot* slot = nullptr;      // kParent: which slot it reads
  std::vector<AncestorSlot*> seeking_parent;
  bool keep_array = false;            // '[]' on this step
  bool keep_singleton_array = false;  // path-level
  bool consarray = false;
  bool tuple = false;
  bool thunk = false;         // lambda wrapping a tail call
  bool simple_names = false;  // kPath: every step is a plain name (fast path)

  // Lambdas
  std::vector<std::string> params;
  std::vector<std::string> free_vars;  // variables the body may read from enclosing scopes
  bool dynamic_scope = false;          // the body calls $eval: it may read any variable
  std::shared_ptr<const Signature> signature;
  NodePtr body;

  // Transform
  NodePtr pattern, update, remove;

  // Regex
  std::shared_ptr<const re2::RE2> regex;
  std::string regex_source;

  explicit Node(NodeType t, int pos = 0) : type(t), position(pos) {}
  // Frees the subtree iteratively: a tree as deep as `1+1+1+...` must not
  // exhaust the stack when it is destroyed.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

// Calls fn on every owning child pointer of n (non-null or not).
template <typename Fn>
void ForEachChildPtr(Node& n, Fn&& fn) {
  fn(n.lhs);
  fn(n.rhs);
  fn(n.condition);
  fn(n.then);
  fn(n.otherwise);
  fn(n.procedure);
  fn(n.body);
  fn(n.pattern);
  fn(n.update);
  fn(n.remove);
  for (auto& c : n.items) fn(c);
  for (auto& pr : n.pairs) {
    fn(pr.first);
    fn(pr.second);
  }
  for (auto& st : n.stages) fn(st.expr);
  for (auto& st : n.predicates) fn(st.expr);
  for (auto& t : n.terms) fn(t.expr);
  for (auto& t : n.raw_terms) fn(t.expr);
  if (n.group) {
    for (auto& pr : n.group->pairs) {
      fn(pr.first);
      fn(pr.second);
    }
  }
}

}  // namespace weft::expr

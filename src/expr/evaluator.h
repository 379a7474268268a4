// The tree-walking evaluator. One Evaluator instance serves one call to
// Expression::Evaluate (it holds that call's depth counter, deadline and
// timestamp); the compiled tree it walks is shared and never modified.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frame.h"
#include "node.h"
#include "program.h"
#include "weft/core/memory_budget.h"
#include "weft/expr/expression.h"

namespace weft::expr {

class Evaluator;

// Everything a built-in function may need besides its arguments.
struct CallContext {
  Evaluator& ev;
  const Value& input;   // the context value of the call
  const FrameRef& env;  // the calling scope
};

using BuiltinImpl = Value (*)(std::vector<Value>& args, const CallContext& ctx);

struct BuiltinDef {
  const char* name;
  const char* signature;
  BuiltinImpl impl;
  int arity;  // parameters reported to higher-order functions
};

// Callable kinds. All derive from weft::FunctionObject.
class CallableBase : public FunctionObject {
 public:
  enum class Kind : uint8_t {
    kLambda,
    kBuiltin,
    kPartialNative,
    kRegex,
    kTransform,
    kChain,
    kHost,
    kMatchNext,
    kClosure
  };
  explicit CallableBase(Kind k) : kind(k) {}
  const Kind kind;
};

class LambdaFunction final : public CallableBase {
 public:
  LambdaFunction() : CallableBase(Kind::kLambda) {}
  int arity() const override { return static_cast<int>(params.size()); }
  std::shared_ptr<const Program> program;  // keeps `node` alive
  const Node* node = nullptr;              // kLambda node
  std::vector<std::string> params;
  Value input;
  // The defining scope. Owning while the evaluation runs; once the lambda
  // escapes in a result, a ClosureHeap owns the scope and this is a plain
  // (non-owning) pointer, which is what keeps closures free of cycles.
  mutable FrameRef env;
  const FrameRegistry* origin = nullptr;  // the evaluation that created it
  bool thunk = false;
};

// The frames that escaped functions of one evaluation still need.
struct ClosureHeap {
  std::vector<FrameRef> frames;
};

// A function value returned from an evaluation: the function plus the heap
// that owns the scopes it (and the functions it can reach) read.
class ClosureFunction final : public CallableBase {
 public:
  ClosureFunction(Value f, std::shared_ptr<ClosureHeap> h)
      : CallableBase(Kind::kClosure), inner(std::move(f)), heap(std::move(h)) {}
  int arity() const override { return static_cast<const FunctionObject*>(inner.as_function())->arity(); }
  Value inner;
  std::shared_ptr<ClosureHeap> heap;
};

class BuiltinFunction final : public CallableBase {
 public:
  BuiltinFunction(const BuiltinDef* d, const Signature* s) : CallableBase(Kind::kBuiltin), def(d), sig(s) {}
  int arity() const override { return def->arity; }
  const BuiltinDef* def;
  const Signature* sig;
};

// A native function with some arguments fixed by partial application.
class PartialNativeFunction final : public CallableBase {
 public:
  PartialNativeFunction() : CallableBase(Kind::kPartialNative) {}
  int arity() const override {
    int n = 0;
    for (bool p : placeholder) n += p;
    return n;
  }
  Value target;
  std::vector<Value> args;
  std::vector<bool> placeholder;
};

class RegexFunction final : public CallableBase {
 public:
  RegexFunction() : CallableBase(Kind::kRegex) {}
  int arity() const override { return 1; }
  std::shared_ptr<const re2::RE2> re;
  std::string source;
  int position = 0;
};

// The `next` function of a regex match result.
class MatchNextFunction final : public CallableBase {
 public:
  MatchNextFunction() : CallableBase(Kind::kMatchNext) {}
  int arity() const override { return 0; }
  Value regex;  // RegexFunction
  Value text;   // the string being scanned (shared, not copied)
  size_t byte_offset = 0;
  size_t cp_offset = 0;  // code points before byte_offset
};

class TransformFunction final : public CallableBase {
 public:
  TransformFunction() : CallableBase(Kind::kTransform) {}
  int arity() const override { return 1; }
  std::shared_ptr<const Program> program;
  const Node* node = nullptr;
  mutable FrameRef env;  // see LambdaFunction::env
  const FrameRegistry* origin = nullptr;
};

// f ~> g where both are functions: x => g(f(x)).
class ChainFunction final : public CallableBase {
 public:
  ChainFunction() : CallableBase(Kind::kChain) {}
  int arity() const override { return 1; }
  Value first, second;
};

class HostCallable final : public CallableBase {
 public:
  explicit HostCallable(HostFunction f) : CallableBase(Kind::kHost), host(std::move(f)) {
    if (!host.signature.empty()) sig = std::make_unique<Signature>(Signature::Parse(host.signature));
  }
  int arity() const override { return sig ? sig->param_count() : 1; }
  HostFunction host;
  std::unique_ptr<Signature> sig;
};

inline const CallableBase* AsCallable(const Value& v) {
  return v.is_function() ? static_cast<const CallableBase*>(v.as_function()) : nullptr;
}

// The context value a function receives when a built-in calls it back
// ($map, $sort comparators, matchers...): JSONata passes null, which is what
// a `-` parameter then substitutes.
inline const Value kCallbackContext = Value::Null();

// Looks up a built-in function by name ("sum"), or nullptr.
const Value* FindBuiltin(std::string_view name);

// Calls a regex literal used as a function, or a match result's next().
Value CallRegexFunction(const CallableBase* c, std::vector<Value>& args, const CallContext& ctx);

struct DepthGuard {
  explicit DepthGuard(int& d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  int& depth;
};

// The memory budget of one evaluation: U1005 when exceeded.
class EvalMemoryBudget final : public MemoryBudget {
 public:
  explicit EvalMemoryBudget(int64_t limit) : MemoryBudget(limit > 0 ? static_cast<uint64_t>(limit) : 0) {}

 protected:
  [[noreturn]] void Exceeded() override;
};

class Evaluator {
 public:
  Evaluator(std::shared_ptr<const Program> program, const EvalOptions& options);

  // While a Scope is alive, this evaluation is the thread's current one: its
  // memory budget is installed, and the value walks that have no evaluator
  // at hand (CheckNesting) check its deadline.
  class Scope {
   public:
    explicit Scope(Evaluator* ev) : budget_(&ev->memory_), saved_(current_) { current_ = ev; }
    ~Scope() { current_ = saved_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    MemoryBudget::Scope budget_;
    Evaluator* saved_;
  };
  static Evaluator* Current() { return current_; }

  // Fails with U1005 when `v`, written out in full (shared parts counted each
  // time they appear), would be larger than the memory limit: a value built
  // by sharing (`[$b, $b]` nested sixty times) is small in memory and
  // astronomically large as JSON, which whoever receives it writes.
  void CheckResultSize(const Value& v);

  // Evaluates another program inside this evaluation ($eval): same depth
  // count, deadline, memory budget, registry and root input.
  Value EvalNested(const std::shared_ptr<const Program>& program, const Value& input, const FrameRef& env);

  // True when this thread's stack is nearly used up: recursion fails with
  // U1001 there whatever max_depth allows (a max_depth too large for the
  // thread's stack must not crash the process).
  bool StackLow() const { return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < stack_limit_; }

  // For built-ins that loop over many items without evaluating nodes: checks
  // the deadline every few hundred calls.
  void Tick() {
    if (deadline_ns_ != 0 && (++tick_ & 255) == 0) LimitExceededOrTick();
  }

  // Evaluates the whole program with the given root frame.
  Value Run(const Value& input, const FrameRef& env);

  Value Eval(const Node* n, const Value& input, const FrameRef& env);

  // Applies a function value to arguments (with tail-call trampolining).
  Value Apply(const Value& proc, std::vector<Value> args, const Value& input, const FrameRef& env);

  // Calls fn with (value, index, array) trimmed to its arity, as JSONata's
  // higher-order functions do.
  Value ApplyHof(const Value& fn, const Value& v, const Value& second, const Value& array, const CallContext& ctx);

  // Wall-clock time of this evaluation ($now, $millis).
  int64_t timestamp_ms();
  const EvalOptions& options() const { return options_; }

  // A new scope whose frame is registered with this evaluation's registry.
  FrameRef NewFrame(FrameRef parent) {
    // A scope reached through an escaped closure is held by a non-owning
    // pointer; the new child frame takes ownership of its parent.
    if (parent && parent.use_count() == 0) parent = parent->shared_from_this();
    return std::make_shared<Frame>(std::move(parent), registry_);
  }
  // Evaluations nested in this one ($eval) register their frames here too.
  FrameRegistry* registry() const { return registry_; }
  void set_registry(FrameRegistry* r) { registry_ = r; }

  const Value& root_input() const { return root_input_; }
  void set_root_input(Value v) { root_input_ = std::move(v); }

 private:
  friend struct EvalHelpers;
  Value EvalPath(const Node* n, const Value& input, const FrameRef& env);
  Value EvalSimplePath(const Node* n, const Value& input, const FrameRef& env);
  Value EvalStep(const Node* step, const Value* items, size_t count, const FrameRef& env, bool last_step);
  Value EvalTupleStep(const Node* step, const Value& input_seq, Value tuple_bindings, const FrameRef& env);
  Value EvalStages(const std::vector<Stage>& stages, Value input, const FrameRef& env);
  Value EvalFilter(const Node* predicate, Value input, const FrameRef& env);
  Value EvalBinary(const Node* n, const Value& input, const FrameRef& env);
  Value EvalUnary(const Node* n, const Value& input, const FrameRef& env);
  Value EvalGroup(const std::vector<std::pair<NodePtr, NodePtr>>& pairs, int position, const Value& input,
                  const FrameRef& env);
  Value EvalSort(const Node* sort, const Value& input, const FrameRef& env);
  Value EvalFunctionCall(const Node* n, const Value& input, const FrameRef& env, const Value* apply_to);
  Value EvalPartial(const Node* n, const Value& input, const FrameRef& env);
  Value EvalApply(const Node* n, const Value& input, const FrameRef& env);
  Value EvalLambda(const Node* n, const Value& input, const FrameRef& env);
  Value EvalTransform(const Node* n, const Value& input, const FrameRef& env);
  Value ApplyInner(const Value& proc, std::vector<Value> args, const Value& input, const FrameRef& env);
  Value ApplyTransform(const TransformFunction& t, const Value& obj);
  FrameRef FrameFromTuple(const FrameRef& env, const Value& tuple);
  void CheckLimits() {
    if (depth_ > options_.max_depth || StackLow() || (deadline_ns_ != 0 && (++tick_ & 255) == 0)) {
      LimitExceededOrTick();
    }
  }
  void LimitExceededOrTick();

  // Sets the program whose nodes are being evaluated (a lambda's body belongs
  // to the program that defined it, which may be an earlier expression's).
  class ProgramScope {
   public:
    ProgramScope(Evaluator* ev, const std::shared_ptr<const Program>* p) : ev_(ev), saved_(ev->current_program_) {
      ev->current_program_ = p;
    }
    ~ProgramScope() { ev_->current_program_ = saved_; }
    ProgramScope(const ProgramScope&) = delete;
    ProgramScope& operator=(const ProgramScope&) = delete;

   private:
    Evaluator* ev_;
    const std::shared_ptr<const Program>* saved_;
  };

  std::shared_ptr<const Program> program_;
  const std::shared_ptr<const Program>* current_program_ = &program_;
  FrameRegistry* registry_ = nullptr;
  EvalOptions options_;
  const Clock* clock_;
  std::optional<int64_t> timestamp_ms_;
  Value root_input_;  // $$
  int64_t deadline_ns_ = 0;
  uintptr_t stack_limit_ = 0;
  int depth_ = 0;
  uint32_t tick_ = 0;
  EvalMemoryBudget memory_;
  static inline thread_local Evaluator* current_ = nullptr;
};

// How deep the recursive value algorithms (cloning, flattening, descendant
// search...) may go before giving up with U1003 instead of exhausting the
// stack. Values built by expressions can be nested arbitrarily deep.
constexpr int kMaxNesting = 10000;
// Throws U1003 when `depth` exceeds kMaxNesting, and checks the current
// evaluation's deadline now and then: every recursive walk over values calls
// it, and a value built by sharing can take very long to walk.
void CheckNesting(int depth);

// Helpers shared by the evaluator and the function library.
Value MakeSequence();
Value MakeSequence(Value single);
bool IsArrayOfStrings(const Value& v);
bool IsArrayOfNumbers(const Value& v);
// JSONata truthiness ($boolean); undefined for undefined input.
Value ToBoolean(const Value& v, int depth = 0);
bool Truthy(const Value& v);
// Field access as JSONata's paths do it: maps over arrays, flattening one
// level ($lookup and name steps).
Value Lookup(const Value& input, const std::string& key, int depth = 0);
// fn.append semantics.
Value AppendValues(const Value& a, const Value& b);
// Deep equality with JSONata semantics (numbers by value, objects ignoring
// member order); honours the deadline like every walk (CheckNesting).
bool DeepEqual(const Value& a, const Value& b, int depth = 0);
// Throws D1001 if not finite; true when v is a finite number.
bool IsNumeric(const Value& v);
// A copy of the value's array with the given extra flags (copies if shared).
Value WithArrayFlags(Value v, uint8_t add_flags);
// JSONata's $string.
std::string StringifyValue(const Value& v, bool pretty);
// Deep copy (for transforms).
Value DeepClone(const Value& v, int depth = 0);

}  // namespace weft::expr

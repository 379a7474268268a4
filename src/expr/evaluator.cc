#include "evaluator.h"

#include <re2/re2.h>

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "error.h"
#include "sort.h"
#include "weft/core/json.h"
#include "weft/core/number_format.h"
#include "weft/core/numeric_cast.h"

namespace weft::expr {

// ---------------------------------------------------------------------------
// Value helpers

Value MakeSequence() { return Value::MakeArray({}, kArraySequence); }

Value MakeSequence(Value single) {
  Value::Array a;
  a.push_back(std::move(single));
  return Value::MakeArray(std::move(a), kArraySequence);
}

bool IsArrayOfStrings(const Value& v) {
  if (!v.is_array()) return false;
  for (const auto& x : v.as_array())
    if (!x.is_string()) return false;
  return true;
}

bool IsArrayOfNumbers(const Value& v) {
  if (!v.is_array()) return false;
  for (const auto& x : v.as_array())
    if (!x.is_number()) return false;
  return true;
}

bool IsNumeric(const Value& v) {
  if (!v.is_number()) return false;
  if (!std::isfinite(v.as_number())) {
    JsonataError e("D1001");
    e.value = v;
    throw e;
  }
  return true;
}

void CheckNesting(int depth) {
  if (depth > kMaxNesting) {
    JsonataError e("U1003");
    e.detail = "value nested deeper than " + std::to_string(kMaxNesting) + " levels";
    throw e;
  }
  if (Evaluator* ev = Evaluator::Current()) {
    if (ev->StackLow()) {
      JsonataError e("U1003");
      e.detail = "value nested too deep for the stack";
      throw e;
    }
    ev->Tick();
  }
}

Value ToBoolean(const Value& v, int depth) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return Value();
    case Value::Kind::kNull: return Value(false);
    case Value::Kind::kBool: return v;
    case Value::Kind::kNumber:
      // NaN is not a number to JSONata (false); infinities are errors.
      if (std::isnan(v.as_number())) return Value(false);
      IsNumeric(v);
      return Value(v.as_number() != 0);
    case Value::Kind::kString: return Value(!v.as_string().empty());
    case Value::Kind::kFunction: return Value(false);
    case Value::Kind::kObject: return Value(v.size() > 0);
    case Value::Kind::kArray: {
      const auto& a = v.as_array();
      if (a.size() == 1) {
        CheckNesting(depth);
        return ToBoolean(a[0], depth + 1);
      }
      for (const auto& x : a)
        if (Truthy(x)) return Value(true);
      return Value(false);
    }
  }
  return Value(false);
}

bool Truthy(const Value& v) {
  Value b = ToBoolean(v);
  return b.is_bool() && b.as_bool();
}

Value AppendValues(const Value& a, const Value& b) {
  if (a.is_undefined()) return b;
  if (b.is_undefined()) return a;
  Value::Array out;
  if (a.is_array()) {
    out = a.as_array();
  } else {
    out.push_back(a);
  }
  if (b.is_array()) {
    out.insert(out.end(), b.as_array().begin(), b.as_array().end());
  } else {
    out.push_back(b);
  }
  return Value::MakeArray(std::move(out));
}

bool DeepEqual(const Value& a, const Value& b, int depth) {
  CheckNesting(depth);
  if (a.kind() != b.kind()) return false;
  if (a.identity() != nullptr && a.identity() == b.identity()) return true;
  switch (a.kind()) {
    case Value::Kind::kArray: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!DeepEqual(x[i], y[i], depth + 1)) return false;
      return true;
    }
    case Value::Kind::kObject: {
      if (a.size() != b.size()) return false;
      for (const auto& m : a.members()) {
        const Value* other = b.find(m.key);
        if (!other || !DeepEqual(m.value, *other, depth + 1)) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

Value WithArrayFlags(Value v, uint8_t add_flags) {
  if (!v.is_array()) return v;
  uint8_t f = v.array_flags() | add_flags;
  if (f == v.array_flags()) return v;
  if (v.unique()) {
    v.set_array_flags(f);
    return v;
  }
  return Value::MakeArray(v.as_array(), f);
}

std::string StringifyValue(const Value& v, bool pretty) {
  if (v.is_string()) return v.as_string();
  if (v.is_function()) return "";
  if (v.is_number() && !std::isfinite(v.as_number())) {
    JsonataError e("D3001");
    e.value = v;
    throw e;
  }
  const Value* target = &v;
  if (v.is_array() && v.has_flag(kArrayOuterWrapper) && v.size() > 0) target = &v.as_array()[0];
  JsonWriteOptions o;
  o.indent = pretty ? 2 : 0;
  o.number_precision = 15;
  o.functions_as_empty_string = true;
  // Written out, a value can be far larger than in memory (shared parts
  // repeat): the text may not pass what the memory budget has left.
  MemoryBudget* budget = MemoryBudget::Current();
  if (budget) o.max_bytes = budget->limit() - std::min(budget->used(), budget->limit()) + 1;
  std::string out;
  if (!AppendJson(out, *target, o)) budget->Expect(out.size());
  return out;
}

Value DeepClone(const Value& v, int depth) {
  CheckNesting(depth);
  switch (v.kind()) {
    case Value::Kind::kArray: {
      Value::Array out;
      out.reserve(v.size());
      for (const auto& x : v.as_array()) {
        if (x.is_undefined() || x.is_function()) {
          out.push_back(Value::Null());
        } else {
          out.push_back(DeepClone(x, depth + 1));
        }
      }
      return Value::MakeArray(std::move(out));
    }
    case Value::Kind::kObject: {
      Value o = Value::MakeObject();
      for (const auto& m : v.members()) {
        if (m.value.is_undefined() || m.value.is_function()) continue;
        o.set(m.key, DeepClone(m.value, depth + 1));
      }
      return o;
    }
    case Value::Kind::kNumber:
      if (!std::isfinite(v.as_number())) return Value::Null();
      return v;
    default: return v;
  }
}

Value Lookup(const Value& input, const std::string& key, int depth) {
  if (input.is_array()) {
    CheckNesting(depth);
    Value result = MakeSequence();
    auto& out = result.mutable_array();
    for (const auto& item : input.as_array()) {
      Value res = Lookup(item, key, depth + 1);
      if (res.is_undefined()) continue;
      if (res.is_array()) {
        for (const auto& x : res.as_array()) out.push_back(x);
      } else {
        out.push_back(std::move(res));
      }
    }
    return result;
  }
  if (input.is_object()) {
    const Value* v = input.find(key);
    return v ? *v : Value();
  }
  return Value();
}

namespace {

void FlattenInto(const Value& v, Value::Array& out, int depth = 0) {
  if (v.is_array()) {
    CheckNesting(depth);
    for (const auto& x : v.as_array()) FlattenInto(x, out, depth + 1);
  } else {
    out.push_back(v);
  }
}

void RecurseDescendants(const Value& v, Value::Array& out, int depth = 0) {
  CheckNesting(depth);
  if (!v.is_array()) out.push_back(v);
  if (v.is_array()) {
    for (const auto& x : v.as_array()) RecurseDescendants(x, out, depth + 1);
  } else if (v.is_object()) {
    for (const auto& m : v.members()) RecurseDescendants(m.value, out, depth + 1);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Evaluator

namespace {

std::string SizeText(uint64_t bytes) {
  return bytes >= (1U << 20) ? std::to_string(bytes >> 20) + " MB" : std::to_string(bytes) + " bytes";
}

}  // namespace

void EvalMemoryBudget::Exceeded() {
  JsonataError e("U1005");
  e.detail = "the expression created more than " + SizeText(limit()) + " of values (strings, arrays, objects)";
  throw e;
}

namespace {

// The lowest stack address an evaluation on this thread may reach: a quarter
// of the thread's stack (at least 256 KB) stays free for what runs below the
// evaluator (the allocator, the regex engine, libraries).
uintptr_t ThreadStackLimit() {
  thread_local const uintptr_t limit = [] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return uintptr_t{0};
    void* low = nullptr;
    size_t size = 0;
    const bool ok = pthread_attr_getstack(&attr, &low, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!ok || low == nullptr) return uintptr_t{0};
    return reinterpret_cast<uintptr_t>(low) + std::max<size_t>(size / 4, size_t{256} << 10);
  }();
  return limit;
}

}  // namespace

Evaluator::Evaluator(std::shared_ptr<const Program> program, const EvalOptions& options)
    : program_(std::move(program)),
      options_(options),
      stack_limit_(ThreadStackLimit()),
      memory_(options.max_memory_bytes) {
  clock_ = options_.clock ? options_.clock : &SystemClock::Instance();
  if (options_.timeout_ms > 0) deadline_ns_ = clock_->MonotonicNanos() + options_.timeout_ms * 1'000'000;
}

void Evaluator::LimitExceededOrTick() {
  if (depth_ > options_.max_depth || StackLow()) {
    JsonataError e("U1001");
    e.detail = "Stack overflow error: evaluation nested deeper than " +
               (depth_ > options_.max_depth ? std::to_string(options_.max_depth) + " levels"
                                            : "this thread's stack allows (" + std::to_string(depth_) + " levels)") +
               ". Check for non-terminating recursive function. Consider rewriting as tail-recursive.";
    throw e;
  }
  if (deadline_ns_ != 0 && clock_->MonotonicNanos() > deadline_ns_) {
    JsonataError e("U1002");
    e.detail =
        "Expression evaluation timeout after " + std::to_string(options_.timeout_ms) + " ms: Check for infinite loop";
    throw e;
  }
}

int64_t Evaluator::timestamp_ms() {
  // Read once, on first use: every $now()/$millis() of one evaluation agrees.
  if (!timestamp_ms_) timestamp_ms_ = clock_->NowMillis();
  return *timestamp_ms_;
}

Value Evaluator::Run(const Value& input, const FrameRef& env) {
  root_input_ = input;
  Value in = input;
  if (input.is_array() && !input.is_sequence()) {
    in = Value::MakeArray({input}, kArraySequence | kArrayOuterWrapper);
  }
  Value r = Eval(program_->tree.root.get(), in, env);
  return r;
}

namespace {

// Bytes of `v` written out in full, counted until `cap` is passed. Iterative:
// a result may be nested deeper than the recursive walks allow.
uint64_t ExpandedSize(const Value& v, uint64_t cap, Evaluator& ev) {
  struct Level {
    const Value* container;
    size_t next = 0;
  };
  std::vector<Level> stack;
  uint64_t total = 0;
  auto visit = [&](const Value& x) {
    total += sizeof(Value) + (x.is_string() ? x.as_string().size() : 0);
    if (x.size() > 0) stack.push_back({&x});
  };
  visit(v);
  while (!stack.empty() && total <= cap) {
    ev.Tick();
    Level& top = stack.back();
    const Value& c = *top.container;
    if (top.next == c.size()) {
      stack.pop_back();
    } else if (c.is_array()) {
      visit(c.as_array()[top.next++]);  // may invalidate `top`
    } else {
      const auto& m = c.members()[top.next++];
      total += m.key.size();
      visit(m.value);
    }
  }
  return total;
}

}  // namespace

void Evaluator::CheckResultSize(const Value& v) {
  if ((!v.is_array() && !v.is_object()) || options_.max_memory_bytes <= 0) return;
  if (ExpandedSize(v, memory_.limit(), *this) > memory_.limit()) {
    JsonataError e("U1005");
    e.detail = "the result, written out, would be larger than " + SizeText(memory_.limit()) +
               " (a value that repeats shared parts many times over)";
    throw e;
  }
}

Value Evaluator::EvalNested(const std::shared_ptr<const Program>& program, const Value& input, const FrameRef& env) {
  ProgramScope scope(this, &program);
  return Eval(program->tree.root.get(), input, env);
}

FrameRef Evaluator::FrameFromTuple(const FrameRef& env, const Value& tuple) {
  auto f = NewFrame(env);
  f->Reserve(tuple.size());
  for (const auto& m : tuple.members()) f->Bind(m.key, m.value);
  return f;
}

Value Evaluator::Eval(const Node* n, const Value& input, const FrameRef& env) {
  DepthGuard guard(depth_);
  CheckLimits();
  Value result;
  switch (n->type) {
    case NodeType::kPath:
      result = n->simple_names && (!input.is_array() || n->items[0]->type == NodeType::kVariable)
                   ? EvalSimplePath(n, input, env)
                   : EvalPath(n, input, env);
      break;
    case NodeType::kBinary: result = EvalBinary(n, input, env); break;
    case NodeType::kUnary: result = EvalUnary(n, input, env); break;
    case NodeType::kName: result = Lookup(input, n->op); break;
    case NodeType::kString:
    case NodeType::kNumber:
    case NodeType::kValue: result = n->literal; break;
    case NodeType::kWildcard: {
      Value in = input;
      if (in.is_array() && in.has_flag(kArrayOuterWrapper) && in.size() > 0) in = in.as_array()[0];
      result = MakeSequence();
      // Arrays are objects whose keys are indexes, as in JavaScript.
      auto take = [&](const Value& v) {
        if (v.is_array()) {
          Value::Array flat;
          FlattenInto(v, flat);
          result = AppendValues(result, Value::MakeArray(std::move(flat)));
        } else {
          if (!result.unique()) result = Value::MakeArray(result.as_array(), result.array_flags());
          result.push_back(v);
        }
      };
      if (in.is_object()) {
        for (const auto& m : in.members()) take(m.value);
      } else if (in.is_array()) {
        for (const auto& v : in.as_array()) take(v);
      }
      break;
    }
    case NodeType::kDescendant: {
      if (input.is_defined()) {
        Value::Array out;
        RecurseDescendants(input, out);
        if (out.size() == 1) {
          result = out[0];
        } else {
          result = Value::MakeArray(std::move(out), kArraySequence);
        }
      }
      break;
    }
    case NodeType::kParent: {
      const Value* v = env->Lookup(n->slot->label);
      if (v) result = *v;
      break;
    }
    case NodeType::kCondition: {
      Value c = Eval(n->condition.get(), input, env);
      if (Truthy(c)) {
        result = Eval(n->then.get(), input, env);
      } else if (n->otherwise) {
        result = Eval(n->otherwise.get(), input, env);
      }
      break;
    }
    case NodeType::kElvis: {
      Value l = Eval(n->lhs.get(), input, env);
      result = Truthy(l) ? l : Eval(n->rhs.get(), input, env);
      break;
    }
    case NodeType::kCoalesce: {
      Value l = Eval(n->lhs.get(), input, env);
      result = l.is_defined() ? l : Eval(n->rhs.get(), input, env);
      break;
    }
    case NodeType::kBlock: {
      auto frame = NewFrame(env);
      for (const auto& e : n->items) result = Eval(e.get(), input, frame);
      break;
    }
    case NodeType::kBind: {
      result = Eval(n->rhs.get(), input, env);
      env->Bind(n->lhs->op, result);
      break;
    }
    case NodeType::kRegex: {
      auto* f = new RegexFunction();
      f->re = n->regex;
      f->source = n->regex_source;
      f->position = n->position;
      result = Value::FromFunction(f);
      break;
    }
    case NodeType::kFunction: result = EvalFunctionCall(n, input, env, nullptr); break;
    case NodeType::kVariable: {
      if (n->op.empty()) {
        result = (input.is_array() && input.has_flag(kArrayOuterWrapper)) ? input.as_array()[0] : input;
      } else if (const Value* v = env->Lookup(n->op)) {
        result = *v;
      } else if (n->builtin) {
        result = *n->builtin;
      } else if (n->op == "$") {
        result = root_input_;
      }
      break;
    }
    case NodeType::kLambda: result = EvalLambda(n, input, env); break;
    case NodeType::kPartial: result = EvalPartial(n, input, env); break;
    case NodeType::kApply: result = EvalApply(n, input, env); break;
    case NodeType::kTransform: result = EvalTransform(n, input, env); break;
    case NodeType::kSort:
    case NodeType::kOperator:
    case NodeType::kEnd: ThrowAt("S0206", n->position);
  }

  for (const auto& p : n->predicates) result = EvalFilter(p.expr.get(), result, env);
  if (n->type != NodeType::kPath && n->group) result = EvalGroup(n->group->pairs, n->group->position, result, env);

  if (result.is_sequence() && !result.has_flag(kArrayTupleStream)) {
    if (n->keep_array) result = WithArrayFlags(std::move(result), kArrayKeepSingleton);
    size_t sz = result.size();
    if (sz == 0) return Value();
    if (sz == 1 && !result.has_flag(kArrayKeepSingleton)) return result.as_array()[0];
  }
  return result;
}

// Paths of plain field names over objects: no sequences are built until the
// data turns out to contain an array, at which point the general algorithm
// takes over from that step.
Value Evaluator::EvalSimplePath(const Node* n, const Value& input, const FrameRef& env) {
  const auto& steps = n->items;
  size_t first = 0;
  Value start;
  const Value* cur = &input;
  if (steps[0]->type == NodeType::kVariable) {
    // `$var.a.b`: the variable's value is the start of the walk.
    start = Eval(steps[0].get(), input, env);
    if (start.is_array()) return EvalPath(n, input, env);
    cur = &start;
    first = 1;
  }
  for (size_t i = first; i < steps.size(); ++i) {
    if (!cur->is_object()) return Value();
    const Value* next = cur->find(steps[i]->op);
    if (!next || next->is_undefined()) return Value();
    for (const auto& st : steps[i]->stages) {
      // A constant index: JSONata treats a single value as a one-item list.
      const Value* list = next->is_array() ? next->as_array().data() : next;
      auto len = static_cast<int64_t>(next->is_array() ? next->size() : 1);
      int64_t k = SaturatingInt64(std::floor(st.expr->literal.as_number()));
      if (k < 0) k += len;
      if (k < 0 || k >= len) return Value();
      next = &list[k];
      // An item that is itself an array follows the general rules.
      if (next->is_array() || next->is_undefined()) return EvalPath(n, input, env);
    }
    if (next->is_array()) {
      // last step yielding an array: returned as is (Eval() applies the
      // singleton-sequence rule to whatever a path returns)
      if (i + 1 == steps.size()) return *next;
      // Continue with the general algorithm over the array's items.
      Value seq = MakeSequence();
      for (const auto& x : next->as_array()) seq.push_back(x);
      Value r = seq;
      for (size_t j = i + 1; j < steps.size(); ++j) {
        r = EvalStep(steps[j].get(), r.as_array().data(), r.size(), env, j + 1 == steps.size());
        if (r.is_undefined() || r.size() == 0) return Value();
      }
      return r;
    }
    cur = next;
  }
  return *cur;
}

Value Evaluator::EvalPath(const Node* n, const Value& input, const FrameRef& env) {
  const auto& steps = n->items;
  Value input_seq;
  // A single (non-array) input is stepped over in place; the one-item
  // sequence JSONata wraps it in is only built if a step needs it.
  bool single = !(input.is_array() && steps[0]->type != NodeType::kVariable);
  if (!single) input_seq = input;
  auto materialize = [&] {
    if (single) {
      input_seq = MakeSequence(input);
      single = false;
    }
  };
  Value result_seq;
  bool is_tuple = false;
  Value tuple_bindings;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Node* step = steps[i].get();
    if (step->tuple) is_tuple = true;
    if (i == 0 && step->consarray) {
      materialize();
      result_seq = Eval(step, input_seq, env);
    } else if (is_tuple) {
      materialize();
      tuple_bindings = EvalTupleStep(step, input_seq, tuple_bindings, env);
    } else if (step->type == NodeType::kSort) {
      materialize();
      result_seq = EvalSort(step, input_seq, env);
      if (!step->stages.empty()) result_seq = EvalStages(step->stages, std::move(result_seq), env);
    } else if (single) {
      result_seq = EvalStep(step, &input, 1, env, i + 1 == steps.size());
    } else {
      const bool arr = input_seq.is_array();
      result_seq = EvalStep(step, arr ? input_seq.as_array().data() : nullptr, arr ? input_seq.size() : 0, env,
                            i + 1 == steps.size());
    }
    single = false;
    if (!is_tuple && (result_seq.is_undefined() || (result_seq.is_array() && result_seq.size() == 0))) break;
    if (step->focus.empty()) input_seq = result_seq;
  }
  if (is_tuple) {
    if (n->tuple) {
      result_seq = tuple_bindings;
    } else {
      result_seq = MakeSequence();
      for (const auto& t : tuple_bindings.as_array()) result_seq.push_back(t.get("@"));
    }
  }
  if (n->keep_singleton_array && result_seq.is_defined()) {
    if (result_seq.is_array() && result_seq.has_flag(kArrayCons) && !result_seq.is_sequence()) {
      result_seq = MakeSequence(result_seq);
    }
    if (result_seq.is_array()) {
      result_seq = WithArrayFlags(std::move(result_seq), kArrayKeepSingleton);
    }
  }
  if (n->group) {
    result_seq = EvalGroup(n->group->pairs, n->group->position, is_tuple ? tuple_bindings : result_seq, env);
  }
  return result_seq;
}

Value Evaluator::EvalStep(const Node* step, const Value* items, size_t count, const FrameRef& env, bool last_step) {
  auto run = [&](const Value& item) {
    Value res = Eval(step, item, env);
    for (const auto& st : step->stages) res = EvalFilter(st.expr.get(), std::move(res), env);
    return res;
  };
  if (count == 1) {
    // The common case (one context item) without the intermediate vector.
    Value res = run(items[0]);
    if (res.is_undefined()) return MakeSequence();
    if (res.is_array() && !res.is_sequence() && last_step) return res;
    if (!res.is_array() || res.has_flag(kArrayCons)) return MakeSequence(std::move(res));
    if (res.array_flags() == kArraySequence && res.unique()) return res;
    return Value::MakeArray(res.as_array(), kArraySequence);
  }
  Value::Array results;
  results.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Value res = run(items[i]);
    if (res.is_defined()) results.push_back(std::move(res));
  }
  if (last_step && results.size() == 1 && results[0].is_array() && !results[0].is_sequence()) {
    return results[0];
  }
  Value out = MakeSequence();
  auto& arr = out.mutable_array();
  for (auto& res : results) {
    if (!res.is_array() || res.has_flag(kArrayCons)) {
      arr.push_back(std::move(res));
    } else {
      for (const auto& x : res.as_array()) arr.push_back(x);
    }
  }
  return out;
}

Value Evaluator::EvalStages(const std::vector<Stage>& stages, Value input, const FrameRef& env) {
  Value result = std::move(input);
  for (const auto& st : stages) {
    if (st.kind == Stage::Kind::kFilter) {
      result = EvalFilter(st.expr.get(), std::move(result), env);
    } else if (result.is_array()) {
      Value::Array items = result.as_array();
      for (size_t i = 0; i < items.size(); ++i) {
        Value t = Value::MakeObject();
        for (const auto& m : items[i].members()) t.set(m.key, m.value);
        t.set(st.var, Value(static_cast<double>(i)));
        items[i] = std::move(t);
      }
      result = Value::MakeArray(std::move(items), result.array_flags());
    }
  }
  return result;
}

Value Evaluator::EvalTupleStep(const Node* step, const Value& input_seq, Value tuple_bindings, const FrameRef& env) {
  if (step->type == NodeType::kSort) {
    Value result;
    if (tuple_bindings.is_defined()) {
      result = EvalSort(step, tuple_bindings, env);
    } else {
      Value sorted = EvalSort(step, input_seq, env);
      result = Value::MakeArray({}, kArraySequence | kArrayTupleStream);
      size_t i = 0;
      for (const auto& v : sorted.as_array()) {
        Value t = Value::MakeObject();
        t.set("@", v);
        if (!step->index_var.empty()) t.set(step->index_var, Value(static_cast<double>(i)));
        result.push_back(std::move(t));
        ++i;
      }
    }
    if (!step->stages.empty()) result = EvalStages(step->stages, std::move(result), env);
    return result;
  }
  Value result = Value::MakeArray({}, kArraySequence | kArrayTupleStream);
  if (tuple_bindings.is_undefined()) {
    tuple_bindings = MakeSequence();
    if (input_seq.is_array()) {
      for (const auto& item : input_seq.as_array()) {
        Value t = Value::MakeObject();
        t.set("@", item);
        tuple_bindings.push_back(std::move(t));
      }
    }
  }
  for (const auto& tuple : tuple_bindings.as_array()) {
    FrameRef step_env = FrameFromTuple(env, tuple);
    Value res = Eval(step, tuple.get("@"), step_env);
    if (res.is_undefined()) continue;
    bool res_tuples = res.is_array() && res.has_flag(kArrayTupleStream);
    Value::Array items;
    if (res.is_array()) {
      items = res.as_array();
    } else {
      items.push_back(res);
    }
    for (size_t b = 0; b < items.size(); ++b) {
      Value t = Value::MakeObject();
      for (const auto& m : tuple.members()) t.set(m.key, m.value);
      if (res_tuples) {
        for (const auto& m : items[b].members()) t.set(m.key, m.value);
      } else {
        if (!step->focus.empty()) {
          t.set(step->focus, items[b]);
          t.set("@", tuple.get("@"));
        } else {
          t.set("@", items[b]);
        }
        if (!step->index_var.empty()) t.set(step->index_var, Value(static_cast<double>(b)));
        if (step->ancestor) t.set(step->ancestor->label, tuple.get("@"));
      }
      result.push_back(std::move(t));
    }
  }
  if (!step->stages.empty()) result = EvalStages(step->stages, std::move(result), env);
  return result;
}

Value Evaluator::EvalFilter(const Node* predicate, Value input, const FrameRef& env) {
  bool tuple_stream = input.is_array() && input.has_flag(kArrayTupleStream);
  Value results = Value::MakeArray({}, kArraySequence | (tuple_stream ? kArrayTupleStream : 0));
  if (!input.is_array()) input = MakeSequence(input);
  const auto& items = input.as_array();
  const auto len = static_cast<int64_t>(items.size());
  if (predicate->type == NodeType::kNumber) {
    int64_t index = SaturatingInt64(std::floor(predicate->literal.as_number()));
    if (index < 0) index += len;
    if (index >= 0 && index < len) {
      const Value& item = items[static_cast<size_t>(index)];
      if (item.is_array()) return item;
      if (item.is_defined()) results.push_back(item);
    }
    return results;
  }
  for (int64_t i = 0; i < len; ++i) {
    const Value& item = items[static_cast<size_t>(i)];
    Value context = item;
    FrameRef frame = env;
    if (tuple_stream) {
      context = item.get("@");
      frame = FrameFromTuple(env, item);
    }
    Value res = Eval(predicate, context, frame);
    if (res.is_number() && IsNumeric(res)) res = MakeSequence(res);
    if (IsArrayOfNumbers(res)) {
      for (const auto& r : res.as_array()) {
        int64_t ii = SaturatingInt64(std::floor(r.as_number()));
        if (ii < 0) ii += len;
        if (ii == i) results.push_back(item);
      }
    } else if (Truthy(res)) {
      results.push_back(item);
    }
  }
  return results;
}

Value Evaluator::EvalBinary(const Node* n, const Value& input, const FrameRef& env) {
  const BinaryOp op = n->bop;
  Value lhs = Eval(n->lhs.get(), input, env);
  if (op == BinaryOp::kAnd) {
    if (!Truthy(lhs)) return Value(false);
    return Value(Truthy(Eval(n->rhs.get(), input, env)));
  }
  if (op == BinaryOp::kOr) {
    if (Truthy(lhs)) return Value(true);
    return Value(Truthy(Eval(n->rhs.get(), input, env)));
  }
  Value rhs = Eval(n->rhs.get(), input, env);
  try {
    switch (op) {
      case BinaryOp::kAdd:
      case BinaryOp::kSub:
      case BinaryOp::kMul:
      case BinaryOp::kDiv:
      case BinaryOp::kMod: {
        if (lhs.is_defined() && !IsNumeric(lhs)) ThrowAt("T2001", n->position, n->op, lhs);
        if (rhs.is_defined() && !IsNumeric(rhs)) ThrowAt("T2002", n->position, n->op, rhs);
        if (lhs.is_undefined() || rhs.is_undefined()) return Value();
        double a = lhs.as_number(), b = rhs.as_number();
        switch (op) {
          case BinaryOp::kAdd: return Value(a + b);
          case BinaryOp::kSub: return Value(a - b);
          case BinaryOp::kMul: return Value(a * b);
          case BinaryOp::kDiv: return Value(a / b);
          default: return Value(std::fmod(a, b));
        }
      }
      case BinaryOp::kEq:
      case BinaryOp::kNe: {
        if (lhs.is_undefined() || rhs.is_undefined()) return Value(false);
        bool eq = DeepEqual(lhs, rhs);
        return Value(op == BinaryOp::kEq ? eq : !eq);
      }
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe: {
        bool lc = lhs.is_undefined() || lhs.is_string() || lhs.is_number();
        bool rc = rhs.is_undefined() || rhs.is_string() || rhs.is_number();
        if (lhs.is_number()) IsNumeric(lhs);
        if (rhs.is_number()) IsNumeric(rhs);
        if (!lc || !rc) {
          ThrowAt("T2010", n->position, n->op, !(lhs.is_string() || lhs.is_number()) ? lhs : rhs);
        }
        if (lhs.is_undefined() || rhs.is_undefined()) return Value();
        if (lhs.kind() != rhs.kind()) ThrowAt("T2009", n->position, n->op, lhs, rhs);
        int cmp;
        if (lhs.is_number()) {
          double a = lhs.as_number(), b = rhs.as_number();
          cmp = a < b ? -1 : (a > b ? 1 : 0);
        } else {
          cmp = lhs.as_string().compare(rhs.as_string());
        }
        switch (op) {
          case BinaryOp::kLt: return Value(cmp < 0);
          case BinaryOp::kLe: return Value(cmp <= 0);
          case BinaryOp::kGt: return Value(cmp > 0);
          default: return Value(cmp >= 0);
        }
      }
      case BinaryOp::kConcat: {
        std::string s;
        if (lhs.is_defined()) s = StringifyValue(lhs, false);
        if (rhs.is_defined()) {
          if (rhs.is_string()) ExpectMemory(s.size() + rhs.as_string().size());
          s += StringifyValue(rhs, false);
        }
        return Value(std::move(s));
      }
      case BinaryOp::kRange: {
        auto is_int = [](const Value& v) {
          return v.is_number() && std::isfinite(v.as_number()) && std::floor(v.as_number()) == v.as_number();
        };
        if (lhs.is_defined() && !is_int(lhs)) ThrowAt("T2003", n->position, n->op, lhs);
        if (rhs.is_defined() && !is_int(rhs)) ThrowAt("T2004", n->position, n->op, rhs);
        if (lhs.is_undefined() || rhs.is_undefined()) return Value();
        double a = lhs.as_number(), b = rhs.as_number();
        if (a > b) return Value();
        double size = b - a + 1;
        if (size > 1e7) ThrowAt("D2014", n->position, n->op, Value(size));
        // Counted, not stepped: beyond 2^53, x + 1 == x and a stepping
        // loop would never end.
        const auto count = static_cast<size_t>(size);
        Value::Array out;
        out.reserve(count);
        for (size_t i = 0; i < count; ++i) out.emplace_back(a + static_cast<double>(i));
        return Value::MakeArray(std::move(out), kArraySequence);
      }
      case BinaryOp::kIn: {
        if (lhs.is_undefined() || rhs.is_undefined()) return Value(false);
        auto same = [&](const Value& x) {
          if (x.kind() != lhs.kind()) return false;
          if (x.is_array() || x.is_object() || x.is_function()) return x.identity() == lhs.identity();
          return x == lhs;
        };
        if (rhs.is_array()) {
          for (const auto& x : rhs.as_array())
            if (same(x)) return Value(true);
          return Value(false);
        }
        return Value(same(rhs));
      }
      default: break;
    }
  } catch (JsonataError& e) {
    if (e.position < 0) e.position = n->position;
    if (e.token.empty()) e.token = n->op;
    throw;
  }
  ThrowAt("S0204", n->position, n->op);
}

Value Evaluator::EvalUnary(const Node* n, const Value& input, const FrameRef& env) {
  if (n->op == "-") {
    Value v = Eval(n->lhs.get(), input, env);
    if (v.is_undefined()) return Value();
    if (IsNumeric(v)) return Value(-v.as_number());
    ThrowAt("D1002", n->position, "-", v);
  }
  if (n->op == "[") {
    Value::Array out;
    for (const auto& item : n->items) {
      Value v = Eval(item.get(), input, env);
      if (v.is_undefined()) continue;
      if (n->items.size() == 1 && v.is_array() && v.unique() && !(item->type == NodeType::kUnary && item->op == "[")) {
        // `[1..n]`, `[path]`: the one fresh array becomes the result in
        // place of a copy of its items.
        out = std::move(v.mutable_array());
        break;
      }
      if (item->type == NodeType::kUnary && item->op == "[") {
        out.push_back(std::move(v));
      } else if (v.is_array()) {
        out.insert(out.end(), v.as_array().begin(), v.as_array().end());
      } else {
        out.push_back(std::move(v));
      }
    }
    return Value::MakeArray(std::move(out), n->consarray ? kArrayCons : 0);
  }
  // object constructor: a group-by over the context
  return EvalGroup(n->pairs, n->position, input, env);
}

}  // namespace weft::expr

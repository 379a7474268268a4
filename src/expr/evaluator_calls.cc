// Evaluator: grouping, sorting, functions, lambdas, partial application,
// function application (~>) and transforms.
#include <re2/re2.h>

#include <cmath>
#include <unordered_set>

#include "error.h"
#include "evaluator.h"
#include "sort.h"

namespace weft::expr {
namespace {

// Merges a group's tuples into one binding object (always a fresh object,
// which the caller may modify).
Value ReduceTupleStream(const Value& stream) {
  Value result = Value::MakeObject();
  if (!stream.is_array()) {
    for (const auto& m : stream.members()) result.set(m.key, m.value);
    return result;
  }
  const auto& items = stream.as_array();
  if (items.empty()) return result;
  for (const auto& m : items[0].members()) result.set(m.key, m.value);
  for (size_t i = 1; i < items.size(); ++i) {
    for (const auto& m : items[i].members()) result.set(m.key, AppendValues(result.get(m.key), m.value));
  }
  return result;
}

// Name of the function being called, for error messages.
std::string ProcedureName(const Node* proc) {
  if (proc->type == NodeType::kPath && !proc->items.empty()) return proc->items[0]->op;
  return proc->op;
}

void CollectIdentities(const Value& v, std::unordered_set<const void*>& ids, int depth = 0) {
  CheckNesting(depth);
  if (v.is_object()) {
    ids.insert(v.identity());
    for (const auto& m : v.members()) CollectIdentities(m.value, ids, depth + 1);
  } else if (v.is_array()) {
    ids.insert(v.identity());
    for (const auto& x : v.as_array()) CollectIdentities(x, ids, depth + 1);
  }
}

}  // namespace

Value Evaluator::EvalGroup(const std::vector<std::pair<NodePtr, NodePtr>>& pairs, int position, const Value& input,
                           const FrameRef& env) {
  bool reduce = input.is_array() && input.has_flag(kArrayTupleStream);
  if (!input.is_array()) {
    // One context item (the usual object constructor): no grouping needed.
    // Each pair yields at most one key; a key made by two pairs is D1009.
    Value result = Value::MakeObject();
    std::vector<std::pair<std::string, size_t>> seen;
    for (size_t pi = 0; pi < pairs.size(); ++pi) {
      Value key = Eval(pairs[pi].first.get(), input, env);
      if (key.is_undefined()) continue;
      if (!key.is_string()) ThrowAt("T1003", position, "", key);
      for (const auto& s : seen)
        if (s.first == key.as_string()) ThrowAt("D1009", position, "", key);
      seen.emplace_back(key.as_string(), pi);
    }
    for (auto& [key, pi] : seen) {
      Value v = Eval(pairs[pi].second.get(), input, env);
      if (v.is_defined()) result.set(std::move(key), std::move(v));
    }
    return result;
  }
  Value::Array items;
  if (input.is_array()) {
    items = input.as_array();
  } else {
    items.push_back(input);
  }
  if (items.empty()) items.emplace_back();

  // Items of a group are gathered first and joined once (JSONata appends
  // them one by one, which is quadratic).
  struct Entry {
    std::string key;
    std::vector<Value> items;
    size_t expr_index;
  };
  std::vector<Entry> groups;
  std::unordered_map<std::string, size_t> index;
  for (const auto& item : items) {
    FrameRef frame = reduce ? FrameFromTuple(env, item) : env;
    for (size_t pi = 0; pi < pairs.size(); ++pi) {
      Value key = Eval(pairs[pi].first.get(), reduce ? item.get("@") : item, frame);
      if (key.is_undefined()) continue;
      if (!key.is_string()) ThrowAt("T1003", position, "", key);
      auto it = index.find(key.as_string());
      if (it != index.end()) {
        Entry& e = groups[it->second];
        if (e.expr_index != pi) ThrowAt("D1009", position, "", key);
        e.items.push_back(item);
      } else {
        index.emplace(key.as_string(), groups.size());
        groups.push_back(Entry{key.as_string(), {item}, pi});
      }
    }
  }
  Value result = Value::MakeObject();
  for (auto& g : groups) {
    // fn.append semantics: one item stays as is; several are concatenated,
    // with array items spliced in.
    Value data;
    if (g.items.size() == 1) {
      data = std::move(g.items[0]);
    } else {
      Value::Array joined;
      for (auto& it : g.items) {
        if (it.is_array()) {
          joined.insert(joined.end(), it.as_array().begin(), it.as_array().end());
        } else {
          joined.push_back(std::move(it));
        }
      }
      data = Value::MakeArray(std::move(joined));
    }
    Value context = data;
    FrameRef frame = env;
    if (reduce) {
      Value tuple = ReduceTupleStream(data);
      context = tuple.get("@");
      tuple.erase("@");
      frame = FrameFromTuple(env, tuple);
    }
    Value v = Eval(pairs[g.expr_index].second.get(), context, frame);
    if (v.is_defined()) result.set(g.key, std::move(v));
  }
  return result;
}

Value Evaluator::EvalSort(const Node* sort, const Value& input, const FrameRef& env) {
  bool tuple_sort = input.is_array() && input.has_flag(kArrayTupleStream);
  Value::Array items;
  if (input.is_array()) {
    items = input.as_array();
  } else if (input.is_defined()) {
    items.push_back(input);
  }
  // Evaluate every sort key once per item (not once per comparison).
  const size_t nterms = sort->terms.size();
  std::vector<Value> keys(items.size() * nterms);
  for (size_t i = 0; i < items.size(); ++i) {
    Value context = items[i];
    FrameRef frame = env;
    if (tuple_sort) {
      context = items[i].get("@");
      frame = FrameFromTuple(env, items[i]);
    }
    for (size_t t = 0; t < nterms; ++t) keys[i * nterms + t] = Eval(sort->terms[t].expr.get(), context, frame);
  }
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < items.size(); ++i) order[i] = i;
  MergeSort(order, [&](size_t ia, size_t ib) {
    Tick();
    int comp = 0;
    for (size_t t = 0; comp == 0 && t < nterms; ++t) {
      const Value& aa = keys[ia * nterms + t];
      const Value& bb = keys[ib * nterms + t];
      if (aa.is_undefined()) {
        comp = bb.is_undefined() ? 0 : 1;
        continue;
      }
      if (bb.is_undefined()) {
        comp = -1;
        continue;
      }
      bool a_ok = aa.is_string() || aa.is_number();
      bool b_ok = bb.is_string() || bb.is_number();
      if (!a_ok || !b_ok) ThrowAt("T2008", sort->position, "", !a_ok ? aa : bb);
      if (aa.kind() != bb.kind()) ThrowAt("T2007", sort->position, "", aa, bb);
      if (aa == bb) continue;
      bool less = aa.is_number() ? aa.as_number() < bb.as_number() : aa.as_string() < bb.as_string();
      comp = less ? -1 : 1;
      if (sort->terms[t].descending) comp = -comp;
    }
    return comp == 1;
  });
  Value::Array out;
  out.reserve(items.size());
  for (size_t o : order) out.push_back(items[o]);
  uint8_t flags = kArraySequence | (tuple_sort ? kArrayTupleStream : 0);
  return Value::MakeArray(std::move(out), flags);
}

Value Evaluator::EvalLambda(const Node* n, const Value& input, const FrameRef& env) {
  auto* f = new LambdaFunction();
  f->program = *current_program_;
  f->node = n;
  f->params = n->params;
  f->input = input;
  f->env = env;
  f->origin = registry_;
  if (registry_) registry_->NoteClosureCreated();
  f->thunk = n->thunk;
  return Value::FromFunction(f);
}

Value Evaluator::EvalFunctionCall(const Node* n, const Value& input, const FrameRef& env, const Value* apply_to) {
  Value proc = Eval(n->procedure.get(), input, env);
  if (proc.is_undefined() && n->procedure->type == NodeType::kPath) {
    const std::string& name = n->procedure->items[0]->op;
    if (env->Lookup(name) || FindBuiltin(name)) ThrowAt("T1005", n->position, name);
  }
  std::vector<Value> args;
  args.reserve(n->items.size() + (apply_to ? 1 : 0));
  if (apply_to) args.push_back(*apply_to);
  for (const auto& a : n->items) args.push_back(Eval(a.get(), input, env));
  try {
    return Apply(proc, std::move(args), input, env);
  } catch (JsonataError& e) {
    if (e.position < 0) e.position = n->position;
    if (e.token.empty()) e.token = ProcedureName(n->procedure.get());
    throw;
  }
}

Value Evaluator::Apply(const Value& proc, std::vector<Value> args, const Value& input, const FrameRef& env) {
  Value result = ApplyInner(proc, std::move(args), input, env);
  // Trampoline: a lambda whose body ends in a call returns a thunk instead of
  // recursing, so tail-recursive functions run in constant stack.
  for (;;) {
    const CallableBase* c = AsCallable(result);
    if (!c || c->kind != CallableBase::Kind::kLambda) break;
    const auto* thunk = static_cast<const LambdaFunction*>(c);
    if (!thunk->thunk) break;
    Value keep = result;  // the thunk must outlive this iteration
    ProgramScope scope(this, &thunk->program);
    const Node* call = thunk->node->body.get();
    Value next = Eval(call->procedure.get(), thunk->input, thunk->env);
    std::vector<Value> next_args;
    next_args.reserve(call->items.size());
    for (const auto& a : call->items) next_args.push_back(Eval(a.get(), thunk->input, thunk->env));
    try {
      // The call runs in the scope it was written in (jsonata-js passes the
      // caller's, so a tail-position $eval could not see the lambda's
      // parameters); the context value is the caller's, as in jsonata-js.
      result = ApplyInner(next, std::move(next_args), input, thunk->env);
    } catch (JsonataError& e) {
      if (e.position < 0) e.position = call->position;
      if (e.token.empty()) e.token = ProcedureName(call->procedure.get());
      throw;
    }
  }
  return result;
}

Value Evaluator::ApplyInner(const Value& proc, std::vector<Value> args, const Value& input, const FrameRef& env) {
  const CallableBase* c = AsCallable(proc);
  if (!c) throw JsonataError("T1006");
  DepthGuard guard(depth_);
  CheckLimits();
  switch (c->kind) {
    case CallableBase::Kind::kLambda: {
      const auto* l = static_cast<const LambdaFunction*>(c);
      if (l->node->signature && l->params.size() == l->node->params.size()) {
        args = l->node->signature->Validate(std::move(args), input);
      }
      auto frame = NewFrame(l->env);
      frame->Reserve(l->params.size());
      for (size_t i = 0; i < l->params.size(); ++i) {
        frame->Bind(l->params[i], i < args.size() ? std::move(args[i]) : Value());
      }
      if (l->thunk) {
        // a thunk is itself returned (never applied directly) - see Apply()
        return proc;
      }
      ProgramScope scope(this, &l->program);
      return Eval(l->node->body.get(), l->input, frame);
    }
    case CallableBase::Kind::kBuiltin: {
      const auto* b = static_cast<const BuiltinFunction*>(c);
      args = b->sig->Validate(std::move(args), input);
      CallContext ctx{*this, input, env};
      return b->def->impl(args, ctx);
    }
    case CallableBase::Kind::kPartialNative: {
      const auto* p = static_cast<const PartialNativeFunction*>(c);
      std::vector<Value> full;
      size_t next = 0;
      for (size_t i = 0; i < p->args.size(); ++i) {
        if (p->placeholder[i]) {
          full.push_back(next < args.size() ? args[next] : Value());
          ++next;
        } else {
          full.push_back(p->args[i]);
        }
      }
      while (!full.empty() && full.back().is_undefined()) full.pop_back();
      return ApplyInner(p->target, std::move(full), input, env);
    }
    case CallableBase::Kind::kRegex:
    case CallableBase::Kind::kMatchNext: {
      CallContext ctx{*this, input, env};
      return CallRegexFunction(c, args, ctx);
    }
    case CallableBase::Kind::kTransform: {
      const auto* t = static_cast<const TransformFunction*>(c);
      Value obj = args.empty() ? Value() : args[0];
      if (obj.is_defined() && !obj.is_object() && !obj.is_array()) {
        JsonataError e("T0410");
        e.index = 1;
        e.value = obj;
        throw e;
      }
      return ApplyTransform(*t, obj);
    }
    case CallableBase::Kind::kChain: {
      const auto* ch = static_cast<const ChainFunction*>(c);
      Value mid = Apply(ch->first, std::move(args), kCallbackContext, env);
      return Apply(ch->second, {mid}, input, env);
    }
    case CallableBase::Kind::kClosure:
      return ApplyInner(static_cast<const ClosureFunction*>(c)->inner, std::move(args), input, env);
    case CallableBase::Kind::kHost: {
      const auto* h = static_cast<const HostCallable*>(c);
      if (h->sig) args = h->sig->Validate(std::move(args), input);
      Result<Value> r = h->host.fn(args);
      if (!r.ok()) {
        JsonataError e("D3137");
        e.detail = r.status().message();
        throw e;
      }
      return std::move(r).value();
    }
  }
  throw JsonataError("T1006");
}

Value Evaluator::ApplyHof(const Value& fn, const Value& v, const Value& second, const Value& array,
                          const CallContext& ctx) {
  const CallableBase* c = AsCallable(fn);
  int arity = c ? c->arity() : 1;
  std::vector<Value> args;
  args.push_back(v);
  if (arity >= 2) args.push_back(second);
  if (arity >= 3) args.push_back(array);
  return Apply(fn, std::move(args), kCallbackContext, ctx.env);
}

Value Evaluator::EvalPartial(const Node* n, const Value& input, const FrameRef& env) {
  std::vector<Value> args;
  std::vector<bool> placeholder;
  for (const auto& a : n->items) {
    bool ph = a->type == NodeType::kOperator && a->op == "?";
    placeholder.push_back(ph);
    args.push_back(ph ? Value() : Eval(a.get(), input, env));
  }
  Value proc = Eval(n->procedure.get(), input, env);
  if (proc.is_undefined() && n->procedure->type == NodeType::kPath) {
    const std::string& name = n->procedure->items[0]->op;
    if (env->Lookup(name) || FindBuiltin(name)) ThrowAt("T1007", n->position, name);
  }
  const CallableBase* c = AsCallable(proc);
  if (!c) ThrowAt("T1008", n->position, ProcedureName(n->procedure.get()));
  if (c->kind == CallableBase::Kind::kLambda) {
    const auto* l = static_cast<const LambdaFunction*>(c);
    auto frame = NewFrame(l->env);
    auto* f = new LambdaFunction();
    f->program = l->program;
    f->node = l->node;
    f->input = l->input;
    f->env = frame;
    f->origin = registry_;
    if (registry_) registry_->NoteClosureCreated();
    for (size_t i = 0; i < l->params.size(); ++i) {
      if (i < args.size() && placeholder[i]) {
        f->params.push_back(l->params[i]);
      } else {
        frame->Bind(l->params[i], i < args.size() ? args[i] : Value());
      }
    }
    return Value::FromFunction(f);
  }
  auto* p = new PartialNativeFunction();
  p->target = proc;
  p->args = std::move(args);
  p->placeholder = std::move(placeholder);
  // Parameters the call did not mention are bound to undefined, as
  // jsonata-js binds them: `$match(?, /re/)` takes one argument, so $map
  // does not pass its index as the limit.
  return Value::FromFunction(p);
}

Value Evaluator::EvalApply(const Node* n, const Value& input, const FrameRef& env) {
  Value lhs = Eval(n->lhs.get(), input, env);
  if (n->rhs->type == NodeType::kFunction) return EvalFunctionCall(n->rhs.get(), input, env, &lhs);
  Value fn = Eval(n->rhs.get(), input, env);
  if (!AsCallable(fn)) ThrowAt("T2006", n->position, "", fn);
  if (AsCallable(lhs)) {
    auto* ch = new ChainFunction();
    ch->first = lhs;
    ch->second = fn;
    return Value::FromFunction(ch);
  }
  return Apply(fn, {lhs}, input, env);
}

Value Evaluator::EvalTransform(const Node* n, const Value& /*input*/, const FrameRef& env) {
  auto* t = new TransformFunction();
  t->program = *current_program_;
  t->node = n;
  t->env = env;
  t->origin = registry_;
  if (registry_) registry_->NoteClosureCreated();
  return Value::FromFunction(t);
}

Value Evaluator::ApplyTransform(const TransformFunction& t, const Value& obj) {
  if (obj.is_undefined()) return Value();
  ProgramScope scope(this, &t.program);
  const Node* n = t.node;
  const FrameRef& env = t.env;
  Value clone_fn;
  if (const Value* v = env->Lookup("clone")) {
    clone_fn = *v;
  } else if (const Value* b = FindBuiltin("clone")) {
    clone_fn = *b;
  }
  if (!AsCallable(clone_fn)) ThrowAt("T2013", n->position);
  Value result = Apply(clone_fn, {obj}, kCallbackContext, env);
  // Only values inside the fresh copy may be modified.
  std::unordered_set<const void*> owned;
  CollectIdentities(result, owned);
  Value matches = Eval(n->pattern.get(), result, env);
  if (matches.is_undefined()) return result;
  Value::Array list;
  if (matches.is_array()) {
    list = matches.as_array();
  } else {
    list.push_back(matches);
  }
  for (auto& match : list) {
    Value update = Eval(n->update.get(), match, env);
    if (update.is_defined()) {
      if (!update.is_object()) ThrowAt("T2011", n->update->position, "", update);
      if (match.is_object() && owned.count(match.identity())) {
        for (const auto& m : update.members()) {
          match.set(m.key, m.value);
          CollectIdentities(m.value, owned);
        }
      }
    }
    if (n->remove) {
      Value deletions = Eval(n->remove.get(), match, env);
      if (deletions.is_defined()) {
        Value list_del = deletions.is_array() ? deletions : Value::MakeArray({deletions});
        if (!IsArrayOfStrings(list_del)) ThrowAt("T2012", n->remove->position, "", deletions);
        if (match.is_object() && owned.count(match.identity())) {
          for (const auto& k : list_del.as_array()) match.erase(k.as_string());
        }
      }
    }
  }
  return result;
}

}  // namespace weft::expr

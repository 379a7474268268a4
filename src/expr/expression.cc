#include "weft/expr/expression.h"

#include <algorithm>

#include <new>
#include <stdexcept>

#include "error.h"
#include "evaluator.h"
#include "parser.h"
#include "program.h"

namespace weft::expr {
namespace {

JsonataError ResourceLimitError(const char* what) {
  JsonataError e("U1003");
  e.detail = what;
  return e;
}

ExprError ToExprError(const JsonataError& e) {
  ExprError out;
  out.code = e.code;
  out.position = e.position;
  out.token = e.token;
  out.message = FormatErrorMessage(e);
  return out;
}

Status Fail(const JsonataError& e, ExprError* error) {
  ExprError err = ToExprError(e);
  if (error) *error = err;
  return err.ToStatus();
}

}  // namespace

Status ExprError::ToStatus() const {
  std::string m = code;
  if (position >= 0) m += " at position " + std::to_string(position);
  m += ": " + message;
  StatusCode sc = StatusCode::kInvalidArgument;
  if (code == "U1002") sc = StatusCode::kDeadlineExceeded;
  if (code == "U1001" || code == "U1003" || code == "U1005") sc = StatusCode::kResourceExhausted;
  if (code == "U1004") sc = StatusCode::kInternal;
  return Status(sc, std::move(m));
}

Value MakeHostFunction(HostFunction fn) { return Value::FromFunction(new HostCallable(std::move(fn))); }

Result<Expression> Expression::Compile(std::string_view text, ExprError* error) {
  auto program = std::make_shared<Program>();
  program->source = std::string(text);
  try {
    program->tree = ParseExpression(program->source);
  } catch (const JsonataError& e) {
    return Fail(e, error);
  } catch (const std::bad_alloc&) {
    return Fail(ResourceLimitError("out of memory while compiling"), error);
  }
  return Expression(std::move(program));
}

Result<Value> Expression::Evaluate(const Value& input, const Value& bindings, const EvalOptions& options,
                                   ExprError* error) const {
  FrameRegistry registry;
  Value r;
  try {
    Evaluator ev(program_, options);
    Evaluator::Scope current(&ev);
    ev.set_registry(&registry);
    auto env = ev.NewFrame(nullptr);
    // Bind only what the expression can read: workflow steps pass every
    // scope variable, most expressions use one or two.
    const RewrittenTree& tree = program_->tree;
    for (const auto& m : bindings.members()) {
      if (tree.dynamic_scope ||
          std::find(tree.free_vars.begin(), tree.free_vars.end(), m.key) != tree.free_vars.end()) {
        env->Bind(m.key, m.value);
      }
    }
    r = ev.Run(input, env);
    ev.CheckResultSize(r);
    env.reset();
    r = registry.Collect(std::move(r));
    if (r.is_array() && r.array_flags() != 0) {
      // Sequence bookkeeping never leaks to callers.
      r = Value::MakeArray(r.as_array());
    }
    return r;
  } catch (const JsonataError& e) {
    (void)registry.Collect(Value());
    return Fail(e, error);
  } catch (const std::bad_alloc&) {
    (void)registry.Collect(Value());
    return Fail(ResourceLimitError("out of memory while evaluating"), error);
  } catch (const std::length_error&) {
    (void)registry.Collect(Value());
    return Fail(ResourceLimitError("a string or array grew beyond its maximum size"), error);
  } catch (const std::exception& e) {
    // A library exception escaping the evaluator is a bug in weft; the
    // worker must survive it and the message must say so.
    (void)registry.Collect(Value());
    JsonataError internal("U1004");
    internal.detail = e.what();
    return Fail(internal, error);
  }
}

const std::string& Expression::source() const { return program_->source; }

bool Expression::Names(std::string_view name) const {
  const auto& vars = program_->tree.free_vars;
  return std::find(vars.begin(), vars.end(), name) != vars.end();
}

bool Expression::Reads(std::string_view name) const {
  const RewrittenTree& tree = program_->tree;
  return tree.dynamic_scope || std::find(tree.free_vars.begin(), tree.free_vars.end(), name) != tree.free_vars.end();
}

bool Expression::ReadsInput() const { return program_->tree.reads_input; }

bool Expression::UsesDoubleEquals() const { return program_->tree.double_equals; }

}  // namespace weft::expr

#include <gtest/gtest.h>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace weft::expr {
namespace {

Value Json(const char* text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value();
}

Value Eval(const char* expr, const Value& input = Value(), const Value& bindings = Value()) {
  auto e = Expression::Compile(expr);
  EXPECT_TRUE(e.ok()) << e.status();
  if (!e.ok()) return Value();
  auto r = e->Evaluate(input, bindings);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Value();
}

TEST(ExpressionApiTest, WorkflowConditionsReadBareNames) {
  Value state = Json(R"({"urgency":"high","confidence":0.9})");
  EXPECT_EQ(Eval("urgency == 'high' or confidence < 0.7", state), Value(true));
  EXPECT_EQ(Eval("urgency = 'low' and confidence < 0.7", state), Value(false));
}

TEST(ExpressionApiTest, BindingsBecomeVariables) {
  Value bindings = Json(R"({"input":{"message":"hi"},"output":{"classify":{"label":"billing"}}})");
  EXPECT_EQ(Eval("$input.message & '/' & $output.classify.label", Value(), bindings), Value("hi/billing"));
  EXPECT_EQ(Eval("$exists($output.escalate) ? 'human' : 'auto'", Value(), bindings), Value("auto"));
}

TEST(ExpressionApiTest, HostFunctionsAreCallable) {
  Value bindings = Value::MakeObject();
  bindings.set("secret", MakeHostFunction({"<s:s>", [](const std::vector<Value>& args) -> Result<Value> {
                                             if (args[0].as_string() == "API_KEY") return Value("s3cr3t");
                                             return NotFoundError("no secret named " + args[0].as_string());
                                           }}));
  EXPECT_EQ(Eval("$secret('API_KEY')", Value(), bindings), Value("s3cr3t"));

  auto e = Expression::Compile("$secret('NOPE')");
  ASSERT_TRUE(e.ok());
  ExprError error;
  auto r = e->Evaluate(Value(), bindings, {}, &error);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(error.message.find("no secret named NOPE"), std::string::npos);

  auto bad = Expression::Compile("$secret(42)");
  ASSERT_TRUE(bad.ok());
  r = bad->Evaluate(Value(), bindings, {}, &error);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error.code, "T0410");
}

TEST(ExpressionApiTest, SyntaxErrorsCarryCodePositionAndMessage) {
  ExprError error;
  auto e = Expression::Compile("urgency == 'high' and (confidence <", &error);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(error.code, "S0203");
  EXPECT_EQ(error.position, 35);
  EXPECT_EQ(error.message, "Expected \")\" before end of expression");
  EXPECT_EQ(e.status().message(), "S0203 at position 35: Expected \")\" before end of expression");
}

TEST(ExpressionApiTest, TypeErrorsNameTheOperator) {
  auto e = Expression::Compile("a + 1");
  ASSERT_TRUE(e.ok());
  ExprError error;
  auto r = e->Evaluate(Json(R"({"a":"x"})"), Value(), {}, &error);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error.code, "T2001");
  EXPECT_EQ(error.position, 3);
  EXPECT_EQ(error.message, "The left side of the \"+\" operator must evaluate to a number");
}

TEST(ExpressionApiTest, FunctionErrorsNameTheFunction) {
  auto e = Expression::Compile("$substring('abc', 'b')");
  ASSERT_TRUE(e.ok());
  ExprError error;
  ASSERT_FALSE(e->Evaluate(Value(), Value(), {}, &error).ok());
  EXPECT_EQ(error.code, "T0410");
  EXPECT_EQ(error.position, 11);
  EXPECT_EQ(error.message, "Argument 2 of function \"substring\" does not match function signature");
}

TEST(ExpressionApiTest, UndefinedIsNotAnError) {
  auto r = Expression::Compile("nothing.here")->Evaluate(Json("{}"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_undefined());
}

TEST(ExpressionApiTest, ResultsCarryNoSequenceFlags) {
  Value r = Eval("a.b", Json(R"({"a":[{"b":1},{"b":2}]})"));
  EXPECT_EQ(r.array_flags(), 0);
  EXPECT_EQ(ToJson(r), "[1,2]");
}

TEST(ExpressionApiTest, NowComesFromTheInjectedClock) {
  SimulatedClock clock(1510067557121);
  EvalOptions options;
  options.clock = &clock;
  auto e = Expression::Compile("$now()");
  EXPECT_EQ(*e->Evaluate(Value(), Value(), options), Value("2017-11-07T15:12:37.121Z"));
  clock.AdvanceMillis(1000);
  EXPECT_EQ(*Expression::Compile("$millis()")->Evaluate(Value(), Value(), options), Value(1510067558121.0));
}

TEST(ExpressionApiTest, EvaluationDoesNotModifyTheInput) {
  Value input = Json(R"({"a":{"b":1},"list":[3,1,2]})");
  std::string before = ToJson(input);
  Eval("$ ~> |a|{'b': 2, 'c': 3}|", input);
  Eval("$sort(list)", input);
  Eval("list[]", input);
  Eval("$merge([a, {'z': 1}])", input);
  EXPECT_EQ(ToJson(input), before);
}

TEST(ExpressionApiTest, CompiledExpressionsAreCopyable) {
  auto e = Expression::Compile("$x * 2");
  ASSERT_TRUE(e.ok());
  Expression copy = *e;
  EXPECT_EQ(copy.source(), "$x * 2");
  EXPECT_EQ(*copy.Evaluate(Value(), Json(R"({"x":21})")), Value(42));
}

TEST(ExpressionApiTest, LambdasOutliveTheirExpression) {
  Value fn;
  {
    auto e = Expression::Compile("function($v){ $v + 1 }");
    fn = *e->Evaluate(Value());
  }
  ASSERT_TRUE(fn.is_function());
  Value bindings = Value::MakeObject();
  bindings.set("inc", fn);
  EXPECT_EQ(Eval("$inc(41)", Value(), bindings), Value(42));
}

}  // namespace
}  // namespace weft::expr

namespace weft::expr {
namespace {

TEST(ExpressionApiTest, ReturnedClosuresKeepWhatTheyRead) {
  // The block's frame binds both $k (read by the closure) and $unused (not);
  // after evaluation only what the closure reads is kept alive.
  Value fn =
      Eval("($k := 10; $unused := function(){ $unused }; $mk := function($d){ function($x){ $x + $k + $d } }; $mk(5))");
  ASSERT_TRUE(fn.is_function());
  Value bindings = Value::MakeObject();
  bindings.set("f", fn);
  EXPECT_EQ(Eval("$f(1)", Value(), bindings), Value(16));
  EXPECT_EQ(Eval("$f(2)", Value(), bindings), Value(17));
}

TEST(ExpressionApiTest, PartialApplicationsSurviveTheirEvaluation) {
  Value fn = Eval("($add := function($a, $b){ $a + $b }; $add(?, 100))");
  ASSERT_TRUE(fn.is_function());
  Value bindings = Value::MakeObject();
  bindings.set("g", fn);
  EXPECT_EQ(Eval("$g(1)", Value(), bindings), Value(101));
}

}  // namespace
}  // namespace weft::expr

namespace weft::expr {
namespace {

TEST(ExpressionApiTest, ReturnedRecursiveFunctionsWorkAndAreFreed) {
  // $fact is bound in the scope it captures: a cycle that the closure heap
  // owns, freed when the last copy of the result goes (checked by LSan).
  Value fact = Eval("($fact := function($n){ $n <= 1 ? 1 : $n * $fact($n - 1) }; $fact)");
  ASSERT_TRUE(fact.is_function());
  Value bindings = Value::MakeObject();
  bindings.set("fact", fact);
  EXPECT_EQ(Eval("$fact(5)", Value(), bindings), Value(120));
  EXPECT_EQ(Eval("$map([1,2,3], $fact)", Value(), bindings), Eval("[1,2,6]"));
}

TEST(ExpressionApiTest, ClosuresMadeFromEarlierClosuresOutliveThem) {
  Value inner;
  {
    Value mk = Eval("function($d){ function($x){ $x + $d } }");
    Value b1 = Value::MakeObject();
    b1.set("mk", mk);
    inner = Eval("$mk(5)", Value(), b1);
  }  // `mk` and the evaluation that used it are gone
  ASSERT_TRUE(inner.is_function());
  Value b2 = Value::MakeObject();
  b2.set("add5", inner);
  EXPECT_EQ(Eval("$add5(1)", Value(), b2), Value(6));
}

}  // namespace
}  // namespace weft::expr

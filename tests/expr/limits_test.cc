// A runaway expression or a hostile input must not hang or crash a worker.
#include <gtest/gtest.h>

#include <thread>

#include "weft/core/json.h"
#include "weft/expr/expression.h"

namespace weft::expr {
namespace {

ExprError EvalError(const std::string& text, const Value& input, const EvalOptions& options) {
  auto e = Expression::Compile(text);
  EXPECT_TRUE(e.ok()) << e.status();
  ExprError error;
  auto r = e->Evaluate(input, Value(), options, &error);
  EXPECT_FALSE(r.ok());
  return error;
}

TEST(LimitsTest, DeepRecursionStopsAtTheDepthLimit) {
  EvalOptions options;
  options.max_depth = 500;
  ExprError e = EvalError("($f := function($n){ 1 + $f($n + 1) }; $f(0))", Value(), options);
  EXPECT_EQ(e.code, "U1001");
  EXPECT_EQ(e.ToStatus().code(), StatusCode::kResourceExhausted);
}

TEST(LimitsTest, TailRecursionRunsInConstantDepth) {
  EvalOptions options;
  options.max_depth = 100;
  auto e = Expression::Compile("($loop := function($i){ $i >= 100000 ? $i : $loop($i + 1) }; $loop(0))");
  auto r = e->Evaluate(Value(), Value(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Value(100000));
}

TEST(LimitsTest, InfiniteLoopsStopAtTheTimeout) {
  EvalOptions options;
  options.timeout_ms = 50;
  ExprError e = EvalError("($f := function(){ $f() }; $f())", Value(), options);
  EXPECT_EQ(e.code, "U1002");
  EXPECT_EQ(e.ToStatus().code(), StatusCode::kDeadlineExceeded);
}

TEST(LimitsTest, HugeWorkStopsAtTheTimeout) {
  EvalOptions options;
  options.timeout_ms = 50;
  options.max_memory_bytes = 0;  // the time limit is what this tests
  ExprError e = EvalError("$sum([1..10000000].($ * 2)) + $sum([1..10000000].($ * 3))", Value(), options);
  EXPECT_EQ(e.code, "U1002");
}

TEST(LimitsTest, DeepInputDoesNotCrash) {
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "{\"a\":";
  text += "1";
  for (int i = 0; i < 1500; ++i) text += "}";
  auto input = ParseJson(text);
  ASSERT_TRUE(input.ok());
  auto e = Expression::Compile("$count(**)");
  auto r = e->Evaluate(*input);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Value(1501));
  auto s = Expression::Compile("$string($)")->Evaluate(*input);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->as_string().size(), text.size());
}

TEST(LimitsTest, LargeInputsAreFine) {
  Value::Array items;
  for (int i = 0; i < 200000; ++i) {
    Value o = Value::MakeObject();
    o.set("v", Value(i));
    items.push_back(std::move(o));
  }
  Value input = Value::MakeObject();
  input.set("items", Value::MakeArray(std::move(items)));
  auto r = Expression::Compile("$count(items[v % 2 = 0])")->Evaluate(input);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Value(100000));
}

TEST(LimitsTest, RangeSizeIsBounded) {
  ExprError e = EvalError("[1..100000000]", Value(), {});
  EXPECT_EQ(e.code, "D2014");
}

TEST(LimitsTest, OneCompiledExpressionManyThreads) {
  auto e = Expression::Compile(
      "($t := $sum(items.(price * qty)); {'total': $t, 'top': items^(>price)[0].id, 'ids': $join(items.id, ',')})");
  ASSERT_TRUE(e.ok());
  auto input = ParseJson(
      R"({"items":[{"id":"a","price":2,"qty":3},{"id":"b","price":5,"qty":1},{"id":"c","price":1,"qty":10}]})");
  const std::string expected = R"({"total":21,"top":"b","ids":"a,b,c"})";
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto r = e->Evaluate(*input);
        if (!r.ok() || ToJson(*r) != expected) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace weft::expr

namespace weft::expr {
namespace {

TEST(LimitsTest, HugeNumbersFromTheExpressionAreSafe) {
  auto eval = [](const char* text, ExprError* error) {
    auto e = Expression::Compile(text);
    EXPECT_TRUE(e.ok());
    return e->Evaluate(Value(), Value(), {}, error);
  };
  ExprError error;
  EXPECT_TRUE(eval("[1,2,3][44444444444444444440]", &error)->is_undefined());
  EXPECT_TRUE(eval("[1,2,3][-1e300]", &error)->is_undefined());
  EXPECT_EQ(*eval("$split('a,b', ',', 1e300)", &error), *eval("['a','b']", &error));
  EXPECT_FALSE(eval("$pad('x', 1e300)", &error).ok());
  EXPECT_EQ(error.code, "U1003");
  EXPECT_FALSE(eval("$formatInteger(1e300, 'I')", &error).ok());
  EXPECT_EQ(error.code, "U1003");
  EXPECT_FALSE(eval("$fromMillis(1e300)", &error).ok());
  EXPECT_EQ(error.code, "D3030");
}

}  // namespace
}  // namespace weft::expr

namespace weft::expr {
namespace {

TEST(LimitsTest, DeeplyNestedExpressionsAreRefused) {
  for (const std::string& text :
       {std::string(1, '1') +
            [] {
              std::string s;
              for (int i = 0; i < 50000; ++i) s += "+1";
              return s;
            }(),
        std::string(50000, '(') + "1" + std::string(50000, ')'), std::string(50000, '-') + "1"}) {
    ExprError error;
    auto e = Expression::Compile(text, &error);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(error.code, "S0501");
  }
}

TEST(LimitsTest, DeeplyNestedValuesBuiltByExpressions) {
  // 200,000 levels: freed, compared and written without recursion; the
  // recursive functions refuse them with U1003 instead of crashing.
  auto build = Expression::Compile("$reduce([1..200000], function($a, $b){ {'a': $a} }, 0)");
  ASSERT_TRUE(build.ok());
  auto deep = build->Evaluate(Value());
  ASSERT_TRUE(deep.ok()) << deep.status();
  auto again = build->Evaluate(Value());
  EXPECT_TRUE(*deep == *again);
  std::string text = ToJson(*deep);
  EXPECT_EQ(text.size(), 200000 * 6 + 1);
  Value bindings = Value::MakeObject();
  bindings.set("deep", *deep);
  ExprError error;
  auto clone = Expression::Compile("$clone($deep)")->Evaluate(Value(), bindings, {}, &error);
  ASSERT_FALSE(clone.ok());
  EXPECT_EQ(error.code, "U1003");
  auto count = Expression::Compile("$count(**)")->Evaluate(*deep, Value(), {}, &error);
  EXPECT_FALSE(count.ok());
  EXPECT_EQ(error.code, "U1003");
}

}  // namespace
}  // namespace weft::expr

namespace weft::expr {
namespace {

ExprError CompileError(const std::string& text) {
  ExprError error;
  auto e = Expression::Compile(text, &error);
  EXPECT_FALSE(e.ok());
  return error;
}

TEST(LimitsTest, TheParserRefusesTallTreesBeforeBuildingThem) {
  // 2 MB of `1+1+...` used to become a 1 GB tree before the height check.
  std::string text = "1";
  for (int i = 0; i < 1'000'000; ++i) text += "+1";
  ExprError e = CompileError(text);
  EXPECT_EQ(e.code, "S0501");
  EXPECT_LT(e.position, 5000);  // refused where the tree got too tall, not at the end
}

TEST(LimitsTest, TheParserRefusesHugeExpressions) {
  std::string text = "[1";
  for (int i = 0; i < 200'000; ++i) text += ",1";
  text += "]";
  EXPECT_EQ(CompileError(text).code, "S0502");
  // A big but reasonable expression is fine.
  std::string ok = "[1";
  for (int i = 0; i < 20'000; ++i) ok += ",1";
  ok += "]";
  auto e = Expression::Compile(ok);
  ASSERT_TRUE(e.ok()) << e.status();
}

TEST(LimitsTest, InvalidUtf8InTheExpressionIsRefused) {
  ExprError e = CompileError("\"\xff\xfe\" & \"a\"");
  EXPECT_EQ(e.code, "S0107");
  EXPECT_EQ(e.position, 1);
  EXPECT_EQ(CompileError("'a\xc3'").code, "S0107");         // truncated sequence
  EXPECT_EQ(CompileError("'\xed\xa0\x80'").code, "S0107");  // a surrogate
  EXPECT_TRUE(Expression::Compile("'é' & \"\xe2\x82\xac\"").ok());
}

TEST(LimitsTest, MemoryLimitIsAResourceError) {
  EvalOptions options;
  options.max_memory_bytes = 1 << 20;
  ExprError e = EvalError("$count([1..1000000])", Value(), options);
  EXPECT_EQ(e.code, "U1005");
  EXPECT_EQ(e.ToStatus().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(e.message.find("1 MB"), std::string::npos) << e.message;
  // The budget is per evaluation: the next one starts afresh.
  auto again = Expression::Compile("$count([1..1000])")->Evaluate(Value(), Value(), options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, Value(1000));
}

TEST(LimitsTest, ValuesMadeOutsideAnEvaluationAreNotCharged) {
  EvalOptions options;
  options.max_memory_bytes = 1 << 16;
  Value::Array big(100'000, Value(1));  // 1.6 MB made by the caller
  auto r = Expression::Compile("$count($)")->Evaluate(Value::MakeArray(std::move(big)), Value(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Value(100'000));
}

}  // namespace
}  // namespace weft::expr

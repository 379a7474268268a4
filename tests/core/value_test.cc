#include "weft/core/value.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace weft {
namespace {

TEST(ValueTest, Kinds) {
  EXPECT_TRUE(Value().is_undefined());
  EXPECT_TRUE(Value::Null().is_null());
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_FALSE(Value(false).as_bool());
  EXPECT_EQ(Value(2.5).as_number(), 2.5);
  EXPECT_EQ(Value("abc").as_string(), "abc");
  EXPECT_EQ(KindName(Value::MakeArray().kind()), "array");
}

TEST(ValueTest, ObjectsKeepInsertionOrderAndReplaceInPlace) {
  Value o = Value::MakeObject();
  o.set("b", Value(1));
  o.set("a", Value(2));
  o.set("b", Value(3));
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o.members()[0].key, "b");
  EXPECT_EQ(o.members()[0].value.as_number(), 3);
  EXPECT_EQ(o.get("a").as_number(), 2);
  EXPECT_TRUE(o.get("zz").is_undefined());
  EXPECT_TRUE(o.erase("b"));
  EXPECT_FALSE(o.erase("b"));
  EXPECT_EQ(o.size(), 1u);
}

TEST(ValueTest, LargeObjectsUseTheIndex) {
  Value o = Value::MakeObject();
  for (int i = 0; i < 1000; ++i) o.set("k" + std::to_string(i), Value(i));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(o.get("k" + std::to_string(i)).as_number(), i);
  EXPECT_TRUE(o.erase("k500"));
  EXPECT_TRUE(o.get("k500").is_undefined());
  EXPECT_EQ(o.get("k501").as_number(), 501);
  o.set("k500", Value(-1));
  EXPECT_EQ(o.members().back().key, "k500");
}

TEST(ValueTest, StructuralEqualityIgnoresMemberOrder) {
  Value a = Value::MakeObject();
  a.set("x", Value(1));
  a.set("y", Value::MakeArray({Value("s"), Value::Null()}));
  Value b = Value::MakeObject();
  b.set("y", Value::MakeArray({Value("s"), Value::Null()}));
  b.set("x", Value(1));
  EXPECT_EQ(a, b);
  b.set("x", Value(2));
  EXPECT_NE(a, b);
}

TEST(ValueTest, CopiesShareAndCountReferences) {
  Value a = Value::MakeArray({Value(1)});
  EXPECT_TRUE(a.unique());
  Value b = a;
  EXPECT_FALSE(a.unique());
  EXPECT_EQ(a.identity(), b.identity());
  b = Value();
  EXPECT_TRUE(a.unique());
}

TEST(ValueTest, SharedAcrossThreads) {
  Value shared = Value::MakeObject();
  shared.set("s", Value(std::string(100, 'x')));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([shared] {
      for (int i = 0; i < 20000; ++i) {
        Value copy = shared;
        ASSERT_EQ(copy.get("s").as_string().size(), 100u);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(shared.unique());
}

}  // namespace
TEST(ValueTest, ApproxBytesCountsContentAndStopsEarlyOnHugeValues) {
  Value small = Value::MakeObject();
  small.set("message", std::string(1000, 'x'));
  const size_t bytes = ApproxBytes(small);
  EXPECT_GE(bytes, 1000u + std::string("message").size());
  EXPECT_LT(bytes, 1200u);
  // Ten million items: the count stops at the container, not after listing them.
  Value huge = Value::MakeArray(Value::Array(10'000'000, Value(1.0)));
  EXPECT_GE(ApproxBytes(huge, 16 << 10), size_t{16} << 10);
  // Any depth, without recursion.
  Value deep = Value::MakeArray();
  for (int i = 0; i < 100'000; ++i) {
    Value outer = Value::MakeArray();
    outer.push_back(deep);
    deep = outer;
  }
  EXPECT_GT(ApproxBytes(deep), 100'000u);
}

}  // namespace weft

#include "weft/core/memory_budget.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "weft/core/value.h"

namespace weft {
namespace {

class TestBudget final : public MemoryBudget {
 public:
  using MemoryBudget::MemoryBudget;

 protected:
  [[noreturn]] void Exceeded() override { throw std::runtime_error("over budget"); }
};

TEST(MemoryBudgetTest, ValuesMadeInAScopeAreCharged) {
  TestBudget budget(1 << 20);
  {
    MemoryBudget::Scope scope(&budget);
    Value s(std::string(1000, 'x'));
    EXPECT_GE(budget.used(), 1000u);
    const uint64_t before = budget.used();
    Value::Array items(100, Value(1));
    EXPECT_GE(budget.used() - before, 100 * sizeof(Value));
  }
  const uint64_t after = budget.used();
  Value outside(std::string(1000, 'x'));  // no scope: nothing charged
  EXPECT_EQ(budget.used(), after);
}

TEST(MemoryBudgetTest, PassingTheLimitThrowsBeforeAllocating) {
  TestBudget budget(1 << 16);
  MemoryBudget::Scope scope(&budget);
  Value::Array items;
  EXPECT_THROW(items.reserve(1 << 20), std::runtime_error);
  EXPECT_EQ(items.capacity(), 0u);
  // Once over, every later allocation fails too.
  EXPECT_THROW(Value(std::string(10, 'x')), std::runtime_error);
  EXPECT_THROW(budget.Expect(0), std::runtime_error);
}

TEST(MemoryBudgetTest, ExpectChecksWithoutCharging) {
  TestBudget budget(1000);
  budget.Expect(900);
  EXPECT_EQ(budget.used(), 0u);
  budget.Charge(500);
  EXPECT_THROW(budget.Expect(600), std::runtime_error);
}

TEST(MemoryBudgetTest, ZeroMeansUnlimited) {
  TestBudget budget(0);
  budget.Charge(size_t{1} << 40);
  budget.Expect(size_t{1} << 40);
  EXPECT_EQ(budget.used(), uint64_t{1} << 40);
}

TEST(MemoryBudgetTest, ScopesNest) {
  TestBudget outer(0), inner(0);
  MemoryBudget::Scope a(&outer);
  {
    MemoryBudget::Scope b(&inner);
    EXPECT_EQ(MemoryBudget::Current(), &inner);
  }
  EXPECT_EQ(MemoryBudget::Current(), &outer);
}

}  // namespace
}  // namespace weft

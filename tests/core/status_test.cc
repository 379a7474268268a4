#include "weft/core/status.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, RetryableCodes) {
  EXPECT_TRUE(UnavailableError("x").retryable());
  EXPECT_TRUE(DeadlineExceededError("x").retryable());
  EXPECT_TRUE(ResourceExhaustedError("x").retryable());
  EXPECT_FALSE(InvalidArgumentError("x").retryable());
  EXPECT_FALSE(PermissionDeniedError("x").retryable());
  EXPECT_FALSE(InternalError("x").retryable());
}

TEST(StatusTest, ContextReadsFromEffectToCause) {
  Status s = InvalidArgumentError("unknown task 'clasify'").WithContext("flow.yaml:3:9");
  EXPECT_EQ(s.message(), "flow.yaml:3:9: unknown task 'clasify'");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: flow.yaml:3:9: unknown task 'clasify'");
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  WEFT_ASSIGN_OR_RETURN(int h, Half(x));
  WEFT_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, PropagatesErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
}

}  // namespace
}  // namespace weft

#include "weft/core/number_format.h"

#include <gtest/gtest.h>

#include <cmath>

namespace weft {
namespace {

struct NumberCase {
  double value;
  const char* text;
};

class JsNumberTest : public testing::TestWithParam<NumberCase> {};

TEST_P(JsNumberTest, MatchesJavaScript) { EXPECT_EQ(JsNumberToString(GetParam().value), GetParam().text); }

INSTANTIATE_TEST_SUITE_P(
    Cases, JsNumberTest,
    testing::Values(NumberCase{0, "0"}, NumberCase{-0.0, "0"}, NumberCase{1, "1"}, NumberCase{-1.5, "-1.5"},
                    NumberCase{0.1, "0.1"}, NumberCase{0.1 + 0.2, "0.30000000000000004"}, NumberCase{100, "100"},
                    NumberCase{1e21, "1e+21"}, NumberCase{1e20, "100000000000000000000"}, NumberCase{1e-7, "1e-7"},
                    NumberCase{1e-6, "0.000001"}, NumberCase{123.456, "123.456"}, NumberCase{2.5e-10, "2.5e-10"},
                    NumberCase{9007199254740993.0, "9007199254740992"},
                    NumberCase{1.7976931348623157e308, "1.7976931348623157e+308"}, NumberCase{5e-324, "5e-324"},
                    NumberCase{INFINITY, "Infinity"}, NumberCase{NAN, "NaN"}));

TEST(JsNumberTest, Precision15) {
  EXPECT_EQ(JsNumberToStringPrecision(1.0 / 3, 15), "0.333333333333333");
  EXPECT_EQ(JsNumberToStringPrecision(0.1 + 0.2, 15), "0.3");
  EXPECT_EQ(JsNumberToStringPrecision(123456789.123456789, 15), "123456789.123457");
}

}  // namespace
}  // namespace weft

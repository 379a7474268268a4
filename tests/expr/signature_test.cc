#include "signature.h"

#include <gtest/gtest.h>

#include "error.h"

namespace weft::expr {
namespace {

std::string Symbols(const std::vector<Value>& args) {
  std::string s;
  for (const auto& a : args) s += SignatureSymbol(a);
  return s;
}

TEST(SignatureTest, ContextSubstitution) {
  Signature sig = Signature::Parse("<s-:s>");
  auto out = sig.Validate({}, Value("ctx"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Value("ctx"));
  try {
    sig.Validate({}, Value(5));
    FAIL() << "expected T0411";
  } catch (const JsonataError& e) {
    EXPECT_EQ(e.code, "T0411");
  }
}

TEST(SignatureTest, OptionalAndRepeated) {
  Signature sig = Signature::Parse("<s-nn?:s>");
  EXPECT_EQ(Symbols(sig.Validate({Value("a"), Value(1)}, Value())), "snm");
  Signature plus = Signature::Parse("<a+>");
  EXPECT_EQ(plus.Validate({Value(1), Value(2), Value(3)}, Value()).size(), 3u);
}

TEST(SignatureTest, ArraysWrapSingleValuesAndCheckItems) {
  Signature sig = Signature::Parse("<a<n>:n>");
  auto out = sig.Validate({Value(5)}, Value());
  ASSERT_TRUE(out[0].is_array());
  EXPECT_EQ(out[0].size(), 1u);
  try {
    sig.Validate({Value::MakeArray({Value(1), Value("x")})}, Value());
    FAIL() << "expected T0412";
  } catch (const JsonataError& e) {
    EXPECT_EQ(e.code, "T0412");
    EXPECT_EQ(e.index, 1);
  }
}

TEST(SignatureTest, ReportsTheFirstBadArgument) {
  Signature sig = Signature::Parse("<s-(sf)(sf)n?:s>");
  try {
    sig.Validate({Value("a"), Value("b"), Value(true)}, Value());
    FAIL();
  } catch (const JsonataError& e) {
    EXPECT_EQ(e.code, "T0410");
    EXPECT_EQ(e.index, 3);
  }
  try {
    Signature::Parse("<n:n>").Validate({Value(1), Value(2)}, Value());
    FAIL();
  } catch (const JsonataError& e) {
    EXPECT_EQ(e.index, 2);
  }
}

TEST(SignatureTest, MalformedSignatures) {
  EXPECT_THROW(Signature::Parse("<s<n>>"), JsonataError);
  EXPECT_THROW(Signature::Parse("<(s<n>):n>"), JsonataError);
}

}  // namespace
}  // namespace weft::expr

#include "weft/core/json.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(JsonTest, RoundTrips) {
  const char* docs[] = {"null",
                        "true",
                        "false",
                        "0",
                        "-1.5",
                        "1e+21",
                        "\"a\\\"b\\\\c\\n\"",
                        "[]",
                        "{}",
                        "[1,[2,[3]]]",
                        "{\"a\":{\"b\":[null,true,\"x\"]}}",
                        "\"\\u0001\"",
                        "\"snow ☃\""};
  for (const char* d : docs) {
    auto v = ParseJson(d);
    ASSERT_TRUE(v.ok()) << d << ": " << v.status();
    EXPECT_EQ(ToJson(*v), d);
  }
}

TEST(JsonTest, DecodesEscapesAndSurrogatePairs) {
  auto v = ParseJson(R"("\u00e9\ud83d\ude00\t")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_string(), "é😀\t");
}

TEST(JsonTest, PrettyPrintsLikeJsonStringify) {
  auto v = ParseJson(R"({"a":[1,2],"b":{},"c":[]})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(ToJson(*v, 2), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}");
}

struct BadJson {
  const char* text;
  const char* message_part;
};

class JsonErrorTest : public testing::TestWithParam<BadJson> {};

TEST_P(JsonErrorTest, ReportsWhereAndWhat) {
  auto r = ParseJson(GetParam().text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().message_part), std::string::npos) << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(Cases, JsonErrorTest,
                         testing::Values(BadJson{"", "unexpected end of input"}, BadJson{"{", "expected a string key"},
                                         BadJson{"[1,]", "unexpected character ']'"},
                                         BadJson{"{\"a\" 1}", "expected ':'"}, BadJson{"\"abc", "unterminated string"},
                                         BadJson{"01", "unexpected text after"},
                                         BadJson{"1.", "digits expected after '.'"}, BadJson{"tru", "unexpected token"},
                                         BadJson{"\"\\x\"", "invalid escape"}, BadJson{"\"a\nb\"", "control character"},
                                         BadJson{"[1]\n[2]", "line 2, column 1"}, BadJson{"\"\xff\"", "invalid UTF-8"},
                                         BadJson{"{\"a\":1,}", "expected a string key"}));

TEST(JsonTest, RefusesDeepNesting) {
  std::string deep(100000, '[');
  auto r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting deeper than"), std::string::npos);
  JsonParseOptions shallow;
  shallow.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", shallow).ok());
  EXPECT_FALSE(ParseJson("[[[[1]]]]", shallow).ok());
}

TEST(JsonTest, DuplicateKeysLastWins) {
  auto v = ParseJson(R"({"a":1,"a":2})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 1u);
  EXPECT_EQ(v->get("a").as_number(), 2);
}

TEST(JsonTest, UndefinedAndNonFiniteFollowJsonStringify) {
  Value o = Value::MakeObject();
  o.set("u", Value());
  o.set("n", Value(1.0 / 0.0));
  EXPECT_EQ(ToJson(o), "{\"n\":null}");
  EXPECT_EQ(ToJson(Value::MakeArray({Value()})), "[null]");
  EXPECT_EQ(ToJson(Value()), "");
}

}  // namespace
}  // namespace weft

namespace weft {
namespace {

TEST(JsonTest, StrictParsingRefusesDuplicateKeysAndOverflow) {
  // Lenient (JSON.parse's reading) by default...
  EXPECT_EQ(ToJson(*ParseJson(R"({"a":1,"a":2})")), R"({"a":2})");
  EXPECT_TRUE(ParseJson("1e400").ok());
  // ...and an error that says where, when strict.
  auto dup = ParseJson(R"({"x":{"a":1,"a":2}})", {.strict = true});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("column 13: duplicate key \"a\""), std::string::npos) << dup.status();
  auto big = ParseJson(R"({"a":-1e400})", {.strict = true});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("column 6: number out of range: -1e400"), std::string::npos) << big.status();
  EXPECT_TRUE(ParseJson(R"({"a":1e-400,"b":1.7976931348623157e308})", {.strict = true}).ok());
}

}  // namespace
}  // namespace weft

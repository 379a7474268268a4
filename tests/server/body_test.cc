// Request bodies into run inputs, case by case.
#include "body.h"

#include <gtest/gtest.h>

#include "weft/core/json.h"

namespace weft::server {
namespace {

struct BodyCase {
  const char* name;
  std::string content_type;
  std::string body;
  std::string input;  // JSON of the parsed input; "" when refused
  std::string error;  // part of the refusal
};

TEST(RequestBody, ParsesEachKindOrSaysWhatIsWrong) {
  const BodyCase cases[] = {
      {"json", "application/json", R"({"a":[1,2]})", R"({"a":[1,2]})", ""},
      {"json with charset", "application/json; charset=utf-8", "[1]", "[1]", ""},
      {"vendor json", "application/vnd.api+json", R"({"x":1})", R"({"x":1})", ""},
      {"untyped json", "", R"( {"x":1})", R"({"x":1})", ""},
      {"json too deep", "application/json", std::string(100, '[') + std::string(100, ']'), "", "deep"},
      {"json duplicate", "application/json", R"({"a":1,"a":2})", "", "duplicate"},
      {"form", "application/x-www-form-urlencoded", "a=1&b=x+y&a=2&c", R"({"a":["1","2"],"b":"x y","c":""})", ""},
      {"form bad utf8", "application/x-www-form-urlencoded", "a=%FF", "", "UTF-8"},
      {"multipart", "multipart/form-data; boundary=\"b b\"",
       "--b b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nv\r\n--b b--\r\n", R"({"t":"v"})", ""},
      {"multipart no boundary", "multipart/form-data", "x", "", "boundary"},
      {"multipart unterminated", "multipart/form-data; boundary=q",
       "--q\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nv", "", "part 1: no boundary"},
      {"multipart no name", "multipart/form-data; boundary=q",
       "--q\r\nContent-Disposition: form-data\r\n\r\nv\r\n--q--", "", "part 1: Content-Disposition has no name"},
      {"text", "text/plain", "hi", R"({"body":"hi","content_type":"text/plain"})", ""},
      {"empty", "", "", "{}", ""},
      {"binary", "application/octet-stream", std::string("\x00\xff", 2), "", "multipart/form-data"},
  };
  for (const BodyCase& c : cases) {
    Result<ParsedBody> parsed = ParseRequestBody(c.content_type, c.body);
    if (c.input.empty()) {
      ASSERT_FALSE(parsed.ok()) << c.name;
      EXPECT_NE(parsed.status().message().find(c.error), std::string::npos)
          << c.name << ": " << parsed.status().message();
    } else {
      ASSERT_TRUE(parsed.ok()) << c.name << ": " << parsed.status().message();
      EXPECT_EQ(ToJson(parsed->value), c.input) << c.name;
    }
  }
}

TEST(RequestBody, FormsAreBounded) {
  std::string many;
  for (int i = 0; i < 1001; ++i) many += "f" + std::to_string(i) + "=1&";
  Result<ParsedBody> parsed = ParseRequestBody("application/x-www-form-urlencoded", many);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("more than 1000 fields"), std::string::npos);
}

TEST(RequestBody, HeaderParameters) {
  EXPECT_EQ(HeaderParameter("multipart/form-data; boundary=abc", "boundary"), "abc");
  EXPECT_EQ(HeaderParameter("form-data; name=\"a;b\"; filename=\"x\\\"y.txt\"", "filename"), "x\"y.txt");
  EXPECT_EQ(HeaderParameter("form-data; name=\"a;b\"", "name"), "a;b");
  EXPECT_EQ(HeaderParameter("text/plain", "charset"), "");
}

}  // namespace
}  // namespace weft::server

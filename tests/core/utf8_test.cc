#include "weft/core/utf8.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Utf8Test, LengthsAndOffsets) {
  std::string s = "aé😀b";
  EXPECT_EQ(Utf8Length(s), 4u);
  EXPECT_EQ(Utf8Offset(s, 2), 3u);
  EXPECT_EQ(Utf8Offset(s, 10), s.size());
  EXPECT_EQ(Utf8ToCodePoints(s), (std::vector<uint32_t>{'a', 0xE9, 0x1F600, 'b'}));
}

TEST(Utf8Test, Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ☃"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x98"));      // truncated
}

TEST(Utf8Test, EncodesAndReplacesInvalidCodePoints) {
  std::string out;
  AppendUtf8(out, 0x24);
  AppendUtf8(out, 0x20AC);
  AppendUtf8(out, 0xD800);
  EXPECT_EQ(out, "$€\xEF\xBF\xBD");
}

}  // namespace
}  // namespace weft

namespace weft {
namespace {

TEST(Utf8Test, CursorMatchesTheOneShotFunctions) {
  const std::string s = "aé€😀b";
  Utf8Cursor c(s);
  for (size_t cp = 0; cp <= 6; ++cp) EXPECT_EQ(c.ByteAt(cp), Utf8Offset(s, cp)) << cp;
  EXPECT_EQ(c.ByteAt(1), 1u);  // going back restarts
  EXPECT_EQ(c.CodePointAt(0), 0u);
  EXPECT_EQ(c.CodePointAt(3), 2u);
  EXPECT_EQ(c.CodePointAt(s.size()), 5u);
  EXPECT_EQ(c.CodePointAt(1), 1u);
}

}  // namespace
}  // namespace weft

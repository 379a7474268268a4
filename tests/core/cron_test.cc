#include "weft/core/cron.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

CivilTime T(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) { return CivilTime{y, mo, d, h, mi, s}; }

std::string Show(const std::optional<CivilTime>& t) {
  if (!t) return "none";
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", t->year, t->month, t->day, t->hour, t->minute, t->second);
  return buf;
}

struct NextCase {
  const char* cron;
  CivilTime after;
  const char* next;
};

TEST(Cron, FindsTheNextSlot) {
  const NextCase cases[] = {
      {"*/15 9-17 * * mon-fri", T(2026, 12, 4, 17, 45), "2026-12-07 09:00:00"},  // Friday evening -> Monday
      {"*/15 9-17 * * mon-fri", T(2026, 12, 2, 9, 0), "2026-12-02 09:15:00"},
      {"@hourly", T(2026, 12, 31, 23, 30), "2027-01-01 00:00:00"},
      {"@daily", T(2026, 2, 28, 0, 0), "2026-03-01 00:00:00"},
      {"0 0 29 2 *", T(2026, 3, 1), "2028-02-29 00:00:00"},  // leap years only
      {"30 * * * * *", T(2026, 1, 1, 0, 0, 30), "2026-01-01 00:01:30"},
      {"0 12 1 * 0", T(2026, 12, 2), "2026-12-06 12:00:00"},  // both day fields: either matches (Sunday first)
      {"0 0 * * 7", T(2026, 12, 2), "2026-12-06 00:00:00"},   // 7 is Sunday too
      {"0 9 * jan,jul *", T(2026, 2, 1), "2026-07-01 09:00:00"},
      {"5/20 * * * *", T(2026, 1, 1, 0, 6), "2026-01-01 00:25:00"},
  };
  for (const NextCase& c : cases) {
    Result<CronSpec> spec = CronSpec::Parse(c.cron);
    ASSERT_TRUE(spec.ok()) << c.cron << ": " << spec.status().message();
    EXPECT_EQ(Show(spec->Next(c.after)), c.next) << c.cron;
  }
}

TEST(Cron, RefusesWhatIsWrongAndSaysWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"* * * *", "has 4"},
      {"60 * * * *", "minute field '60'"},
      {"* 24 * * *", "hour field '24'"},
      {"* * 0 * *", "day-of-month field '0'"},
      {"* * * 13 *", "month field '13'"},
      {"* * * * 8", "day-of-week field '8'"},
      {"*/0 * * * *", "step after '/'"},
      {"5-1 * * * *", "increasing order"},
      {"a * * * *", "'a' is not a value"},
      {"1,,2 * * * *", "empty list item"},
      {"@fortnightly", "unknown cron shorthand"},
      {"0 0 31 2 *", "names no day that exists"},
  };
  for (const auto& [text, want] : cases) {
    Result<CronSpec> spec = CronSpec::Parse(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_NE(spec.status().message().find(want), std::string::npos) << text << ": " << spec.status().message();
  }
}

TEST(Cron, CivilTimeRoundTrips) {
  for (int64_t s : {int64_t{0}, int64_t{951782400}, int64_t{1796169600}, int64_t{-86400}, int64_t{4102444799}}) {
    EXPECT_EQ(UnixSecondsFromCivil(CivilFromUnixSeconds(s)), s);
  }
  EXPECT_EQ(Weekday(1970, 1, 1), 4);
  EXPECT_EQ(Weekday(2026, 12, 2), 3);
  EXPECT_EQ(Weekday(1969, 12, 31), 3);
}

}  // namespace
}  // namespace weft

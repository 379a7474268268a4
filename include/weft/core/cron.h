// Cron expressions: 5 fields (minute hour day-of-month month day-of-week)
// or 6 (seconds first), with lists, ranges, steps, month and day names, and
// the @yearly/@monthly/@weekly/@daily/@hourly shorthands. As in Vixie cron,
// when both day fields are restricted a day matches either.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "weft/core/status.h"

namespace weft {

// A wall-clock time, without a zone.
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

class CronSpec {
 public:
  // InvalidArgument naming the field that is wrong.
  static Result<CronSpec> Parse(std::string_view text);

  // The first matching time strictly after `after` (wall-clock arithmetic,
  // no zone); nullopt when none comes within eight years (Feb 30).
  std::optional<CivilTime> Next(const CivilTime& after) const;
  bool Matches(const CivilTime& t) const;

 private:
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day-of-month was '*'
  bool any_weekday_ = true;  // day-of-week was '*'
};

// Day of the week of a civil date, 0 = Sunday.
int Weekday(int year, int month, int day);
// Days since 1970-01-01 of a civil date, and back.
int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromUnixSeconds(int64_t seconds);
int64_t UnixSecondsFromCivil(const CivilTime& t);

}  // namespace weft

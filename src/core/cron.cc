#include "weft/core/cron.h"

#include <array>
#include <charconv>
#include <vector>

#include "weft/core/encoding.h"

namespace weft {
namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Field {
  const char* name;
  int min;
  int max;
  const std::string_view* names;  // nullptr when the field has none
  int names_base;                 // the value of names[0]
  size_t name_count;
};

std::optional<int> ReadValue(std::string_view s, const Field& f) {
  if (f.names != nullptr) {
    const std::string lower = AsciiLower(s);
    for (size_t i = 0; i < f.name_count; ++i) {
      if (lower == f.names[i]) return f.names_base + static_cast<int>(i);
    }
  }
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Sets the bits a field's text selects (values from f.min to f.max).
template <size_t N>
Status ParseField(std::string_view text, const Field& f, std::bitset<N>& bits, bool* any) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgumentError("cron " + std::string(f.name) + " field '" + std::string(text) +
                                "': " + std::string(why));
  };
  if (any != nullptr) *any = text == "*" || text == "?";
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) return bad("an empty list item");
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      std::string_view step_text = part.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 1 || step > f.max) {
        return bad("the step after '/' must be a number from 1 to " + std::to_string(f.max));
      }
      part = part.substr(0, slash);
    }
    int lo = f.min;
    int hi = f.max;
    if (part != "*" && part != "?") {
      size_t dash = part.find('-');
      std::optional<int> a = ReadValue(part.substr(0, dash), f);
      if (!a) return bad("'" + std::string(part.substr(0, dash)) + "' is not a value");
      lo = hi = *a;
      if (dash != std::string_view::npos) {
        std::optional<int> b = ReadValue(part.substr(dash + 1), f);
        if (!b) return bad("'" + std::string(part.substr(dash + 1)) + "' is not a value");
        hi = *b;
      } else if (step > 1) {
        hi = f.max;  // "5/15" = from 5 every 15
      }
      // Day of week 7 is Sunday too.
      if (f.max == 7 && lo == 7 && hi == 7) lo = hi = 0;
      if (lo < f.min || hi > f.max || lo > hi) {
        return bad("values must be from " + std::to_string(f.min) + " to " + std::to_string(f.max) +
                   ", in increasing order");
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<size_t>(v % static_cast<int>(N)));
    if (comma == text.size()) break;
  }
  return Status::Ok();
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  // Howard Hinnant's days_from_civil.
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int Weekday(int year, int month, int day) {
  const int64_t days = DaysFromCivil(year, month, day);
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
}

CivilTime CivilFromUnixSeconds(int64_t seconds) {
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime t;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2 ? 1 : 0));
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem % 3600 / 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

int64_t UnixSecondsFromCivil(const CivilTime& t) {
  return DaysFromCivil(t.year, t.month, t.day) * 86400 + int64_t{t.hour} * 3600 + int64_t{t.minute} * 60 + t.second;
}

Result<CronSpec> CronSpec::Parse(std::string_view text) {
  std::string expanded;
  if (!text.empty() && text[0] == '@') {
    const std::string lower = AsciiLower(text);
    if (lower == "@yearly" || lower == "@annually") {
      expanded = "0 0 1 1 *";
    } else if (lower == "@monthly") {
      expanded = "0 0 1 * *";
    } else if (lower == "@weekly") {
      expanded = "0 0 * * 0";
    } else if (lower == "@daily" || lower == "@midnight") {
      expanded = "0 0 * * *";
    } else if (lower == "@hourly") {
      expanded = "0 * * * *";
    } else {
      return InvalidArgumentError("unknown cron shorthand '" + std::string(text) +
                                  "' (one of @yearly, @monthly, @weekly, @daily, @hourly)");
    }
    text = expanded;
  }
  std::vector<std::string_view> fields = SplitFields(text);
  if (fields.size() != 5 && fields.size() != 6) {
    return InvalidArgumentError(
        "a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds "
        "first); '" +
        std::string(text) + "' has " + std::to_string(fields.size()));
  }
  CronSpec spec;
  size_t i = 0;
  if (fields.size() == 6) {
    WEFT_RETURN_IF_ERROR(ParseField(fields[i++], Field{"seconds", 0, 59, nullptr, 0, 0}, spec.seconds_, nullptr));
  } else {
    spec.seconds_.set(0);
  }
  WEFT_RETURN_IF_ERROR(ParseField(fields[i++], Field{"minute", 0, 59, nullptr, 0, 0}, spec.minutes_, nullptr));
  WEFT_RETURN_IF_ERROR(ParseField(fields[i++], Field{"hour", 0, 23, nullptr, 0, 0}, spec.hours_, nullptr));
  WEFT_RETURN_IF_ERROR(
      ParseField(fields[i++], Field{"day-of-month", 1, 31, nullptr, 0, 0}, spec.days_, &spec.any_day_));
  WEFT_RETURN_IF_ERROR(
      ParseField(fields[i++], Field{"month", 1, 12, kMonthNames.data(), 1, kMonthNames.size()}, spec.months_, nullptr));
  WEFT_RETURN_IF_ERROR(ParseField(fields[i++], Field{"day-of-week", 0, 7, kDayNames.data(), 0, kDayNames.size()},
                                  spec.weekdays_, &spec.any_weekday_));
  // A day-of-month that no selected month has ("0 0 31 2 *") never fires.
  bool possible = false;
  for (int m = 1; m <= 12 && !possible; ++m) {
    if (!spec.months_.test(static_cast<size_t>(m))) continue;
    for (int d = 1; d <= DaysInMonth(2000, m); ++d) possible = possible || spec.days_.test(static_cast<size_t>(d));
  }
  if (!possible && spec.any_weekday_) {
    return InvalidArgumentError("cron expression '" + std::string(text) + "' names no day that exists");
  }
  return spec;
}

bool CronSpec::Matches(const CivilTime& t) const {
  if (!seconds_.test(static_cast<size_t>(t.second)) || !minutes_.test(static_cast<size_t>(t.minute)) ||
      !hours_.test(static_cast<size_t>(t.hour)) || !months_.test(static_cast<size_t>(t.month))) {
    return false;
  }
  const bool day = days_.test(static_cast<size_t>(t.day));
  const bool weekday = weekdays_.test(static_cast<size_t>(Weekday(t.year, t.month, t.day)));
  if (any_day_ && any_weekday_) return true;
  if (any_day_) return weekday;
  if (any_weekday_) return day;
  return day || weekday;
}

std::optional<CivilTime> CronSpec::Next(const CivilTime& after) const {
  // Walk days, then the matching hours, minutes and seconds within a day.
  CivilTime t = after;
  bool same_day = true;
  for (int guard = 0; guard < 366 * 8; ++guard) {
    CivilTime day = t;
    const bool day_matches = [&] {
      if (!months_.test(static_cast<size_t>(day.month))) return false;
      const bool d = days_.test(static_cast<size_t>(day.day));
      const bool w = weekdays_.test(static_cast<size_t>(Weekday(day.year, day.month, day.day)));
      if (any_day_ && any_weekday_) return true;
      if (any_day_) return w;
      if (any_weekday_) return d;
      return d || w;
    }();
    if (day_matches) {
      for (int h = same_day ? t.hour : 0; h < 24; ++h) {
        if (!hours_.test(static_cast<size_t>(h))) continue;
        const bool same_hour = same_day && h == t.hour;
        for (int m = same_hour ? t.minute : 0; m < 60; ++m) {
          if (!minutes_.test(static_cast<size_t>(m))) continue;
          const bool same_minute = same_hour && m == t.minute;
          for (int s = same_minute ? t.second + 1 : 0; s < 60; ++s) {
            if (!seconds_.test(static_cast<size_t>(s))) continue;
            CivilTime out = day;
            out.hour = h;
            out.minute = m;
            out.second = s;
            return out;
          }
        }
      }
    }
    // The next day.
    same_day = false;
    t.hour = t.minute = t.second = 0;
    if (++t.day > DaysInMonth(t.year, t.month)) {
      t.day = 1;
      if (++t.month > 12) {
        t.month = 1;
        ++t.year;
      }
    }
  }
  return std::nullopt;
}

}  // namespace weft

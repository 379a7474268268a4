// $now $millis $fromMillis $toMillis with XPath F&O 3.1 picture strings
// ([Y0001]-[M01]-[D01], [FNn], [h]:[m01][P], [Z01:01], ...).
#include <cmath>
#include <map>
#include <optional>

#include "integer_format.h"
#include "library.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

constexpr int64_t kDayMs = 86'400'000;

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kDays[] = {"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  // normalise month overflow first
  y += FloorDiv(m - 1, 12);
  m = (m - 1) - FloorDiv(m - 1, 12) * 12 + 1;
  y -= m <= 2;
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {y + (m <= 2), m, d};
}

struct DateTime {
  int64_t millis;  // already shifted by the timezone offset
  int64_t year;
  int month, day, hour, minute, second, ms;
  int dow;  // 1 = Monday .. 7 = Sunday
  int64_t days;
};

DateTime Breakdown(int64_t millis) {
  DateTime t;
  t.millis = millis;
  t.days = FloorDiv(millis, kDayMs);
  int64_t rem = millis - t.days * kDayMs;
  Civil c = CivilFromDays(t.days);
  t.year = c.year;
  t.month = c.month;
  t.day = c.day;
  t.hour = static_cast<int>(rem / 3'600'000);
  t.minute = static_cast<int>(rem / 60'000 % 60);
  t.second = static_cast<int>(rem / 1000 % 60);
  t.ms = static_cast<int>(rem % 1000);
  int64_t wd = (t.days + 4) % 7;  // 1970-01-01 was a Thursday (4)
  if (wd < 0) wd += 7;
  t.dow = wd == 0 ? 7 : static_cast<int>(wd);
  return t;
}

// Start (in days) of week 1 of the month/year starting at `first_day`: the
// week (Monday-based) containing the first Thursday.
int64_t StartOfFirstWeek(int64_t first_day) {
  int64_t wd = (first_day + 4) % 7;
  if (wd < 0) wd += 7;
  int64_t dow = wd == 0 ? 7 : wd;
  return dow > 4 ? first_day + (8 - dow) : first_day - (dow - 1);
}

void IsoWeek(const DateTime& t, int64_t& week_year, int64_t& week) {
  int64_t y = t.year;
  int64_t start = StartOfFirstWeek(DaysFromCivil(y, 1, 1));
  int64_t next = StartOfFirstWeek(DaysFromCivil(y + 1, 1, 1));
  if (t.days < start) {
    --y;
    start = StartOfFirstWeek(DaysFromCivil(y, 1, 1));
  } else if (t.days >= next) {
    ++y;
    start = next;
  }
  week_year = y;
  week = (t.days - start) / 7 + 1;
}

void MonthWeek(const DateTime& t, int64_t& month, int64_t& week) {
  int64_t y = t.year, m = t.month;
  int64_t start = StartOfFirstWeek(DaysFromCivil(y, m, 1));
  int64_t next = StartOfFirstWeek(DaysFromCivil(y, m + 1, 1));
  if (t.days < start) {
    --m;
    start = StartOfFirstWeek(DaysFromCivil(y, m, 1));
  } else if (t.days >= next) {
    ++m;
    start = next;
  }
  month = ((m - 1) % 12 + 12) % 12 + 1;
  week = (t.days - start) / 7 + 1;
}

struct Marker {
  bool literal = false;
  std::string text;  // literal text
  char component = 0;
  std::string pres1, pres2;
  int names = 0;  // 0 none, 1 lower, 2 upper, 3 title
  std::optional<int> min_width, max_width;
  IntegerPicture integer;
  int year_digits = -1;
};

std::vector<Marker> AnalysePicture(const std::string& picture) {
  static const std::string defaults = "Y1M1D1d1FnW1w1X1x1H1h1PnmsfZz";
  auto default_for = [](char c) -> std::optional<std::string> {
    switch (c) {
      case 'Y':
      case 'M':
      case 'D':
      case 'd':
      case 'W':
      case 'w':
      case 'X':
      case 'x':
      case 'H':
      case 'h':
      case 'f': return std::string("1");
      case 'F':
      case 'P':
      case 'C':
      case 'E': return std::string("n");
      case 'm':
      case 's': return std::string("01");
      case 'Z':
      case 'z': return std::string("01:01");
      default: return std::nullopt;
    }
  };
  std::vector<Marker> spec;
  auto add_literal = [&](size_t start, size_t end) {
    if (end <= start) return;
    std::string lit = picture.substr(start, end - start);
    std::string out;
    for (size_t i = 0; i < lit.size(); ++i) {
      out += lit[i];
      if (lit[i] == ']' && i + 1 < lit.size() && lit[i + 1] == ']') ++i;
    }
    Marker m;
    m.literal = true;
    m.text = out;
    spec.push_back(m);
  };
  size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == '[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == '[') {
        add_literal(start, pos);
        Marker m;
        m.literal = true;
        m.text = "[";
        spec.push_back(m);
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(']', start);
      if (pos == std::string::npos) throw JsonataError("D3135");
      std::string raw = picture.substr(start + 1, pos - start - 1);
      std::string marker;
      for (char c : raw)
        if (!std::isspace(static_cast<unsigned char>(c))) marker += c;
      Marker def;
      def.component = marker.empty() ? ' ' : marker[0];
      size_t comma = marker.rfind(',');
      std::string pres;
      if (comma != std::string::npos) {
        std::string width = marker.substr(comma + 1);
        size_t dash = width.find('-');
        std::string mn = dash == std::string::npos ? width : width.substr(0, dash);
        std::string mx = dash == std::string::npos ? std::string() : width.substr(dash + 1);
        auto parse_width = [](const std::string& w) -> std::optional<int> {
          if (w.empty() || w == "*") return std::nullopt;
          // A width is padding the picture asks for: bounded, so that
          // `[Y,99999999]` is an error rather than 100 MB of zeros.
          constexpr int kMaxWidth = 1000;
          int n = 0;
          for (char c : w) {
            if (c < '0' || c > '9') break;
            n = n * 10 + (c - '0');
            if (n > kMaxWidth) {
              JsonataError e("U1003");
              e.detail = "the width " + w + " in a date/time picture is above " + std::to_string(kMaxWidth);
              throw e;
            }
          }
          return n;
        };
        def.min_width = parse_width(mn);
        if (dash != std::string::npos) def.max_width = parse_width(mx);
        pres = marker.substr(1, comma - 1);
      } else {
        pres = marker.size() > 1 ? marker.substr(1) : std::string();
      }
      if (pres.size() == 1) {
        def.pres1 = pres;
      } else if (pres.size() > 1) {
        char last = pres.back();
        if (std::string("atco").find(last) != std::string::npos) {
          def.pres2 = std::string(1, last);
          def.pres1 = pres.substr(0, pres.size() - 1);
        } else {
          def.pres1 = pres;
        }
      } else {
        auto d = default_for(def.component);
        if (!d) {
          JsonataError e("D3132");
          e.value = Value(std::string(1, def.component));
          throw e;
        }
        def.pres1 = *d;
      }
      if (!default_for(def.component)) {
        JsonataError e("D3132");
        e.value = Value(std::string(1, def.component));
        throw e;
      }
      if (def.pres1[0] == 'n') {
        def.names = 1;
      } else if (def.pres1[0] == 'N') {
        def.names = (def.pres1.size() > 1 && def.pres1[1] == 'n') ? 3 : 2;
      } else if (std::string("YMDdFWwXxHhmsf").find(def.component) != std::string::npos) {
        std::string pattern = def.pres1;
        if (!def.pres2.empty()) pattern += ";" + def.pres2;
        def.integer = AnalyseIntegerPicture(pattern);
        if (def.min_width && def.integer.mandatory_digits < *def.min_width)
          def.integer.mandatory_digits = *def.min_width;
        if (def.component == 'Y') {
          def.year_digits = -1;
          if (def.max_width) {
            def.year_digits = *def.max_width;
            def.integer.mandatory_digits = *def.max_width;
          } else {
            int w = def.integer.mandatory_digits + def.integer.optional_digits;
            if (w >= 2) def.year_digits = w;
          }
        }
      }
      if (def.component == 'Z' || def.component == 'z') def.integer = AnalyseIntegerPicture(def.pres1);
      spec.push_back(def);
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return spec;
}

std::string ApplyNameCase(std::string s, int names) {
  if (names == 2) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (names == 1) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string FormatComponent(const DateTime& t, const Marker& m, int off_h, int off_m) {
  char c = m.component;
  double value = 0;
  int64_t wy = 0, wk = 0;
  switch (c) {
    case 'Y': value = static_cast<double>(t.year); break;
    case 'M': value = t.month; break;
    case 'D': value = t.day; break;
    case 'd': value = static_cast<double>(t.days - DaysFromCivil(t.year, 1, 1) + 1); break;
    case 'F': value = t.dow; break;
    case 'W':
      IsoWeek(t, wy, wk);
      value = static_cast<double>(wk);
      break;
    case 'X':
      IsoWeek(t, wy, wk);
      value = static_cast<double>(wy);
      break;
    case 'w':
      MonthWeek(t, wy, wk);
      value = static_cast<double>(wk);
      break;
    case 'x':
      MonthWeek(t, wy, wk);
      value = static_cast<double>(wy);
      break;
    case 'H': value = t.hour; break;
    case 'h': value = t.hour % 12 == 0 ? 12 : t.hour % 12; break;
    case 'm': value = t.minute; break;
    case 's': value = t.second; break;
    case 'f': value = t.ms; break;
    default: break;
  }
  if (std::string("YMDdFWwXxHhms").find(c) != std::string::npos) {
    if (c == 'Y' && m.year_digits != -1) value = std::fmod(value, std::pow(10, m.year_digits));
    if (m.names) {
      std::string name;
      if (c == 'M' || c == 'x') {
        name = kMonths[static_cast<int>(value) - 1];
      } else if (c == 'F') {
        name = kDays[static_cast<int>(value)];
      } else {
        JsonataError e("D3133");
        e.value = Value(std::string(1, c));
        throw e;
      }
      name = ApplyNameCase(name, m.names);
      if (m.max_width && static_cast<int>(name.size()) > *m.max_width)
        name = name.substr(0, static_cast<size_t>(*m.max_width));
      return name;
    }
    return FormatIntegerWith(value, m.integer);
  }
  if (c == 'f') return FormatIntegerWith(value, m.integer);
  if (c == 'Z' || c == 'z') {
    int offset = off_h * 100 + off_m;
    std::string out;
    if (m.integer.regular) {
      out = FormatIntegerWith(offset, m.integer);
    } else {
      int digits = m.integer.mandatory_digits;
      if (digits == 1 || digits == 2) {
        out = FormatIntegerWith(off_h, m.integer);
        if (off_m != 0) out += ":" + FormatIntegerWith(off_m, AnalyseIntegerPicture("00"));
      } else if (digits == 3 || digits == 4) {
        out = FormatIntegerWith(offset, m.integer);
      } else {
        JsonataError e("D3134");
        e.value = Value(digits);
        throw e;
      }
    }
    if (offset >= 0) out = "+" + out;
    if (c == 'z') out = "GMT" + out;
    if (offset == 0 && m.pres2 == "t") out = "Z";
    return out;
  }
  if (c == 'P') {
    std::string ap = t.hour >= 12 ? "pm" : "am";
    return m.names == 2 ? ApplyNameCase(ap, 2) : ap;
  }
  if (c == 'C' || c == 'E') return "ISO";
  return "";
}

const std::vector<Marker>& IsoSpec() {
  static const std::vector<Marker> spec = AnalysePicture("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]");
  return spec;
}

std::string FormatDateTime(int64_t millis, const std::optional<std::string>& picture,
                           const std::optional<std::string>& timezone) {
  int off_h = 0, off_m = 0;
  if (timezone) {
    int offset = std::atoi(timezone->c_str());
    off_h = static_cast<int>(std::floor(offset / 100.0));
    off_m = offset % 100;
  }
  std::vector<Marker> custom;
  const std::vector<Marker>* spec = &IsoSpec();
  if (picture) {
    custom = AnalysePicture(*picture);
    spec = &custom;
  }
  DateTime t = Breakdown(millis + static_cast<int64_t>(60 * off_h + off_m) * 60'000);
  std::string out;
  for (const auto& m : *spec) out += m.literal ? m.text : FormatComponent(t, m, off_h, off_m);
  return out;
}

// ISO 8601 as JavaScript's Date.parse accepts it after JSONata's check.
std::optional<int64_t> ParseIso8601(const std::string& s) {
  size_t i = 0;
  auto digits = [&](int n, int64_t& out) {
    if (i + static_cast<size_t>(n) > s.size()) return false;
    out = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + static_cast<size_t>(k)];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += static_cast<size_t>(n);
    return true;
  };
  int64_t y, mo = 1, d = 1, h = 0, mi = 0, se = 0, ms = 0;
  if (!digits(4, y)) return std::nullopt;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!digits(2, mo)) return std::nullopt;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!digits(2, d)) return std::nullopt;
    }
  }
  int64_t offset_min = 0;
  if (i < s.size() && s[i] == 'T') {
    ++i;
    if (!digits(2, h) || i >= s.size() || s[i++] != ':' || !digits(2, mi) || i >= s.size() || s[i++] != ':' ||
        !digits(2, se))
      return std::nullopt;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t st = i;
      double frac = 0, scale = 0.1;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        frac += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == st) return std::nullopt;
      ms = static_cast<int64_t>(std::floor(frac * 1000 + 1e-9));
    }
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int64_t oh, om;
      if (!digits(2, oh)) return std::nullopt;
      if (i < s.size() && s[i] == ':') ++i;
      if (!digits(2, om)) return std::nullopt;
      offset_min = sign * (oh * 60 + om);
    } else if (i < s.size() && s[i] == 'Z') {
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 59) return std::nullopt;
  return DaysFromCivil(y, mo, d) * kDayMs + h * 3'600'000 + mi * 60'000 + se * 1000 + ms - offset_min * 60'000;
}

bool IequalsPrefix(const std::string& s, size_t pos, const std::string& word) {
  if (pos + word.size() > s.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[pos + k])) != std::tolower(static_cast<unsigned char>(word[k])))
      return false;
  return true;
}

// Parses `text` written with `picture`; undefined when it does not fit.
Value ParseDateTime(const std::string& text, const std::string& picture, int64_t now_ms) {
  std::vector<Marker> spec = AnalysePicture(picture);
  std::map<char, int64_t> v;
  std::optional<int64_t> tz_minutes;
  bool pm = false, have_p = false;
  size_t pos = 0;
  for (size_t k = 0; k < spec.size(); ++k) {
    const Marker& m = spec[k];
    if (m.literal) {
      if (text.compare(pos, m.text.size(), m.text) != 0) return Value();
      pos += m.text.size();
      continue;
    }
    const bool next_is_marker = k + 1 < spec.size() && !spec[k + 1].literal;
    char c = m.component;
    if (m.names && (c == 'M' || c == 'x' || c == 'F')) {
      bool found = false;
      int count = (c == 'F') ? 7 : 12;
      for (int idx = 0; idx < count && !found; ++idx) {
        std::string name = (c == 'F') ? kDays[idx + 1] : kMonths[idx];
        if (m.max_width && static_cast<int>(name.size()) > *m.max_width)
          name = name.substr(0, static_cast<size_t>(*m.max_width));
        if (IequalsPrefix(text, pos, name)) {
          v[c] = idx + 1;
          pos += name.size();
          found = true;
        }
      }
      if (!found) return Value();
      continue;
    }
    if (c == 'P') {
      if (IequalsPrefix(text, pos, "am") || IequalsPrefix(text, pos, "pm")) {
        have_p = true;
        pm = std::tolower(static_cast<unsigned char>(text[pos])) == 'p';
        pos += 2;
        continue;
      }
      return Value();
    }
    if (c == 'Z' || c == 'z') {
      if (c == 'z') {
        if (!IequalsPrefix(text, pos, "GMT")) return Value();
        pos += 3;
      }
      if (pos < text.size() && text[pos] == 'Z') {
        tz_minutes = 0;
        ++pos;
        continue;
      }
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return Value();
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      std::string digits;
      while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == ':')) {
        if (text[pos] != ':') digits += text[pos];
        ++pos;
      }
      if (digits.empty()) return Value();
      int hh, mm = 0;
      if (digits.size() <= 2) {
        hh = std::atoi(digits.c_str());
      } else {
        hh = std::atoi(digits.substr(0, digits.size() - 2).c_str());
        mm = std::atoi(digits.substr(digits.size() - 2).c_str());
      }
      tz_minutes = sign * (hh * 60 + mm);
      continue;
    }
    // integer component
    size_t start = pos;
    const IntegerPicture& f = m.integer;
    if (f.primary == IntegerPicture::Primary::kDecimal) {
      size_t width = static_cast<size_t>(f.mandatory_digits);
      if (next_is_marker && width > 0) {
        pos = std::min(text.size(), pos + width);
      } else {
        while (pos < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[pos])) ||
                (pos > start && (text[pos] == ',' || text[pos] == '.') && !f.regular_char.empty()) ||
                (pos == start && text[pos] == '-')))
          ++pos;
        if (f.ordinal) {
          while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
        }
      }
    } else if (f.primary == IntegerPicture::Primary::kWords) {
      // words run until the next literal that is not part of number words
      std::string stop = (k + 1 < spec.size() && spec[k + 1].literal) ? spec[k + 1].text : std::string();
      while (pos < text.size()) {
        if (!stop.empty() && text.compare(pos, stop.size(), stop) == 0 && !(stop == " " || stop == "-" || stop == ", "))
          break;
        char ch = text[pos];
        if (!(std::isalpha(static_cast<unsigned char>(ch)) || ch == ' ' || ch == '-' || ch == ',')) break;
        ++pos;
      }
      while (pos > start && (text[pos - 1] == ' ' || text[pos - 1] == ',')) --pos;
    } else {
      while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    }
    if (pos == start) return Value();
    double n;
    if (!ParseIntegerWith(text.substr(start, pos - start), f, n)) return Value();
    // Components beyond any calendar (year 1,000,000 and up) are not a date;
    // the bound also keeps the millisecond arithmetic far from overflow.
    if (!(std::fabs(n) < 1e6)) return Value();
    v[c] = static_cast<int64_t>(n);
  }
  if (pos != text.size()) return Value();
  if (v.count('h')) {
    int64_t h = v['h'] % 12;
    if (have_p && pm) h += 12;
    v['H'] = h;
  }
  if (v.empty() && !tz_minutes) return Value();
  DateTime now = Breakdown(now_ms);
  int64_t days;
  const char order_ymd[] = {'Y', 'M', 'D', 'H', 'm', 's', 'f'};
  const char order_yd[] = {'Y', 'd', 'H', 'm', 's', 'f'};
  const char* order = v.count('d') ? order_yd : order_ymd;
  size_t n = v.count('d') ? 6 : 7;
  int first = -1, last = -1;
  for (size_t i = 0; i < n; ++i) {
    if (v.count(order[i])) {
      if (first < 0) first = static_cast<int>(i);
      last = static_cast<int>(i);
    }
  }
  if (first < 0) return Value();
  for (int i = first; i <= last; ++i)
    if (!v.count(order[i])) throw JsonataError("D3136");
  auto get = [&](char c, int idx, int64_t current, int64_t minimum) {
    if (v.count(c)) return v[c];
    return idx < first ? current : minimum;
  };
  int64_t Y = get('Y', 0, now.year, 0);
  if (order == order_yd) {
    int64_t d = get('d', 1, now.days - DaysFromCivil(now.year, 1, 1) + 1, 1);
    days = DaysFromCivil(Y, 1, 1) + d - 1;
    int64_t H = get('H', 2, now.hour, 0), M = get('m', 3, now.minute, 0), S = get('s', 4, now.second, 0),
            F = get('f', 5, now.ms, 0);
    int64_t ms = days * kDayMs + H * 3'600'000 + M * 60'000 + S * 1000 + F;
    return Value(static_cast<double>(ms - tz_minutes.value_or(0) * 60'000));
  }
  int64_t Mo = get('M', 1, now.month, 1), D = get('D', 2, now.day, 1);
  int64_t H = get('H', 3, now.hour, 0), Mi = get('m', 4, now.minute, 0), S = get('s', 5, now.second, 0),
          F = get('f', 6, now.ms, 0);
  days = DaysFromCivil(Y, Mo, D);
  int64_t ms = days * kDayMs + H * 3'600'000 + Mi * 60'000 + S * 1000 + F;
  return Value(static_cast<double>(ms - tz_minutes.value_or(0) * 60'000));
}

std::optional<std::string> OptString(const Value& v) {
  if (v.is_string()) return v.as_string();
  return std::nullopt;
}

Value Now(std::vector<Value>& a, const CallContext& ctx) {
  int64_t ts = ctx.ev.timestamp_ms();
  if (Arg(a, 0).is_undefined() && Arg(a, 1).is_undefined())
    return Value(FormatDateTime(ts, std::nullopt, std::nullopt));
  return Value(FormatDateTime(ts, OptString(Arg(a, 0)), OptString(Arg(a, 1))));
}

Value Millis(std::vector<Value>&, const CallContext& ctx) { return Value(static_cast<double>(ctx.ev.timestamp_ms())); }

Value FromMillis(std::vector<Value>& a, const CallContext&) {
  if (a[0].is_undefined()) return Value();
  double ms = a[0].as_number();
  if (!std::isfinite(ms)) Fail("D3030", a[0]);
  // JavaScript dates end at +-8.64e15 ms; beyond that there is no date.
  if (std::fabs(ms) > 8.64e15) Fail("D3030", a[0]);
  return Value(FormatDateTime(SaturatingInt64(std::floor(ms)), OptString(Arg(a, 1)), OptString(Arg(a, 2))));
}

Value ToMillis(std::vector<Value>& a, const CallContext& ctx) {
  if (a[0].is_undefined()) return Value();
  const std::string& s = a[0].as_string();
  if (Arg(a, 1).is_undefined()) {
    auto r = ParseIso8601(s);
    if (!r) Fail("D3110", a[0]);
    return Value(static_cast<double>(*r));
  }
  return ParseDateTime(s, a[1].as_string(), ctx.ev.timestamp_ms());
}

}  // namespace

const std::vector<BuiltinDef>& DateTimeBuiltins() {
  static const std::vector<BuiltinDef> defs = {
      {"now", "<s?s?:s>", Now, 2},
      {"millis", "<:n>", Millis, 0},
      {"fromMillis", "<n-s?s?:s>", FromMillis, 3},
      {"toMillis", "<s-s?:n>", ToMillis, 2},
  };
  return defs;
}

}  // namespace weft::expr

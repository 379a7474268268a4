#include "integer_format.h"

#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "../error.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"

namespace weft::expr {
namespace {

const uint32_t kDecimalGroups[] = {0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
                                   0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
                                   0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
                                   0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

constexpr double kMaxRoman = 1e9;

const char* kFew[] = {"Zero",     "One",     "Two",     "Three",     "Four",     "Five",    "Six",
                      "Seven",    "Eight",   "Nine",    "Ten",       "Eleven",   "Twelve",  "Thirteen",
                      "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
const char* kOrdinals[] = {"Zeroth",    "First",     "Second",      "Third",      "Fourth",
                           "Fifth",     "Sixth",     "Seventh",     "Eighth",     "Ninth",
                           "Tenth",     "Eleventh",  "Twelfth",     "Thirteenth", "Fourteenth",
                           "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
const char* kDecades[] = {"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"};
const char* kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};

struct RomanNumeral {
  int value;
  const char* letters;
};
const RomanNumeral kRoman[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"},
                               {40, "xl"},  {10, "x"},   {9, "ix"},  {5, "v"},    {4, "iv"},  {1, "i"}};

int DigitGroup(uint32_t cp) {
  for (uint32_t g : kDecimalGroups)
    if (cp >= g && cp <= g + 9) return static_cast<int>(g);
  return -1;
}

std::string WordsLookup(double num, bool prev, bool ord) {
  std::string words;
  if (num <= 19) {
    words = std::string(prev ? " and " : "") + (ord ? kOrdinals[static_cast<int>(num)] : kFew[static_cast<int>(num)]);
  } else if (num < 100) {
    int tens = static_cast<int>(num / 10);
    int rem = static_cast<int>(std::fmod(num, 10));
    words = std::string(prev ? " and " : "") + kDecades[tens - 2];
    if (rem > 0) {
      words += "-" + WordsLookup(rem, false, ord);
    } else if (ord) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    int hundreds = static_cast<int>(num / 100);
    double rem = std::fmod(num, 100);
    words = std::string(prev ? ", " : "") + kFew[hundreds] + " Hundred";
    if (rem > 0) {
      words += WordsLookup(rem, true, ord);
    } else if (ord) {
      words += "th";
    }
  } else {
    int mag = static_cast<int>(std::floor(std::log10(num) / 3));
    if (mag > 4) mag = 4;
    double factor = std::pow(10, mag * 3);
    double mant = std::floor(num / factor);
    double rem = num - mant * factor;
    words = std::string(prev ? ", " : "") + WordsLookup(mant, false, false) + " " + kMagnitudes[mag - 1];
    if (rem > 0) {
      words += WordsLookup(rem, true, ord);
    } else if (ord) {
      words += "th";
    }
  }
  return words;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::u32string ToU32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out += static_cast<char32_t>(DecodeUtf8(s, i));
  return out;
}

std::string FromU32(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) AppendUtf8(out, static_cast<uint32_t>(c));
  return out;
}

std::string NumberToWords(double value, bool ordinal) { return WordsLookup(value, false, ordinal); }

double WordsToNumber(const std::string& text) {
  static const std::map<std::string, double> values = [] {
    std::map<std::string, double> m;
    for (int i = 0; i < 20; ++i) {
      m[Lower(kFew[i])] = i;
      m[Lower(kOrdinals[i])] = i;
    }
    for (int i = 0; i < 9; ++i) {
      std::string w = Lower(kDecades[i]);
      m[w] = (i + 2) * 10;
      m[w.substr(0, w.size() - 1) + "ieth"] = (i + 2) * 10;
    }
    m["hundredth"] = 100;
    for (int i = 0; i < 4; ++i) {
      std::string w = Lower(kMagnitudes[i]);
      m[w] = std::pow(10, (i + 1) * 3);
      m[w + "th"] = std::pow(10, (i + 1) * 3);
    }
    return m;
  }();
  // split on ", ", " and ", whitespace or '-'
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, ", ") == 0) {
      parts.push_back(cur);
      cur.clear();
      ++i;
    } else if (text.compare(i, 5, " and ") == 0) {
      parts.push_back(cur);
      cur.clear();
      i += 4;
    } else if (text[i] == ' ' || text[i] == '-' || text[i] == '\t') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  parts.push_back(cur);
  std::vector<double> segs{0};
  for (const auto& p : parts) {
    auto it = values.find(p);
    double v = it == values.end() ? NAN : it->second;
    if (v < 100 || std::isnan(v)) {
      double top = segs.back();
      segs.pop_back();
      if (top >= 1000) {
        segs.push_back(top);
        top = 0;
      }
      segs.push_back(top + v);
    } else {
      double top = segs.back();
      segs.pop_back();
      segs.push_back(top * v);
    }
  }
  return std::accumulate(segs.begin(), segs.end(), 0.0);
}

std::string ToRoman(double value) {
  std::string out;
  if (value > kMaxRoman) {
    JsonataError e("U1003");
    e.detail = "roman numeral for a number above 1e9 would be too long";
    throw e;
  }
  auto v = SaturatingInt64(value);
  for (const auto& r : kRoman) {
    while (v >= r.value) {
      out += r.letters;
      v -= r.value;
    }
  }
  return out;
}

double FromRoman(const std::string& text) {
  std::string s = Lower(text);
  double total = 0;
  size_t i = 0;
  for (const auto& r : kRoman) {
    size_t len = std::strlen(r.letters);
    while (s.compare(i, len, r.letters) == 0) {
      total += r.value;
      i += len;
    }
  }
  return i == s.size() ? total : NAN;
}

std::string ToLetters(double value, char a) {
  std::string letters;
  int64_t v = SaturatingInt64(value);
  while (v > 0) {
    letters.insert(letters.begin(), static_cast<char>((v - 1) % 26 + a));
    v = (v - 1) / 26;
  }
  return letters;
}

double FromLetters(const std::string& text, char a) {
  double total = 0;
  for (char c : text) {
    int d = c - a + 1;
    if (d < 1 || d > 26) return NAN;
    total = total * 26 + d;
  }
  return total;
}

IntegerPicture AnalyseIntegerPicture(const std::string& picture) {
  IntegerPicture f;
  std::string primary = picture;
  size_t semi = picture.rfind(';');
  if (semi != std::string::npos) {
    primary = picture.substr(0, semi);
    std::string modifier = picture.substr(semi + 1);
    if (!modifier.empty() && modifier[0] == 'o') f.ordinal = true;
  }
  if (primary == "A" || primary == "a") {
    f.primary = IntegerPicture::Primary::kLetters;
    if (primary == "A") f.letter_case = IntegerPicture::Case::kUpper;
    return f;
  }
  if (primary == "I" || primary == "i") {
    f.primary = IntegerPicture::Primary::kRoman;
    if (primary == "I") f.letter_case = IntegerPicture::Case::kUpper;
    return f;
  }
  if (primary == "W" || primary == "Ww" || primary == "w") {
    f.primary = IntegerPicture::Primary::kWords;
    f.letter_case = primary == "W"    ? IntegerPicture::Case::kUpper
                    : primary == "Ww" ? IntegerPicture::Case::kTitle
                                      : IntegerPicture::Case::kLower;
    return f;
  }
  std::u32string cps = ToU32(primary);
  int zero = -1;
  int sep_pos = 0;
  std::vector<std::pair<int, std::u32string>> seps;
  for (auto it = cps.rbegin(); it != cps.rend(); ++it) {
    int g = DigitGroup(*it);
    if (g >= 0) {
      ++f.mandatory_digits;
      ++sep_pos;
      if (zero < 0) {
        zero = g;
      } else if (g != zero) {
        throw JsonataError("D3131");
      }
    } else if (*it == U'#') {
      ++sep_pos;
      ++f.optional_digits;
    } else {
      seps.emplace_back(sep_pos, std::u32string(1, *it));
    }
  }
  if (f.mandatory_digits == 0) {
    f.primary = IntegerPicture::Primary::kSequence;
    f.token = primary;
    return f;
  }
  f.zero_code = static_cast<uint32_t>(zero);
  // regular grouping: same separator at multiples of one interval
  int factor = 0;
  if (!seps.empty()) {
    bool same = true;
    for (const auto& s : seps)
      if (s.second != seps[0].second) same = false;
    if (same) {
      int g = 0;
      for (const auto& s : seps) g = std::gcd(g, s.first);
      factor = g;
      for (size_t i = 1; i <= seps.size() && factor; ++i) {
        bool found = false;
        for (const auto& s : seps)
          if (s.first == static_cast<int>(i) * g) found = true;
        if (!found) factor = 0;
      }
    }
  }
  if (factor > 0) {
    f.regular = true;
    f.regular_position = factor;
    f.regular_char = seps[0].second;
  } else {
    f.separators = seps;
  }
  return f;
}

std::string FormatIntegerWith(double value, const IntegerPicture& f) {
  // Infinity has no digits, words or letters (jsonata-js overflows its stack
  // spelling it out).
  if (!std::isfinite(value)) throw JsonataError("D3001");
  bool negative = value < 0;
  value = std::fabs(value);
  std::string out;
  switch (f.primary) {
    case IntegerPicture::Primary::kLetters:
      out = ToLetters(value, f.letter_case == IntegerPicture::Case::kUpper ? 'A' : 'a');
      break;
    case IntegerPicture::Primary::kRoman:
      out = ToRoman(value);
      if (f.letter_case == IntegerPicture::Case::kUpper) out = Upper(out);
      break;
    case IntegerPicture::Primary::kWords:
      out = NumberToWords(value, f.ordinal);
      if (f.letter_case == IntegerPicture::Case::kUpper) out = Upper(out);
      if (f.letter_case == IntegerPicture::Case::kLower) out = Lower(out);
      break;
    case IntegerPicture::Primary::kDecimal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f", value);
      std::u32string s = ToU32(buf);
      if (static_cast<int>(s.size()) < f.mandatory_digits)
        s.insert(0, static_cast<size_t>(f.mandatory_digits) - s.size(), U'0');
      if (f.zero_code != '0') {
        for (auto& c : s) c = static_cast<char32_t>(c - U'0' + f.zero_code);
      }
      if (f.regular) {
        int n = (static_cast<int>(s.size()) - 1) / f.regular_position;
        for (int i = n; i > 0; --i) {
          size_t pos = s.size() - static_cast<size_t>(i * f.regular_position);
          s.insert(pos, f.regular_char);
        }
      } else {
        for (auto it = f.separators.rbegin(); it != f.separators.rend(); ++it) {
          auto pos = static_cast<int64_t>(s.size()) - it->first;
          if (pos < 0) pos = 0;
          s.insert(static_cast<size_t>(pos), it->second);
        }
      }
      out = FromU32(s);
      if (f.ordinal) {
        char last = out.empty() ? '0' : out.back();
        const char* suffix = last == '1' ? "st" : last == '2' ? "nd" : last == '3' ? "rd" : "th";
        if (out.size() > 1 && out[out.size() - 2] == '1') suffix = "th";
        out += suffix;
      }
      break;
    }
    case IntegerPicture::Primary::kSequence: {
      JsonataError e("D3130");
      e.value = Value(f.token);
      throw e;
    }
  }
  if (negative) out = "-" + out;
  return out;
}

bool ParseIntegerWith(const std::string& text, const IntegerPicture& f, double& out) {
  switch (f.primary) {
    case IntegerPicture::Primary::kLetters:
      out = FromLetters(text, f.letter_case == IntegerPicture::Case::kUpper ? 'A' : 'a');
      return !std::isnan(out);
    case IntegerPicture::Primary::kRoman: out = FromRoman(text); return !std::isnan(out);
    case IntegerPicture::Primary::kWords: out = WordsToNumber(Lower(text)); return !std::isnan(out);
    case IntegerPicture::Primary::kDecimal: {
      std::u32string s = ToU32(text);
      if (f.ordinal && s.size() >= 2) {
        std::u32string suf = s.substr(s.size() - 2);
        if (suf == U"st" || suf == U"nd" || suf == U"rd" || suf == U"th") s.resize(s.size() - 2);
      }
      double v = 0;
      bool any = false;
      for (char32_t c : s) {
        if (c >= f.zero_code && c <= f.zero_code + 9) {
          v = v * 10 + static_cast<double>(c - f.zero_code);
          any = true;
        } else if (c == U'-' && !any) {
          continue;
        } else {
          bool is_sep = false;
          if (f.regular && f.regular_char == std::u32string(1, c)) is_sep = true;
          for (const auto& sp : f.separators)
            if (sp.second == std::u32string(1, c)) is_sep = true;
          if (!is_sep) return false;
        }
      }
      if (!s.empty() && s[0] == U'-') v = -v;
      out = v;
      return any;
    }
    case IntegerPicture::Primary::kSequence: {
      JsonataError e("D3130");
      e.value = Value(f.token);
      throw e;
    }
  }
  return false;
}

}  // namespace weft::expr

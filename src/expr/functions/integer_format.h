// Integer pictures shared by $formatInteger/$parseInteger and the date/time
// picture strings: decimal digit patterns (with grouping separators and any
// Unicode decimal digit family), letters (a, A), roman numerals (i, I),
// words (w, W, Ww) and ordinals (;o).
#pragma once

#include <string>
#include <vector>

namespace weft::expr {

struct IntegerPicture {
  enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence } primary = Primary::kDecimal;
  enum class Case { kLower, kUpper, kTitle } letter_case = Case::kLower;
  bool ordinal = false;
  uint32_t zero_code = '0';
  int mandatory_digits = 0;
  int optional_digits = 0;
  bool regular = false;
  int regular_position = 0;
  std::u32string regular_char;
  std::vector<std::pair<int, std::u32string>> separators;  // position from the right, text
  std::string token;                                       // for unsupported sequences
};

// Throws D3131 for mixed digit families.
IntegerPicture AnalyseIntegerPicture(const std::string& picture);

// Throws D3130 for unsupported numbering sequences.
std::string FormatIntegerWith(double value, const IntegerPicture& format);

// Parses text written with the picture; returns false if it does not fit.
bool ParseIntegerWith(const std::string& text, const IntegerPicture& format, double& out);

std::string NumberToWords(double value, bool ordinal);
double WordsToNumber(const std::string& lowercase_text);
std::string ToRoman(double value);
double FromRoman(const std::string& text);
std::string ToLetters(double value, char a);
double FromLetters(const std::string& text, char a);

std::u32string ToU32(const std::string& s);
std::string FromU32(const std::u32string& s);

}  // namespace weft::expr

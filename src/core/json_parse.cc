#include <charconv>
#include <cmath>
#include <string>

#include "weft/core/escape.h"
#include "weft/core/json.h"
#include "weft/core/utf8.h"

namespace weft {
namespace {

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonParseOptions& options) : s_(text), options_(options) {}

  Result<Value> Parse() {
    SkipSpace();
    Value v;
    if (!ParseValue(v, 0)) return Fail();
    SkipSpace();
    if (pos_ != s_.size()) {
      error_ = "unexpected text after the JSON value";
      return Fail();
    }
    return v;
  }

 private:
  Status Fail() const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    return InvalidArgumentError("invalid JSON at line " + std::to_string(line) + ", column " + std::to_string(col) +
                                ": " + error_);
  }

  void SkipSpace() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool Expect(std::string_view word) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    error_ = "unexpected token";
    return false;
  }

  bool ParseValue(Value& out, int depth) {
    if (pos_ >= s_.size()) {
      error_ = "unexpected end of input";
      return false;
    }
    char c = s_[pos_];
    switch (c) {
      case '{': return ParseObject(out, depth + 1);
      case '[': return ParseArray(out, depth + 1);
      case '"': {
        std::string str;
        if (!ParseString(str)) return false;
        out = Value(std::move(str));
        return true;
      }
      case 't':
        if (!Expect("true")) return false;
        out = Value(true);
        return true;
      case 'f':
        if (!Expect("false")) return false;
        out = Value(false);
        return true;
      case 'n':
        if (!Expect("null")) return false;
        out = Value::Null();
        return true;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        error_ = std::string("unexpected character '") + c + "'";
        return false;
    }
  }

  bool CheckDepth(int depth) {
    if (depth > options_.max_depth) {
      error_ = "nesting deeper than " + std::to_string(options_.max_depth) + " levels";
      return false;
    }
    return true;
  }

  bool ParseArray(Value& out, int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // [
    Value::Array items;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      out = Value::MakeArray(std::move(items));
      return true;
    }
    for (;;) {
      SkipSpace();
      Value item;
      if (!ParseValue(item, depth)) return false;
      items.push_back(std::move(item));
      SkipSpace();
      if (pos_ >= s_.size()) {
        error_ = "unterminated array (expected ',' or ']')";
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        out = Value::MakeArray(std::move(items));
        return true;
      }
      error_ = "expected ',' or ']' in array";
      return false;
    }
  }

  bool ParseObject(Value& out, int depth) {
    if (!CheckDepth(depth)) return false;
    ++pos_;  // {
    Value obj = Value::MakeObject();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      out = std::move(obj);
      return true;
    }
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        error_ = "expected a string key in object";
        return false;
      }
      const size_t key_at = pos_;
      std::string key;
      if (!ParseString(key)) return false;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') {
        error_ = "expected ':' after object key";
        return false;
      }
      ++pos_;
      SkipSpace();
      if (options_.strict && obj.find(key) != nullptr) {
        pos_ = key_at;
        error_ = "duplicate key \"" + key + "\"";
        return false;
      }
      Value v;
      if (!ParseValue(v, depth)) return false;
      obj.set(std::move(key), std::move(v));
      SkipSpace();
      if (pos_ >= s_.size()) {
        error_ = "unterminated object (expected ',' or '}')";
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        out = std::move(obj);
        return true;
      }
      error_ = "expected ',' or '}' in object";
      return false;
    }
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    size_t start = pos_;
    for (;;) {
      if (pos_ >= s_.size()) {
        error_ = "unterminated string";
        return false;
      }
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        out.append(s_.data() + start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        error_ = "control character in string (must be escaped)";
        return false;
      }
      if (c == '\\') {
        out.append(s_.data() + start, pos_ - start);
        ++pos_;
        if (pos_ >= s_.size()) {
          error_ = "unterminated string";
          return false;
        }
        switch (DecodeEscape(s_, pos_, out)) {
          case EscapeResult::kOk: break;
          case EscapeResult::kBadUnicodeEscape: error_ = "invalid \\u escape"; return false;
          case EscapeResult::kUnknownEscape: error_ = std::string("invalid escape '\\") + s_[pos_] + "'"; return false;
        }
        start = pos_;
        continue;
      }
      if (c >= 0x80) {
        size_t len = ValidUtf8SequenceLength(s_, pos_);
        if (len == 0) {
          error_ = "invalid UTF-8 in string";
          return false;
        }
        pos_ += len;
        continue;
      }
      ++pos_;
    }
  }

  bool ParseNumber(Value& out) {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - b;
    };
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      error_ = "invalid number";
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) {
        error_ = "invalid number: digits expected after '.'";
        return false;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) {
        error_ = "invalid number: digits expected in exponent";
        return false;
      }
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, d);
    if (ec == std::errc::result_out_of_range) {
      // from_chars refuses overflow; JSON.parse yields +-Infinity or 0.
      d = std::strtod(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr);
      if (options_.strict && !std::isfinite(d)) {
        error_ = "number out of range: " + std::string(s_.substr(start, std::min<size_t>(pos_ - start, 40)));
        pos_ = start;
        return false;
      }
    } else if (ec != std::errc()) {
      error_ = "invalid number";
      return false;
    }
    out = Value(d);
    return true;
  }

  std::string_view s_;
  const JsonParseOptions& options_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

Result<Value> ParseJson(std::string_view text, const JsonParseOptions& options) {
  return JsonParser(text, options).Parse();
}

}  // namespace weft

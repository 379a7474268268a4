#include "lexer.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "error.h"
#include "weft/core/escape.h"

namespace weft::expr {

bool IsOperatorChar(char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '{':
    case '}':
    case '(':
    case ')':
    case ',':
    case '@':
    case '#':
    case ';':
    case ':':
    case '?':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '|':
    case '=':
    case '<':
    case '>':
    case '^':
    case '&':
    case '!':
    case '~': return true;
    default: return false;
  }
}

namespace {
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }
}  // namespace

Token Lexer::Make(TokenType t, std::string text) const {
  Token tok;
  tok.type = t;
  tok.text = std::move(text);
  tok.position = static_cast<int>(pos_);
  return tok;
}

Token Lexer::ScanRegex() {
  size_t start = pos_;
  int depth = 0;
  auto closing_slash = [&](size_t p) {
    if (src_[p] != '/' || depth != 0) return false;
    size_t backslashes = 0;
    while (p >= start + backslashes + 1 && src_[p - backslashes - 1] == '\\') ++backslashes;
    return backslashes % 2 == 0;
  };
  while (pos_ < src_.size()) {
    char c = src_[pos_];
    if (closing_slash(pos_)) {
      std::string pattern(src_.substr(start, pos_ - start));
      if (pattern.empty()) throw JsonataError("S0301", static_cast<int>(pos_));
      ++pos_;
      size_t fstart = pos_;
      while (pos_ < src_.size() && (src_[pos_] == 'i' || src_[pos_] == 'm')) ++pos_;
      Token t = Make(TokenType::kRegex, std::move(pattern));
      t.flags = std::string(src_.substr(fstart, pos_ - fstart));
      return t;
    }
    bool escaped = pos_ > 0 && src_[pos_ - 1] == '\\';
    if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
    if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
    ++pos_;
  }
  throw JsonataError("S0302", static_cast<int>(pos_));
}

Token Lexer::Next(bool infix) {
  for (;;) {
    while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
    if (pos_ + 1 < src_.size() && src_[pos_] == '/' && src_[pos_ + 1] == '*') {
      size_t comment_start = pos_;
      pos_ += 2;
      for (;;) {
        if (pos_ + 1 >= src_.size()) throw JsonataError("S0106", static_cast<int>(comment_start));
        if (src_[pos_] == '*' && src_[pos_ + 1] == '/') break;
        ++pos_;
      }
      pos_ += 2;
      continue;
    }
    break;
  }
  if (pos_ >= src_.size()) return Make(TokenType::kEnd, "");
  char c = src_[pos_];
  char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';

  if (!infix && c == '/') {
    ++pos_;
    return ScanRegex();
  }
  auto op2 = [&](const char* s) {
    pos_ += 2;
    return Make(TokenType::kOperator, s);
  };
  if (c == '.' && n == '.') return op2("..");
  if (c == ':' && n == '=') return op2(":=");
  if (c == '!' && n == '=') return op2("!=");
  if (c == '>' && n == '=') return op2(">=");
  if (c == '<' && n == '=') return op2("<=");
  if (c == '*' && n == '*') return op2("**");
  if (c == '~' && n == '>') return op2("~>");
  if (c == '?' && n == ':') return op2("?:");
  if (c == '?' && n == '?') return op2("??");
  if (c == '=' && n == '=') {  // weft extension: '==' is '='
    double_equals_ = true;
    return op2("=");
  }
  if (IsOperatorChar(c)) {
    ++pos_;
    return Make(TokenType::kOperator, std::string(1, c));
  }
  if (c == '"' || c == '\'') {
    char quote = c;
    ++pos_;
    std::string s;
    while (pos_ < src_.size()) {
      char ch = src_[pos_];
      if (ch == '\\') {
        ++pos_;
        if (pos_ >= src_.size()) break;
        switch (DecodeEscape(src_, pos_, s)) {
          case EscapeResult::kOk: continue;
          case EscapeResult::kBadUnicodeEscape: throw JsonataError("S0104", static_cast<int>(pos_));
          case EscapeResult::kUnknownEscape: {
            JsonataError err("S0103", static_cast<int>(pos_));
            err.token = std::string(1, src_[pos_]);
            throw err;
          }
        }
      } else if (ch == quote) {
        ++pos_;
        return Make(TokenType::kString, std::move(s));
      } else {
        s += ch;
      }
      ++pos_;
    }
    throw JsonataError("S0101", static_cast<int>(pos_));
  }
  if (c >= '0' && c <= '9') {
    size_t start = pos_;
    size_t p = pos_;
    if (src_[p] == '0') {
      ++p;
    } else {
      while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') ++p;
    }
    if (p + 1 < src_.size() && src_[p] == '.' && src_[p + 1] >= '0' && src_[p + 1] <= '9') {
      ++p;
      while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') ++p;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && src_[q] >= '0' && src_[q] <= '9') {
        while (q < src_.size() && src_[q] >= '0' && src_[q] <= '9') ++q;
        p = q;
      }
    }
    std::string text(src_.substr(start, p - start));
    double d = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(d)) {
      JsonataError err("S0102", static_cast<int>(pos_));
      err.token = text;
      throw err;
    }
    pos_ = p;
    Token t = Make(TokenType::kNumber, text);
    t.value = Value(d);
    return t;
  }
  if (c == '`') {
    ++pos_;
    size_t end = src_.find('`', pos_);
    if (end == std::string_view::npos) {
      pos_ = src_.size();
      throw JsonataError("S0105", static_cast<int>(pos_));
    }
    std::string name(src_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return Make(TokenType::kName, std::move(name));
  }
  size_t i = pos_;
  while (i < src_.size() && !IsSpace(src_[i]) && !IsOperatorChar(src_[i])) ++i;
  if (c == '$') {
    std::string name(src_.substr(pos_ + 1, i - pos_ - 1));
    pos_ = i;
    return Make(TokenType::kVariable, std::move(name));
  }
  std::string name(src_.substr(pos_, i - pos_));
  pos_ = i;
  if (name == "and" || name == "or" || name == "in") return Make(TokenType::kOperator, name);
  if (name == "true" || name == "false") {
    Token t = Make(TokenType::kValue, name);
    t.value = Value(name == "true");
    return t;
  }
  if (name == "null") {
    Token t = Make(TokenType::kValue, name);
    t.value = Value::Null();
    return t;
  }
  return Make(TokenType::kName, std::move(name));
}

std::string Lexer::ReadSignature() {
  std::string sig = "<";
  int depth = 1;
  while (pos_ < src_.size() && depth > 0) {
    char c = src_[pos_++];
    if (IsSpace(c)) continue;
    if (c == '<') ++depth;
    if (c == '>') --depth;
    if (c == '{') break;
    sig += c;
  }
  if (depth != 0) throw JsonataError("S0401", static_cast<int>(pos_));
  return sig;
}

}  // namespace weft::expr

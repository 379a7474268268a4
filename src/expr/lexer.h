// Tokenizer for JSONata expressions.
#pragma once

#include <string>
#include <string_view>

#include "weft/core/value.h"

namespace weft::expr {

enum class TokenType : uint8_t { kEnd, kOperator, kName, kVariable, kString, kNumber, kValue, kRegex };

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;   // operator, name, variable (without $), string contents, regex pattern
  std::string flags;  // regex flags
  Value value;        // number / true / false / null
  int position = 0;   // offset just past the token, as JSONata reports positions
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  // Next token. `prefix` is true after an operand (so '/' is
  // division, not the start of a regular expression).
  Token Next(bool infix);

  // Reads a function signature "<...>" verbatim, starting just after the
  // already-consumed '<'. Returns the text including both angle brackets.
  std::string ReadSignature();

  size_t pos() const { return pos_; }
  // Whether the text used '==' (weft's alias of '=').
  bool double_equals() const { return double_equals_; }

 private:
  Token Make(TokenType t, std::string text) const;
  Token ScanRegex();
  std::string_view src_;
  size_t pos_ = 0;
  bool double_equals_ = false;
};

bool IsOperatorChar(char c);

}  // namespace weft::expr

// Function signatures as JSONata writes them: "<s-nn?:s>", "<af?:a>", ...
//
// A signature lists parameter types (b boolean, n number, s string, l null,
// a array, o object, f function, j any JSON, x anything, (..) a choice,
// a<t> an array of t) with modifiers ? (optional), + (one or more) and
// - (use the context value when the argument is omitted). Validate() checks a
// call's arguments, substitutes the context where allowed, and wraps single
// values passed for array parameters, throwing T0410/T0411/T0412 otherwise.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weft/core/value.h"

namespace weft::expr {

class Signature {
 public:
  // Throws JsonataError (S0401/S0402) on a malformed signature.
  static Signature Parse(std::string_view text);

  std::vector<Value> Validate(std::vector<Value> args, const Value& context) const;

  const std::string& definition() const { return definition_; }
  int param_count() const { return static_cast<int>(params_.size()); }

 private:
  struct Param {
    std::string symbols;          // accepted type symbols ('m' = missing/undefined)
    char type = 0;                // declared type letter, or '(' for a choice
    char quant = 0;               // 0, '?' or '+'
    bool context = false;         // '-': take the context when omitted
    std::string context_symbols;  // accepted context symbols
    std::string subtype;          // a<subtype>
  };

  // Matches the argument symbols; returns per-parameter counts (anchored=true
  // requires the whole string to match). Returns matched length, or -1.
  int Match(std::string_view sig, bool anchored, size_t param_limit, std::vector<int>* counts) const;
  int MatchFrom(std::string_view sig, bool anchored, size_t param_limit, size_t pi, size_t si,
                std::vector<int>& counts) const;
  bool has_repeat_ = false;  // some parameter has '+'

  std::string definition_;
  std::vector<Param> params_;
};

// The signature symbol of a value: s n b l a o f, or m for undefined.
char SignatureSymbol(const Value& v);

}  // namespace weft::expr

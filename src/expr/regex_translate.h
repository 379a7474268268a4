// JavaScript regular expressions (the syntax JSONata uses) on top of RE2.
//
// RE2 runs in time linear in the input and cannot backtrack catastrophically,
// which is why weft uses it: a workflow author's /(a+)+$/ cannot hang a
// worker. The price is that lookaround and backreferences, which need
// backtracking, are refused at compile time with a clear error.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace weft::expr {

// Translates and compiles; throws JsonataError S0303 when the pattern is
// invalid or uses a feature RE2 cannot run.
std::shared_ptr<const re2::RE2> CompileJsRegex(std::string_view pattern, std::string_view flags, int position);

}  // namespace weft::expr

// Parser: JSONata text -> rewritten syntax tree (see node.h).
#pragma once

#include <string_view>

#include "rewriter.h"

namespace weft::expr {

// Throws JsonataError on a syntax error.
RewrittenTree ParseExpression(std::string_view source);

}  // namespace weft::expr

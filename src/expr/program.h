// Program: a compiled expression (tree + ancestry slots + source text).
#pragma once

#include <string>

#include "rewriter.h"

namespace weft::expr {

struct Program {
  std::string source;
  RewrittenTree tree;
};

}  // namespace weft::expr

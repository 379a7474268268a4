// `weft eval`: evaluate JSONata expressions from the command line, like jq.
#pragma once

#include <iosfwd>
#include <string>

namespace weft::cli {

struct EvalCommandOptions {
  std::string expression;
  std::string input_path;     // "" = no input, "-" = stdin
  std::string bindings_json;  // object of variables
  bool jsonl = false;         // batch mode: one case per line on stdin
  bool compact = false;
  int64_t timeout_ms = 10000;
  int max_depth = 1000;
  int64_t max_memory_mb = 256;  // 0 = unlimited
};

// Returns the process exit code: 0 on success (including an undefined
// result), 1 when the expression or its input is invalid.
int RunEval(const EvalCommandOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

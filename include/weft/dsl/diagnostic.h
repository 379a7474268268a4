// Diagnostics: what the workflow loader reports about a file, each with the
// place it concerns, so that `weft validate` can list every problem at once.
#pragma once

#include <string>
#include <vector>

#include "weft/core/status.h"

namespace weft::dsl {

// A place in a source file; line and column count from 1 (0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:col", or just "file" when the position is unknown.
  std::string ToString() const;
};

struct Diagnostic {
  // kPortability: a form weft accepts and Hexabot v3 does not (or runs
  // differently); only `weft validate --hexabot` shows them.
  enum class Severity { kError, kWarning, kPortability };
  Severity severity = Severity::kError;
  SourceLocation location;
  std::string message;

  // "file:12:7: error: unknown task 'clasify' (did you mean 'classify'?)"
  std::string ToString() const;
};

class Diagnostics {
 public:
  void Error(SourceLocation where, std::string message);
  void Warning(SourceLocation where, std::string message);
  void Portability(SourceLocation where, std::string message);

  const std::vector<Diagnostic>& all() const { return items_; }
  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }

  // InvalidArgument listing every error (one per line); OK when there are none.
  Status ToStatus() const;

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

// The closest candidate to `name` by edit distance, or "" when none is close
// enough to be a plausible typo. Used for "did you mean" suggestions.
std::string ClosestMatch(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace weft::dsl

#include "weft/dsl/diagnostic.h"

#include <algorithm>
#include <numeric>

namespace weft::dsl {

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::ToString() const {
  std::string out = location.ToString();
  if (!out.empty()) out += ": ";
  switch (severity) {
    case Severity::kError: out += "error: "; break;
    case Severity::kWarning: out += "warning: "; break;
    case Severity::kPortability: out += "not Hexabot v3: "; break;
  }
  out += message;
  return out;
}

void Diagnostics::Error(SourceLocation where, std::string message) {
  items_.push_back({Diagnostic::Severity::kError, std::move(where), std::move(message)});
  ++errors_;
}

void Diagnostics::Warning(SourceLocation where, std::string message) {
  items_.push_back({Diagnostic::Severity::kWarning, std::move(where), std::move(message)});
}

void Diagnostics::Portability(SourceLocation where, std::string message) {
  items_.push_back({Diagnostic::Severity::kPortability, std::move(where), std::move(message)});
}

Status Diagnostics::ToStatus() const {
  if (errors_ == 0) return Status::Ok();
  std::string message;
  for (const Diagnostic& d : items_) {
    if (d.severity != Diagnostic::Severity::kError) continue;
    if (!message.empty()) message += '\n';
    message += d.ToString();
  }
  return InvalidArgumentError(std::move(message));
}

namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestMatch(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace weft::dsl

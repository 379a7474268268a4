#include "weft/dsl/workflow.h"

#include <algorithm>
#include <cmath>

namespace weft::dsl {

int64_t RetryPolicy::DelayMillis(int attempt, double unit_random) const {
  double delay = static_cast<double>(backoff_ms) * std::pow(multiplier, std::max(0, attempt - 1));
  if (max_delay_ms > 0) delay = std::min(delay, static_cast<double>(max_delay_ms));
  // Jitter scales the delay by a factor in [1 - jitter, 1 + jitter), so
  // that many runs failing together do not retry in lockstep (Hexabot's
  // formula; the cap applies before it).
  delay *= 1.0 + (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0) * std::max(0.0, jitter);
  return std::max<int64_t>(0, std::llround(std::min(delay, 1e15)));
}

bool RetryPolicy::Retries(const Status& error) const {
  if (!enabled) return false;
  if (retry_on.empty()) return error.code() != StatusCode::kFailedPrecondition;
  return std::find(retry_on.begin(), retry_on.end(), error.code()) != retry_on.end();
}

const TaskDef* Workflow::FindTask(std::string_view name) const {
  auto it = tasks.find(name);
  return it == tasks.end() ? nullptr : &it->second;
}

}  // namespace weft::dsl

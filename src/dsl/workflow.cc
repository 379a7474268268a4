#include "weft/dsl/workflow.h"

#include <algorithm>
#include <cmath>

namespace weft::dsl {

int64_t RetryPolicy::DelayMillis(int attempt, double unit_random) const {
  double delay = static_cast<double>(backoff_ms) * std::pow(multiplier, std::max(0, attempt - 1));
  delay = std::min(delay, static_cast<double>(max_delay_ms));
  // Jitter takes up to `jitter` of the delay away at random, so that many
  // runs failing together do not retry in lockstep.
  double j = std::clamp(jitter, 0.0, 1.0);
  delay *= 1.0 - j * std::clamp(unit_random, 0.0, 1.0);
  return std::max<int64_t>(0, static_cast<int64_t>(delay));
}

const TaskDef* Workflow::FindTask(std::string_view name) const {
  auto it = tasks.find(name);
  return it == tasks.end() ? nullptr : &it->second;
}

}  // namespace weft::dsl

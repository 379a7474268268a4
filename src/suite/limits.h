// The bounds of the expressions a test file or a data set brings (asserts,
// --input): a workflow's own, so a runaway one fails instead of hanging.
#pragma once

#include "weft/engine/engine.h"
#include "weft/expr/expression.h"

namespace weft::suite::internal {

inline expr::EvalOptions WorkflowLimits() {
  const engine::EngineOptions engine_defaults;
  expr::EvalOptions o;
  o.timeout_ms = engine_defaults.expression_timeout_ms;
  o.max_memory_bytes = engine_defaults.expression_max_memory_bytes;
  return o;
}

}  // namespace weft::suite::internal

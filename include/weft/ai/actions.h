// The AI steps as actions: classify, extract, summarize, generate_text,
// generate_object, decide. Each builds its prompt only from the step's
// evaluated inputs and settings (`prompt`, `system`, `context`, `examples`),
// asks the model named by `settings.model` (an alias, see models.h) for an
// answer matching the step's schema, and returns it only once it validates.
// Each call is recorded in the step's history: provider, model, prompt, raw
// and parsed answers, validation errors, repair turns, tokens, cost, latency,
// cache hits. Identical requests are answered from the store's cache, and
// `settings.budget` ({per_run, per_workflow_day}) stops model calls once
// spending reaches it (the step fails, so its on_error fallback applies).
#pragma once

#include <memory>

#include "weft/ai/models.h"
#include "weft/engine/action.h"
#include "weft/store/store.h"

namespace weft::ai {

struct AiOptions {
  std::shared_ptr<const Models> models;
  // Where answers are cached and spending is counted; nullptr = no cache,
  // no budgets.
  store::Store* store = nullptr;
  const Clock* clock = nullptr;  // nullptr = system clock (cache expiry, budget days)
  // How long a cached answer is reused unless a step says otherwise
  // (`settings.cache: {ttl_ms}`; `cache: false` opts a step out).
  int64_t cache_ttl_ms = 3'600'000;
};

Status RegisterAiActions(engine::ActionRegistry& registry, const AiOptions& options);

}  // namespace weft::ai

// The AI steps as actions: classify, extract, summarize, generate_text,
// generate_object, decide. Each builds its prompt only from the step's
// evaluated inputs and settings (`prompt`, `system`, `context`, `examples`),
// asks the model named by `settings.model` (an alias, see models.h) for an
// answer matching the step's schema, and returns it only once it validates.
// Each call is recorded in the step's history: provider, model, prompt, raw
// and parsed answers, validation errors, repair turns, tokens, cost, latency.
#pragma once

#include <memory>

#include "weft/ai/models.h"
#include "weft/engine/action.h"

namespace weft::ai {

Status RegisterAiActions(engine::ActionRegistry& registry, const std::shared_ptr<const Models>& models);

}  // namespace weft::ai

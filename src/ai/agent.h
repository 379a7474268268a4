// The agent step (see agent.cc).
#pragma once

#include <memory>

#include "weft/ai/actions.h"

namespace weft::ai::internal {

std::unique_ptr<engine::Action> NewAgent(const AiOptions& options);

}  // namespace weft::ai::internal

// Per-conversation memory in the store (see memory.cc).
#pragma once

#include <functional>
#include <string>

#include "weft/engine/action.h"
#include "weft/store/store.h"

namespace weft::ai::internal {

// Registers `remember` and `recall`.
Status RegisterMemoryActions(engine::ActionRegistry& registry, store::Store* store);

// Applies `change` to a conversation's memory once per idempotency `key`
// and stores it; returns the memory as stored.
Result<Value> UpdateMemory(store::Store& store, const std::string& conversation, const std::string& key,
                           const std::function<void(Value& memory)>& change);

}  // namespace weft::ai::internal

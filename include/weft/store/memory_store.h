// An in-memory Store: for tests and for running workflows without
// durability (`weft run --db :memory:`). It can be told to fail commits, to
// test the engine's handling of storage errors.
#pragma once

#include <memory>

#include "weft/core/clock.h"
#include "weft/store/store.h"

namespace weft::store {

class MemoryStore;

// `keep_finished` bounds memory in long-lived processes: beyond that many
// completed, failed or cancelled runs, the oldest are forgotten (0 = keep all).
// `clock` (default: the system's) stamps records, as the engine's clock
// stamps what it writes; it must outlive the store.
std::unique_ptr<Store> NewMemoryStore(size_t keep_finished = 0, const Clock* clock = nullptr);

// Makes the `n`th commit from now (1 = the next) fail with Unavailable; 0
// turns this off. Only for stores made by NewMemoryStore.
void FailNthCommit(Store& memory_store, int n);

}  // namespace weft::store

// What model calls cost, counted per run, per workflow and day, and per
// day; and the budgets (`settings.budget`) that stop calls once reached.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "weft/ai/models.h"
#include "weft/core/clock.h"
#include "weft/engine/action.h"
#include "weft/store/store.h"

namespace weft::ai::internal {

// "2026-11-30": the UTC day budgets and totals are kept by.
std::string Day(const Clock& clock);

// Both read or write the store on the engine's blocking pool
// (engine::Blocking), never on the run's thread, and skip the pool when
// there is nothing to read or write.

// `settings.budget: {per_run, per_workflow_day}`: FailedPrecondition once
// one is reached (no model call should follow); what was reached goes into
// `detail`. OK without a store or a budget.
boost::asio::awaitable<Status> CheckBudget(store::Store* store, const Clock& clock, const engine::ActionContext& ctx,
                                           Value& detail);

// Adds a call's cost to the run, workflow-day and day totals. Accounting
// never fails the step whose model already answered.
boost::asio::awaitable<void> CountSpend(store::Store* store, const Clock& clock, const engine::ActionContext& ctx,
                                        const ModelConfig& config, const Usage& usage, int64_t calls);

}  // namespace weft::ai::internal

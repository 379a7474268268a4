#include "spend.h"

#include <ctime>
#include <vector>

#include "weft/core/json.h"

namespace weft::ai::internal {

std::string Day(const Clock& clock) {
  const std::time_t t = static_cast<std::time_t>(clock.NowMillis() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

namespace {

Status ReadBudget(store::Store* store, const Clock& clock, const engine::ActionContext& ctx, const Value& budget,
                  Value& detail) {
  const std::pair<const char*, std::string> limits[] = {
      {"per_run", "run:" + std::string(ctx.run_id)},
      {"per_workflow_day", "workflow:" + std::string(ctx.workflow) + ":" + Day(clock)},
  };
  for (const auto& [name, scope] : limits) {
    const Value limit = budget.get(name);
    if (!limit.is_number()) continue;
    WEFT_ASSIGN_OR_RETURN(store::Spend spent, store->GetSpend(scope));
    if (spent.cost < limit.as_number()) continue;
    Value b = Value::MakeObject();
    b.set("limit", std::string(name));
    b.set("budget", limit);
    b.set("spent", spent.cost);
    detail.set("budget_reached", b);
    return FailedPreconditionError("budget " + std::string(name) + " of " + ToJson(limit) + " reached (spent " +
                                   ToJson(Value(spent.cost)) + "): the model was not called");
  }
  return Status::Ok();
}

}  // namespace

boost::asio::awaitable<Status> CheckBudget(store::Store* store, const Clock& clock, const engine::ActionContext& ctx,
                                           Value& detail) {
  const Value budget = ctx.settings.get("budget");
  if (!budget.is_defined() || store == nullptr) co_return Status::Ok();
  if (!budget.is_object()) co_return InvalidArgumentError("settings.budget must be {per_run, per_workflow_day}");
  auto read = [&] { return ReadBudget(store, clock, ctx, budget, detail); };
  co_return co_await engine::Blocking(ctx, std::move(read));
}

boost::asio::awaitable<void> CountSpend(store::Store* store, const Clock& clock, const engine::ActionContext& ctx,
                                        const ModelConfig& config, const Usage& usage, int64_t calls) {
  if (store == nullptr) co_return;
  const std::string day = Day(clock);
  const store::Spend s{config.Cost(usage), usage.input_tokens, usage.output_tokens, calls};
  std::vector<std::string> scopes = {"run:" + std::string(ctx.run_id),
                                     "workflow:" + std::string(ctx.workflow) + ":" + day, "day:" + day,
                                     "usage:" + day + ":" + std::string(ctx.workflow) + ":" + config.alias};
  auto add = [store, &scopes, &s] { return store->AddSpend(scopes, s); };
  (void)co_await engine::Blocking(ctx, std::move(add));
}

}  // namespace weft::ai::internal

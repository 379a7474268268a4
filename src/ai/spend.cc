#include "spend.h"

#include <ctime>

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

Status CheckBudget(store::Store* store, const Clock& clock, const engine::ActionContext& ctx, Value& detail) {
  const Value budget = ctx.settings.get("budget");
  if (!budget.is_defined() || store == nullptr) return Status::Ok();
  if (!budget.is_object()) return InvalidArgumentError("settings.budget must be {per_run, per_workflow_day}");
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

void CountSpend(store::Store* store, const Clock& clock, const engine::ActionContext& ctx, const ModelConfig& config,
                const Usage& usage, int64_t calls) {
  if (store == nullptr) return;
  const std::string day = Day(clock);
  store::Spend s{config.Cost(usage), usage.input_tokens, usage.output_tokens, calls};
  (void)store->AddSpend({"run:" + std::string(ctx.run_id), "workflow:" + std::string(ctx.workflow) + ":" + day,
                         "day:" + day, "usage:" + day + ":" + std::string(ctx.workflow) + ":" + config.alias},
                        s);
}

}  // namespace weft::ai::internal

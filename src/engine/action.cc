#include "weft/engine/action.h"

namespace weft::engine {

int64_t ActionContext::MillisLeft(int64_t limit_ms) const {
  if (deadline == std::chrono::steady_clock::time_point::max()) return limit_ms;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return std::max<int64_t>(1, std::min<int64_t>(limit_ms, left));
}

std::string ActionContext::IdempotencyKey() const {
  std::string key;
  key.reserve(run_id.size() + step_path.size() + 1);
  key.append(run_id).append(1, '/').append(step_path);
  return key;
}

std::string ActionContext::AttemptKey() const {
  return IdempotencyKey().append(1, '/').append(std::to_string(attempt));
}

ActionResult ActionResult::Ok(Value output) {
  ActionResult r;
  r.output_ = std::move(output);
  return r;
}

ActionResult ActionResult::Error(Status status) {
  ActionResult r;
  r.kind_ = Kind::kError;
  r.status_ = status.ok() ? InternalError("an action failed with an OK status") : std::move(status);
  return r;
}

ActionResult ActionResult::Suspend(Suspension suspension) {
  ActionResult r;
  r.kind_ = Kind::kSuspend;
  r.suspension_ = std::make_shared<const Suspension>(std::move(suspension));
  return r;
}

const Suspension& ActionResult::suspension() const {
  static const Suspension kNone;
  return suspension_ != nullptr ? *suspension_ : kNone;
}

Status ActionRegistry::Register(std::unique_ptr<Action> action) {
  std::string name = action->spec().name;
  if (name.empty()) return InvalidArgumentError("an action needs a name");
  auto [it, inserted] = actions_.emplace(name, std::move(action));
  if (!inserted) return Status(StatusCode::kAlreadyExists, "action '" + name + "' is already registered");
  return Status::Ok();
}

void ActionRegistry::Replace(std::unique_ptr<Action> action) {
  std::string name = action->spec().name;
  actions_[name] = std::move(action);
}

const Action* ActionRegistry::FindAction(std::string_view name) const {
  auto it = actions_.find(name);
  return it == actions_.end() ? nullptr : it->second.get();
}

const dsl::ActionSpec* ActionRegistry::Find(std::string_view name) const {
  const Action* a = FindAction(name);
  return a == nullptr ? nullptr : &a->spec();
}

std::vector<std::string> ActionRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(actions_.size());
  for (const auto& [name, _] : actions_) names.push_back(name);
  return names;
}

}  // namespace weft::engine

// Actions: what a task does. The engine evaluates a task's inputs, checks
// them against the action's input schema, calls Execute once per attempt,
// checks the result against the output schema and records it durably.
//
// An action is stateless and shared by every run (Execute is const and may
// run concurrently). It receives the engine's idempotency key
// ("<run>/<step path>/<attempt>"): the same key means the same attempt, seen
// again after a crash, so an action with side effects can deduplicate on it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/clock.h"
#include "weft/core/random.h"
#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/dsl/action_spec.h"

namespace weft::engine {

// Why a run parks: the engine records it, frees the run, and continues when
// a resume call (or the timer) brings the task's result.
struct Suspension {
  std::string kind;        // "user_input", "approval", "handover", "timer", "child"
  Value data;              // what the resumer needs: prompt, item to approve, queue
  int64_t wake_at_ms = 0;  // timers: when the engine resumes the run by itself
};

class ActionResult {
 public:
  ActionResult() = default;  // Ok(undefined)
  static ActionResult Ok(Value output);
  static ActionResult Error(Status status);
  static ActionResult Suspend(Suspension suspension);

  bool ok() const { return kind_ == Kind::kOk; }
  bool suspended() const { return kind_ == Kind::kSuspend; }
  const Value& output() const { return output_; }
  const Status& status() const { return status_; }
  const Suspension& suspension() const { return suspension_; }

 private:
  enum class Kind : uint8_t { kOk, kError, kSuspend };
  Kind kind_ = Kind::kOk;
  Value output_;
  Status status_;
  Suspension suspension_;
};

struct ActionContext;

// Runs another workflow as a child of the current run (call_workflow).
class ChildRunner {
 public:
  virtual ~ChildRunner() = default;
  // Completes with the child's outputs, its error, or a suspension when the
  // child waits (the parent then waits for it).
  // `caller` identifies the calling attempt: the same attempt (seen again
  // after a crash) finds the same child run instead of starting another.
  virtual boost::asio::awaitable<ActionResult> RunChild(const ActionContext& caller, const std::string& workflow,
                                                        int64_t version, Value input) = 0;
};

// What an attempt knows. The strings are views that stay valid until
// Execute's coroutine completes (copy what you keep longer).
struct ActionContext {
  std::string_view run_id;
  std::string_view workflow;
  std::string_view step_path;
  std::string_view task;
  int attempt = 1;
  // "<run>/<step path>/<attempt>": the same key means the same attempt, seen
  // again after a crash; send it to outside systems to deduplicate.
  std::string IdempotencyKey() const;
  Value inputs;    // evaluated and validated
  Value settings;  // the task's action settings (evaluated)
  Value bindings;  // the task's bound definitions
  const Clock* clock = nullptr;
  Random* random = nullptr;
  boost::asio::any_io_executor executor;
  ChildRunner* children = nullptr;
  // Anything the action wants kept in the step's history (request, model,
  // raw answer, ...).
  Value detail;
  std::function<void(std::string_view level, std::string_view message)> log;
  // Hands text to whoever follows the run live (a chat channel), as it is
  // produced; empty when nobody does. Safe to call from any thread.
  std::function<void(std::string_view delta)> stream;
};

class Action {
 public:
  virtual ~Action() = default;
  virtual const dsl::ActionSpec& spec() const = 0;
  // One attempt. Cancellation (step timeout, a lost wait_any race, a
  // cancelled run) arrives through the coroutine's cancellation slot.
  virtual boost::asio::awaitable<ActionResult> Execute(ActionContext& ctx) const = 0;
};

// The set of actions a workflow may use; the loader's catalog.
// Registration happens before use; lookups are then safe from any thread.
class ActionRegistry final : public dsl::ActionCatalog {
 public:
  // AlreadyExists when the name is taken.
  Status Register(std::unique_ptr<Action> action);
  const Action* FindAction(std::string_view name) const;

  const dsl::ActionSpec* Find(std::string_view name) const override;
  std::vector<std::string> Names() const override;

 private:
  std::map<std::string, std::unique_ptr<Action>, std::less<>> actions_;
};

}  // namespace weft::engine

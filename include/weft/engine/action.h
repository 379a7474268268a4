// Actions: what a task does. The engine evaluates a task's inputs, checks
// them against the action's input schema, calls Execute once per attempt,
// checks the result against the output schema and records it durably.
//
// An action is stateless and shared by every run (Execute is const and may
// run concurrently). It receives the engine's idempotency key
// ("<run>/<step path>/<attempt>"): the same key means the same attempt, seen
// again after a crash, so an action with side effects can deduplicate on it.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "weft/core/blocking.h"
#include "weft/core/clock.h"
#include "weft/core/random.h"
#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/dsl/action_spec.h"

namespace weft::dsl {
struct Workflow;
}  // namespace weft::dsl

namespace weft::engine {

// Why a run parks: the engine records it, frees the run, and continues when
// a resume call (or the timer) brings the task's result.
struct Suspension {
  std::string kind;        // "user_input", "approval", "handover", "timer", "child"
  Value data;              // what the resumer needs: prompt, item to approve, queue
  int64_t wake_at_ms = 0;  // timers: when the engine resumes the run by itself
  // Set when a sub-step waits (see SubSteps): the resume's payload becomes
  // that sub-step's result, checked against `action`'s output schema, and
  // the step runs again from the start, finding it recorded.
  std::string sub_step;
  std::string action;
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
  const Suspension& suspension() const;

 private:
  enum class Kind : uint8_t { kOk, kError, kSuspend };
  Kind kind_ = Kind::kOk;
  Value output_;
  Status status_;
  std::shared_ptr<const Suspension> suspension_;  // rare: kept out of the way (coroutine frames hold results)
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

// Durable work inside one step: an agent's model turns and tool calls, the
// approval of a sensitive action. Each sub-step is recorded in the run's
// history under "<step path>/<name>"; running the step again (after a
// crash, a resume or a retry) finds it there instead of doing it again.
// Names must be the same when the step runs again: number them in order.
class SubSteps {
 public:
  virtual ~SubSteps() = default;
  // What sub-step `name` of the calling step recorded: its output or its
  // error; nullopt when it has not completed.
  virtual std::optional<ActionResult> Find(const ActionContext& caller, std::string_view name) const = 0;
  // Records a sub-step's outcome (an output or an error); completes once
  // it is durable.
  virtual boost::asio::awaitable<Status> Record(const ActionContext& caller, std::string_view name,
                                                std::string_view action, const Value& input, const ActionResult& result,
                                                const Value& detail) = 0;
  // Calls one of the workflow's actions (declared by the workflow, or built
  // in) as sub-step `name`, with the same checks as a task: permissions,
  // schemas, approval first when it is sensitive (the result is then a
  // suspension to return). A recorded call is not made again.
  virtual boost::asio::awaitable<ActionResult> Call(const ActionContext& caller, std::string_view name,
                                                    std::string_view action, Value inputs) = 0;
};

// What an attempt knows. The strings are views that stay valid until
// Execute's coroutine completes (copy what you keep longer).
struct ActionContext {
  std::string_view run_id;
  std::string_view workflow;
  std::string_view step_path;
  std::string_view task;
  // The conversation the run talks in: its chat's
  // ($context.chat.conversation) when a chat started it, else the run's id.
  std::string_view conversation;
  int attempt = 1;
  // "<run>/<step path>": the same for every attempt of the step and after a
  // crash, so an outside system that deduplicates on it applies the step's
  // effect once, whatever made it run again (a retry after a timeout whose
  // request did get through, a crash). Send it to outside systems.
  std::string IdempotencyKey() const;
  // "<run>/<step path>/<attempt>": one attempt, seen again after a crash
  // (for work that each attempt does anew, such as a child run).
  std::string AttemptKey() const;
  Value inputs;    // evaluated and validated
  Value settings;  // the task's action settings (evaluated)
  Value bindings;  // the task's bound definitions
  const Clock* clock = nullptr;
  Random* random = nullptr;
  boost::asio::any_io_executor executor;
  // Where an action makes its blocking calls (the store: the conversation
  // log, memory, spend, the AI cache), through Blocking() below; null runs
  // them at once (an action driven directly by a test).
  boost::asio::thread_pool* blocking = nullptr;
  ChildRunner* children = nullptr;
  SubSteps* sub_steps = nullptr;
  // The workflow's grants: actions check what they reach (hosts, SQL
  // writes) against them.
  const dsl::Permissions* permissions = nullptr;
  // The running workflow (its declared actions, for the agent).
  const dsl::Workflow* definition = nullptr;
  // Anything the action wants kept in the step's history (request, model,
  // raw answer, ...).
  Value detail;
  std::function<void(std::string_view level, std::string_view message)> log;
  // Hands text to whoever follows the run live (a chat channel), as it is
  // produced; empty when nobody does. Safe to call from any thread.
  std::function<void(std::string_view delta)> stream;
  // Set once the engine stops waiting for this attempt: its step timed out,
  // its run was cancelled or lost a race, the engine is stopping. Work the
  // coroutine's cancellation cannot reach (a blocking driver on another
  // thread) polls it and gives up. Null when the attempt cannot be
  // abandoned. Safe to read from any thread.
  std::shared_ptr<const std::atomic<bool>> abandoned;
  // When the step's timeout ends the attempt (max() when it has none). Some
  // blocking work cannot poll `abandoned` everywhere (libcurl waits for an
  // SMTP server's last answer without calling back): it takes this as its
  // own time limit.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // `limit_ms`, or less if the deadline comes sooner (at least 1).
  int64_t MillisLeft(int64_t limit_ms) const;
};

// Runs `f`, a call that blocks, on the context's pool (no engine thread
// waits on it) and resumes on the caller's executor; at once without a pool.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F>> Blocking(const ActionContext& ctx, F f) {
  if (ctx.blocking == nullptr) co_return f();
  co_return co_await RunBlocking(*ctx.blocking, std::move(f));
}

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
  // Registers `action` in place of the one of its name, if any (a
  // deployment's own action of a built-in's name; tests' stand-ins).
  void Replace(std::unique_ptr<Action> action);
  const Action* FindAction(std::string_view name) const;

  const dsl::ActionSpec* Find(std::string_view name) const override;
  std::vector<std::string> Names() const override;

 private:
  std::map<std::string, std::unique_ptr<Action>, std::less<>> actions_;
};

}  // namespace weft::engine

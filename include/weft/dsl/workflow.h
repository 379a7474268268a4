// The compiled form of a workflow file: every name resolved, every expression
// compiled, every schema checked. Immutable after loading and shared by all
// the runs that use it (from any thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/dsl/action_spec.h"
#include "weft/dsl/diagnostic.h"
#include "weft/dsl/permissions.h"
#include "weft/dsl/schema.h"
#include "weft/dsl/template.h"
#include "weft/dsl/trigger.h"
#include "weft/expr/expression.h"

namespace weft::dsl {

struct FlowNode;

// Hexabot's retry settings and defaults: no retries without a `retries`
// block; with one, `enabled` defaults to true.
struct RetryPolicy {
  bool enabled = false;
  int max_attempts = 3;
  int64_t backoff_ms = 25;
  int64_t max_delay_ms = 10000;  // 0 = no cap
  double jitter = 0;             // the delay is scaled by 1 ± jitter, drawn at random
  double multiplier = 1;
  // weft's `retry_on`: the error codes worth another attempt; empty = any
  // failure of the action (Hexabot's rule) but FAILED_PRECONDITION, by
  // which an action says no attempt can succeed as things are (a spent
  // budget).
  std::vector<StatusCode> retry_on;

  // Delay before attempt `attempt + 1` after `attempt` failed (1-based);
  // `unit_random` in [0,1).
  int64_t DelayMillis(int attempt, double unit_random) const;
  // Whether a failed attempt with this error may be followed by another.
  bool Retries(const Status& error) const;
};

// What happens when a step fails after its retries.
struct ErrorHandler {
  enum class Kind : uint8_t { kFail, kContinue, kFallbackValue, kFallbackSteps };
  Kind kind = Kind::kFail;
  Template fallback;                             // kFallbackValue
  std::shared_ptr<std::vector<FlowNode>> steps;  // kFallbackSteps
};

struct StepSettings {
  int64_t timeout_ms = 0;  // 0 = no limit
  RetryPolicy retries;
  ErrorHandler on_error;
  int stop_step_count = 0;  // agent steps: maximum tool-calling turns (0 = action default)
  bool export_result = true;
  Template action_settings;  // every other key, passed to the action
};

// A business action the workflow declares (create_ticket, check_account):
// the schemas of its inputs and output, and the action that does the work
// with inputs built from the named action's own.
struct NamedAction {
  ActionSpec spec;  // name, description, schemas, sensitive; needs are the implementation's
  std::string implementation;
  const ActionSpec* implementation_spec = nullptr;  // owned by the catalog
  // The implementation's inputs and settings: expressions see $input (the
  // named action's validated inputs) and $secret(), nothing of the run.
  Template inputs;
  Template settings;
  bool uses_secrets = false;
  SourceLocation location;
};

struct TaskDef {
  std::string name;
  std::string action;
  std::string description;
  const ActionSpec* spec = nullptr;    // owned by the catalog the workflow was loaded with, or by `named`
  const NamedAction* named = nullptr;  // when `action` names one of the workflow's actions
  Template inputs;
  StepSettings settings;
  Value bindings;  // object: binding name -> the bound def's settings
  SourceLocation location;
  // Whether its inputs or settings call $secret(): only there may they, and
  // the engine then keeps the secrets' values out of the run history.
  bool uses_secrets = false;
  // Whether running it may park the run (a suspending action, approval of
  // a sensitive one): refused where branches run concurrently.
  bool may_suspend = false;
};

struct FlowNode {
  enum class Kind : uint8_t { kDo, kParallel, kConditional, kLoop };
  enum class Strategy : uint8_t { kWaitAll, kWaitAny };
  enum class LoopType : uint8_t { kForEach, kWhile };

  struct Branch {
    std::optional<expr::Expression> condition;  // none: the else branch
    std::vector<FlowNode> steps;
    SourceLocation location;
  };
  struct Accumulate {
    std::string as;
    Template initial;
    std::optional<expr::Expression> merge;  // always set once loaded
  };

  Kind kind = Kind::kDo;
  SourceLocation location;
  // Stable position in the flow, e.g. "0", "1.branch.0.0", "2.collector.1".
  std::string path;

  // kDo
  const TaskDef* task = nullptr;
  std::string step_key;  // "<path>:<task>": the step's path where no loop or fallback encloses it

  // kParallel: each branch is one step (which may be a block).
  Strategy strategy = Strategy::kWaitAll;
  std::vector<FlowNode> children;  // also: kLoop body

  // kConditional
  std::vector<Branch> branches;

  // kLoop
  LoopType loop_type = LoopType::kForEach;
  std::string name;  // "loop" when the file gives none (its steps' paths use it)
  bool named = false;
  std::string item_name = "item";
  std::optional<expr::Expression> in;          // for_each
  std::optional<expr::Expression> while_cond;  // while
  std::optional<expr::Expression> until;
  int max_concurrency = 1;
  // Whether an iteration reads $accumulator (it then needs the previous
  // iteration's).
  bool body_reads_accumulator = false;
  std::optional<Accumulate> accumulate;

  // Whether a loop's iterations run concurrently: max_concurrency > 1 on a
  // for_each whose iterations neither read $accumulator nor may stop the
  // loop (`until`). Otherwise they run one after another, as in Hexabot,
  // so results and side effects are the sequential ones.
  bool ConcurrentIterations() const {
    return max_concurrency > 1 && loop_type == LoopType::kForEach && !body_reads_accumulator && !until;
  }
};

struct Workflow {
  Workflow() = default;
  // Flow nodes point into `tasks`: a copy would dangle.
  Workflow(const Workflow&) = delete;
  Workflow& operator=(const Workflow&) = delete;

  std::string name;
  int64_t version = 0;  // declared version; 0 = assigned by the store
  std::string description;
  std::string file;
  // The file's text, stored with each version. With imports, the imported
  // catalogs follow it, each after a "--- # weft import: <path>" line, so
  // that a stored version loads without the files.
  std::string source;

  Value input_schema_document;  // JSON Schema built from `inputs.schema`
  std::optional<Schema> input_schema;
  Template context;               // evaluated at run start into $context
  std::vector<Trigger> triggers;  // `trigger:` / `triggers:` (dsl/trigger.h)

  Permissions permissions;
  // Business actions declared in the file or in the catalogs it imports.
  std::map<std::string, NamedAction, std::less<>> actions;
  std::map<std::string, TaskDef, std::less<>> tasks;
  std::vector<FlowNode> flow;
  std::vector<std::pair<std::string, Template>> outputs;

  // True when some task can suspend the run.
  bool can_suspend = false;
  // Warnings found while loading (errors make loading fail).
  std::vector<Diagnostic> warnings;

  const TaskDef* FindTask(std::string_view name) const;
};

}  // namespace weft::dsl

// The `script` action: custom functions in Lua 5.4, sandboxed.
//
//   defs:
//     score:
//       kind: task
//       action: script
//       inputs:
//         input: { amount: "=$input.amount" }
//         code: |
//           local total = input.amount * 1.2
//           return { total = total, large = total > 100 }
//
// The chunk sees its JSON `input` as a global and returns the result (JSON:
// tables with keys 1..n are arrays, `json.null` is null). It runs without
// io, os (but time/date/clock), require, load, dofile, debug, string.dump,
// collectgarbage, rawset, finalizers (__gc) or metatables of library values;
// with an instruction budget, a memory budget and a wall-clock budget that
// nothing in the script can escape (pattern matching counts against them);
// each call gets fresh globals. A failure names the script's line
// ("script:3: ...").
// Needs the `scripts` permission.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/engine/action.h"

namespace weft::actions {

struct ScriptLimits {
  int64_t max_instructions = 10'000'000;
  size_t max_memory_bytes = 16u << 20;  // allocated by one call, beyond what the sandbox holds
  int64_t max_millis = 2'000;           // wall clock, checked with the instruction budget
};

// Runs `code` with `input` bound. `logs` receives print() lines.
// InvalidArgument for a script that does not compile, FailedPrecondition
// for one that fails or spends a budget (neither helps to retry).
Result<Value> RunScript(std::string_view code, const Value& input, const ScriptLimits& limits,
                        std::vector<std::string>* logs = nullptr);

// Registers `script`; settings `max_instructions`, `max_memory_bytes` and
// `max_millis` lower (never raise) the given limits per task.
Status RegisterScriptAction(engine::ActionRegistry& registry, const ScriptLimits& limits = {});

}  // namespace weft::actions

// The JSON form of runs and steps: what `weft runs show --json` prints and
// what the server's API answers, so that both say the same thing.
#pragma once

#include <vector>

#include "weft/core/value.h"
#include "weft/store/store.h"

namespace weft::store {

// {seq, path, task, action, attempt, status, input?, output?, error?: {code,
// message}, detail?, started_ms, ended_ms}
Value StepToJson(const StepRecord& s);

// {run_id, workflow, version, status, input, outputs?, error?, waiting?,
// parent_run?, created_ms, updated_ms}; with `steps`, also `steps` and
// `results` (each task's latest completed result: what $output.<task>
// reads, also while the run waits).
Value RunToJson(const RunRecord& r, const std::vector<StepRecord>* steps = nullptr);

// {conversation, seq, run_id, step, role, kind, content, created_ms}
Value MessageToJson(const MessageRecord& m);

}  // namespace weft::store

// `weft test record RUN`: a recorded run as a test case.
#include <map>
#include <set>
#include <sstream>

#include "weft/core/json.h"
#include "weft/suite/suite.h"

namespace weft::suite {
namespace {

// Actions that stay inside weft: a test runs them as they are. Every other
// step (AI steps, HTTP, SQL, email, retrieval, declared actions) gets its
// recorded result as the case's answer.
bool Inside(std::string_view action) {
  static const std::set<std::string, std::less<>> kInside = {"set",           "log",    "fail",         "emit", "wait",
                                                             "call_workflow", "script", "send_message", "noop"};
  return kInside.count(action) > 0;
}

bool Waits(std::string_view action) {
  return action == "await_user_input" || action == "approval" || action == "handover";
}

std::string Quote(std::string_view s) { return ToJson(Value(std::string(s))); }

}  // namespace

Result<std::string> RecordCase(store::Store& store, const std::string& run_id) {
  WEFT_ASSIGN_OR_RETURN(store::RunRecord run, store.GetRun(run_id));
  WEFT_ASSIGN_OR_RETURN(std::vector<store::StepRecord> steps, store.GetSteps(run_id));
  std::map<std::string, std::vector<Value>> mocks;
  std::vector<std::string> mock_order;
  std::map<std::string, std::string> failures;
  std::vector<std::pair<std::string, Value>> replies;
  std::vector<std::string> path;
  std::string last_path;
  for (const store::StepRecord& s : steps) {
    if (s.path.find('/') != std::string::npos || s.task.empty()) continue;  // sub-steps come with their step
    if (s.path != last_path) path.push_back(s.task);
    last_path = s.path;
    if (Waits(s.action)) {
      if (s.status == store::StepStatus::kCompleted) replies.emplace_back(s.task, s.output);
      continue;
    }
    if (Inside(s.action)) continue;
    if (s.status == store::StepStatus::kCompleted) {
      if (!mocks.count(s.task)) mock_order.push_back(s.task);
      mocks[s.task].push_back(s.output);
    } else if (s.status == store::StepStatus::kFailed && !mocks.count(s.task)) {
      failures[s.task] = s.error;
    }
  }
  std::ostringstream y;
  y << "  - name: "
    << Quote("recorded from run " + run.id + " (" + run.workflow + " v" + std::to_string(run.version) + ")") << "\n";
  y << "    input: " << ToJson(run.input) << "\n";
  bool sequences = false;
  if (!mock_order.empty()) {
    y << "    mocks:\n";
    for (const std::string& t : mock_order) {
      if (mocks[t].size() == 1) y << "      " << t << ": " << ToJson(mocks[t].front()) << "\n";
      sequences = sequences || mocks[t].size() > 1;
    }
  }
  if (sequences) {
    y << "    mock_sequences:\n";
    for (const std::string& t : mock_order) {
      if (mocks[t].size() < 2) continue;
      y << "      " << t << ":\n";
      for (const Value& v : mocks[t]) y << "        - " << ToJson(v) << "\n";
    }
  }
  if (!failures.empty()) {
    y << "    failures:\n";
    for (const auto& [t, message] : failures) y << "      " << t << ": " << Quote(message) << "\n";
  }
  if (!replies.empty()) {
    y << "    replies:\n";
    for (const auto& [t, with] : replies) y << "      - { step: " << t << ", with: " << ToJson(with) << " }\n";
  }
  y << "    expect:\n";
  y << "      status: " << store::RunStatusName(run.status) << "\n";
  if (run.outputs.is_object() && run.outputs.size() > 0) y << "      outputs: " << ToJson(run.outputs) << "\n";
  y << "      path: [";
  for (size_t i = 0; i < path.size(); ++i) y << (i ? ", " : "") << path[i];
  y << "]\n";
  if (run.status == store::RunStatus::kFailed && !run.error.empty()) {
    y << "      error: " << Quote(run.error.substr(0, 200)) << "\n";
  }
  return y.str();
}

}  // namespace weft::suite

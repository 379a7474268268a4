// Actions for tests and benchmarks, registered beside the built-ins:
//   test_flaky   {fail_times, code}  fails its first `fail_times` attempts of a step
//   test_switch  {name}              fails with UNAVAILABLE while the named switch is on
//   test_sleep   {ms}                waits on a real timer; stops when cancelled
//   test_value   {value}             its result is `value` (any JSON, not only objects)
// Every execution is counted per (run, step path) in a shared Ledger.
//
// Stand-ins play the part of actions a workflow names that weft does not
// have (Hexabot's examples call `call_llm`, `get_user_profile`, ...), so that
// such a file runs unchanged. One is described by a mapping:
//   result:  JSONata over $input (the evaluated inputs), $settings, $calls
//            (executions of this step so far, this one included), $attempt
//   fail:    JSONata; a string result fails the attempt with that message
//   code:    the failure's code (default UNAVAILABLE)
//   suspend: a kind ("user_input"): the step waits; the resume payload is
//            its result
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "weft/core/value.h"
#include "weft/engine/action.h"

namespace weft::testing {

class Ledger {
 public:
  void Count(const std::string& run_id, const std::string& path);
  int Calls(const std::string& run_id, const std::string& path) const;
  std::map<std::string, int> CallsOf(const std::string& run_id) const;
  void SetSwitch(const std::string& name, bool on);
  bool Switch(const std::string& name) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, int> calls_;
  std::set<std::string> on_;
};

Status RegisterTestActions(engine::ActionRegistry& registry, Ledger& ledger);

// Registers a stand-in named `name` (replacing an action of that name).
Status RegisterStandIn(engine::ActionRegistry& registry, Ledger& ledger, const std::string& name, const Value& spec);

}  // namespace weft::testing

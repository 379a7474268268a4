// Actions for tests and benchmarks, registered beside the built-ins:
//   test_flaky   {fail_times, code}  fails its first `fail_times` attempts of a step
//   test_switch  {name}              fails with UNAVAILABLE while the named switch is on
//   test_sleep   {ms}                waits on a real timer; stops when cancelled
//   test_value   {value}             its result is `value` (any JSON, not only objects)
// Every execution is counted per (run, step path) in a shared Ledger.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

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

}  // namespace weft::testing

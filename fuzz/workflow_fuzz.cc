// Fuzzes the workflow loader: any bytes must give a Workflow or diagnostics,
// never a crash, a hang or a leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weft/actions/builtin.h"
#include "weft/dsl/loader.h"
#include "weft/engine/action.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static weft::engine::ActionRegistry* actions = [] {
    auto* r = new weft::engine::ActionRegistry();
    (void)weft::actions::RegisterBuiltinActions(*r);
    return r;
  }();
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::dsl::Diagnostics diagnostics;
  auto wf = weft::dsl::LoadWorkflow(text, "fuzz.yaml", *actions, &diagnostics);
  for (const auto& d : diagnostics.all()) (void)d.ToString();
  return 0;
}

// Fuzzes the workflow loader: any bytes must give a Workflow or diagnostics,
// never a crash, a hang or a leak. Every action a deployment registers is
// known, so their load-time checks (permissions and literal URLs of http,
// queries of sql, the agent's tools, declared actions) are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weft/actions/builtin.h"
#include "weft/actions/email.h"
#include "weft/actions/http.h"
#include "weft/actions/script.h"
#include "weft/actions/sql.h"
#include "weft/ai/actions.h"
#include "weft/ai/models.h"
#include "weft/dsl/loader.h"
#include "weft/engine/action.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static weft::engine::ActionRegistry* actions = [] {
    auto* r = new weft::engine::ActionRegistry();
    (void)weft::actions::RegisterBuiltinActions(*r);
    // Loading never calls them: no client, connection or server needed.
    (void)weft::actions::RegisterHttpActions(*r, {});
    (void)weft::actions::RegisterSqlAction(*r, {});
    (void)weft::actions::RegisterScriptAction(*r);
    (void)weft::actions::RegisterEmailAction(*r, {});
    auto models = weft::ai::Models::FromConfig(weft::Value(), nullptr, weft::ai::ProcessEnv());
    if (models.ok()) (void)weft::ai::RegisterAiActions(*r, {.models = *models});
    return r;
  }();
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  weft::dsl::Diagnostics diagnostics;
  // In a folder that does not exist: an `imports:` entry never reads a real
  // file (catalogs embedded after `--- # weft import:` are still parsed).
  auto wf = weft::dsl::LoadWorkflow(text, "/nonexistent-weft-fuzz/fuzz.yaml", *actions, &diagnostics);
  for (const auto& d : diagnostics.all()) (void)d.ToString();
  return 0;
}

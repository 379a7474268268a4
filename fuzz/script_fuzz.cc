// libFuzzer target for the Lua sandbox of the `script` action.
// Input: a Lua chunk. Whatever it does, RunScript must return (a value or an
// error) within the budgets, never crash, hang, leak, or leave the thread's
// sandbox unusable for the next script. Run with -dict=fuzz/script.dict.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "weft/actions/script.h"
#include "weft/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view code(reinterpret_cast<const char*>(data), size);
  static const weft::Value kInput =
      *weft::ParseJson(R"({"amount":120,"text":"charged twice","list":[1,2,{"x":null}],"o":{"k":"v"}})");
  weft::actions::ScriptLimits limits;
  limits.max_instructions = 200'000;
  limits.max_memory_bytes = 4u << 20;
  limits.max_millis = 500;
  (void)weft::actions::RunScript(code, kInput, limits);
  // The sandbox is intact: the next script sees the same world.
  auto after = weft::actions::RunScript("return string.upper('ok') .. tostring(leak) .. #input.list", kInput, limits);
  if (!after.ok() || *after != weft::Value("OKnil3")) std::abort();
  return 0;
}

// The Lua sandbox: JSON in and out, errors with the script's line, budgets,
// and a list of escape attempts that must all fail.
#include <gtest/gtest.h>

#include "weft/actions/builtin.h"
#include "weft/actions/script.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

Value Json(const char* text) { return *ParseJson(text); }

TEST(ScriptTest, JsonInAndOut) {
  struct Case {
    const char* code;
    const char* input;
    const char* output;
  };
  const Case cases[] = {
      {"return input.a + input.b", R"({"a":2,"b":40})", "42"},
      {"return input", R"({"x":[1,2,{"y":null}],"e":[],"o":{},"s":"é"})",
       R"({"e":[],"o":{},"s":"é","x":[1,2,{"y":null}]})"},
      {"local t = {} for i = 1, 3 do t[i] = i * i end return t", "{}", "[1,4,9]"},
      {"return { total = input.amount * 1.2, large = input.amount * 1.2 > 100 }", R"({"amount":100})",
       R"({"large":true,"total":120})"},
      {"return json.null", "{}", "null"},
      {"return nil", "{}", "null"},
      {"return {}", "{}", "{}"},
      {"return { [1] = 'a', [3] = 'c' }", "{}", R"({"1":"a","3":"c"})"},
      {"return string.format('%05.1f', input.n) .. ('x'):rep(3)", R"({"n":3.14159})", R"("003.1xxx")"},
      {"return #input.list, select('#', 1, 2)", R"({"list":[1,2,3]})", "3"},
      {"local words = {} for w in input.text:gmatch('%a+') do words[#words + 1] = w:upper() end return words",
       R"({"text":"charged twice!"})", R"(["CHARGED","TWICE"])"},
      {"return utf8.len(input.s)", R"({"s":"héllo"})", "5"},
      {"return math.floor(input.x) + math.max(1, 7)", R"({"x":2.7})", "9"},
      {"return type(os.time()) == 'number'", "{}", "true"},
      {"local ok, err = pcall(error, 'inner') return { ok = ok, err = err }", "{}", R"({"err":"inner","ok":false})"},
  };
  for (const Case& c : cases) {
    Result<Value> out = RunScript(c.code, Json(c.input), {});
    ASSERT_TRUE(out.ok()) << c.code << ": " << out.status();
    EXPECT_EQ(ToJson(*out), c.output) << c.code;
  }
}

TEST(ScriptTest, FailuresNameTheLine) {
  struct Case {
    const char* code;
    StatusCode code_expected;
    const char* message;
  };
  const Case cases[] = {
      {"local x = 1\nreturn x +", StatusCode::kInvalidArgument, "does not compile: script:2:"},
      {"local a = 1\nlocal b = nil\nreturn a + b.c", StatusCode::kFailedPrecondition,
       "script:3: attempt to index a nil value (local 'b')"},
      {"error('no such customer')", StatusCode::kFailedPrecondition, "script:1: no such customer"},
      {"error({ code = 7 })", StatusCode::kFailedPrecondition, "an error value of type table"},
      {"return function() end", StatusCode::kFailedPrecondition, "holds a function"},
      {"return 0/0", StatusCode::kFailedPrecondition, "a number JSON cannot"},
      {"local t = {} t.self = t return t", StatusCode::kFailedPrecondition, "nests deeper than 100"},
      {"return { [true] = 1 }", StatusCode::kFailedPrecondition, "table key JSON cannot"},
      {"return '\\xff'", StatusCode::kFailedPrecondition, "not UTF-8"},
  };
  for (const Case& c : cases) {
    Result<Value> out = RunScript(c.code, Value::MakeObject(), {});
    ASSERT_FALSE(out.ok()) << c.code;
    EXPECT_EQ(out.status().code(), c.code_expected) << c.code << ": " << out.status();
    EXPECT_NE(out.status().message().find(c.message), std::string::npos) << c.code << ": " << out.status();
  }
}

// Each must fail (or do no harm), and the next call must find the sandbox
// as it was.
TEST(ScriptTest, EscapeAttemptsAreRefused) {
  ScriptLimits tight;
  tight.max_instructions = 2'000'000;
  tight.max_memory_bytes = 4u << 20;
  tight.max_millis = 2'000;
  struct Case {
    const char* what;
    const char* code;
    const char* error;  // expected in the message
  };
  const Case cases[] = {
      {"io", "return io.open('/etc/passwd'):read('a')", "global 'io'"},
      {"os.execute", "return os.execute('id')", "field 'execute'"},
      {"os.getenv", "return os.getenv('HOME')", "field 'getenv'"},
      {"os.exit", "os.exit(1)", "field 'exit'"},
      {"os.remove", "return os.remove('/tmp/x')", "field 'remove'"},
      {"require", "return require('os')", "global 'require'"},
      {"package", "return package.loaded.os", "global 'package'"},
      {"load", "return load('return 1')()", "global 'load'"},
      {"loadstring", "return loadstring('return 1')()", "global 'loadstring'"},
      {"dofile", "return dofile('/etc/passwd')", "global 'dofile'"},
      {"loadfile", "return loadfile('/etc/passwd')", "global 'loadfile'"},
      {"string.dump", "return string.dump(print)", "field 'dump'"},
      {"dump via a string's metatable", "return ('').dump(print)", "field 'dump'"},
      {"the string metatable", "return getmetatable('').__index.dump", "attempt to index"},
      {"debug", "return debug.getregistry()", "global 'debug'"},
      {"collectgarbage", "collectgarbage('stop')", "global 'collectgarbage'"},
      {"rawset on a library", "rawset(string, 'upper', print)", "global 'rawset'"},
      {"assigning into a library", "string.upper = print", "read-only"},
      {"replacing a library's metatable", "setmetatable(string, {})", "protected metatable"},
      {"the globals' metatable", "return getmetatable(_ENV).__index.os", "attempt to index a nil value"},
      {"_G", "return _G.os", "global '_G'"},
      {"the array marker", "getmetatable(input.list).__index = function() return 1 end", "attempt to index"},
      {"bytecode", "\x1bLua\x54\x00", "binary chunk"},
      {"an endless loop", "while true do end", "more than 2000000 instructions"},
      {"a pcall swallowing the budget", "while true do pcall(function() while true do end end) end",
       "more than 2000000 instructions"},
      {"a coroutine hiding the budget", "coroutine.wrap(function() while true do end end)()",
       "more than 2000000 instructions"},
      {"a table without end", "local t = {} for i = 1, 1e9 do t[i] = i end", "allocated more than"},
      {"string.rep", "return ('x'):rep(1e9)", "allocated more than"},
      {"a backtracking pattern", "return string.find(('a'):rep(1e5), ('a-'):rep(20) .. 'b')",
       "more than 2000000 instructions"},
      {"a backtracking pattern as a method", "return (('a'):rep(1e5)):match(('a*'):rep(10) .. 'b')",
       "more than 2000000 instructions"},
      {"optional items backtracking", "return ('a'):rep(26):find(('a?'):rep(26) .. ('a'):rep(26))",
       "more than 2000000 instructions"},
      {"an unanchored search that rescans", "return string.rep('a', 1e6):find('.*b')",
       "more than 2000000 instructions"},
      {"a lazy gsub that rescans", "return (string.gsub(string.rep('a', 3e5), 'a-b', ''))",
       "more than 2000000 instructions"},
      {"gmatch that rescans", "for w in string.rep('a', 1e5):gmatch('a*b') do end", "more than 2000000 instructions"},
      {"a balanced match that rescans", "return string.rep('(', 1e5):find('%b()')", "more than 2000000 instructions"},
      {"many small matches in one gsub", "return (string.gsub(string.rep('ab', 1e6), '%a', '.'))",
       "more than 2000000 instructions"},
      {"a finalizer that never ends", "setmetatable({}, { __gc = function() while true do end end })",
       "finalizers (__gc) are not available"},
      {"xpcall whose handler never ends",
       "return xpcall(function() while true do end end, function() while true do end end)",
       "more than 2000000 instructions"},
      {"xpcall swallowing the budget", "while true do xpcall(function() while true do end end, print) end",
       "more than 2000000 instructions"},
      {"pcall swallowing the memory budget",
       "local ok = pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) return { ok = ok }",
       "allocated more than"},
      {"a coroutine swallowing the memory budget",
       "local co = coroutine.create(function() return ('x'):rep(1e9) end) local ok = coroutine.resume(co) "
       "return { ok = ok }",
       "allocated more than"},
      {"an empty string repeated forever", "return ('').rep('', math.maxinteger)", nullptr},
      {"table.move over a huge range", "return table.move({}, 1, 1e15, 2)", "more than 2000000 instructions"},
      {"a result that shares a table many times", "local t = {1} for i = 1, 60 do t = {t, t} end return t",
       "larger than 4194304 bytes"},
      {"an error object whose __tostring never ends",
       "error(setmetatable({}, { __tostring = function() while true do end end }))", "an error value of type table"},
      {"endless recursion", "local function f() return 1 + f() end return f()", "allocated more than"},
  };
  Value input = Json(R"({"list":[1,2]})");
  for (const Case& c : cases) {
    Result<Value> out = RunScript(c.code, input, tight);
    if (c.error == nullptr) {  // harmless: it just has to end
      EXPECT_TRUE(out.ok()) << c.what << ": " << out.status();
    } else {
      ASSERT_FALSE(out.ok()) << c.what << " succeeded: " << ToJson(*out);
      EXPECT_NE(out.status().message().find(c.error), std::string::npos) << c.what << ": " << out.status();
      // The script's doing: retrying cannot help.
      EXPECT_FALSE(out.status().retryable()) << c.what << ": " << out.status();
    }
    // The sandbox is intact for the next caller.
    Result<Value> after = RunScript("return string.upper('ok') .. tostring(leak)", input, tight);
    ASSERT_TRUE(after.ok()) << c.what << " broke the sandbox: " << after.status();
    EXPECT_EQ(*after, Value("OKnil")) << c.what;
  }
  static_assert(sizeof(cases) / sizeof(cases[0]) >= 46);
}

TEST(ScriptTest, EachCallGetsFreshGlobals) {
  ASSERT_TRUE(RunScript("leak = 42 print = nil string = nil return 1", Value::MakeObject(), {}).ok());
  Result<Value> out = RunScript("print('hi') return { leak = leak, up = string.upper('a') }", Value::MakeObject(), {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToJson(*out), R"({"up":"A"})");
}

TEST(ScriptTest, RunsAsAStepWhenTheWorkflowGrantsScripts) {
  engine::ActionRegistry registry;
  ASSERT_TRUE(RegisterBuiltinActions(registry).ok());
  ASSERT_TRUE(RegisterScriptAction(registry).ok());
  const std::string body = R"yaml(
defs:
  score:
    kind: task
    action: script
    inputs:
      input: { amount: "=$input.amount" }
      code: |
        print('scoring', input.amount)
        local total = input.amount * 1.2
        if total > 1000 then error('amount too large: ' .. total) end
        return { total = total, large = total > 100 }
flow:
  - do: score
outputs: { score: "=$output.score" }
)yaml";
  auto denied = dsl::LoadWorkflow("workflow: { name: s }\n" + body, "s.yaml", registry);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("needs the 'scripts' permission"), std::string::npos) << denied.status();

  auto wf = dsl::LoadWorkflow("workflow: { name: s }\npermissions: { scripts: true }\n" + body, "s.yaml", registry);
  ASSERT_TRUE(wf.ok()) << wf.status();
  auto store = store::NewMemoryStore();
  engine::EngineOptions o;
  o.store = store.get();
  o.actions = &registry;
  auto engine = std::move(engine::Engine::Create(std::move(o))).value();
  auto version = engine->Deploy(*wf);
  auto run = *engine->Wait(*engine->Start("s", *version, Json(R"({"amount":100})")));
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs.get("score")), R"({"large":true,"total":120})");
  auto steps = *store->GetSteps(run.id);
  EXPECT_EQ(ToJson(steps[0].detail.get("logs")), R"(["scoring\t100"])");

  run = *engine->Wait(*engine->Start("s", *version, Json(R"({"amount":5000})")));
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("script:3: amount too large: 6000"), std::string::npos) << run.error;
}

// A spent budget is not retried (the same script would spend it again), and
// the step's timeout_ms bounds the script as its own max_millis does.
TEST(ScriptTest, BudgetsAreNotRetriedAndTheStepTimeoutBoundsTheScript) {
  engine::ActionRegistry registry;
  ASSERT_TRUE(RegisterBuiltinActions(registry).ok());
  ScriptLimits limits;
  limits.max_instructions = INT64_MAX;  // time is what ends it
  ASSERT_TRUE(RegisterScriptAction(registry, limits).ok());
  auto wf = dsl::LoadWorkflow(R"yaml(
workflow: { name: s }
permissions: { scripts: true }
defs:
  spin:
    kind: task
    action: script
    inputs: { code: "while true do end" }
    settings:
      timeout_ms: 150
      retries: { enabled: true, max_attempts: 3, backoff_ms: 1 }
flow:
  - do: spin
)yaml",
                              "s.yaml", registry);
  ASSERT_TRUE(wf.ok()) << wf.status();
  auto store = store::NewMemoryStore();
  engine::EngineOptions o;
  o.store = store.get();
  o.actions = &registry;
  auto engine = std::move(engine::Engine::Create(std::move(o))).value();
  auto version = engine->Deploy(*wf);
  auto run = *engine->Wait(*engine->Start("s", *version, Value::MakeObject()));
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  // The step's 150 ms (less what passed before the script began), not the
  // script's own 2,000.
  const size_t at = run.error.find("ran longer than ");
  ASSERT_NE(at, std::string::npos) << run.error;
  EXPECT_LE(std::stoi(run.error.substr(at + 16)), 150) << run.error;
  auto steps = *store->GetSteps(run.id);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].attempt, 1);
}

}  // namespace
}  // namespace weft::actions

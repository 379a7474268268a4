// The sandbox's own pattern matching (find, match, gmatch, gsub, rep) against
// Lua 5.4's: the same chunk runs in a plain Lua state and in the sandbox, over
// hand-picked cases and thousands of generated ones, and must print the same.
#include <gtest/gtest.h>

#include <lua.hpp>

#include <random>
#include <string>
#include <vector>

#include "weft/actions/script.h"

namespace weft::actions {
namespace {

// Runs every call of `cases` (a Lua table constructor of {fn, args...}) and
// returns one line per call: the results, or the error message.
constexpr char kHarness[] = R"lua(
local cases = ...
local out = {}
local function show(...)
  local parts = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) == 'string' and string.format('%q', v) or tostring(v)
  end
  return table.concat(parts, ',')
end
for _, c in ipairs(cases) do
  local fn = c[1]
  local ok, a, b, r3 = pcall(function()
    if fn == 'gmatch' then
      local got = {}
      for x, y in string.gmatch(c[2], c[3], c[4]) do
        got[#got + 1] = show(x, y)
        if #got > 50 then break end
      end
      return table.concat(got, ';')
    end
    return show(string[fn](table.unpack(c, 2, c.n)))
  end)
  out[#out + 1] = ok and a or ('error: ' .. tostring(a))
end
return table.concat(out, '\n')
)lua";

std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (unsigned char c : s) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\%03d", c);
    q += buf;
  }
  return q + "\"";
}

struct Call {
  std::string fn;
  std::vector<std::string> args;  // Lua expressions
};

std::string CasesTable(const std::vector<Call>& calls) {
  std::string t = "{";
  for (const Call& c : calls) {
    t += "{n = " + std::to_string(c.args.size() + 1) + ", '" + c.fn + "'";
    for (const auto& a : c.args) t += ", " + a;
    t += "},\n";
  }
  return t + "}";
}

std::string RunStock(const std::string& code) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  std::string out;
  if (luaL_loadbufferx(L, code.data(), code.size(), "=script", "t") == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK &&
      lua_isstring(L, -1)) {
    out = lua_tostring(L, -1);
  } else {
    out = std::string("stock Lua failed: ") + (lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
  }
  lua_close(L);
  return out;
}

std::string RunSandboxed(const std::string& code) {
  ScriptLimits limits;
  limits.max_instructions = 2'000'000'000;
  limits.max_millis = 60'000;
  limits.max_memory_bytes = 256u << 20;
  Result<Value> r = RunScript(code, Value::MakeObject(), limits);
  if (!r.ok()) return "sandbox failed: " + r.status().message();
  return r->as_string();
}

void ExpectSameAsLua(const std::vector<Call>& calls) {
  const std::string code = "return (function(...) " + std::string(kHarness) + " end)(" + CasesTable(calls) + ")";
  const std::string stock = RunStock(code);
  const std::string ours = RunSandboxed(code);
  ASSERT_EQ(stock.rfind("stock Lua failed", 0), std::string::npos) << stock;
  // Compare line by line, to name the case that differs.
  std::vector<std::string> a, b;
  for (auto* v : {&a, &b}) v->clear();
  auto split = [](const std::string& s, std::vector<std::string>& lines) {
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i)
      if (i == s.size() || s[i] == '\n') {
        lines.push_back(s.substr(start, i - start));
        start = i + 1;
      }
  };
  split(stock, a);
  split(ours, b);
  ASSERT_EQ(a.size(), b.size()) << ours;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string args;
    for (const auto& x : calls[i].args) args += x + " ";
    EXPECT_EQ(a[i], b[i]) << calls[i].fn << "(" << args << ")";
  }
}

TEST(LuaPatternTest, HandPickedCasesBehaveAsLua) {
  const std::vector<std::pair<std::string, std::string>> subject_pattern = {
      {"hello world", "o w"},
      {"hello world", "l+"},
      {"hello world", "^h.-o"},
      {"hello world", "(h)(e)"},
      {"hello world", "()ll()"},
      {"hello", "$"},
      {"hello", "^$"},
      {"", ""},
      {"", "^"},
      {"abc", "b*"},
      {"  trim  ", "^%s*(.-)%s*$"},
      {"key=val", "(%w+)=(%w+)"},
      {"THE (quick) fox", "%((%a+)%)"},
      {"f(a(b)c)d", "%b()"},
      {"THE (quick) fox", "%f[%a]%a+"},
      {"aaa", "a-"},
      {"aaa", "a-$"},
      {"a.b", "%."},
      {"a]b", "[]]"},
      {"a-b", "[a-]"},
      {"a^b", "[%^]"},
      {"abc", "[^a]+"},
      {"x1y22z333", "%d+"},
      {"abcabc", "(abc)%1"},
      {"hello", "(l)(l)"},
      {"hello", "[a-f]"},
      {"A1 b2", "%u%d"},
      {"\t\n ", "%s+"},
      {"caf\xc3\xa9", "[\x80-\xff]+"},
      {"x$y", "$y"},
      {"x", "[a"},
      {"x", "%"},
      {"x", "(x"},
      {"x", "x)"},
      {"x", "%1"},
      {"x", "%bx"},
      {"x", "%f"},
      {"aaab", "a?a?a?aaab"},
      {"hello", "l*"},
      {"one two  three", "%S+"},
      {"a,b,,c", "([^,]*)"},
      {"abc", "((a)(b))"},
  };
  std::vector<Call> calls;
  for (const auto& [s, p] : subject_pattern) {
    for (const char* fn : {"find", "match", "gmatch"}) calls.push_back({fn, {Quote(s), Quote(p)}});
    calls.push_back({"gsub", {Quote(s), Quote(p), Quote("<%0>")}});
    calls.push_back({"gsub", {Quote(s), Quote(p), "function(...) return select('#', ...) .. '' end"}});
    calls.push_back({"gsub", {Quote(s), Quote(p), "{hello = 'HI', l = false}", "1"}});
    calls.push_back({"find", {Quote(s), Quote(p), "3"}});
    calls.push_back({"find", {Quote(s), Quote(p), "-2", "true"}});
    calls.push_back({"match", {Quote(s), Quote(p), "100"}});
    calls.push_back({"gmatch", {Quote(s), Quote(p), "2"}});
  }
  calls.push_back({"gsub", {Quote("abc"), Quote("%w"), Quote("%2")}});
  calls.push_back({"gsub", {Quote("abc"), Quote("%w"), Quote("%x")}});
  calls.push_back({"gsub", {Quote("abc"), Quote("(b)"), Quote("[%1%%]")}});
  calls.push_back({"gsub", {Quote("abc"), Quote("b"), "function() return {} end"}});
  calls.push_back({"gsub", {Quote("abc"), Quote("()b"), "function(p) return p * 10 end"}});
  calls.push_back({"gsub", {Quote("abc"), Quote(""), Quote("-")}});
  calls.push_back({"gsub", {Quote("abc"), Quote("x*"), Quote("-"), "2"}});
  calls.push_back({"gsub", {Quote("abc"), Quote("b"), "true"}});
  calls.push_back({"rep", {Quote("ab"), "3", Quote(",")}});
  calls.push_back({"rep", {Quote(""), "5"}});
  calls.push_back({"rep", {Quote(""), "5", Quote("")}});
  calls.push_back({"rep", {Quote("x"), "0"}});
  calls.push_back({"rep", {Quote(""), "3", Quote("-")}});
  calls.push_back({"find", {"nil", Quote("x")}});
  calls.push_back({"find", {Quote("x"), "{}"}});
  ExpectSameAsLua(calls);
}

// Random patterns over a small alphabet, on short subjects (so that stock
// Lua's unbounded backtracking stays quick).
TEST(LuaPatternTest, GeneratedCasesBehaveAsLua) {
  std::mt19937 rng(20261202);
  const std::vector<std::string> atoms = {"a",     "b",     ".",    "%a", "%d", "%s", "%W", "[ab]", "[^a]",
                                          "[a-c]", "%.",    "(",    ")",  "()", "%1", "%2", "$",    "^",
                                          "%b()",  "%f[b]", "[%d]", "]",  "%",  "[",  "-",  "x"};
  const std::vector<std::string> suffixes = {"", "", "", "*", "+", "-", "?"};
  const std::string alphabet = "aab1 .()x";
  std::vector<Call> calls;
  for (int i = 0; i < 3000; ++i) {
    std::string p;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < n; ++k) p += atoms[rng() % atoms.size()] + suffixes[rng() % suffixes.size()];
    std::string s;
    const int len = static_cast<int>(rng() % 10);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    const char* fns[] = {"find", "match", "gmatch", "gsub"};
    const std::string fn = fns[rng() % 4];
    if (fn == "gsub") {
      calls.push_back({fn, {Quote(s), Quote(p), Quote("<%0>")}});
    } else {
      calls.push_back({fn, {Quote(s), Quote(p)}});
    }
  }
  ExpectSameAsLua(calls);
}

}  // namespace
}  // namespace weft::actions

// The Lua sandbox behind the `script` action. One Lua state per thread,
// reused: compiled chunks are cached in it, and every call runs with fresh
// globals over a read-only base, under instruction, memory and time budgets.
#include "weft/actions/script.h"

#include <lua.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "lua_strings.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/core/utf8.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr int kHookEvery = 1000;  // instructions between budget checks
constexpr int kMaxDepth = 100;    // nesting of JSON values in and out
constexpr size_t kMaxCachedChunks = 256;
constexpr size_t kRenewAboveBytes = 64u << 20;  // a state holding more is replaced
char kNullSentinel;                             // json.null's address
char kArrayMarker;                              // registry key of the metatable marking JSON arrays

// What one call may still spend, and why it stopped.
struct Budget {
  size_t used = 0;  // bytes the state holds
  size_t limit = SIZE_MAX;
  int64_t ticks = 0;
  int64_t max_ticks = INT64_MAX;
  int64_t match_steps = 0;  // pattern-matching steps not yet counted as a tick
  Clock::time_point deadline = Clock::time_point::max();
  bool out_of_memory = false;
  bool out_of_instructions = false;
  bool out_of_time = false;
  lua_State* main = nullptr;
  std::vector<std::string>* logs = nullptr;

  bool exhausted() const { return out_of_memory || out_of_instructions || out_of_time; }
};

void* Allocate(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* b = static_cast<Budget*>(ud);
  const size_t old = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    b->used -= old;
    std::free(ptr);
    return nullptr;
  }
  // Once the budget is out, no block grows again in this call: a script
  // that catches the memory error cannot go on allocating.
  if (nsize > old && (b->out_of_memory || b->used + (nsize - old) > b->limit)) {
    b->out_of_memory = true;
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p != nullptr) b->used = b->used - old + nsize;
  return p;
}

Budget& BudgetOf(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<Budget*>(ud);
}

void Hook(lua_State* L, lua_Debug*);

// From now on every instruction of the call fails, so that nothing the
// script does (pcall, xpcall's handler, a coroutine) can go on for long.
void TripHooks(lua_State* L, const Budget& b) {
  lua_sethook(L, Hook, LUA_MASKCOUNT, 1);
  if (b.main != nullptr && b.main != L) lua_sethook(b.main, Hook, LUA_MASKCOUNT, 1);
}

void Hook(lua_State* L, lua_Debug*) {
  Budget& b = BudgetOf(L);
  ++b.ticks;
  if (!b.exhausted()) {
    if (b.ticks > b.max_ticks) b.out_of_instructions = true;
    if ((b.ticks & 15) == 0 && Clock::now() > b.deadline) b.out_of_time = true;
  }
  if (b.exhausted()) {
    TripHooks(L, b);
    luaL_error(L, b.out_of_time     ? "time budget exhausted"
                  : b.out_of_memory ? "memory budget exhausted"
                                    : "instruction budget exhausted");
  }
}

// pcall and xpcall that cannot catch the exhaustion of a budget: the error
// goes on to the end of the call. Built like Lua's own (a continuation, so a
// coroutine may still yield inside them).
int FinishProtectedCall(lua_State* L, int status, lua_KContext extra) {
  if (status != LUA_OK && status != LUA_YIELD) {
    if (BudgetOf(L).exhausted()) return lua_error(L);  // the error object is on top
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - static_cast<int>(extra);
}

int ProtectedCall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);  // first result if there is no error
  lua_insert(L, 1);
  const int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, FinishProtectedCall);
  return FinishProtectedCall(L, status, 0);
}

// xpcall's message handler runs where the error happened; once a budget is
// out it is skipped (a handler that loops would otherwise be called again
// for each error the hook raises in it).
int GuardedMessageHandler(lua_State* L) {
  if (BudgetOf(L).exhausted()) return 1;  // the error object as it is
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int ProtectedCallWithHandler(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);  // first result
  lua_pushvalue(L, 1);    // the function
  lua_rotate(L, 3, 2);    // both below the arguments
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, GuardedMessageHandler, 1);
  lua_replace(L, 2);  // the guarded handler in the handler's place
  const int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, FinishProtectedCall);
  return FinishProtectedCall(L, status, 2);
}

// setmetatable without finalizers: a __gc runs whenever the collector gets
// to it, after the call that set it and outside every budget (one that loops
// wedged the thread for the next script, or the process' exit).
int SetMetatableWithoutFinalizer(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) return luaL_error(L, "finalizers (__gc) are not available to scripts");
  }
  lua_pushvalue(L, lua_upvalueindex(1));  // Lua's own setmetatable
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// table.move loops in C over any range it is given (`table.move({}, 1,
// 1e15, 2)` never ends); written in Lua it runs under the hook.
constexpr char kTableMove[] = R"lua(
local a1, f, e, t, a2 = ...
a2 = a2 or a1
if e >= f then
  if t > e or t <= f or a1 ~= a2 then
    for i = 0, e - f do a2[t + i] = a1[f + i] end
  else
    for i = e - f, 0, -1 do a2[t + i] = a1[f + i] end
  end
end
return a2
)lua";

int Print(lua_State* L) {
  Budget& b = BudgetOf(L);
  std::string line;
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    size_t len = 0;
    const char* s = luaL_tolstring(L, i, &len);
    if (i > 1) line += '\t';
    line.append(s, len);
    lua_pop(L, 1);
  }
  if (b.logs != nullptr && b.logs->size() < 1000) b.logs->push_back(std::move(line));
  return 0;
}

}  // namespace

namespace internal {

MatchBudget TakeMatchBudget(lua_State* L) {
  const Budget& b = BudgetOf(L);
  MatchBudget m;
  const int64_t ticks_left = b.max_ticks - b.ticks;
  m.steps = ticks_left <= 0 ? 0 : (ticks_left > INT64_MAX / kHookEvery ? INT64_MAX : ticks_left * kHookEvery);
  m.deadline = b.deadline;
  return m;
}

void ReturnMatchBudget(lua_State* L, const MatchBudget& budget) {
  Budget& b = BudgetOf(L);
  // Many small matches (a gsub over a long text) add up: steps short of a
  // tick are carried over.
  b.match_steps += TakeMatchBudget(L).steps - std::max<int64_t>(budget.steps, 0);
  b.ticks += b.match_steps / kHookEvery;
  b.match_steps %= kHookEvery;
  if (budget.exhausted) {
    if (Clock::now() > b.deadline) {
      b.out_of_time = true;
    } else {
      b.out_of_instructions = true;
    }
    TripHooks(L, b);
  }
}

}  // namespace internal

namespace {

// A table scripts can read but not change, over a copy of `src` (at -1).
void PushReadOnlyCopy(lua_State* L, const char* const* drop = nullptr) {
  const int src = lua_gettop(L);
  lua_newtable(L);  // the copy
  lua_pushnil(L);
  while (lua_next(L, src) != 0) {
    bool dropped = false;
    if (drop != nullptr && lua_type(L, -2) == LUA_TSTRING) {
      for (const char* const* d = drop; *d != nullptr; ++d)
        dropped = dropped || std::strcmp(lua_tostring(L, -2), *d) == 0;
    }
    if (dropped) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, src + 1);
  }
  lua_newtable(L);  // the proxy
  lua_newtable(L);  // its metatable
  lua_pushvalue(L, src + 1);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_pushcfunction(L, [](lua_State* S) -> int { return luaL_error(S, "library tables are read-only"); });
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_replace(L, src);  // proxy in place of the source
  lua_settop(L, src);
}

class Sandbox {
 public:
  Sandbox() {
    L_ = lua_newstate(Allocate, &budget_);
    budget_.main = L_;
    if (L_ == nullptr) return;
    lua_newtable(L_);  // the base every call's globals read through
    const int base = lua_gettop(L_);

    luaL_requiref(L_, "_G", luaopen_base, 0);
    for (const char* name : {"assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
                             "getmetatable", "rawequal", "rawget", "rawlen"}) {
      lua_getfield(L_, -1, name);
      lua_setfield(L_, base, name);
    }
    lua_pushcfunction(L_, ProtectedCall);
    lua_setfield(L_, base, "pcall");
    lua_pushcfunction(L_, ProtectedCallWithHandler);
    lua_setfield(L_, base, "xpcall");
    lua_getfield(L_, -1, "setmetatable");
    lua_pushcclosure(L_, SetMetatableWithoutFinalizer, 1);
    lua_setfield(L_, base, "setmetatable");
    lua_pop(L_, 1);
    lua_pushstring(L_, LUA_VERSION);
    lua_setfield(L_, base, "_VERSION");
    lua_pushcfunction(L_, Print);
    lua_setfield(L_, base, "print");

    // string: the real table is also every string's __index, so it is
    // hardened in place (dump gone, matching and rep bounded) and its
    // metatable hidden.
    luaL_requiref(L_, "string", luaopen_string, 0);
    lua_pushnil(L_);
    lua_setfield(L_, -2, "dump");
    internal::InstallBoundedStringFunctions(L_, -1);
    lua_pushliteral(L_, "");
    lua_getmetatable(L_, -1);
    lua_pushliteral(L_, "read-only");
    lua_setfield(L_, -2, "__metatable");
    lua_pop(L_, 2);
    PushReadOnlyCopy(L_);
    lua_setfield(L_, base, "string");

    const std::pair<const char*, lua_CFunction> libs[] = {
        {"table", luaopen_table}, {"math", luaopen_math}, {"utf8", luaopen_utf8}, {"coroutine", luaopen_coroutine}};
    for (const auto& [name, open] : libs) {
      luaL_requiref(L_, name, open, 0);
      if (std::strcmp(name, "table") == 0) {
        if (luaL_loadbufferx(L_, kTableMove, sizeof kTableMove - 1, "=table.move", "t") != LUA_OK) {
          lua_close(L_);
          L_ = nullptr;
          return;
        }
        lua_setfield(L_, -2, "move");
      }
      PushReadOnlyCopy(L_);
      lua_setfield(L_, base, name);
    }
    static const char* const kOsDrop[] = {"execute", "exit",    "getenv",    "remove",
                                          "rename",  "tmpname", "setlocale", nullptr};
    luaL_requiref(L_, "os", luaopen_os, 0);
    PushReadOnlyCopy(L_, kOsDrop);
    lua_setfield(L_, base, "os");

    lua_newtable(L_);
    lua_pushlightuserdata(L_, &kNullSentinel);
    lua_setfield(L_, -2, "null");
    PushReadOnlyCopy(L_);
    lua_setfield(L_, base, "json");

    lua_newtable(L_);  // marks tables that were JSON arrays (empty ones stay arrays)
    lua_pushliteral(L_, "array");
    lua_setfield(L_, -2, "__metatable");  // shared by every call: scripts cannot reach it
    lua_rawsetp(L_, LUA_REGISTRYINDEX, &kArrayMarker);

    lua_newtable(L_);  // metatable of each call's globals
    lua_pushvalue(L_, base);
    lua_setfield(L_, -2, "__index");
    lua_pushliteral(L_, "read-only");
    lua_setfield(L_, -2, "__metatable");
    env_meta_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    lua_settop(L_, 0);
    lua_gc(L_, LUA_GCGEN, 0, 0);
  }
  ~Sandbox() {
    if (L_ != nullptr) lua_close(L_);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  bool ok() const { return L_ != nullptr && env_meta_ != LUA_NOREF; }
  // Whether the next call should get a new state.
  bool Spent() const { return budget_.used > kRenewAboveBytes || poisoned_; }

  Result<Value> Run(std::string_view code, const Value& input, const ScriptLimits& limits,
                    std::vector<std::string>* logs) {
    lua_settop(L_, 0);
    WEFT_RETURN_IF_ERROR(PushChunk(code));
    // Fresh globals over the read-only base.
    lua_newtable(L_);
    lua_rawgeti(L_, LUA_REGISTRYINDEX, env_meta_);
    lua_setmetatable(L_, -2);
    if (Status s = Push(input, 0); !s.ok()) {
      lua_settop(L_, 0);
      return s;
    }
    lua_setfield(L_, -2, "input");
    lua_setupvalue(L_, 1, 1);  // the chunk's _ENV

    budget_.limit = budget_.used + limits.max_memory_bytes;
    budget_.ticks = 0;
    budget_.match_steps = 0;
    budget_.max_ticks = std::max<int64_t>(1, limits.max_instructions / kHookEvery);
    budget_.deadline = Clock::now() + std::chrono::milliseconds(limits.max_millis);
    budget_.out_of_memory = budget_.out_of_instructions = budget_.out_of_time = false;
    budget_.logs = logs;
    lua_sethook(L_, Hook, LUA_MASKCOUNT, kHookEvery);
    const int rc = lua_pcall(L_, 0, 1, 0);
    lua_sethook(L_, nullptr, 0, 0);
    // Whatever the script caught, a spent budget fails the call. The rest
    // runs without a memory limit (describing an error may allocate).
    const Budget spent = budget_;
    budget_.limit = SIZE_MAX;
    budget_.out_of_memory = false;
    Result<Value> out = Value();
    if (rc != LUA_OK || spent.exhausted()) {
      out = Failure(limits, spent);
    } else {
      Value v;
      size_t size = 0;
      Status s = Pull(-1, 0, v, size, limits.max_memory_bytes);
      if (s.ok()) {
        out = std::move(v);
      } else {
        out = s;
      }
    }
    budget_.logs = nullptr;
    if (spent.out_of_memory) poisoned_ = true;  // a half-built structure may remain
    lua_settop(L_, 0);
    // Drop this call's globals now rather than at the chunk's next call.
    lua_rawgeti(L_, LUA_REGISTRYINDEX, chunk_ref_);
    lua_pushnil(L_);
    lua_setupvalue(L_, -2, 1);
    lua_settop(L_, 0);
    return out;
  }

 private:
  Status PushChunk(std::string_view code) {
    auto it = chunks_.find(code);
    if (it != chunks_.end()) {
      chunk_ref_ = it->second;
      lua_rawgeti(L_, LUA_REGISTRYINDEX, chunk_ref_);
      return Status::Ok();
    }
    if (chunks_.size() >= kMaxCachedChunks) poisoned_ = true;  // renewed after this call
    budget_.limit = budget_.used + (8u << 20);
    const int rc = luaL_loadbufferx(L_, code.data(), code.size(), "=script", "t");  // text only, never bytecode
    budget_.limit = SIZE_MAX;
    if (rc != LUA_OK) {
      std::string message = lua_tostring(L_, -1) != nullptr ? lua_tostring(L_, -1) : "cannot load";
      lua_settop(L_, 0);
      return InvalidArgumentError("the script does not compile: " + message);
    }
    lua_pushvalue(L_, -1);
    chunk_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    chunks_.emplace(std::string(code), chunk_ref_);
    return Status::Ok();
  }

  // A spent budget is the script's doing, as any of its errors: trying it
  // again cannot help, so no code here is one the engine retries.
  Status Failure(const ScriptLimits& limits, const Budget& spent) {
    if (spent.out_of_instructions) {
      return FailedPreconditionError("the script ran more than " + std::to_string(limits.max_instructions) +
                                     " instructions (its budget)");
    }
    if (spent.out_of_time) {
      return FailedPreconditionError("the script ran longer than " + std::to_string(limits.max_millis) +
                                     " ms (its budget)");
    }
    if (spent.out_of_memory) {
      return FailedPreconditionError("the script allocated more than " + std::to_string(limits.max_memory_bytes) +
                                     " bytes (its budget)");
    }
    // No metamethod runs here (no budget guards it any more): a value
    // other than a string or number is described by its type.
    std::string message;
    if (lua_type(L_, -1) == LUA_TSTRING || lua_type(L_, -1) == LUA_TNUMBER) {
      message = lua_tostring(L_, -1);
    } else {
      message = std::string("an error value of type ") + luaL_typename(L_, -1);
    }
    return FailedPreconditionError("the script failed: " + message);
  }

  Status Push(const Value& v, int depth) {
    if (depth > kMaxDepth) return InvalidArgumentError("the script's input nests deeper than 100");
    if (!lua_checkstack(L_, 4)) return ResourceExhaustedError("the script's input is too deep");
    switch (v.kind()) {
      case Value::Kind::kUndefined: lua_pushnil(L_); break;
      case Value::Kind::kNull: lua_pushlightuserdata(L_, &kNullSentinel); break;
      case Value::Kind::kBool: lua_pushboolean(L_, v.as_bool() ? 1 : 0); break;
      case Value::Kind::kNumber: {
        const double d = v.as_number();
        if (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) {
          lua_pushinteger(L_, static_cast<lua_Integer>(d));
        } else {
          lua_pushnumber(L_, d);
        }
        break;
      }
      case Value::Kind::kString: lua_pushlstring(L_, v.as_string().data(), v.as_string().size()); break;
      case Value::Kind::kArray: {
        const auto& items = v.as_array();
        lua_createtable(L_, static_cast<int>(items.size()), 0);
        for (size_t i = 0; i < items.size(); ++i) {
          WEFT_RETURN_IF_ERROR(Push(items[i], depth + 1));
          lua_rawseti(L_, -2, static_cast<lua_Integer>(i) + 1);
        }
        lua_rawgetp(L_, LUA_REGISTRYINDEX, &kArrayMarker);
        lua_setmetatable(L_, -2);
        break;
      }
      case Value::Kind::kObject: {
        lua_createtable(L_, 0, static_cast<int>(v.size()));
        for (const auto& m : v.members()) {
          lua_pushlstring(L_, m.key.data(), m.key.size());
          WEFT_RETURN_IF_ERROR(Push(m.value, depth + 1));
          lua_rawset(L_, -3);
        }
        break;
      }
      default: lua_pushnil(L_); break;  // functions do not cross
    }
    return Status::Ok();
  }

  // `size` counts the bytes of the result so far: a table that holds one
  // table many times (`t = {t, t}` sixty times) is small in Lua and
  // astronomically large as JSON.
  Status Pull(int index, int depth, Value& out, size_t& size, size_t max_size) {
    if (depth > kMaxDepth) return FailedPreconditionError("the script's result nests deeper than 100 (a cycle?)");
    size += sizeof(Value);
    if (size > max_size) {
      return FailedPreconditionError("the script's result is larger than " + std::to_string(max_size) +
                                     " bytes (its memory budget) as JSON");
    }
    index = lua_absindex(L_, index);
    switch (lua_type(L_, index)) {
      case LUA_TNIL: out = Value::Null(); return Status::Ok();
      case LUA_TBOOLEAN: out = Value(lua_toboolean(L_, index) != 0); return Status::Ok();
      case LUA_TNUMBER: {
        const double d = lua_tonumber(L_, index);
        if (!std::isfinite(d))
          return FailedPreconditionError("the script's result holds a number JSON cannot: " +
                                         std::string(lua_tostring(L_, index)));
        out = Value(d);
        return Status::Ok();
      }
      case LUA_TSTRING: {
        size_t n = 0;
        const char* s = lua_tolstring(L_, index, &n);
        if (!IsValidUtf8(std::string_view(s, n))) {
          return FailedPreconditionError("the script's result holds a string that is not UTF-8");
        }
        size += n;
        if (size > max_size) {
          return FailedPreconditionError("the script's result is larger than " + std::to_string(max_size) +
                                         " bytes (its memory budget) as JSON");
        }
        out = Value(std::string(s, n));
        return Status::Ok();
      }
      case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L_, index) == &kNullSentinel) {
          out = Value::Null();
          return Status::Ok();
        }
        break;
      case LUA_TTABLE: return PullTable(index, depth, out, size, max_size);
      default: break;
    }
    return FailedPreconditionError(std::string("the script's result holds a ") + luaL_typename(L_, index) +
                                   ", which JSON cannot");
  }

  Status PullTable(int index, int depth, Value& out, size_t& size, size_t max_size) {
    if (!lua_checkstack(L_, 6)) return ResourceExhaustedError("the script's result is too deep");
    bool marked = false;
    if (lua_getmetatable(L_, index) != 0) {
      lua_rawgetp(L_, LUA_REGISTRYINDEX, &kArrayMarker);
      marked = lua_rawequal(L_, -1, -2) != 0;
      lua_pop(L_, 2);
    }
    const lua_Unsigned n = lua_rawlen(L_, index);
    size_t count = 0;
    bool only_sequence = true;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      ++count;
      if (!lua_isinteger(L_, -2) || lua_tointeger(L_, -2) < 1 || static_cast<lua_Unsigned>(lua_tointeger(L_, -2)) > n) {
        only_sequence = false;
      }
      lua_pop(L_, 1);
    }
    if ((marked || count > 0) && only_sequence && count == n) {
      Value::Array items;
      items.reserve(n);
      for (lua_Unsigned i = 1; i <= n; ++i) {
        lua_rawgeti(L_, index, static_cast<lua_Integer>(i));
        Value item;
        Status s = Pull(-1, depth + 1, item, size, max_size);
        lua_pop(L_, 1);
        WEFT_RETURN_IF_ERROR(s);
        items.push_back(std::move(item));
      }
      out = Value::MakeArray(std::move(items));
      return Status::Ok();
    }
    std::vector<std::pair<std::string, Value>> members;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      std::string key;
      if (lua_type(L_, -2) == LUA_TSTRING) {
        size_t len = 0;
        const char* k = lua_tolstring(L_, -2, &len);
        key.assign(k, len);
      } else if (lua_isinteger(L_, -2)) {
        key = std::to_string(lua_tointeger(L_, -2));  // a sparse array: its indexes as keys
      } else {
        lua_pop(L_, 2);
        return FailedPreconditionError("the script's result has a table key JSON cannot (" +
                                       std::string(luaL_typename(L_, -1)) + ")");
      }
      Value v;
      Status s = Pull(-1, depth + 1, v, size, max_size);
      lua_pop(L_, 1);
      if (!s.ok()) {
        lua_pop(L_, 1);
        return s;
      }
      members.emplace_back(std::move(key), std::move(v));
    }
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    out = Value::MakeObject();
    for (auto& [k, v] : members) out.set(k, std::move(v));
    return Status::Ok();
  }

  Budget budget_;
  lua_State* L_ = nullptr;
  int env_meta_ = LUA_NOREF;
  bool poisoned_ = false;
  int chunk_ref_ = LUA_NOREF;  // the chunk of the call under way
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, int, Hash, std::equal_to<>> chunks_;
};

Sandbox* ThreadSandbox() {
  thread_local std::unique_ptr<Sandbox> sandbox;
  if (sandbox == nullptr || sandbox->Spent()) {
    sandbox.reset();  // the old state goes before the new one is made
    sandbox = std::make_unique<Sandbox>();
  }
  // The analyzer takes the thread_local for a local destroyed on return.
  return sandbox->ok() ? sandbox.get() : nullptr;  // NOLINT(clang-analyzer-cplusplus.NewDelete)
}

class ScriptAction final : public engine::Action {
 public:
  explicit ScriptAction(const ScriptLimits& limits) : limits_(limits) {
    spec_.name = "script";
    spec_.description = "Runs a Lua 5.4 function, sandboxed: its `input` in, what it returns out";
    spec_.needs = dsl::kNeedScript;
    spec_.immediate = true;  // computes inline, bounded by its budgets
    spec_.pure = true;       // the sandbox reaches nothing outside
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["code"],"properties":{
      "code":{"type":"string","minLength":1}}})");
    spec_.settings_schema = dsl::Schema::FromLiteral(R"({"type":"object","properties":{
      "max_instructions":{"type":"number","minimum":1},
      "max_memory_bytes":{"type":"number","minimum":1},
      "max_millis":{"type":"number","minimum":1}}})");
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<engine::ActionResult> Execute(engine::ActionContext& ctx) const override {
    ScriptLimits limits = limits_;
    auto lower = [&ctx](std::string_view key, auto& field) {
      if (Value v = ctx.settings.get(key); v.is_number() && v.as_number() > 0) {
        // In the double domain first: the result is at most `field`, so it fits.
        field = static_cast<std::decay_t<decltype(field)>>(std::min(v.as_number(), static_cast<double>(field)));
      }
    };
    lower("max_instructions", limits.max_instructions);
    lower("max_memory_bytes", limits.max_memory_bytes);
    lower("max_millis", limits.max_millis);
    limits.max_millis = ctx.MillisLeft(limits.max_millis);  // the step's timeout_ms bounds the script too
    std::vector<std::string> logs;
    Result<Value> out = RunScript(ctx.inputs.get("code").as_string(), ctx.inputs.get("input"), limits, &logs);
    if (!logs.empty()) {
      Value::Array lines;
      for (std::string& l : logs) lines.push_back(Value(std::move(l)));
      Value detail = Value::MakeObject();
      detail.set("logs", Value::MakeArray(std::move(lines)));
      ctx.detail = detail;
    }
    if (!out.ok()) co_return engine::ActionResult::Error(out.status());
    co_return engine::ActionResult::Ok(std::move(out).value());
  }

 private:
  ScriptLimits limits_;
  dsl::ActionSpec spec_;
};

}  // namespace

Result<Value> RunScript(std::string_view code, const Value& input, const ScriptLimits& limits,
                        std::vector<std::string>* logs) {
  Sandbox* sandbox = ThreadSandbox();
  if (sandbox == nullptr) return ResourceExhaustedError("cannot create a Lua state");
  return sandbox->Run(code, input, limits, logs);
}

Status RegisterScriptAction(engine::ActionRegistry& registry, const ScriptLimits& limits) {
  return registry.Register(std::make_unique<ScriptAction>(limits));
}

}  // namespace weft::actions

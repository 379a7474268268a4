// Lua C functions: no object with a destructor may be alive when one of them
// raises a Lua error (a longjmp), so they are written in C style; the matcher
// reports its errors by return value.
#include "lua_strings.h"

#include <cstring>
#include <string_view>

namespace weft::actions::internal {
namespace {

// Lua 5.4's rule for a string position argument (1-based, negative from the
// end), as a 1-based position clamped to [1, len + 1] from below.
size_t RelativePosition(lua_Integer pos, size_t len) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0 || pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<size_t>(pos) + 1;
}

// Raises the matcher's error, or the budget's; returns only when neither.
void RaiseIfFailed(lua_State* L, const PatternMatcher& m, const MatchBudget& budget) {
  ReturnMatchBudget(L, budget);
  if (m.error() != nullptr) luaL_error(L, m.error(), m.error_arg());
}

// Pushes capture i (or the whole match when the pattern has none).
void PushCapture(lua_State* L, PatternMatcher& m, int i, const char* s, const char* e) {
  PatternMatcher::Capture c;
  if (!m.GetCapture(i, s, e, c)) {
    luaL_error(L, m.error(), m.error_arg());
    return;
  }
  if (c.is_position) {
    lua_pushinteger(L, static_cast<lua_Integer>(c.position));
  } else {
    lua_pushlstring(L, c.text.data(), c.text.size());
  }
}

// Pushes every capture (the whole match when `s` is set and there are
// none); returns how many.
int PushCaptures(lua_State* L, PatternMatcher& m, const char* s, const char* e) {
  const int n = (m.levels() == 0 && s != nullptr) ? 1 : m.levels();
  luaL_checkstack(L, n, "too many captures");
  for (int i = 0; i < n; ++i) PushCapture(L, m, i, s, e);
  return n;
}

// A plain substring search.
const char* FindPlain(const char* s, size_t ls, const char* p, size_t lp) {
  if (lp == 0) return s;
  if (lp > ls) return nullptr;
  const std::string_view hay(s, ls);
  const size_t at = hay.find(std::string_view(p, lp));
  return at == std::string_view::npos ? nullptr : s + at;
}

int FindOrMatch(lua_State* L, bool find) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const size_t init = RelativePosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) != 0 || PatternHasNoSpecials(std::string_view(p, lp)))) {
    const char* at = FindPlain(s + init, ls - init, p, lp);
    if (at == nullptr) {
      luaL_pushfail(L);
      return 1;
    }
    lua_pushinteger(L, static_cast<lua_Integer>(at - s) + 1);
    lua_pushinteger(L, static_cast<lua_Integer>(at - s) + static_cast<lua_Integer>(lp));
    return 2;
  }
  const bool anchor = lp > 0 && *p == '^';
  MatchBudget budget = TakeMatchBudget(L);
  PatternMatcher m(std::string_view(s, ls), std::string_view(p, lp), &budget);
  const char* pat = anchor ? p + 1 : p;
  const char* s1 = s + init;
  do {
    const char* e = m.MatchAt(s1, pat);
    RaiseIfFailed(L, m, budget);
    if (e != nullptr) {
      if (find) {
        lua_pushinteger(L, static_cast<lua_Integer>(s1 - s) + 1);
        lua_pushinteger(L, static_cast<lua_Integer>(e - s));
        return PushCaptures(L, m, nullptr, nullptr) + 2;
      }
      return PushCaptures(L, m, s1, e);
    }
  } while (s1++ < m.subject_end() && !anchor);
  luaL_pushfail(L);
  return 1;
}

int Find(lua_State* L) { return FindOrMatch(L, true); }
int Match(lua_State* L) { return FindOrMatch(L, false); }

// gmatch's iterator state: positions into the subject string, which the
// iterator keeps alive as an upvalue.
struct GmatchState {
  size_t next;        // where the next search starts
  size_t last_match;  // end of the last match (SIZE_MAX: none)
};

int GmatchStep(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char* p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  auto* state = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  MatchBudget budget = TakeMatchBudget(L);
  PatternMatcher m(std::string_view(s, ls), std::string_view(p, lp), &budget);
  for (size_t at = state->next; at <= ls; ++at) {
    const char* e = m.MatchAt(s + at, p);
    RaiseIfFailed(L, m, budget);
    if (e != nullptr && static_cast<size_t>(e - s) != state->last_match) {
      state->next = state->last_match = static_cast<size_t>(e - s);
      return PushCaptures(L, m, s + at, e);
    }
  }
  state->next = ls + 1;
  return 0;
}

int Gmatch(lua_State* L) {
  size_t ls = 0;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  size_t init = RelativePosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;  // no match
  lua_settop(L, 2);
  auto* state = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  state->next = init;
  state->last_match = SIZE_MAX;
  lua_pushcclosure(L, GmatchStep, 3);
  return 1;
}

// Appends the replacement of one match to the buffer; returns whether the
// text changed.
bool AddReplacement(lua_State* L, PatternMatcher& m, luaL_Buffer* b, const char* s, const char* e, int repl_type) {
  if (repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING) {
    size_t l = 0;
    const char* news = lua_tolstring(L, 3, &l);
    const char* p;
    while ((p = static_cast<const char*>(std::memchr(news, '%', l))) != nullptr) {
      luaL_addlstring(b, news, static_cast<size_t>(p - news));
      ++p;  // the character after '%'
      if (*p == '%') {
        luaL_addchar(b, '%');
      } else if (*p == '0') {
        luaL_addlstring(b, s, static_cast<size_t>(e - s));
      } else if (*p >= '1' && *p <= '9') {
        PushCapture(L, m, *p - '1', s, e);
        luaL_tolstring(L, -1, nullptr);
        lua_remove(L, -2);
        luaL_addvalue(b);
      } else {
        luaL_error(L, "invalid use of '%c' in replacement string", '%');
      }
      l -= static_cast<size_t>(p + 1 - news);
      news = p + 1;
    }
    luaL_addlstring(b, news, l);
    return true;
  }
  if (repl_type == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    const int n = PushCaptures(L, m, s, e);
    lua_call(L, n, 1);
  } else {  // a table, indexed by the first capture
    PushCapture(L, m, 0, s, e);
    lua_gettable(L, 3);
  }
  if (lua_toboolean(L, -1) == 0) {  // nil or false: keep the original text
    lua_pop(L, 1);
    luaL_addlstring(b, s, static_cast<size_t>(e - s));
    return false;
  }
  if (lua_isstring(L, -1) == 0) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1)) != 0;
  luaL_addvalue(b);
  return true;
}

int Gsub(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* src = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* last_match = nullptr;
  const int repl_type = lua_type(L, 3);
  const lua_Integer max_n = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
  luaL_argexpected(
      L, repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING || repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
      3, "string/function/table");
  const bool anchor = lp > 0 && *p == '^';
  if (anchor) {
    ++p;
    --lp;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const std::string_view subject(src, ls);
  const char* const end = src + ls;
  lua_Integer n = 0;
  bool changed = false;
  while (n < max_n) {
    MatchBudget budget = TakeMatchBudget(L);
    PatternMatcher m(subject, std::string_view(p, lp), &budget);
    const char* e = m.MatchAt(src, p);
    RaiseIfFailed(L, m, budget);
    if (e != nullptr && e != last_match) {
      ++n;
      changed = AddReplacement(L, m, &b, src, e, repl_type) || changed;
      src = last_match = e;
    } else if (src < end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);  // the subject as it was
  } else {
    luaL_addlstring(&b, src, static_cast<size_t>(end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

// string.rep: Lua builds an empty result in a loop of n steps (and
// `(''):rep(math.maxinteger)` never ends); a non-empty one is bounded by the
// memory budget, which its single allocation meets first.
int Rep(lua_State* L) {
  size_t l = 0, lsep = 0;
  luaL_checklstring(L, 1, &l);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || (l == 0 && lsep == 0)) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));  // Lua's own string.rep
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

}  // namespace

void InstallBoundedStringFunctions(lua_State* L, int index) {
  index = lua_absindex(L, index);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"find", Find}, {"match", Match}, {"gmatch", Gmatch}, {"gsub", Gsub}};
  for (const auto& [name, fn] : functions) {
    lua_pushcfunction(L, fn);
    lua_setfield(L, index, name);
  }
  lua_getfield(L, index, "rep");
  lua_pushcclosure(L, Rep, 1);
  lua_setfield(L, index, "rep");
}

}  // namespace weft::actions::internal

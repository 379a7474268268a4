// The string functions of the Lua sandbox that run long inside one C call:
// find, match, gmatch and gsub (on the budgeted matcher of lua_pattern.h)
// and rep (whose empty result Lua builds in a loop of n steps). Each behaves
// as Lua 5.4's and spends the running script's budget.
#pragma once

#include <lua.hpp>

#include "lua_pattern.h"

namespace weft::actions::internal {

// What the script running on L may spend on matching now; defined by the
// sandbox (script.cc).
MatchBudget TakeMatchBudget(lua_State* L);
// Gives back what is left. When `budget.exhausted`, the script's budget is
// spent from now on (as the instruction hook makes it), and the caller then
// raises the error.
void ReturnMatchBudget(lua_State* L, const MatchBudget& budget);

// Replaces find, match, gmatch, gsub and rep in the table at `index`.
void InstallBoundedStringFunctions(lua_State* L, int index);

}  // namespace weft::actions::internal

// The built-in actions every workflow can use:
//   set               its result is its evaluated `inputs` object
//   log               writes a message into the run's history
//   fail              fails the step with a message (and a status code)
//   await_user_input  suspends until the next user message arrives
//   approval          suspends until a reviewer decides ({approved, data, ...})
//   handover          suspends while a human handles the conversation
//   wait              suspends for a duration or until a time
//   call_workflow     runs another workflow as a child run
#pragma once

#include "weft/core/status.h"
#include "weft/engine/action.h"

namespace weft::actions {

Status RegisterBuiltinActions(engine::ActionRegistry& registry);

}  // namespace weft::actions

// The built-in actions every workflow can use:
//   set               its result is its evaluated `inputs` object
//   log               writes a message into the run's history
//   fail              fails the step with a message (and a status code)
//   await_user_input  suspends until the next user message arrives
//   approval          suspends until a reviewer decides ({approved, data, ...})
//   handover          says so into the conversation, then suspends while a human
//                     handles it
//   send_message      says text / quick replies / buttons into the conversation
//   wait              suspends for a duration or until a time
//   call_workflow     runs another workflow as a child run
#pragma once

#include "weft/core/status.h"
#include "weft/engine/action.h"
#include "weft/engine/events.h"
#include "weft/store/store.h"

namespace weft::actions {

// `conversations` keeps what send_message and handover say (the run's
// conversation log); without it send_message fails and handover only waits.
// `events`, when given, is told of each message said (Event::Kind::kMessage),
// for the chat channel and live views.
Status RegisterBuiltinActions(engine::ActionRegistry& registry, store::Store* conversations = nullptr,
                              engine::EventLog* events = nullptr);

}  // namespace weft::actions

// Triggers: what starts a workflow's runs, declared in its `trigger:` (one)
// or `triggers:` (a list) section and checked when the file loads. Each
// trigger is a map with one key, its kind:
//
//   trigger:
//     webhook:
//       path: triage                # /hooks/triage (default: the workflow's name)
//       methods: [POST]
//       auth: { hmac: { secret: GITHUB_HOOK, style: github } }
//       respond: completion         # or accepted (202 with the run id)
//       response: { status: "=$outputs.route = 'human' ? 202 : 200", body: "=$outputs" }
//       idempotency: { header: Idempotency-Key }
//
// The server (src/server) serves them; `weft validate` reports their faults
// with the file's line and column like every other part of the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "weft/core/value.h"
#include "weft/dsl/diagnostic.h"
#include "weft/dsl/template.h"

namespace weft::dsl {

struct WebhookAuth {
  enum class Kind : uint8_t { kNone, kBearer, kBasic, kHmac };
  Kind kind = Kind::kNone;
  // The secret's name (bearer token, basic password, HMAC key), read
  // through the deployment's secrets when a request arrives.
  std::string secret;
  std::string username;  // basic
  // HMAC: `github` signs the body ("sha256=<hex>" in X-Hub-Signature-256);
  // `stripe` signs "<unix time>.<body>" ("t=<unix>,v1=<hex>" in
  // Stripe-Signature) and the time must be within `tolerance_s`.
  enum class Style : uint8_t { kGithub, kStripe };
  Style style = Style::kStripe;
  std::string header;  // the signature's header; "" = the style's
  int64_t tolerance_s = 300;
};

struct WebhookTrigger {
  std::string path;                  // below /hooks/, without a leading '/'
  std::vector<std::string> methods;  // upper case; default {"POST"}
  int64_t max_body_bytes = int64_t{1} << 20;
  WebhookAuth auth;
  // accepted: 202 with {run_id, status, url} once the run is committed;
  // completion: waits up to `timeout_ms` for the run to settle, then answers
  // `response` (default: 200 with the run's outputs), else 202 as accepted.
  enum class Respond : uint8_t { kAccepted, kCompletion };
  Respond respond = Respond::kCompletion;
  int64_t timeout_ms = 30'000;
  // Evaluated once the run settled, with $outputs, $run ({id, status,
  // error}) and $input. Undefined parts take their defaults.
  Template response_status;
  Template response_body;
  std::vector<std::pair<std::string, Template>> response_headers;
  // Deduplication: a request carrying the same key as an earlier one is
  // answered with the earlier run instead of starting another.
  std::string idempotency_header;  // "" = none
  Template idempotency_key;        // from the input ($input), "" = none
};

struct ScheduleTrigger {
  std::string cron;  // 5 or 6 fields, or @hourly / @daily / ...
  std::string timezone = "UTC";
  enum class Missed : uint8_t { kSkip, kOnce, kAll };
  Missed missed = Missed::kOnce;  // slots that passed while no server ran
  int64_t max_missed = 10;        // with `all`
  Value input;                    // the runs' input (default {})
};

struct FormTrigger {
  std::string title;        // default: the workflow's name
  std::string description;  // default: the workflow's description
  std::string submit_label = "Submit";
  int64_t max_body_bytes = int64_t{10} << 20;
};

struct EventTrigger {
  std::string name;
};

struct DatabaseTrigger {
  std::string connection;  // a connection of weft.yaml
  // PostgreSQL: LISTEN on this channel, each notification's payload (JSON)
  // the input.
  std::string channel;
  // Any connection: rows of `table` past `cursor` (an increasing column),
  // polled every `interval_ms`, each row the input.
  std::string table;
  std::string cursor;
  int64_t interval_ms = 1000;
};

// A chat channel (/chat/<channel>): each conversation's messages start and
// continue runs.
//   trigger:
//     chat: { channel: support, per: conversation, identity_secret: SITE_KEY }
struct ChatTrigger {
  std::string channel;
  // kConversation: one run per conversation; the user's next messages go to
  // its `await_user_input` steps, and a message when none waits starts the
  // next run. kMessage: every message starts a run.
  enum class Per : uint8_t { kConversation, kMessage };
  Per per = Per::kConversation;
  // The secret (its name) that signs user identities a site passes
  // ({id, name?, signature: hex HMAC-SHA256 of the id}); "" = anonymous only.
  std::string identity_secret;
  int64_t max_message_kb = 16;  // a message's text and fields
  int64_t max_upload_mb = 10;   // a file attached to a message
  // The run's input made from the message that starts it, bound as
  // $message ({text, payload?, message_id, seq, user?}); undefined = the
  // message itself. Lets a workflow written for other triggers serve a
  // chat: `input: { message: "=$message.text" }`.
  Template input;
  // What a message does that does not fit the answer a run waits for (the
  // waiting await_user_input step's `expect` schema): the user changed
  // topic. kDeliver hands it to the step anyway; kCancel cancels the
  // waiting run and starts a new one with the message; kPark leaves the
  // waiting run parked, starts a new one, and returns to the parked run
  // (its prompt said again) when that one ends; kAsk asks the user whether
  // the message is a new question (quick replies) and does what they say.
  enum class TopicChange : uint8_t { kDeliver, kCancel, kPark, kAsk };
  TopicChange topic_change = TopicChange::kDeliver;
};

struct Trigger {
  enum class Kind : uint8_t { kWebhook, kSchedule, kForm, kEvent, kDatabase, kManual, kChat };
  Kind kind = Kind::kManual;
  SourceLocation location;
  WebhookTrigger webhook;
  ScheduleTrigger schedule;
  FormTrigger form;
  EventTrigger event;
  DatabaseTrigger database;
  ChatTrigger chat;
};

std::string_view TriggerKindName(Trigger::Kind kind);  // "webhook", ...

}  // namespace weft::dsl

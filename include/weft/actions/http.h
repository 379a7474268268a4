// Actions that call out over HTTP on the workflow's behalf:
//   http    any API: method, URL, query, headers, JSON / form / multipart or
//           raw body, auth from secrets (bearer, basic, API key, HMAC
//           signature), retries honouring Retry-After, the step's
//           Idempotency-Key, response mapping (JSONata) and schema
//   notify  a Slack-compatible or generic webhook message, linking the run
// Both need the `network` permission: the URL's host must be in the
// workflow's permissions.network.hosts, and loopback, private and
// link-local addresses are refused unless it sets `private: true`.
#pragma once

#include <string>

#include "weft/core/status.h"
#include "weft/engine/action.h"
#include "weft/http/client.h"

namespace weft::actions {

struct HttpActionOptions {
  // Used only for calls made for workflows (a kept-alive connection is
  // reused only by requests of the same client). Must outlive the actions.
  http::Client* client = nullptr;
  // Links to a run in notifications: this prefix followed by the run's id
  // ("http://localhost:8080/runs/"); no link when empty.
  std::string run_url_prefix;
};

Status RegisterHttpActions(engine::ActionRegistry& registry, const HttpActionOptions& options);

}  // namespace weft::actions

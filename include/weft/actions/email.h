// The `email` action: sends a message through the deployment's SMTP server
// (libcurl), with STARTTLS or implicit TLS and authentication.
//
//   inputs: { to: [ada@example.com], cc: [...], bcc: [...], subject: "=...", text: "=...", html: "=...",
//             reply_to: ..., attachments: [{ filename, content_type, content_base64 | content }] }
//
// Subject and bodies are templates like any input (expressions over the
// run). The server is configured for the deployment (weft.yaml `email:`),
// never by a workflow; a workflow needs `permissions: { email: true }`.
// Each message carries a Message-ID made from the step's idempotency key, so
// that a send repeated after a crash is recognisably the same message.
#pragma once

#include <string>

#include "weft/core/status.h"
#include "weft/engine/action.h"

namespace weft::actions {

struct SmtpOptions {
  std::string url;  // smtp://host:587 (STARTTLS when offered) or smtps://host:465
  // "required": refuse to send unless the connection is encrypted
  // (STARTTLS or smtps); "optional": upgrade when offered; "none".
  std::string tls = "required";
  std::string username;
  std::string password;
  std::string from;  // default sender
  int64_t timeout_ms = 30'000;
  std::string ca_file;  // trust this CA (tests, private servers); the system's otherwise
  int threads = 2;
};

Status RegisterEmailAction(engine::ActionRegistry& registry, const SmtpOptions& options);

}  // namespace weft::actions

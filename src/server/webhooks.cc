// Webhook triggers: /hooks/<path> starts the workflow whose trigger
// declares the path. A 2xx answer is given only once the run is committed.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "body.h"
#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/files/files.h"
#include "weft/store/record_json.h"

namespace weft::server {
namespace {

// Headers a workflow may read as $context.webhook.headers: never the
// credentials.
bool PrivateHeader(std::string_view name) {
  static const char* const kPrivate[] = {"authorization", "cookie", "proxy-authorization", "x-api-key"};
  const std::string lower = AsciiLower(name);
  for (const char* p : kPrivate) {
    if (lower == p) return true;
  }
  return lower.find("signature") != std::string::npos;
}

struct AuthOutcome {
  Status status;
  std::string replay_key;  // the signature, for replay protection ("" = none)
};

// The secret a webhook names, or an error that names it (never its value).
Result<std::string> HookSecret(Server::Impl& s, const std::string& name) {
  std::optional<std::string> v = s.runtime.Secret(name);
  if (!v || v->empty()) {
    return FailedPreconditionError("the webhook's secret '" + name + "' is not set (WEFT_SECRET_" + name + ")");
  }
  return *v;
}

AuthOutcome CheckAuth(Server::Impl& s, const dsl::WebhookAuth& auth, const Request& req) {
  using Kind = dsl::WebhookAuth::Kind;
  auto refuse = [](std::string message) {
    return AuthOutcome{Status(StatusCode::kUnauthenticated, std::move(message)), ""};
  };
  if (auth.kind == Kind::kNone) return {};
  Result<std::string> secret = HookSecret(s, auth.secret);
  if (!secret.ok()) return AuthOutcome{secret.status(), ""};
  if (auth.kind == Kind::kBearer) {
    std::string_view h = req.header("Authorization");
    if (h.rfind("Bearer ", 0) != 0) return refuse("this webhook needs Authorization: Bearer <token>");
    if (!ConstantTimeEquals(h.substr(7), *secret)) return refuse("wrong bearer token");
    return {};
  }
  if (auth.kind == Kind::kBasic) {
    std::string_view h = req.header("Authorization");
    if (h.rfind("Basic ", 0) != 0) return refuse("this webhook needs Authorization: Basic <credentials>");
    std::optional<std::string> decoded = Base64Decode(h.substr(6));
    if (!decoded) return refuse("malformed Basic credentials");
    const std::string expected = auth.username + ":" + *secret;
    if (!ConstantTimeEquals(*decoded, expected)) return refuse("wrong user name or password");
    return {};
  }
  // HMAC.
  std::string_view header = req.header(auth.header);
  if (header.empty()) return refuse("this webhook needs a signature in " + auth.header);
  if (auth.style == dsl::WebhookAuth::Style::kGithub) {
    std::string_view sig = header;
    if (sig.rfind("sha256=", 0) == 0) sig.remove_prefix(7);
    const std::string expected = HexEncode(Hmac(*secret, req.body));
    const std::string given = AsciiLower(sig);
    if (!ConstantTimeEquals(given, expected)) return refuse("signature does not match the body");
    return AuthOutcome{Status::Ok(), expected};
  }
  // Stripe: t=<unix seconds>,v1=<hex>[,v1=<hex>...]
  std::string t;
  std::vector<std::string> v1;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.rfind("t=", 0) == 0) t = std::string(item.substr(2));
    if (item.rfind("v1=", 0) == 0) v1.emplace_back(item.substr(3));
    start = comma + 1;
  }
  if (t.empty() || v1.empty() || t.size() > 12 ||
      !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return refuse("malformed signature header " + auth.header + " (expected t=<unix time>,v1=<hex>)");
  }
  const int64_t when = std::stoll(t);
  const int64_t now = SystemClock::Instance().NowMillis() / 1000;
  if (when < now - auth.tolerance_s || when > now + auth.tolerance_s) {
    return refuse("signature timestamp is outside the tolerance of " + std::to_string(auth.tolerance_s) +
                  " seconds (replayed or clock skew)");
  }
  std::string signed_payload = t;
  signed_payload += '.';
  signed_payload += req.body;
  const std::string expected = HexEncode(Hmac(*secret, signed_payload));
  for (const std::string& candidate : v1) {
    if (ConstantTimeEquals(candidate, expected)) return AuthOutcome{Status::Ok(), expected};
  }
  return refuse("signature does not match the body");
}

Value RunBinding(const store::RunRecord& run) {
  Value r = Value::MakeObject();
  r.set("id", run.id);
  r.set("status", std::string(store::RunStatusName(run.status)));
  if (!run.error.empty()) {
    Value e = Value::MakeObject();
    e.set("code", run.error_code);
    e.set("message", run.error);
    r.set("error", e);
  }
  return r;
}

Response Accepted(const Request& req, const store::RunRecord& run) {
  Value body = Value::MakeObject();
  body.set("run_id", run.id);
  body.set("status", std::string(store::RunStatusName(run.status)));
  body.set("url", RunUrl(req, run.id));
  if (run.wait.is_defined()) body.set("waiting", run.wait.get("kind"));
  Response r = Response::Json(202, body);
  r.headers.emplace_back("Location", "/api/v1/runs/" + run.id);
  return r;
}

// The answer of `respond: completion` once the run has settled (or not).
Response Completion(const dsl::WebhookTrigger& t, const Request& req, const store::RunRecord& run) {
  if (run.status == store::RunStatus::kRunning) return Accepted(req, run);  // past the timeout
  const bool custom = t.response_status.is_defined() || t.response_body.is_defined() || !t.response_headers.empty();
  if (!custom) {
    if (run.status == store::RunStatus::kCompleted) {
      Response r = Response::Json(200, run.outputs.is_defined() ? run.outputs : Value::MakeObject());
      r.headers.emplace_back("X-Weft-Run", run.id);
      return r;
    }
    if (run.status == store::RunStatus::kSuspended) return Accepted(req, run);
    Value details = Value::MakeObject();
    details.set("run_id", run.id);
    details.set("status", std::string(store::RunStatusName(run.status)));
    Response r = Response::Error(
        run.status == store::RunStatus::kFailed ? 500 : 409, run.error_code.empty() ? "FAILED" : run.error_code,
        "the run " + std::string(store::RunStatusName(run.status)) + (run.error.empty() ? "" : ": " + run.error),
        details);
    r.headers.emplace_back("X-Weft-Run", run.id);
    return r;
  }
  Value bindings = Value::MakeObject();
  bindings.set("outputs", run.outputs.is_defined() ? run.outputs : Value::MakeObject());
  bindings.set("run", RunBinding(run));
  bindings.set("input", run.input);
  expr::EvalOptions eval;
  eval.timeout_ms = 1000;
  eval.max_memory_bytes = int64_t{16} << 20;
  const dsl::Scope scope{bindings.get("outputs"), bindings};
  auto fail = [&](const Status& s) { return Response::Error(500, "INTERNAL", "webhook response: " + s.message()); };
  int status = run.status == store::RunStatus::kCompleted   ? 200
               : run.status == store::RunStatus::kSuspended ? 202
                                                            : 500;
  if (t.response_status.is_defined()) {
    Result<Value> v = t.response_status.Evaluate(scope, eval);
    if (!v.ok()) return fail(v.status());
    if (!v->is_number() || v->as_number() < 100 || v->as_number() > 599 ||
        v->as_number() != std::floor(v->as_number())) {
      return fail(InvalidArgumentError("status must be a number from 100 to 599, not " + ToJson(*v)));
    }
    status = static_cast<int>(v->as_number());
  }
  Response r;
  r.status = status;
  Value body = bindings.get("outputs");
  if (t.response_body.is_defined()) {
    Result<Value> v = t.response_body.Evaluate(scope, eval);
    if (!v.ok()) return fail(v.status());
    body = *v;
  }
  if (body.is_string()) {
    r.content_type = "text/plain; charset=utf-8";
    r.body = body.as_string();
  } else {
    r.body = body.is_undefined() ? "" : ToJson(body);
  }
  for (const auto& [name, tmpl] : t.response_headers) {
    Result<Value> v = tmpl.Evaluate(scope, eval);
    if (!v.ok()) return fail(v.status());
    if (v->is_undefined()) continue;
    std::string text = v->is_string() ? v->as_string() : ToJson(*v);
    if (text.find_first_of("\r\n") != std::string::npos) {
      return fail(InvalidArgumentError("header " + name + " would contain a line break"));
    }
    if (name == "Content-Type" || name == "content-type") {
      r.content_type = text;
    } else {
      r.headers.emplace_back(name, std::move(text));
    }
  }
  r.headers.emplace_back("X-Weft-Run", run.id);
  return r;
}

}  // namespace

// Stores an uploaded file content-addressed under the data folder.
Status StoreUpload(const std::string& data_dir, const UploadedFile& file) {
  return files::UploadStore(data_dir).Put(file.filename, file.content).status();
}

Status CheckUploadType(Server::Impl& s, const std::string& name, const std::string& type) {
  if (files::TypeAllowed(type, s.Live()->upload_types)) return Status::Ok();
  return InvalidArgumentError("file '" + name + "' is " + type + ", which this server does not accept");
}

std::string RunUrl(const Request& req, const std::string& run_id) {
  std::string_view host = req.header("Host");
  if (host.empty()) return "/api/v1/runs/" + run_id;
  return std::string(req.secure ? "https://" : "http://") + std::string(host) + "/api/v1/runs/" + run_id;
}

asio::awaitable<Response> HandleWebhook(Server::Impl& s, Request& req) {
  const std::string path = req.path.substr(7);
  std::optional<HookEntry> hook = s.FindHook(req.method_text, path);
  if (!hook) {
    for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (s.FindHook(m, path)) {
        co_return Response::Error(405, "INVALID_ARGUMENT", req.method_text + " is not accepted by /hooks/" + path);
      }
    }
    co_return Response::Error(404, "NOT_FOUND", "no webhook at /hooks/" + path);
  }
  const dsl::WebhookTrigger& t = *hook->trigger;
  auto refused = [&](std::string_view reason) {
    s.metrics->Add("weft_webhook_refusals_total", {{"workflow", hook->workflow}, {"reason", std::string(reason)}});
  };
  if (!s.switches->Enabled(hook->workflow, hook->index)) {
    refused("disabled");
    co_return Response::Error(503, "UNAVAILABLE", "the webhook /hooks/" + path + " is switched off");
  }
  if (s.per_webhook.enabled()) {
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (double wait = s.per_webhook.Take("hook:" + path, now); wait > 0) {
      refused("rate");
      Response r = Response::Error(429, "RESOURCE_EXHAUSTED", "too many requests to /hooks/" + path);
      r.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
      co_return r;
    }
  }
  AuthOutcome auth = CheckAuth(s, t.auth, req);
  if (!auth.status.ok()) {
    refused("auth");
    Response r = Response::FromStatus(auth.status);
    if (auth.status.code() == StatusCode::kFailedPrecondition) r.status = 500;
    co_return r;
  }
  // The input: the body, or for GET the query.
  Value input;
  std::vector<UploadedFile> files;
  if (req.method == beast::http::verb::get) {
    input = Value::MakeObject();
    for (const auto& [k, v] : ParseQuery(req.query)) input.set(k, v);
  } else {
    Result<ParsedBody> parsed = ParseRequestBody(req.header("Content-Type"), req.body);
    if (!parsed.ok()) {
      refused("body");
      co_return Response::Error(400, "INVALID_ARGUMENT", parsed.status().message());
    }
    input = std::move(parsed->value);
    files = std::move(parsed->files);
  }
  if (!files.empty()) {
    if (s.options.data_dir.empty()) {
      refused("upload");
      co_return Response::Error(415, "INVALID_ARGUMENT", "this server keeps no uploads (no data folder)");
    }
    for (const UploadedFile& f : files) {
      if (Status allowed = CheckUploadType(s, f.filename, f.type); !allowed.ok()) {
        refused("upload");
        co_return Response::Error(415, "INVALID_ARGUMENT", allowed.message());
      }
    }
    for (const UploadedFile& f : files) {
      Status stored = co_await s.Blocking([&] { return StoreUpload(s.options.data_dir, f); });
      if (!stored.ok()) co_return Response::FromStatus(stored);
    }
  }
  // At most one run per idempotency key; a replayed signature starts nothing.
  std::string start_key;
  bool replay_guard = false;
  if (!t.idempotency_header.empty()) {
    std::string_view key = req.header(t.idempotency_header);
    if (!key.empty()) start_key = "webhook:" + hook->workflow + ":" + std::string(key.substr(0, 200));
  }
  if (start_key.empty() && t.idempotency_key.is_defined()) {
    Value bindings = Value::MakeObject();
    bindings.set("input", input);
    expr::EvalOptions eval;
    eval.timeout_ms = 1000;
    eval.max_memory_bytes = int64_t{16} << 20;
    Result<Value> key = t.idempotency_key.Evaluate(dsl::Scope{input, bindings}, eval);
    if (!key.ok()) co_return Response::Error(400, "INVALID_ARGUMENT", "idempotency key: " + key.status().message());
    if (key->is_string() && !key->as_string().empty()) {
      start_key = "webhook:" + hook->workflow + ":" + key->as_string().substr(0, 200);
    } else if (key->is_number()) {
      start_key = "webhook:" + hook->workflow + ":" + ToJson(*key);
    }
  }
  if (start_key.empty() && !auth.replay_key.empty()) {
    start_key = "signature:" + hook->workflow + ":" + auth.replay_key;
    replay_guard = true;
  }
  engine::StartOptions start;
  start.trigger = "webhook";
  start.start_key = start_key;
  Value webhook = Value::MakeObject();
  webhook.set("method", req.method_text);
  webhook.set("path", path);
  Value query = Value::MakeObject();
  for (const auto& [k, v] : ParseQuery(req.query)) query.set(k, v);
  webhook.set("query", query);
  Value headers = Value::MakeObject();
  for (const auto& field : req.headers) {
    if (PrivateHeader(field.name_string())) continue;
    headers.set(AsciiLower(field.name_string()), std::string(field.value()));
  }
  webhook.set("headers", headers);
  start.context = Value::MakeObject();
  start.context.set("webhook", webhook);
  const bool completion = t.respond == dsl::WebhookTrigger::Respond::kCompletion;
  const auto timeout = std::chrono::milliseconds(completion ? t.timeout_ms : 0);
  Result<store::RunRecord> run =
      co_await s.engine.AsyncStart(hook->workflow, hook->definition->version, std::move(input), start, timeout);
  if (!run.ok() && run.status().code() == StatusCode::kAlreadyExists && !start_key.empty()) {
    if (replay_guard) {
      refused("replay");
      co_return Response::Error(409, "ALREADY_EXISTS", "this signed request was already received (replay refused)");
    }
    // The same request again: answer with the run it started.
    run = co_await s.Blocking([&] { return s.store.GetRunByStartKey(start_key); });
    if (run.ok() && completion && !store::IsTerminal(run->status)) {
      Result<store::RunRecord> settled = co_await s.engine.AsyncWait(run->id, timeout);
      if (settled.ok()) run = std::move(settled);
    }
    if (run.ok()) {
      Response r = completion ? Completion(t, req, *run) : Accepted(req, *run);
      r.headers.emplace_back("Idempotent-Replayed", "true");
      co_return r;
    }
  }
  if (!run.ok()) {
    // The input is checked against the schema as the run starts.
    refused(run.status().code() == StatusCode::kInvalidArgument ? "schema" : "start");
    co_return Response::FromStatus(run.status());
  }
  s.metrics->Add("weft_runs_started_total", {{"workflow", hook->workflow}, {"trigger", "webhook"}});
  co_return completion ? Completion(t, req, *run) : Accepted(req, *run);
}

}  // namespace weft::server

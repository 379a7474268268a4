#include "weft/server/server.h"
#include "weft/core/log.h"

#include <chrono>
#include <cstdio>

#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/crypto.h"
#include "weft/core/json.h"
#include "weft/engine/events.h"
#include "weft/security/audit.h"
#include "weft/security/users.h"

namespace weft::server {

namespace http = beast::http;

bool RoleMay(Role role, Need need) {
  switch (need) {
    case Need::kPublic: return true;
    case Need::kRead: return role != Role::kNone;
    case Need::kOperate: return role == Role::kOperator || role == Role::kEditor || role == Role::kAdmin;
    case Need::kDeploy: return role == Role::kEditor || role == Role::kAdmin;
    case Need::kAdmin: return role == Role::kAdmin;
  }
  return false;
}

std::string_view NeedName(Need need) {
  switch (need) {
    case Need::kPublic: return "public";
    case Need::kRead: return "read";
    case Need::kOperate: return "operate";
    case Need::kDeploy: return "deploy";
    case Need::kAdmin: return "admin";
  }
  return "admin";
}

void RateLimiter::Set(double per_second, double burst) {
  MutexLock lock(mu_);
  rate_ = per_second;
  burst_ = burst;
  buckets_.clear();
}

double RateLimiter::Take(const std::string& key, double now_s) {
  MutexLock lock(mu_);
  const double rate = rate_.load(std::memory_order_relaxed);
  if (rate <= 0) return 0;
  if (buckets_.size() > 100'000) {
    // Forget full buckets (idle clients) rather than grow without bound.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = it->second.tokens + (now_s - it->second.at) * rate >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now_s});
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + (now_s - b.at) * rate);
  b.at = now_s;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate;
}

namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

asio::awaitable<Response> Healthz(Server::Impl&, Request&) { co_return Response::Text(200, "ok\n"); }

asio::awaitable<Response> Readyz(Server::Impl& server, Request&) {
  if (server.stopping) co_return Response::Error(503, "UNAVAILABLE", "the server is stopping");
  // Ready when the store answers.
  Result<std::vector<store::RunRecord>> probe = co_await server.Blocking([&server] {
    store::RunFilter f;
    f.limit = 1;
    return server.store.ListRuns(f);
  });
  if (!probe.ok()) co_return Response::Error(503, "UNAVAILABLE", "store: " + probe.status().message());
  co_return Response::Text(200, "ready\n");
}

asio::awaitable<Response> MetricsRoute(Server::Impl& server, Request&) {
  // What is waiting now comes from the store (the truth across restarts and
  // processes), read when scraped.
  Result<std::vector<store::Store::SuspendedCount>> suspended =
      co_await server.Blocking([&server] { return server.store.CountSuspended(); });
  if (suspended.ok()) {
    std::vector<std::pair<Labels, double>> runs;
    std::vector<std::pair<Labels, double>> tasks;
    for (const store::Store::SuspendedCount& c : *suspended) {
      const auto n = static_cast<double>(c.count);
      runs.push_back({{{"workflow", c.workflow}, {"waiting_for", c.waiting_for}}, n});
      if (c.waiting_for == "approval" || c.waiting_for == "user_input" || c.waiting_for == "handover") {
        tasks.push_back({{{"workflow", c.workflow}, {"kind", c.waiting_for}}, n});
      }
    }
    server.metrics->SetAll("weft_runs_suspended", runs);
    server.metrics->SetAll("weft_tasks_waiting", tasks);
  }
  Response r = Response::Text(200, server.metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
  co_return r;
}

asio::awaitable<Response> OpenApi(Server::Impl& server, Request&) {
  co_return Response::Json(200, OpenApiDocument(server.routes));
}

// The listener's share of the options.
HttpLimits ListenerLimits(const ServerOptions& o) {
  HttpLimits limits;
  limits.max_connections = o.max_connections;
  limits.header_limit_bytes = o.header_limit_bytes;
  limits.header_timeout_ms = o.header_timeout_ms;
  limits.body_timeout_ms = o.body_timeout_ms;
  limits.write_timeout_ms = o.write_timeout_ms;
  limits.trusted_proxies = o.trusted_proxies;
  return limits;
}

}  // namespace

Server::Impl::Impl(runtime::Runtime& rt, ServerOptions o)
    : runtime(rt),
      options(std::move(o)),
      live(std::make_shared<const ServerOptions>(options)),
      engine(rt.engine()),
      store(rt.store()),
      blocking(static_cast<size_t>(std::max(1, options.blocking_threads))),
      per_key(options.rate_per_key, options.rate_burst),
      per_address(options.rate_per_address, options.rate_burst),
      per_webhook(options.rate_per_webhook, options.rate_burst) {
  scheduler = std::make_unique<Scheduler>(engine, store, metrics, SystemClock::Instance(), switches);
  database_triggers = std::make_unique<DatabaseTriggers>(
      engine, store, metrics, [&rt](std::string_view name) { return rt.connection(name); }, SystemClock::Instance(),
      switches);
  dispatcher = std::make_shared<EventDispatcher>(engine, store, metrics, switches);
  TelemetryOptions telemetry_options;
  telemetry_options.log_steps = options.log_steps;
  telemetry_options.otlp_endpoint = options.otlp_endpoint;
  telemetry_options.otlp_interval_ms = options.otlp_interval_ms;
  telemetry = std::make_shared<Telemetry>(std::move(telemetry_options), metrics);
  routes.push_back({http::verb::get, "/healthz", Need::kPublic, &Healthz, "Liveness: 200 while the process serves"});
  routes.push_back({http::verb::get, "/readyz", Need::kPublic, &Readyz, "Readiness: 200 when the store answers"});
  routes.push_back({http::verb::get, "/metrics", Need::kPublic, &MetricsRoute, "Prometheus metrics"});
  routes.push_back({http::verb::get, "/api/openapi.json", Need::kPublic, &OpenApi, "This API's OpenAPI document"});
  AddApiRoutes(routes);
  AddAccessRoutes(routes);
  AddKnowledgeRoutes(routes);
  AddInboxRoutes(routes);
  AddLiveRoutes(routes);
  AddChatRoutes(routes);
  AddAssetRoutes(routes);
  for (Route& r : routes) r.segments = SplitPath(r.pattern);
  StartChat(*this);

  metrics->DeclareCounter("weft_http_requests_total", "HTTP requests answered, by route and status");
  metrics->DeclareHistogram("weft_http_request_duration_seconds", "HTTP request handling time, by route",
                            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
  metrics->DeclareCounter("weft_runs_started_total", "Runs started by this server, by workflow and trigger");
  metrics->DeclareCounter("weft_runs_finished_total", "Runs that ended, by workflow and status");
  metrics->DeclareCounter("weft_runs_suspended_total", "Times a run suspended, by workflow and what it waits for");
  metrics->DeclareHistogram("weft_step_duration_seconds", "Step attempt durations, by action and status",
                            {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60});
  metrics->DeclareCounter("weft_webhook_refusals_total", "Webhook requests refused, by reason");
  metrics->DeclareGauge("weft_runs_suspended", "Runs suspended now, by workflow and what they wait for");
  metrics->DeclareGauge("weft_tasks_waiting", "Tasks waiting for a person now, by workflow and kind");
  metrics->DeclareCounter("weft_ai_calls_total", "Model calls made by AI steps, by model alias");
  metrics->DeclareCounter("weft_ai_tokens_total", "Tokens of model calls, by model alias and direction");
  metrics->DeclareCounter("weft_ai_cost_total", "Cost of model calls (the aliases' prices), by model alias");
  metrics->DeclareHistogram("weft_store_commit_seconds", "Durable group commits: time from BEGIN to durable",
                            {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1});
  metrics->DeclareHistogram("weft_store_commit_batch_size", "Commits grouped into one durable transaction",
                            {1, 2, 4, 8, 16, 32, 64, 128, 256});
  store.ObserveCommits([m = metrics](size_t commits, double seconds) {
    m->Observe("weft_store_commit_seconds", {}, seconds);
    m->Observe("weft_store_commit_batch_size", {}, static_cast<double>(commits));
  });
  if (engine::EventLog* log = runtime.events()) {
    // Kept for SSE clients that reconnect with Last-Event-ID, while any is
    // connected and for 10 minutes after the last one left.
    log->KeepOnlyForReplay(std::chrono::minutes(10));
    events_subscription = log->Subscribe([metrics = metrics, dispatcher = dispatcher,
                                          telemetry = telemetry](const engine::Event& e) {
      if (e.remote) return;  // counted and traced by the process that ran it
      telemetry->OnEvent(e);
      if (e.kind == engine::Event::Kind::kRun) {
        const Value status = e.data.get("status");
        if (!status.is_string()) return;
        const std::string& s = status.as_string();
        if (s == "completed" || s == "failed" || s == "cancelled") {
          metrics->Add("weft_runs_finished_total", {{"workflow", e.workflow}, {"status", s}});
        } else if (s == "suspended") {
          const Value kind = e.data.get("waiting").get("kind");
          metrics->Add("weft_runs_suspended_total",
                       {{"workflow", e.workflow}, {"waiting_for", kind.is_string() ? kind.as_string() : ""}});
        }
      } else if (e.kind == engine::Event::Kind::kStep) {
        const Value action = e.data.get("action");
        const Value status = e.data.get("status");
        const double started = e.data.get("started_ms").is_number() ? e.data.get("started_ms").as_number() : 0;
        const double ended = e.data.get("ended_ms").is_number() ? e.data.get("ended_ms").as_number() : 0;
        if (!action.is_string() || !status.is_string() || status.as_string() == "suspended") return;
        if (action.as_string() == "emit" && status.as_string() == "completed") dispatcher->Notify();
        metrics->Observe("weft_step_duration_seconds", {{"action", action.as_string()}, {"status", status.as_string()}},
                         std::max(0.0, (ended - started) / 1000.0));
        // AI steps record the model's usage in their detail.
        const Value detail = e.data.get("detail");
        const Value tokens = detail.get("tokens");
        if (tokens.is_object() && detail.get("alias").is_string()) {
          const Labels model = {{"model", detail.get("alias").as_string()}};
          metrics->Add("weft_ai_calls_total", model);
          for (const char* direction : {"input", "output"}) {
            const Value n = tokens.get(direction);
            if (n.is_number()) {
              metrics->Add("weft_ai_tokens_total", {{"model", model[0].second}, {"direction", direction}},
                           n.as_number());
            }
          }
          if (detail.get("cost").is_number()) metrics->Add("weft_ai_cost_total", model, detail.get("cost").as_number());
        }
      }
    });
  }
}

Server::Impl::~Impl() {
  store.ObserveCommits(nullptr);
  if (events_subscription != 0 && runtime.events() != nullptr) runtime.events()->Unsubscribe(events_subscription);
  StopChat(*this);
  blocking.join();
}

const Route* Server::Impl::Match(const Request& request, bool* wrong_method) const {
  const std::vector<std::string> parts = SplitPath(request.path);
  *wrong_method = false;
  for (const Route& r : routes) {
    if (r.segments.size() != parts.size()) continue;
    bool same = true;
    for (size_t i = 0; i < parts.size() && same; ++i) {
      const std::string& seg = r.segments[i];
      same = (!seg.empty() && seg.front() == '{') || seg == parts[i];
    }
    if (!same) continue;
    if (r.method != request.method) {
      *wrong_method = true;
      continue;
    }
    return &r;
  }
  return nullptr;
}

int64_t Server::Impl::BodyLimit(const Request& head) {
  if (head.path.rfind("/forms/", 0) == 0) {
    std::shared_ptr<const dsl::Workflow> wf = Deployed(head.path.substr(7));
    if (wf) {
      for (const dsl::Trigger& t : wf->triggers) {
        if (t.kind == dsl::Trigger::Kind::kForm) return t.form.max_body_bytes;
      }
    }
    return options.api_body_limit_bytes;  // the handler answers 404
  }
  // A file attached to a chat message: /chat/<channel>/uploads.
  if (head.path.rfind("/chat/", 0) == 0 && head.path.size() > 14 &&
      head.path.compare(head.path.size() - 8, 8, "/uploads") == 0) {
    std::optional<ChatEntry> chat = FindChat(head.path.substr(6, head.path.size() - 14));
    return chat ? chat->trigger->max_upload_mb << 20 : options.api_body_limit_bytes;
  }
  if (head.path.rfind("/hooks/", 0) == 0) {
    std::optional<HookEntry> hook = FindHook(head.method_text, head.path.substr(7));
    return hook ? hook->trigger->max_body_bytes : options.api_body_limit_bytes;  // the handler answers 404/405
  }
  bool wrong_method = false;
  if (Match(head, &wrong_method) == nullptr && !wrong_method) return -1;
  return options.api_body_limit_bytes;
}

Status Server::Impl::Authenticate(Request& request) {
  std::string_view token = request.header("Authorization");
  if (token.rfind("Bearer ", 0) == 0) {
    token.remove_prefix(7);
  } else {
    token = request.header("X-Api-Key");
  }
  if (!token.empty()) return AuthenticateKey(request, token);
  if (std::string_view session = request.cookie(kSessionCookie); !session.empty()) {
    return AuthenticateSession(request, session);
  }
  return Status(StatusCode::kUnauthenticated,
                "this route needs a signed-in session or an API key (Authorization: Bearer wk_...)");
}

Status Server::Impl::AuthenticateKey(Request& request, std::string_view token) {
  // wk_<id>_<secret>
  const size_t second = token.find('_', 3);
  if (token.rfind("wk_", 0) != 0 || second == std::string_view::npos || token.size() > 200) {
    return Status(StatusCode::kUnauthenticated, "malformed API key (expected wk_<id>_<secret>)");
  }
  const std::string id(token.substr(3, second - 3));
  const std::string secret(token.substr(second + 1));
  const std::string token_hash = Sha256Hex(token);
  const int64_t now = SystemClock::Instance().NowMillis();
  if (std::optional<Principal> cached = CachedPrincipalFor(token_hash, now)) {
    request.principal = std::move(*cached);
    return Status::Ok();
  }
  Result<store::ApiKeyRecord> key = store.GetApiKey(id);
  if (!key.ok() || !ConstantTimeEquals(key->secret_hash, Sha256Hex(secret))) {
    return Status(StatusCode::kUnauthenticated, "unknown API key");
  }
  if (key->revoked_ms != 0) return Status(StatusCode::kUnauthenticated, "this API key was revoked");
  if (key->expires_ms != 0 && key->expires_ms <= now) {
    return Status(StatusCode::kUnauthenticated, "this API key expired");
  }
  const std::optional<Role> role = ParseRole(key->role);
  if (!role) return Status(StatusCode::kPermissionDenied, "this API key has no known role");
  Principal p;
  p.role = *role;
  p.key_id = id;
  p.workflows = key->workflows;
  RememberPrincipal(token_hash, p, key->expires_ms, now);
  request.principal = std::move(p);
  return Status::Ok();
}

std::optional<Principal> Server::Impl::CachedPrincipalFor(const std::string& token_hash, int64_t now_ms) {
  MutexLock lock(keys_mu);
  auto it = key_cache.find(token_hash);
  // Revocations, sign-outs and role changes made elsewhere take effect
  // within 5 seconds.
  if (it == key_cache.end() || now_ms - it->second.checked_ms >= 5000) return std::nullopt;
  if (it->second.expires_ms != 0 && it->second.expires_ms <= now_ms) return std::nullopt;
  return it->second.principal;
}

void Server::Impl::RememberPrincipal(const std::string& token_hash, const Principal& principal, int64_t expires_ms,
                                     int64_t now_ms) {
  MutexLock lock(keys_mu);
  if (key_cache.size() > 10'000) key_cache.clear();
  key_cache[token_hash] = CachedPrincipal{principal, expires_ms, now_ms};
}

Status Server::Impl::AuthenticateSession(Request& request, std::string_view token) {
  if (token.size() > 200) return Status(StatusCode::kUnauthenticated, "malformed session cookie");
  const std::string token_hash = Sha256Hex(token);
  const int64_t now = SystemClock::Instance().NowMillis();
  std::optional<Principal> found = CachedPrincipalFor(token_hash, now);
  if (!found) {
    Result<store::SessionRecord> session = store.GetSession(token_hash, now);
    if (!session.ok()) {
      return Status(StatusCode::kUnauthenticated, "the session ended or is unknown: sign in again");
    }
    Result<store::UserRecord> user = store.GetUser(session->user);
    if (!user.ok()) return Status(StatusCode::kUnauthenticated, "the session's user no longer exists");
    const std::optional<Role> role = ParseRole(user->role);
    if (!role) return Status(StatusCode::kPermissionDenied, "user '" + user->name + "' has no known role");
    Principal p;
    p.role = *role;
    p.user = user->name;
    p.session_hash = token_hash;
    p.csrf_token = session->csrf_token;
    p.workflows = user->workflows;
    RememberPrincipal(token_hash, p, session->expires_ms, now);
    found = std::move(p);
  }
  // A browser sends the cookie with any request a page makes, also one
  // from another site: requests that change something must carry the
  // CSRF token, which only weft's own pages can read.
  const bool safe =
      request.method == http::verb::get || request.method == http::verb::head || request.method == http::verb::options;
  if (!safe && !ConstantTimeEquals(request.header("X-CSRF-Token"), found->csrf_token)) {
    return Status(StatusCode::kPermissionDenied,
                  "missing or wrong X-CSRF-Token (a signed-in session must send the token it was given)");
  }
  request.principal = std::move(*found);
  return Status::Ok();
}

void Server::Impl::Audit(const Request& request, std::string action, std::string target, const Value& details) {
  Value d = details.is_undefined() ? Value::MakeObject() : details;
  if (!request.client.empty()) d.set("address", request.client);
  Status s = security::Audit(store, SystemClock::Instance().NowMillis(), request.principal.Actor(), std::move(action),
                             std::move(target), d);
  if (!s.ok()) Log(LogLevel::kError, "cannot write the audit log: " + s.ToString());
}

void Server::Impl::CountRequest(const Route* route, int status, double seconds) {
  CountRequestNamed(route != nullptr ? route->pattern : "unmatched", status, seconds);
}

void Server::Impl::CountRequestNamed(const std::string& name, int status, double seconds) {
  metrics->Add("weft_http_requests_total", {{"route", name}, {"status", std::to_string(status)}});
  metrics->Observe("weft_http_request_duration_seconds", {{"route", name}}, seconds);
}

asio::awaitable<Response> Server::Impl::Handle(Request& request) {
  const double started = NowSeconds();
  if (per_address.enabled()) {
    if (double wait = per_address.Take("addr:" + request.client, started); wait > 0) {
      Response r = Response::Error(429, "RESOURCE_EXHAUSTED", "too many requests from " + request.client);
      r.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
      CountRequest(nullptr, 429, NowSeconds() - started);
      co_return r;
    }
  }
  if (request.path.rfind("/chat/", 0) == 0) {
    // The widget runs on other sites' pages: the chat routes answer any
    // origin (a conversation token, never a cookie, says who calls).
    Response r;
    if (request.method == http::verb::options) {
      r.status = 204;
      r.content_type = "text/plain";
    } else {
      r = co_await HandleRoute(request, started);
    }
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
    if (request.method == http::verb::options) {
      r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST");
      r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
      r.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    co_return r;
  }
  if (request.path.rfind("/forms/", 0) == 0) {
    Response r;
    try {
      r = co_await HandleForm(*this, request);
    } catch (const std::exception& e) {
      r = Response::Error(500, "INTERNAL", std::string("internal error: ") + e.what());
    }
    CountRequestNamed("/forms/{workflow}", r.status, NowSeconds() - started);
    co_return r;
  }
  if (request.path.rfind("/hooks/", 0) == 0) {
    Response r;
    try {
      r = co_await HandleWebhook(*this, request);
    } catch (const std::exception& e) {
      r = Response::Error(500, "INTERNAL", std::string("internal error: ") + e.what());
    }
    CountRequestNamed("/hooks/{path}", r.status, NowSeconds() - started);
    co_return r;
  }
  co_return co_await HandleRoute(request, started);
}

asio::awaitable<Response> Server::Impl::HandleRoute(Request& request, double started) {
  bool wrong_method = false;
  const Route* route = Match(request, &wrong_method);
  Response response;
  if (route == nullptr) {
    response =
        wrong_method
            ? Response::Error(405, "INVALID_ARGUMENT", request.method_text + " is not allowed on " + request.path)
            : Response::Error(404, "NOT_FOUND", "no route for " + request.method_text + " " + request.path);
  } else {
    Status auth = Status::Ok();
    if (route->need != Need::kPublic) {
      auth = Authenticate(request);
      if (auth.ok() && !RoleMay(request.principal.role, route->need)) {
        auth = Status(StatusCode::kPermissionDenied, "role '" + std::string(RoleName(request.principal.role)) +
                                                         "' may not " + std::string(NeedName(route->need)) + " (" +
                                                         request.method_text + " " + route->pattern + ")");
      }
    }
    double wait = 0;
    if (auth.ok() && per_key.enabled() && !request.principal.key_id.empty()) {
      wait = per_key.Take("key:" + request.principal.key_id, started);
    }
    if (!auth.ok()) {
      response = Response::FromStatus(auth);
      if (auth.code() == StatusCode::kUnauthenticated) response.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else if (wait > 0) {
      response = Response::Error(429, "RESOURCE_EXHAUSTED", "too many requests with this API key");
      response.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
    } else {
      for (size_t i = 0; i < route->segments.size(); ++i) {
        const std::string& seg = route->segments[i];
        if (!seg.empty() && seg.front() == '{') {
          const std::vector<std::string> parts = SplitPath(request.path);
          request.params[seg.substr(1, seg.size() - 2)] = parts[i];
        }
      }
      try {
        response = co_await route->handler(*this, request);
      } catch (const std::exception& e) {
        response = Response::Error(500, "INTERNAL", std::string("internal error: ") + e.what());
      }
    }
  }
  CountRequest(route, response.status, NowSeconds() - started);
  co_return response;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(runtime::Runtime& runtime, ServerOptions options) {
  auto impl = std::make_unique<Impl>(runtime, std::move(options));
  Impl& s = *impl;
  // Workflows deployed before (through the API, or an earlier folder) keep
  // their triggers; the folder then deploys what changed.
  if (Result<std::vector<store::WorkflowRecord>> stored = runtime.store().ListWorkflows(); stored.ok()) {
    std::map<std::string, int64_t> latest;
    for (const store::WorkflowRecord& w : *stored) latest[w.name] = std::max(latest[w.name], w.version);
    for (const auto& [name, version] : latest) {
      Result<std::shared_ptr<const dsl::Workflow>> wf = runtime.engine().GetWorkflow(name, version);
      if (wf.ok()) {
        if (Status st = s.RegisterTriggers(*wf); !st.ok()) Log(LogLevel::kError, st.message());
      }
    }
  }
  s.ScanFolder();
  s.scheduler->Start();
  s.database_triggers->Start();
  s.dispatcher->Start();
  s.telemetry->Start();
  std::shared_ptr<asio::ssl::context> tls;
  if (s.options.tls.enabled()) {
    WEFT_ASSIGN_OR_RETURN(tls, LoadTls(s.options.tls.cert, s.options.tls.key));
  }
  s.listener = std::make_unique<HttpListener>(runtime.engine().executor(), ListenerLimits(s.options), s);
  WEFT_RETURN_IF_ERROR(s.listener->Listen(s.options.host, s.options.port, std::move(tls)));
  if (!s.options.workflows_dir.empty() && s.options.watch_interval_ms > 0) {
    s.watcher = std::thread([&s] {
      for (;;) {
        {
          MutexLock lock(s.watch_mu);
          lock.WaitFor(s.watch_cv, std::chrono::milliseconds(s.options.watch_interval_ms),
                       [&] { return s.stopping.load(); });
        }
        if (s.stopping) return;
        s.ScanFolder();
      }
    });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->listener->port(); }

std::string Server::url() const {
  const std::string& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(impl_->listener->tls() ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port());
}

void Server::Rescan() { impl_->ScanFolder(); }

Result<std::vector<std::string>> Server::Reload(const ServerOptions& next) {
  Impl& s = *impl_;
  // Everything is checked before anything changes: a bad certificate
  // keeps the old settings whole.
  std::shared_ptr<asio::ssl::context> tls;
  if (next.tls.enabled()) {
    WEFT_ASSIGN_OR_RETURN(tls, LoadTls(next.tls.cert, next.tls.key));
  }
  std::vector<std::string> restart;
  const ServerOptions& was = s.options;
  if (next.host != was.host || next.port != was.port) restart.emplace_back("listen");
  if (next.data_dir != was.data_dir) restart.emplace_back("data_dir");
  if (next.log_steps != was.log_steps) restart.emplace_back("log_steps");
  if (next.otlp_endpoint != was.otlp_endpoint || next.otlp_interval_ms != was.otlp_interval_ms) {
    restart.emplace_back("otlp_endpoint");
  }
  auto live = std::make_shared<ServerOptions>(was);
  live->upload_types = next.upload_types;
  live->session_ttl_ms = next.session_ttl_ms;
  live->max_connections = next.max_connections;
  live->header_limit_bytes = next.header_limit_bytes;
  live->header_timeout_ms = next.header_timeout_ms;
  live->body_timeout_ms = next.body_timeout_ms;
  live->write_timeout_ms = next.write_timeout_ms;
  live->trusted_proxies = next.trusted_proxies;
  live->rate_per_key = next.rate_per_key;
  live->rate_per_address = next.rate_per_address;
  live->rate_per_webhook = next.rate_per_webhook;
  live->rate_burst = next.rate_burst;
  live->drain_timeout_ms = next.drain_timeout_ms;
  live->tls = next.tls;
  s.per_key.Set(next.rate_per_key, next.rate_burst);
  s.per_address.Set(next.rate_per_address, next.rate_burst);
  s.per_webhook.Set(next.rate_per_webhook, next.rate_burst);
  s.listener->Reconfigure(ListenerLimits(*live), std::move(tls));
  {
    MutexLock lock(s.live_mu);
    s.live = std::move(live);
  }
  return restart;
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->watch_cv.notify_all();
  if (impl_->watcher.joinable()) impl_->watcher.join();
  impl_->scheduler->Stop();
  impl_->database_triggers->Stop();
  impl_->telemetry->Stop();
  impl_->dispatcher->Stop();
  if (impl_->listener) impl_->listener->Stop(impl_->Live()->drain_timeout_ms);
}

Result<std::string> CreateApiKey(store::Store& store, const std::string& name, const std::string& role, int64_t ttl_ms,
                                 int64_t now_ms, std::vector<std::string> workflows) {
  if (!ParseRole(role)) {
    return InvalidArgumentError("unknown role '" + role + "' (one of admin, editor, operator, viewer)");
  }
  WEFT_RETURN_IF_ERROR(security::CheckGrants(workflows));
  store::ApiKeyRecord key;
  key.id = RandomHex(8);
  const std::string secret = RandomHex(24);
  key.name = name;
  key.role = role;
  key.secret_hash = Sha256Hex(secret);
  key.created_ms = now_ms;
  key.expires_ms = ttl_ms > 0 ? now_ms + ttl_ms : 0;
  key.workflows = std::move(workflows);
  WEFT_RETURN_IF_ERROR(store.PutApiKey(key));
  return "wk_" + key.id + "_" + secret;
}

}  // namespace weft::server

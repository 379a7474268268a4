// The server's insides, shared by its files: server.cc (start, routing,
// authentication, rate limits), deploy.cc (the workflows folder and the
// trigger table), webhooks.cc, api.cc (REST), live.cc (Server-Sent Events).
// Not part of the public API.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "database_triggers.h"
#include "event_triggers.h"
#include "http.h"
#include "metrics.h"
#include "schedule.h"
#include "telemetry.h"
#include "trigger_switches.h"
#include "weft/core/blocking.h"
#include "weft/core/mutex.h"
#include "weft/dsl/workflow.h"
#include "weft/server/server.h"

namespace weft::server {

// What a route requires of its caller.
enum class Need : uint8_t {
  kPublic,   // anyone (webhooks check their own auth; health, metrics)
  kRead,     // viewer and up: workflows, runs, events
  kOperate,  // operator, editor, admin: start, cancel, retry, resume, the inbox
  kDeploy,   // editor, admin: deploy workflows, enable and disable triggers
  kAdmin,    // admin: keys, audit
};
bool RoleMay(Role role, Need need);
std::string_view NeedName(Need need);

struct Route;
using RouteHandler = asio::awaitable<Response> (*)(Server::Impl& server, Request& request);

struct Route {
  beast::http::verb method;
  std::string pattern;  // "/api/v1/runs/{id}"
  Need need;
  RouteHandler handler;
  std::string summary;                // for the OpenAPI document
  std::vector<std::string> segments;  // split pattern
};

// A deployed webhook: which workflow it starts and how.
struct HookEntry {
  std::string workflow;
  std::shared_ptr<const dsl::Workflow> definition;  // the version it was read from
  const dsl::WebhookTrigger* trigger = nullptr;     // inside `definition`
  size_t index = 0;                                 // in the workflow's triggers
};

// A deployed chat channel.
struct ChatEntry {
  std::string workflow;
  std::shared_ptr<const dsl::Workflow> definition;
  const dsl::ChatTrigger* trigger = nullptr;  // inside `definition`
  size_t index = 0;                           // in the workflow's triggers
};

class ChatHub;  // chat.h

// A token bucket per key (API key, address, webhook).
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}
  // 0 when allowed; otherwise the seconds to wait.
  double Take(const std::string& key, double now_s);
  bool enabled() const { return rate_.load(std::memory_order_relaxed) > 0; }
  // New rates (a reloaded configuration); every bucket starts full again.
  void Set(double per_second, double burst);

 private:
  struct Bucket {
    double tokens = 0;
    double at = 0;
  };
  std::atomic<double> rate_;  // also read without the lock, by enabled()
  Mutex mu_;
  double burst_ WEFT_GUARDED_BY(mu_);
  std::map<std::string, Bucket> buckets_ WEFT_GUARDED_BY(mu_);
};

struct Server::Impl final : HttpHandler {
  Impl(runtime::Runtime& rt, ServerOptions o);
  ~Impl() override;

  int64_t BodyLimit(const Request& head) override;
  asio::awaitable<Response> Handle(Request& request) override;
  // A request for one of `routes`: authentication, role, per-key limit.
  asio::awaitable<Response> HandleRoute(Request& request, double started);

  // Runs `f` (a blocking store call) on the blocking pool; the caller
  // resumes on its own executor.
  template <typename F>
  asio::awaitable<std::invoke_result_t<F>> Blocking(F f) {
    return RunBlocking(blocking, std::move(f));
  }

  // deploy.cc
  // Loads, validates and deploys one workflow file's text; on success its
  // triggers replace the previous version's. Returns the version, or the
  // diagnostics (InvalidArgument listing them).
  struct Deployment {
    std::string name;  // the name the file gave itself (or the default)
    int64_t version = 0;
    bool changed = false;  // a new version (not the text already deployed)
  };
  // `who`, when given, must be granted the workflow's name.
  Result<Deployment> DeployText(const std::string& text, const std::string& file, const std::string& default_name,
                                std::vector<dsl::Diagnostic>* diagnostics, const Principal* who = nullptr);
  void ScanFolder();
  // Registers a loaded workflow's triggers (replacing its old ones).
  Status RegisterTriggers(const std::shared_ptr<const dsl::Workflow>& wf);
  // The deployed workflow with this name (nullptr when none).
  std::shared_ptr<const dsl::Workflow> Deployed(const std::string& name);
  std::optional<HookEntry> FindHook(const std::string& method, const std::string& path);
  std::optional<ChatEntry> FindChat(const std::string& channel);

  // server.cc
  // Who is calling: an API key (Authorization: Bearer / X-Api-Key) or a
  // session cookie (with its CSRF token on requests that change things).
  Status Authenticate(Request& request);
  Status AuthenticateKey(Request& request, std::string_view token);
  Status AuthenticateSession(Request& request, std::string_view token);
  // Appends to the audit log as the request's caller. A blocking store
  // call: make it inside Blocking().
  void Audit(const Request& request, std::string action, std::string target, const Value& details = Value());
  const Route* Match(const Request& request, bool* wrong_method) const;
  void CountRequest(const Route* route, int status, double seconds);
  void CountRequestNamed(const std::string& name, int status, double seconds);

  // The options as they are now: SIGHUP's Reload replaces those it may
  // (rate limits, upload types, session length, the listener's limits and
  // TLS); `options` keeps what the server started with.
  std::shared_ptr<const ServerOptions> Live() const {
    MutexLock lock(live_mu);
    return live;
  }

  runtime::Runtime& runtime;
  const ServerOptions options;
  mutable Mutex live_mu;
  std::shared_ptr<const ServerOptions> live WEFT_GUARDED_BY(live_mu);
  engine::Engine& engine;
  store::Store& store;
  asio::thread_pool blocking;
  // Shared with the engine's event listener, which may still be running
  // when the server goes.
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::vector<Route> routes;
  RateLimiter per_key;
  RateLimiter per_address;
  RateLimiter per_webhook;
  std::unique_ptr<HttpListener> listener;
  // Before the triggers, which read it.
  std::shared_ptr<TriggerSwitches> switches = std::make_shared<TriggerSwitches>();
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<DatabaseTriggers> database_triggers;
  // Shared with the engine's event listener (as metrics).
  std::shared_ptr<EventDispatcher> dispatcher;
  std::shared_ptr<Telemetry> telemetry;
  uint64_t events_subscription = 0;
  // The chat channels' conversations and live connections (chat.cc).
  std::shared_ptr<ChatHub> chat;
  uint64_t chat_subscription = 0;

  mutable Mutex hooks_mu;
  // "METHOD path" -> the webhook.
  std::map<std::string, HookEntry, std::less<>> hooks WEFT_GUARDED_BY(hooks_mu);
  // Channel -> the chat trigger serving it.
  std::map<std::string, ChatEntry, std::less<>> chats WEFT_GUARDED_BY(hooks_mu);
  // Workflow name -> the deployed version's definition.
  std::map<std::string, std::shared_ptr<const dsl::Workflow>, std::less<>> deployed WEFT_GUARDED_BY(hooks_mu);
  // Triggers that this version does not serve yet, reported once per workflow version.
  std::set<std::string> unserved_noted WEFT_GUARDED_BY(hooks_mu);

  // The folder's files as last seen: path -> (mtime, size).
  Mutex folder_mu;
  std::map<std::string, std::pair<int64_t, int64_t>> seen_files WEFT_GUARDED_BY(folder_mu);
  // Diagnostics of the last failed deploy of each file.
  std::map<std::string, std::vector<dsl::Diagnostic>> file_problems WEFT_GUARDED_BY(folder_mu);

  // API keys and sessions recently checked, by token hash. Revocations,
  // sign-outs and role changes made elsewhere take effect within 5 s.
  struct CachedPrincipal {
    Principal principal;
    int64_t expires_ms = 0;  // 0 = never
    int64_t checked_ms = 0;
  };
  // The principal of a token checked less than 5 s ago and not expired.
  std::optional<Principal> CachedPrincipalFor(const std::string& token_hash, int64_t now_ms);
  void RememberPrincipal(const std::string& token_hash, const Principal& principal, int64_t expires_ms, int64_t now_ms);
  Mutex keys_mu;
  std::map<std::string, CachedPrincipal> key_cache WEFT_GUARDED_BY(keys_mu);
  // Forgets cached principals matching `pred` (a revoked key, a removed user).
  template <typename Pred>
  void ForgetPrincipals(Pred pred) {
    MutexLock lock(keys_mu);
    std::erase_if(key_cache, [&pred](const auto& entry) { return pred(entry.second.principal); });
  }
  // Sign-in attempts, per client address.
  RateLimiter logins{0.2, 10};

  std::atomic<bool> stopping{false};
  std::thread watcher;
  Mutex watch_mu;
  std::condition_variable_any watch_cv;
};

// Seconds on the steady clock (rate limits, request durations).
inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The session cookie's name.
inline constexpr std::string_view kSessionCookie = "weft_session";

// HTML pages (forms, approval links): text escaped for HTML, and a page
// with weft's small stylesheet.
std::string Html(std::string_view s);
std::string Page(const std::string& title, const std::string& body);

// Signed tokens (approval links, chat conversations): base64url(JSON
// claims) "." base64url(HMAC-SHA256). The key for `purpose` is made once
// per database.
Result<std::string> SigningKey(store::Store& store, std::string_view purpose);
std::string SignClaims(const std::string& key, const Value& claims);
// The claims of a token `key` signed: NotFound when the signature is not
// one, InvalidArgument when the token is malformed.
Result<Value> VerifyClaims(const std::string& key, std::string_view token);

// Shared by the API's handlers.
Response BadRequest(std::string message);
// A JSON array of strings from a request field (undefined = empty).
Result<std::vector<std::string>> StringsField(const Value& v, std::string_view field);
// A JSON request body (an object; {} when empty).
Result<Value> JsonBody(const Request& req);

// What a caller whose grants do not cover a workflow (or run) is told:
// nothing that says whether it exists.
Response NoWorkflow(const std::string& name);
Response NoRun(const std::string& id);
// For callers limited to some workflows: whether the run's workflow is one
// of them (a store read only for those callers).
asio::awaitable<bool> MaySeeRun(Server::Impl& s, const Request& req, const std::string& id);
// A run and its step history, read off the engine's threads.
struct RunWithSteps {
  store::RunRecord run;
  std::vector<store::StepRecord> steps;
};
asio::awaitable<Result<RunWithSteps>> ReadRunWithSteps(Server::Impl& s, const std::string& id);
// ?limit= clamped to 1..1000 (`fallback` when absent; -1 when not a number).
int LimitParam(const Request& req, int fallback);
// The run as it is now, answered with `status` once `done` succeeded.
asio::awaitable<Response> RunAfter(Server::Impl& s, const std::string& id, int status, const Status& done);
// Continues a suspended run with `payload` (or fails its waiting step with
// `failure`), audited as `action` with `details`.
asio::awaitable<Response> ResumeWith(Server::Impl& s, const Request& req, const std::string& id, const Value& payload,
                                     const std::optional<Status>& failure, std::string action, Value details);

// Route handlers (api.cc, access.cc, inbox.cc, webhooks.cc, forms.cc, live.cc).
void AddAccessRoutes(std::vector<Route>& routes);
void AddInboxRoutes(std::vector<Route>& routes);
void AddKnowledgeRoutes(std::vector<Route>& routes);
asio::awaitable<Response> HandleWebhook(Server::Impl& server, Request& request);
asio::awaitable<Response> HandleForm(Server::Impl& server, Request& request);
void AddApiRoutes(std::vector<Route>& routes);
void AddLiveRoutes(std::vector<Route>& routes);
void AddChatRoutes(std::vector<Route>& routes);
void AddAssetRoutes(std::vector<Route>& routes);  // the console and the widget (web/)
// Starts the chat hub (after the routes, before serving) and stops it.
void StartChat(Server::Impl& server);
void StopChat(Server::Impl& server);
// The OpenAPI 3.1 document of `routes`.
Value OpenApiDocument(const std::vector<Route>& routes);

struct UploadedFile;
// Keeps an uploaded file under data_dir/uploads/<sha256> (written once).
Status StoreUpload(const std::string& data_dir, const UploadedFile& file);
// InvalidArgument naming the file when its type (sniffed from its content)
// is not one of the configured `server.upload_types`.
Status CheckUploadType(Server::Impl& s, const std::string& name, const std::string& type);

// Request helpers.
Value RunSummary(const store::RunRecord& run);
std::string RunUrl(const Request& request, const std::string& run_id);

}  // namespace weft::server

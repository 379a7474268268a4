// The task inbox: runs waiting for a person (approvals, questions,
// handovers). A person claims a task (a handover taken), completes it, or
// hands out one-time signed links that approve or refuse it from an email.
#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"

namespace weft::server {

namespace http = beast::http;

namespace {

int64_t Now() { return SystemClock::Instance().NowMillis(); }

bool IsPersonWait(const Value& wait) {
  const Value kind = wait.get("kind");
  return kind == Value("user_input") || kind == Value("approval") || kind == Value("handover");
}

// Claims belong to one wait of a run (its step path and attempt): the
// run's next task starts unclaimed.
std::string ClaimKey(const store::RunRecord& run) {
  return "task:claim:" + run.id + ":" + ToJson(run.wait.get("path")) + ":" + ToJson(run.wait.get("attempt"));
}

// Who holds a claim (its stored JSON); "" when it cannot be read.
std::string ClaimHolder(const std::string& claim) {
  Result<Value> c = ParseJson(claim);
  return c.ok() && c->get("by").is_string() ? c->get("by").as_string() : "";
}

// The JSON Schema of what completes a task of `kind` (the resume payload),
// from the suspending action that waits for it; undefined when it has none.
Value PayloadSchema(const engine::ActionRegistry& actions, const Value& kind) {
  const char* action = kind == Value("user_input") ? "await_user_input"
                       : kind == Value("approval") ? "approval"
                       : kind == Value("handover") ? "handover"
                                                   : nullptr;
  if (action == nullptr) return Value();
  const dsl::ActionSpec* spec = actions.Find(action);
  return spec != nullptr && spec->output_schema ? spec->output_schema->document() : Value();
}

Value TaskJson(const Server::Impl& s, const store::RunRecord& run, const std::optional<std::string>& claim) {
  Value o = Value::MakeObject();
  o.set("id", run.id);  // a run waits for one person at a time: the task is the run's
  o.set("run_id", run.id);
  o.set("workflow", run.workflow);
  o.set("version", static_cast<double>(run.version));
  o.set("kind", run.wait.get("kind"));
  o.set("task", run.wait.get("task"));
  o.set("path", run.wait.get("path"));
  if (run.wait.get("data").is_defined()) o.set("data", run.wait.get("data"));
  if (run.wait.get("since_ms").is_defined()) o.set("since_ms", run.wait.get("since_ms"));
  o.set("created_ms", static_cast<double>(run.created_ms));
  // The conversation a handover hands over: the chat's, else the run's own
  // (engine::ActionContext::conversation).
  const Value chat = run.context.get("chat").get("conversation");
  o.set("conversation", chat.is_string() ? chat : Value(run.id));
  if (Value schema = PayloadSchema(s.runtime.actions(), run.wait.get("kind")); schema.is_defined()) {
    o.set("payload_schema", schema);
  }
  if (claim) {
    Result<Value> c = ParseJson(*claim);
    if (c.ok()) o.set("claimed", *c);
  }
  return o;
}

// The run of task `id` when it waits for a person the caller may see.
Result<store::RunRecord> WaitingRun(Server::Impl& s, const Request& req, const std::string& id) {
  WEFT_ASSIGN_OR_RETURN(store::RunRecord run, s.store.GetRun(id));
  if (!req.principal.MaySee(run.workflow)) return NotFoundError("no run '" + id + "'");
  if (run.status != store::RunStatus::kSuspended || !IsPersonWait(run.wait)) {
    return FailedPreconditionError("run " + id + " has no task waiting for a person");
  }
  return run;
}

asio::awaitable<Response> ListTasks(Server::Impl& s, Request& req) {
  store::RunFilter f;
  f.status = store::RunStatus::kSuspended;
  f.workflow = req.query_param("workflow");
  f.before_id = req.query_param("cursor");
  f.limit = LimitParam(req, 50);
  if (f.limit < 0) co_return BadRequest("'limit' must be a number");
  const std::string kind = req.query_param("kind");
  const std::string queue = req.query_param("queue");
  struct Found {
    std::vector<store::RunRecord> runs;
    std::vector<std::optional<std::string>> claims;
  };
  Result<Found> found = co_await s.Blocking([&]() -> Result<Found> {
    Found out;
    WEFT_ASSIGN_OR_RETURN(out.runs, s.store.ListRuns(f));
    for (const store::RunRecord& r : out.runs) {
      std::optional<std::string> claim;
      if (IsPersonWait(r.wait)) {
        Result<std::optional<std::string>> c = s.store.GetState(ClaimKey(r));
        if (c.ok()) claim = *c;
      }
      out.claims.push_back(std::move(claim));
    }
    return out;
  });
  if (!found.ok()) co_return Response::FromStatus(found.status());
  Value list = Value::MakeArray();
  for (size_t i = 0; i < found->runs.size(); ++i) {
    const store::RunRecord& r = found->runs[i];
    if (!IsPersonWait(r.wait) || !req.principal.MaySee(r.workflow)) continue;
    if (!kind.empty() && r.wait.get("kind") != Value(kind)) continue;
    if (!queue.empty() && r.wait.get("data").get("queue") != Value(queue)) continue;
    list.push_back(TaskJson(s, r, found->claims[i]));
  }
  Value body = Value::MakeObject();
  body.set("tasks", list);
  if (static_cast<int>(found->runs.size()) == f.limit) body.set("next_cursor", found->runs.back().id);
  co_return Response::Json(200, body);
}

// Takes a task: others see who has it, and only they (or an admin) may
// complete it until it is released. For a handover: the person takes the
// conversation.
asio::awaitable<Response> ClaimTask(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Result<Value> claim = co_await s.Blocking([&]() -> Result<Value> {
    WEFT_ASSIGN_OR_RETURN(store::RunRecord run, WaitingRun(s, req, id));
    Value c = Value::MakeObject();
    c.set("by", req.principal.Actor());
    c.set("at_ms", static_cast<double>(Now()));
    WEFT_ASSIGN_OR_RETURN(bool taken, s.store.InsertState(ClaimKey(run), ToJson(c)));
    if (!taken) {
      WEFT_ASSIGN_OR_RETURN(std::optional<std::string> current, s.store.GetState(ClaimKey(run)));
      const std::string by = current ? ClaimHolder(*current) : "";
      if (by != req.principal.Actor()) {
        return Status(StatusCode::kAlreadyExists, "task " + id + " is taken by " + (by.empty() ? "someone" : by));
      }
      return ParseJson(*current);  // already theirs
    }
    Value d = Value::MakeObject();
    d.set("workflow", run.workflow);
    d.set("task", run.wait.get("task"));
    s.Audit(req, run.wait.get("kind") == Value("handover") ? "handover.take" : "task.claim", "run:" + id, d);
    return c;
  });
  if (!claim.ok()) co_return Response::FromStatus(claim.status());
  Value o = Value::MakeObject();
  o.set("id", id);
  o.set("claimed", *claim);
  co_return Response::Json(200, o);
}

asio::awaitable<Response> ReleaseTask(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Status done = co_await s.Blocking([&]() -> Status {
    WEFT_ASSIGN_OR_RETURN(store::RunRecord run, WaitingRun(s, req, id));
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> current, s.store.GetState(ClaimKey(run)));
    if (!current) return Status::Ok();
    if (ClaimHolder(*current) != req.principal.Actor() && req.principal.role != Role::kAdmin) {
      return Status(StatusCode::kPermissionDenied, "task " + id + " is taken by someone else");
    }
    WEFT_RETURN_IF_ERROR(s.store.DeleteState(ClaimKey(run)));
    s.Audit(req, "task.release", "run:" + id);
    return Status::Ok();
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  co_return Response::Json(200, Value::MakeObject());
}

// Completes a person's task: {"payload": ...} (approve, edit, answer) or
// {"refuse": "why"}. A task taken by someone else is theirs to complete
// (admins excepted).
asio::awaitable<Response> CompleteTask(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  struct Found {
    store::RunRecord run;
    std::optional<std::string> claim;
  };
  Result<Found> found = co_await s.Blocking([&]() -> Result<Found> {
    WEFT_ASSIGN_OR_RETURN(store::RunRecord run, WaitingRun(s, req, id));
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> claim, s.store.GetState(ClaimKey(run)));
    return Found{std::move(run), std::move(claim)};
  });
  if (!found.ok()) co_return Response::FromStatus(found.status());
  if (found->claim && req.principal.role != Role::kAdmin) {
    const std::string by = ClaimHolder(*found->claim);
    if (!by.empty() && by != req.principal.Actor()) {
      co_return Response::Error(409, "ALREADY_EXISTS", "task " + id + " is taken by " + by);
    }
  }
  const store::RunRecord& run = found->run;
  std::optional<Status> failure;
  if (const Value refuse = body->get("refuse"); refuse.is_defined()) {
    failure = Status(StatusCode::kPermissionDenied, refuse.is_string() ? refuse.as_string() : "refused");
  }
  const Value kind = run.wait.get("kind");
  std::string action = failure ? "task.refuse" : "task.answer";
  if (kind == Value("approval") && !failure) action = "task.approve";
  if (kind == Value("handover")) action = failure ? "handover.refuse" : "handover.return";
  Value details = Value::MakeObject();
  details.set("workflow", run.workflow);
  details.set("kind", kind);
  details.set("task", run.wait.get("task"));
  co_return co_await ResumeWith(s, req, id, body->get("payload"), failure, std::move(action), std::move(details));
}

// "https://host" as the client addressed this server ("" without a Host).
std::string Origin(const Request& req) {
  const std::string_view host = req.header("Host");
  if (host.empty()) return "";
  return std::string(req.secure ? "https://" : "http://") + std::string(host);
}

// Signed links that approve or refuse an approval once, for a reviewer who
// is not signed in (an email): {ttl_hours?} → {approve, refuse} URLs.
asio::awaitable<Response> CreateLinks(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value ttl = body->get("ttl_hours");
  if (ttl.is_defined() && (!ttl.is_number() || ttl.as_number() <= 0 || ttl.as_number() > 24 * 30)) {
    co_return BadRequest("'ttl_hours' must be a number of hours up to 720");
  }
  const int64_t expires = Now() + static_cast<int64_t>((ttl.is_number() ? ttl.as_number() : 72) * 3'600'000);
  Result<Value> links = co_await s.Blocking([&]() -> Result<Value> {
    WEFT_ASSIGN_OR_RETURN(store::RunRecord run, WaitingRun(s, req, id));
    if (run.wait.get("kind") != Value("approval")) {
      return FailedPreconditionError("run " + id + " waits for " + ToJson(run.wait.get("kind")) +
                                     ", not an approval: links approve or refuse approvals only");
    }
    WEFT_ASSIGN_OR_RETURN(std::string key, SigningKey(s.store, "links"));
    Value out = Value::MakeObject();
    const std::string nonce = RandomHex(8);
    for (const char* decision : {"approve", "refuse"}) {
      Value claims = Value::MakeObject();
      claims.set("r", run.id);
      claims.set("p", run.wait.get("path"));
      claims.set("a", run.wait.get("attempt"));
      claims.set("d", decision);
      claims.set("e", static_cast<double>(expires));
      claims.set("by", req.principal.Actor());
      claims.set("n", nonce);  // both links of a pair share it: one used, the other is spent too
      out.set(decision, Origin(req) + "/approve/" + SignClaims(key, claims));
    }
    out.set("expires_ms", static_cast<double>(expires));
    Value d = Value::MakeObject();
    d.set("expires_ms", static_cast<double>(expires));
    s.Audit(req, "task.links", "run:" + id, d);
    return out;
  });
  if (!links.ok()) co_return Response::FromStatus(links.status());
  co_return Response::Json(201, *links);
}

// A link's claims once its signature, expiry and task check out.
Result<Value> CheckLink(Server::Impl& s, const std::string& token, store::RunRecord* run) {
  WEFT_ASSIGN_OR_RETURN(std::string key, SigningKey(s.store, "links"));
  Result<Value> verified = VerifyClaims(key, token);
  if (!verified.ok()) {
    return verified.status().code() == StatusCode::kNotFound ? NotFoundError("this link is not one weft signed")
                                                             : InvalidArgumentError("this link is malformed");
  }
  Value claims = std::move(*verified);
  if (!claims.get("e").is_number() || claims.get("e").as_number() < static_cast<double>(Now())) {
    return Status(StatusCode::kOutOfRange, "this link has expired");
  }
  WEFT_ASSIGN_OR_RETURN(*run, s.store.GetRun(claims.get("r").is_string() ? claims.get("r").as_string() : ""));
  if (run->status != store::RunStatus::kSuspended || run->wait.get("path") != claims.get("p") ||
      run->wait.get("attempt") != claims.get("a")) {
    return FailedPreconditionError("the approval this link was made for is no longer waiting");
  }
  return claims;
}

// A link's problem as a page: 404 not signed here, 410 expired, 409 used
// or no longer waiting.
Response LinkRefused(const Status& why) {
  const int status = why.code() == StatusCode::kOutOfRange ? 410 : Response::FromStatus(why).status;
  return Response::Text(status,
                        Page("This link cannot be used",
                             "<main><h1>This link cannot be used</h1><p>" + Html(why.message()) + "</p></main>"),
                        "text/html; charset=utf-8");
}

std::string LinkPage(const std::string& title, const std::string& text) {
  return Page(title, "<main><h1>" + Html(title) + "</h1><p>" + Html(text) + "</p></main>");
}

// GET shows what the link does and asks to confirm (mail scanners fetch
// links; only the POST acts).
asio::awaitable<Response> ShowLink(Server::Impl& s, Request& req) {
  const std::string token = req.params["token"];
  store::RunRecord run;
  Result<Value> claims = co_await s.Blocking([&] { return CheckLink(s, token, &run); });
  if (!claims.ok()) co_return LinkRefused(claims.status());
  const bool approve = claims->get("d") == Value("approve");
  const std::string what = std::string(approve ? "Approve" : "Refuse") + " \"" +
                           (run.wait.get("task").is_string() ? run.wait.get("task").as_string() : "the request") +
                           "\" of workflow " + run.workflow;
  std::string data = run.wait.get("data").is_defined() ? ToJson(run.wait.get("data"), 2) : "";
  Response r = Response::Text(
      200,
      Page(what, "<main><h1>" + Html(what) + "</h1>" + (data.empty() ? "" : "<pre>" + Html(data) + "</pre>") +
                     "<form method=\"post\"><button type=\"submit\">" + (approve ? "Approve" : "Refuse") +
                     "</button></form></main>"),
      "text/html; charset=utf-8");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  co_return r;
}

asio::awaitable<Response> UseLink(Server::Impl& s, Request& req) {
  const std::string token = req.params["token"];
  store::RunRecord run;
  Result<Value> claims = co_await s.Blocking([&]() -> Result<Value> {
    WEFT_ASSIGN_OR_RETURN(Value c, CheckLink(s, token, &run));
    // One use for the pair of links.
    WEFT_ASSIGN_OR_RETURN(bool first, s.store.InsertState("link:used:" + ToJson(c.get("n")), "1"));
    if (!first) return Status(StatusCode::kAlreadyExists, "this link was used already");
    return c;
  });
  if (!claims.ok()) co_return LinkRefused(claims.status());
  const bool approve = claims->get("d") == Value("approve");
  const std::string by = claims->get("by").is_string() ? claims->get("by").as_string() : "link";
  Value payload = Value::MakeObject();
  payload.set("approved", true);
  payload.set("by", "link from " + by);
  std::optional<Status> failure;
  if (!approve) failure = Status(StatusCode::kPermissionDenied, "refused through a link from " + by);
  Request as_link = req;
  as_link.principal.key_id = "link:" + by;
  Value details = Value::MakeObject();
  details.set("workflow", run.workflow);
  details.set("kind", "approval");
  details.set("task", run.wait.get("task"));
  details.set("via", "link");
  Response done = co_await ResumeWith(s, as_link, run.id, payload, failure, approve ? "task.approve" : "task.refuse",
                                      std::move(details));
  if (done.status / 100 != 2) {
    co_return Response::Text(done.status, LinkPage("This link cannot be used", done.body), "text/html; charset=utf-8");
  }
  co_return Response::Text(200, LinkPage(approve ? "Approved" : "Refused", "Thank you: the workflow goes on."),
                           "text/html; charset=utf-8");
}

}  // namespace

void AddInboxRoutes(std::vector<Route>& r) {
  using V = http::verb;
  r.push_back({V::get, "/api/v1/tasks", Need::kRead, &ListTasks,
               "Tasks waiting for a person, with who took them (?kind, queue, workflow, limit, cursor)"});
  r.push_back({V::post, "/api/v1/tasks/{id}/claim", Need::kOperate, &ClaimTask,
               "Take a task (a handover: take the conversation); 409 when someone else has it"});
  r.push_back({V::post, "/api/v1/tasks/{id}/release", Need::kOperate, &ReleaseTask, "Give a taken task back"});
  r.push_back({V::post, "/api/v1/tasks/{id}/complete", Need::kOperate, &CompleteTask,
               "Complete a task: {payload} (approve, edit, answer) or {refuse: reason}"});
  r.push_back({V::post, "/api/v1/tasks/{id}/links", Need::kOperate, &CreateLinks,
               "One-time signed links that approve or refuse an approval (for email): {ttl_hours?}"});
  r.push_back({V::get, "/approve/{token}", Need::kPublic, &ShowLink, "An approval link: what it does, to confirm"});
  r.push_back({V::post, "/approve/{token}", Need::kPublic, &UseLink, "Use an approval link (once)"});
}

}  // namespace weft::server

// The REST API under /api/v1: workflows, runs, the task inbox,
// conversations, usage and API keys.
#include <algorithm>
#include <ctime>
#include <set>

#include "body.h"
#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/json.h"
#include "weft/store/record_json.h"

namespace weft::server {

namespace http = beast::http;

Response BadRequest(std::string message) { return Response::Error(400, "INVALID_ARGUMENT", std::move(message)); }

Result<Value> JsonBody(const Request& req) {
  if (req.body.empty()) return Value::MakeObject();
  JsonParseOptions options;
  options.strict = true;
  options.max_depth = 64;
  Result<Value> v = ParseJson(req.body, options);
  if (!v.ok()) return InvalidArgumentError("request body: " + v.status().message());
  if (!v->is_object()) return InvalidArgumentError("request body must be a JSON object");
  return v;
}

// What a caller whose grants do not cover a workflow is told: nothing that
// says whether it exists.
Response NoWorkflow(const std::string& name) { return Response::Error(404, "NOT_FOUND", "no workflow '" + name + "'"); }
Response NoRun(const std::string& id) { return Response::Error(404, "NOT_FOUND", "no run '" + id + "'"); }

// For callers limited to some workflows: the run's workflow must be one of
// them (a store read only for those callers).
asio::awaitable<bool> MaySeeRun(Server::Impl& s, const Request& req, const std::string& id) {
  if (req.principal.workflows.empty()) co_return true;
  Result<store::RunRecord> run = co_await s.Blocking([&] { return s.store.GetRun(id); });
  co_return run.ok() && req.principal.MaySee(run->workflow);
}

int LimitParam(const Request& req, int fallback) {
  const std::string text = req.query_param("limit");
  if (text.empty()) return fallback;
  char* end = nullptr;
  const long v = strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return -1;
  return static_cast<int>(std::clamp<long>(v, 1, 1000));
}

asio::awaitable<Result<RunWithSteps>> ReadRunWithSteps(Server::Impl& s, const std::string& id) {
  co_return co_await s.Blocking([&]() -> Result<RunWithSteps> {
    Result<store::RunRecord> run = s.store.GetRun(id);
    if (!run.ok()) return run.status();
    Result<std::vector<store::StepRecord>> steps = s.store.GetSteps(id);
    if (!steps.ok()) return steps.status();
    return RunWithSteps{std::move(*run), std::move(*steps)};
  });
}

asio::awaitable<Response> RunAfter(Server::Impl& s, const std::string& id, int status, const Status& done) {
  if (!done.ok()) co_return Response::FromStatus(done);
  Result<store::RunRecord> run = co_await s.Blocking([&] { return s.store.GetRun(id); });
  if (!run.ok()) co_return Response::FromStatus(run.status());
  co_return Response::Json(status, store::RunToJson(*run));
}

// Continues a suspended run: the waiting step's result is `payload`, or it
// fails with `failure`. Answers the run as it is then.
// The audit log records it as `action` with `details`.
asio::awaitable<Response> ResumeWith(Server::Impl& s, const Request& req, const std::string& id, const Value& payload,
                                     const std::optional<Status>& failure, std::string action, Value details) {
  Status done = co_await s.Blocking([&] {
    Status st = failure ? s.engine.ResumeWithError(id, *failure) : s.engine.Resume(id, payload);
    if (st.ok()) {
      if (failure) details.set("reason", failure->message());
      s.Audit(req, std::move(action), "run:" + id, details);
    }
    return st;
  });
  co_return co_await RunAfter(s, id, 202, done);
}

namespace {

Value DiagnosticsJson(const std::vector<dsl::Diagnostic>& list) {
  Value out = Value::MakeArray();
  for (const dsl::Diagnostic& d : list) {
    Value o = Value::MakeObject();
    o.set("severity", d.severity == dsl::Diagnostic::Severity::kError ? "error" : "warning");
    o.set("line", d.location.line);
    o.set("column", d.location.column);
    o.set("message", d.message);
    out.push_back(o);
  }
  return out;
}

Value TriggerJson(const dsl::Trigger& t) {
  Value o = Value::MakeObject();
  o.set("kind", std::string(dsl::TriggerKindName(t.kind)));
  switch (t.kind) {
    case dsl::Trigger::Kind::kWebhook: {
      o.set("path", "/hooks/" + t.webhook.path);
      o.set("methods", StringArray(t.webhook.methods));
      o.set("respond", t.webhook.respond == dsl::WebhookTrigger::Respond::kAccepted ? "accepted" : "completion");
      const char* auth[] = {"none", "bearer", "basic", "hmac"};
      o.set("auth", auth[static_cast<int>(t.webhook.auth.kind)]);
      break;
    }
    case dsl::Trigger::Kind::kSchedule:
      o.set("cron", t.schedule.cron);
      o.set("timezone", t.schedule.timezone);
      break;
    case dsl::Trigger::Kind::kEvent: o.set("event", t.event.name); break;
    case dsl::Trigger::Kind::kChat: o.set("channel", t.chat.channel); break;
    case dsl::Trigger::Kind::kForm: o.set("title", t.form.title); break;
    case dsl::Trigger::Kind::kDatabase:
      o.set("connection", t.database.connection);
      if (!t.database.channel.empty()) o.set("channel", t.database.channel);
      if (!t.database.table.empty()) o.set("table", t.database.table);
      break;
    case dsl::Trigger::Kind::kManual: break;
  }
  return o;
}

// A workflow's triggers, each with whether it is switched on.
Value TriggersJson(Server::Impl& s, const dsl::Workflow& wf) {
  Value triggers = Value::MakeArray();
  for (size_t i = 0; i < wf.triggers.size(); ++i) {
    Value t = TriggerJson(wf.triggers[i]);
    t.set("enabled", s.switches->Enabled(wf.name, i));
    triggers.push_back(t);
  }
  return triggers;
}

// The flow as a graph for drawing: nodes (start, end, each step, decision,
// fork/join, loop, the steps of an `on_error` fallback) and edges, laid out
// by the client. A node's id is the path its steps record, up to the last
// ':' and without loop iterations.
class GraphBuilder {
 public:
  Value Build(const dsl::Workflow& wf) {
    AddNode("start", "start", "start", nullptr);
    std::vector<std::pair<std::string, std::string>> exits = Walk(wf.flow, {{"start", ""}});
    AddNode("end", "end", "end", nullptr);
    for (const auto& [from, label] : exits) AddEdge(from, "end", label);
    Value g = Value::MakeObject();
    g.set("nodes", nodes_);
    g.set("edges", edges_);
    return g;
  }

 private:
  using Ends = std::vector<std::pair<std::string, std::string>>;  // node id, label of the edge leaving it

  void AddNode(const std::string& id, const std::string& kind, const std::string& label, const dsl::FlowNode* n) {
    Value o = Value::MakeObject();
    o.set("id", id);
    o.set("kind", kind);
    o.set("label", label);
    if (n != nullptr && n->task != nullptr) {
      o.set("task", n->task->name);
      o.set("action", n->task->action);
    }
    if (n != nullptr && n->location.line > 0) o.set("line", n->location.line);
    nodes_.push_back(o);
  }
  void AddEdge(const std::string& from, const std::string& to, const std::string& label) {
    Value e = Value::MakeObject();
    e.set("from", from);
    e.set("to", to);
    if (!label.empty()) e.set("label", label);
    edges_.push_back(e);
  }
  void Connect(const Ends& from, const std::string& to) {
    for (const auto& [id, label] : from) AddEdge(id, to, label);
  }

  Ends Walk(const std::vector<dsl::FlowNode>& steps, Ends in) {
    for (const dsl::FlowNode& n : steps) in = One(n, std::move(in));
    return in;
  }

  Ends One(const dsl::FlowNode& n, Ends in) {
    const std::string id = prefix_ + (n.path.empty() ? "node" + std::to_string(nodes_.size()) : n.path);
    switch (n.kind) {
      case dsl::FlowNode::Kind::kDo: {
        AddNode(id, "task", n.task != nullptr ? n.task->name : "?", &n);
        Connect(in, id);
        Ends out = {{id, ""}};
        // Steps run when this one fails: their nodes are named as their
        // steps' paths are ("1:fetch.fallback.0:notify" -> "1:fetch.fallback.0").
        if (n.task != nullptr && n.task->settings.on_error.kind == dsl::ErrorHandler::Kind::kFallbackSteps &&
            n.task->settings.on_error.steps) {
          const std::string saved = prefix_;
          prefix_ += n.step_key + ".";
          Ends fallback = Walk(*n.task->settings.on_error.steps, {{id, "on error"}});
          prefix_ = saved;
          out.insert(out.end(), fallback.begin(), fallback.end());
        }
        return out;
      }
      case dsl::FlowNode::Kind::kConditional: {
        AddNode(id, "decision", "conditional", &n);
        Connect(in, id);
        Ends out;
        bool has_else = false;
        for (const dsl::FlowNode::Branch& b : n.branches) {
          const std::string label = b.condition ? b.condition->source() : "else";
          has_else = has_else || !b.condition;
          Ends branch = Walk(b.steps, {{id, label}});
          out.insert(out.end(), branch.begin(), branch.end());
        }
        if (!has_else) out.emplace_back(id, "otherwise");
        return out;
      }
      case dsl::FlowNode::Kind::kParallel: {
        AddNode(id, "fork", n.strategy == dsl::FlowNode::Strategy::kWaitAny ? "parallel (wait any)" : "parallel", &n);
        Connect(in, id);
        const std::string join = id + ".join";
        Ends all;
        for (const dsl::FlowNode& child : n.children) {
          Ends branch = One(child, {{id, ""}});
          all.insert(all.end(), branch.begin(), branch.end());
        }
        AddNode(join, "join", "join", nullptr);
        Connect(all.empty() ? Ends{{id, ""}} : all, join);
        return {{join, ""}};
      }
      case dsl::FlowNode::Kind::kLoop: {
        AddNode(id, "loop", n.name, &n);
        Connect(in, id);
        Ends body = Walk(n.children, {{id, n.loop_type == dsl::FlowNode::LoopType::kForEach ? "each" : "while"}});
        for (const auto& [from, label] : body) {
          if (from != id) AddEdge(from, id, "next");
        }
        return {{id, "done"}};
      }
    }
    return in;
  }

  Value nodes_ = Value::MakeArray();
  Value edges_ = Value::MakeArray();
  std::string prefix_;  // inside fallback steps: the failing step's key and "."
};

asio::awaitable<Response> ListWorkflows(Server::Impl& s, Request& req) {
  Result<std::vector<store::WorkflowRecord>> stored = co_await s.Blocking([&s] { return s.store.ListWorkflows(); });
  if (!stored.ok()) co_return Response::FromStatus(stored.status());
  std::map<std::string, std::vector<int64_t>> versions;
  for (const store::WorkflowRecord& w : *stored) versions[w.name].push_back(w.version);
  Value list = Value::MakeArray();
  for (const auto& [name, vs] : versions) {
    if (!req.principal.MaySee(name)) continue;
    Value o = Value::MakeObject();
    o.set("name", name);
    o.set("version", static_cast<double>(*std::max_element(vs.begin(), vs.end())));
    o.set("versions", static_cast<double>(vs.size()));
    Value triggers = Value::MakeArray();
    if (std::shared_ptr<const dsl::Workflow> wf = s.Deployed(name)) {
      o.set("description", wf->description);
      o.set("deployed_version", static_cast<double>(wf->version));
      triggers = TriggersJson(s, *wf);
    }
    o.set("triggers", triggers);
    list.push_back(o);
  }
  Value body = Value::MakeObject();
  body.set("workflows", list);
  co_return Response::Json(200, body);
}

asio::awaitable<Response> GetWorkflow(Server::Impl& s, Request& req) {
  const std::string name = req.params["name"];
  if (!req.principal.MaySee(name)) co_return NoWorkflow(name);
  int64_t version = 0;
  if (std::string v = req.query_param("version"); !v.empty()) version = std::atoll(v.c_str());
  Result<std::vector<store::WorkflowRecord>> stored = co_await s.Blocking([&s] { return s.store.ListWorkflows(); });
  if (!stored.ok()) co_return Response::FromStatus(stored.status());
  Value versions = Value::MakeArray();
  const store::WorkflowRecord* chosen = nullptr;
  for (const store::WorkflowRecord& w : *stored) {
    if (w.name != name) continue;
    Value v = Value::MakeObject();
    v.set("version", static_cast<double>(w.version));
    v.set("hash", w.hash);
    v.set("created_ms", static_cast<double>(w.created_ms));
    versions.push_back(v);
    if ((version == 0 && (chosen == nullptr || w.version > chosen->version)) || w.version == version) chosen = &w;
  }
  if (chosen == nullptr) {
    co_return Response::Error(
        404, "NOT_FOUND", "no workflow '" + name + "'" + (version != 0 ? " version " + std::to_string(version) : ""));
  }
  Result<std::shared_ptr<const dsl::Workflow>> wf = s.engine.GetWorkflow(name, chosen->version);
  Value o = Value::MakeObject();
  o.set("name", name);
  o.set("version", static_cast<double>(chosen->version));
  o.set("versions", versions);
  o.set("source", chosen->source);
  if (wf.ok()) {
    o.set("description", (*wf)->description);
    o.set("triggers", TriggersJson(s, **wf));
    if ((*wf)->input_schema_document.is_defined()) o.set("input_schema", (*wf)->input_schema_document);
    o.set("graph", GraphBuilder().Build(**wf));
    o.set("diagnostics", DiagnosticsJson((*wf)->warnings));
  } else {
    o.set("error", wf.status().message());
  }
  co_return Response::Json(200, o);
}

asio::awaitable<Response> DeployWorkflow(Server::Impl& s, Request& req) {
  std::string name = req.query_param("name");
  if (req.body.empty()) co_return BadRequest("the body must be the workflow's YAML");
  std::vector<dsl::Diagnostic> diagnostics;
  const std::string file = (name.empty() ? std::string("workflow") : name) + ".yaml";
  Result<Server::Impl::Deployment> deployed = co_await s.Blocking([&] {
    Result<Server::Impl::Deployment> d =
        s.DeployText(req.body, file, name.empty() ? "workflow" : name, &diagnostics, &req.principal);
    if (d.ok() && d->changed) {
      Value details = Value::MakeObject();
      details.set("version", static_cast<double>(d->version));
      s.Audit(req, "deploy", "workflow:" + d->name, details);
    }
    return d;
  });
  if (!deployed.ok()) {
    co_return Response::Error(deployed.status().code() == StatusCode::kInvalidArgument ? 400 : 409,
                              std::string(StatusCodeName(deployed.status().code())), "the workflow was not deployed",
                              DiagnosticsJson(diagnostics));
  }
  Value o = Value::MakeObject();
  o.set("name", deployed->name);
  o.set("version", static_cast<double>(deployed->version));
  o.set("diagnostics", DiagnosticsJson(diagnostics));
  co_return Response::Json(201, o);
}

asio::awaitable<Response> StartRun(Server::Impl& s, Request& req) {
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value workflow = body->get("workflow");
  if (!workflow.is_string() || workflow.as_string().empty()) co_return BadRequest("'workflow' (a name) is required");
  const Value version = body->get("version");
  if (version.is_defined() && !version.is_number()) co_return BadRequest("'version' must be a number");
  const Value wait = body->get("wait_ms");
  if (wait.is_defined() && (!wait.is_number() || wait.as_number() < 0 || wait.as_number() > 600'000)) {
    co_return BadRequest("'wait_ms' must be a number from 0 to 600000");
  }
  if (!req.principal.MaySee(workflow.as_string())) co_return NoWorkflow(workflow.as_string());
  engine::StartOptions start;
  start.trigger = "manual";
  if (const Value key = body->get("idempotency_key"); key.is_string() && !key.as_string().empty()) {
    start.start_key = "api:" + workflow.as_string() + ":" + key.as_string().substr(0, 200);
  }
  if (const Value ctx = body->get("context"); ctx.is_object()) start.context = ctx;
  const auto timeout = std::chrono::milliseconds(wait.is_number() ? static_cast<int64_t>(wait.as_number()) : 0);
  Result<store::RunRecord> run = co_await s.engine.AsyncStart(
      workflow.as_string(), version.is_number() ? static_cast<int64_t>(version.as_number()) : 0, body->get("input"),
      start, timeout);
  if (!run.ok() && run.status().code() == StatusCode::kAlreadyExists && !start.start_key.empty()) {
    run = co_await s.Blocking([&] { return s.store.GetRunByStartKey(start.start_key); });
    if (run.ok()) co_return Response::Json(200, store::RunToJson(*run));
  }
  if (!run.ok()) co_return Response::FromStatus(run.status());
  s.metrics->Add("weft_runs_started_total", {{"workflow", workflow.as_string()}, {"trigger", "manual"}});
  Response r = Response::Json(run->status == store::RunStatus::kRunning ? 202 : 201, store::RunToJson(*run));
  r.headers.emplace_back("Location", "/api/v1/runs/" + run->id);
  co_return r;
}

asio::awaitable<Response> ListRuns(Server::Impl& s, Request& req) {
  store::RunFilter f;
  f.workflow = req.query_param("workflow");
  f.trigger = req.query_param("trigger");
  f.before_id = req.query_param("cursor");
  if (std::string st = req.query_param("status"); !st.empty()) {
    f.status = store::ParseRunStatus(st);
    if (!f.status)
      co_return BadRequest("unknown status '" + st + "' (running, suspended, completed, failed, cancelled)");
  }
  f.limit = LimitParam(req, 50);
  if (f.limit < 0) co_return BadRequest("'limit' must be a number");
  if (!f.workflow.empty() && !req.principal.MaySee(f.workflow)) co_return NoWorkflow(f.workflow);
  Result<std::vector<store::RunRecord>> runs = co_await s.Blocking([&] { return s.store.ListRuns(f); });
  if (!runs.ok()) co_return Response::FromStatus(runs.status());
  Value list = Value::MakeArray();
  // A page may hold fewer runs than the limit for a caller limited to
  // some workflows; next_cursor still continues after it.
  for (const store::RunRecord& r : *runs) {
    if (req.principal.MaySee(r.workflow)) list.push_back(store::RunToJson(r));
  }
  Value body = Value::MakeObject();
  body.set("runs", list);
  if (static_cast<int>(runs->size()) == f.limit) body.set("next_cursor", runs->back().id);
  co_return Response::Json(200, body);
}

asio::awaitable<Response> GetRun(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Result<RunWithSteps> both = co_await ReadRunWithSteps(s, id);
  if (!both.ok()) co_return Response::FromStatus(both.status());
  if (!req.principal.MaySee(both->run.workflow)) co_return NoRun(id);
  co_return Response::Json(200, store::RunToJson(both->run, &both->steps));
}

asio::awaitable<Response> CancelRun(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  if (!co_await MaySeeRun(s, req, id)) co_return NoRun(id);
  Status done = co_await s.Blocking([&] {
    Status st = s.engine.Cancel(id);
    if (st.ok()) s.Audit(req, "run.cancel", "run:" + id);
    return st;
  });
  co_return co_await RunAfter(s, id, 200, done);
}

asio::awaitable<Response> RetryRun(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  if (!co_await MaySeeRun(s, req, id)) co_return NoRun(id);
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value version = body->get("version");
  Status done = co_await s.Blocking([&] {
    Status st = s.engine.Retry(id, version.is_number() ? static_cast<int64_t>(version.as_number()) : 0);
    if (st.ok()) s.Audit(req, "run.retry", "run:" + id);
    return st;
  });
  co_return co_await RunAfter(s, id, 202, done);
}

// Resume with the waiting task's result: {"payload": {...}} or {"error":
// {"code", "message"}}.
asio::awaitable<Response> ResumeRun(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  if (!co_await MaySeeRun(s, req, id)) co_return NoRun(id);
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  std::optional<Status> failure;
  if (const Value error = body->get("error"); error.is_object()) {
    const Value message = error.get("message");
    failure = Status(StatusCode::kAborted, message.is_string() ? message.as_string() : "refused by a person");
  }
  co_return co_await ResumeWith(s, req, id, body->get("payload"), failure, "run.resume", Value::MakeObject());
}

asio::awaitable<Response> ListMessages(Server::Impl& s, Request& req) {
  store::MessageFilter f;
  f.conversation = req.params["id"];
  f.limit = LimitParam(req, 100);
  if (f.limit < 0) co_return BadRequest("'limit' must be a number");
  if (std::string after = req.query_param("after"); !after.empty()) f.after_seq = std::atoll(after.c_str());
  Result<std::vector<store::MessageRecord>> messages =
      co_await s.Blocking([&]() -> Result<std::vector<store::MessageRecord>> {
        WEFT_ASSIGN_OR_RETURN(std::vector<store::MessageRecord> found, s.store.ListMessages(f));
        if (req.principal.workflows.empty()) return found;
        // A caller limited to some workflows sees a conversation one of them took part in.
        std::set<std::string> runs;
        for (const store::MessageRecord& m : found) {
          if (!m.run_id.empty()) runs.insert(m.run_id);
        }
        for (const std::string& id : runs) {
          Result<store::RunRecord> run = s.store.GetRun(id);
          if (run.ok() && req.principal.MaySee(run->workflow)) return found;
        }
        return NotFoundError("no conversation '" + f.conversation + "'");
      });
  if (!messages.ok()) co_return Response::FromStatus(messages.status());
  Value list = Value::MakeArray();
  for (const store::MessageRecord& m : *messages) list.push_back(store::MessageToJson(m));
  Value body = Value::MakeObject();
  body.set("messages", list);
  co_return Response::Json(200, body);
}

// The UTC day `days_ago` days before today, as YYYY-MM-DD.
std::string Today(int64_t days_ago = 0) {
  const std::time_t t = SystemClock::Instance().NowMillis() / 1000 - days_ago * 86'400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

// Spending by day, and by workflow and day.
asio::awaitable<Response> Usage(Server::Impl& s, Request& req) {
  std::string day = req.query_param("day");
  if (day.empty()) day = Today();
  if (day.size() != 10) co_return BadRequest("'day' must be YYYY-MM-DD");
  const std::string workflow = req.query_param("workflow");
  if (!req.principal.workflows.empty() && workflow.empty()) {
    co_return BadRequest("this caller sees the usage of its workflows only: give ?workflow=");
  }
  if (!req.principal.MaySee(workflow)) co_return NoWorkflow(workflow);
  const std::string scope = workflow.empty() ? "day:" + day : "workflow:" + workflow + ":" + day;
  Result<store::Spend> spend = co_await s.Blocking([&] { return s.store.GetSpend(scope); });
  if (!spend.ok()) co_return Response::FromStatus(spend.status());
  Value o = Value::MakeObject();
  o.set("day", day);
  if (!workflow.empty()) o.set("workflow", workflow);
  o.set("cost", spend->cost);
  o.set("input_tokens", static_cast<double>(spend->input_tokens));
  o.set("output_tokens", static_cast<double>(spend->output_tokens));
  o.set("calls", static_cast<double>(spend->calls));
  co_return Response::Json(200, o);
}

// The smallest literal `budget.per_workflow_day` among a workflow's steps
// (each AI step checks its own against the workflow's daily spending);
// undefined when none sets one.
Value DailyBudget(const dsl::Workflow& wf) {
  Value least;
  for (const auto& [name, task] : wf.tasks) {
    const Value limit = task.settings.action_settings.LiteralMembers().get("budget").get("per_workflow_day");
    if (limit.is_number() && (!least.is_number() || limit.as_number() < least.as_number())) least = limit;
  }
  return least;
}

// Spending per day, workflow and model alias over [from, to] (default: the
// last 30 days), and the workflows' daily budgets beside today's spending.
asio::awaitable<Response> UsageDaily(Server::Impl& s, Request& req) {
  const std::string to = req.query_param("to").empty() ? Today() : req.query_param("to");
  const std::string from = req.query_param("from").empty() ? Today(29) : req.query_param("from");
  if (from.size() != 10 || to.size() != 10 || from > to) {
    co_return BadRequest("'from' and 'to' must be YYYY-MM-DD, from <= to");
  }
  const std::string workflow = req.query_param("workflow");
  if (!workflow.empty() && !req.principal.MaySee(workflow)) co_return NoWorkflow(workflow);
  constexpr int kMaxRows = 10'000;
  Result<std::vector<std::pair<std::string, store::Spend>>> found =
      co_await s.Blocking([&] { return s.store.ListSpend("usage:" + from + ":", "usage:" + to + ":\x7f", kMaxRows); });
  if (!found.ok()) co_return Response::FromStatus(found.status());
  Value rows = Value::MakeArray();
  for (const auto& [scope, spend] : *found) {
    // usage:<day>:<workflow>:<alias>; the alias is the last part (a
    // workflow name may hold ':' only in theory).
    const std::string_view rest = std::string_view(scope).substr(6);
    const size_t day_end = rest.find(':');
    const size_t alias_at = rest.rfind(':');
    if (day_end == std::string_view::npos || alias_at <= day_end) continue;
    const std::string name(rest.substr(day_end + 1, alias_at - day_end - 1));
    if (!req.principal.MaySee(name) || (!workflow.empty() && name != workflow)) continue;
    Value o = Value::MakeObject();
    o.set("day", std::string(rest.substr(0, day_end)));
    o.set("workflow", name);
    o.set("model", std::string(rest.substr(alias_at + 1)));
    o.set("cost", spend.cost);
    o.set("input_tokens", static_cast<double>(spend.input_tokens));
    o.set("output_tokens", static_cast<double>(spend.output_tokens));
    o.set("calls", static_cast<double>(spend.calls));
    rows.push_back(o);
  }
  Result<std::vector<store::WorkflowRecord>> stored = co_await s.Blocking([&s] { return s.store.ListWorkflows(); });
  if (!stored.ok()) co_return Response::FromStatus(stored.status());
  std::set<std::string> names;
  for (const store::WorkflowRecord& w : *stored) names.insert(w.name);
  Value budgets = Value::MakeArray();
  const std::string today_suffix = ":" + Today();
  for (const std::string& name : names) {
    if (!req.principal.MaySee(name) || (!workflow.empty() && name != workflow)) continue;
    std::shared_ptr<const dsl::Workflow> wf = s.Deployed(name);
    if (!wf) continue;
    const Value limit = DailyBudget(*wf);
    if (!limit.is_number()) continue;
    Result<store::Spend> spent = co_await s.Blocking([&] {
      std::string scope = "workflow:" + name;
      scope += today_suffix;
      return s.store.GetSpend(scope);
    });
    if (!spent.ok()) co_return Response::FromStatus(spent.status());
    Value b = Value::MakeObject();
    b.set("workflow", name);
    b.set("per_workflow_day", limit);
    b.set("spent_today", spent->cost);
    budgets.push_back(b);
  }
  Value body = Value::MakeObject();
  body.set("from", from);
  body.set("to", to);
  body.set("rows", rows);
  body.set("budgets", budgets);
  if (found->size() == static_cast<size_t>(kMaxRows)) body.set("truncated", true);
  co_return Response::Json(200, body);
}

// Switches a deployed workflow's trigger on or off (kept in the store).
asio::awaitable<Response> SwitchTrigger(Server::Impl& s, Request& req, bool enabled) {
  const std::string name = req.params["name"];
  if (!req.principal.MaySee(name)) co_return NoWorkflow(name);
  std::shared_ptr<const dsl::Workflow> wf = s.Deployed(name);
  if (!wf) co_return NoWorkflow(name);
  const std::string& index_text = req.params["index"];
  char* end = nullptr;
  const long index = std::strtol(index_text.c_str(), &end, 10);
  if (*end != '\0' || index < 0 || static_cast<size_t>(index) >= wf->triggers.size()) {
    co_return Response::Error(404, "NOT_FOUND",
                              "workflow '" + name + "' has no trigger " + index_text + " (it has " +
                                  std::to_string(wf->triggers.size()) + ")");
  }
  const auto i = static_cast<size_t>(index);
  Status done = co_await s.Blocking([&] {
    Status st = s.switches->Switch(s.store, name, i, enabled);
    if (st.ok()) {
      Value d = Value::MakeObject();
      d.set("index", static_cast<double>(i));
      d.set("kind", std::string(dsl::TriggerKindName(wf->triggers[i].kind)));
      s.Audit(req, enabled ? "trigger.enable" : "trigger.disable", "workflow:" + name, d);
    }
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  Value o = TriggerJson(wf->triggers[i]);
  o.set("workflow", name);
  o.set("index", static_cast<double>(i));
  o.set("enabled", enabled);
  co_return Response::Json(200, o);
}

asio::awaitable<Response> EnableTrigger(Server::Impl& s, Request& req) { return SwitchTrigger(s, req, true); }
asio::awaitable<Response> DisableTrigger(Server::Impl& s, Request& req) { return SwitchTrigger(s, req, false); }

Value KeyJson(const store::ApiKeyRecord& k) {
  Value o = Value::MakeObject();
  o.set("id", k.id);
  o.set("name", k.name);
  o.set("role", k.role);
  o.set("created_ms", static_cast<double>(k.created_ms));
  if (k.expires_ms != 0) o.set("expires_ms", static_cast<double>(k.expires_ms));
  if (k.revoked_ms != 0) o.set("revoked_ms", static_cast<double>(k.revoked_ms));
  o.set("workflows", StringArray(k.workflows));
  return o;
}

asio::awaitable<Response> ListKeys(Server::Impl& s, Request&) {
  Result<std::vector<store::ApiKeyRecord>> keys = co_await s.Blocking([&] { return s.store.ListApiKeys(); });
  if (!keys.ok()) co_return Response::FromStatus(keys.status());
  Value list = Value::MakeArray();
  for (const store::ApiKeyRecord& k : *keys) list.push_back(KeyJson(k));
  Value body = Value::MakeObject();
  body.set("keys", list);
  co_return Response::Json(200, body);
}

asio::awaitable<Response> CreateKey(Server::Impl& s, Request& req) {
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value name = body->get("name");
  const Value role = body->get("role");
  const Value ttl = body->get("ttl_ms");
  if (!name.is_string() || name.as_string().empty()) co_return BadRequest("'name' is required");
  if (!role.is_string()) co_return BadRequest("'role' is required (admin, editor, operator, viewer)");
  if (ttl.is_defined() && (!ttl.is_number() || ttl.as_number() < 0)) co_return BadRequest("'ttl_ms' must be >= 0");
  Result<std::vector<std::string>> workflows = StringsField(body->get("workflows"), "workflows");
  if (!workflows.ok()) co_return Response::FromStatus(workflows.status());
  Result<std::string> key = co_await s.Blocking([&] {
    Result<std::string> created = CreateApiKey(s.store, name.as_string(), role.as_string(),
                                               ttl.is_number() ? static_cast<int64_t>(ttl.as_number()) : 0,
                                               SystemClock::Instance().NowMillis(), *workflows);
    if (created.ok()) {
      Value d = Value::MakeObject();
      d.set("name", name);
      d.set("role", role);
      d.set("workflows", StringArray(*workflows));
      s.Audit(req, "key.create", "key:" + created->substr(3, created->find('_', 3) - 3), d);
    }
    return created;
  });
  if (!key.ok()) co_return Response::FromStatus(key.status());
  Value o = Value::MakeObject();
  o.set("key", *key);  // shown once
  o.set("id", key->substr(3, key->find('_', 3) - 3));
  o.set("name", name);
  o.set("role", role);
  o.set("workflows", StringArray(*workflows));
  co_return Response::Json(201, o);
}

asio::awaitable<Response> RevokeKey(Server::Impl& s, Request& req) {
  const std::string id = req.params["id"];
  Status done = co_await s.Blocking([&] {
    Status st = s.store.RevokeApiKey(id, SystemClock::Instance().NowMillis());
    if (st.ok()) s.Audit(req, "key.revoke", "key:" + id);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  s.ForgetPrincipals([&id](const Principal& p) { return p.key_id == id; });
  co_return Response::Json(200, Value::MakeObject());
}

}  // namespace

void AddApiRoutes(std::vector<Route>& r) {
  using V = http::verb;
  r.push_back({V::get, "/api/v1/workflows", Need::kRead, &ListWorkflows, "List workflows with their triggers"});
  r.push_back({V::post, "/api/v1/workflows", Need::kDeploy, &DeployWorkflow,
               "Deploy a workflow (YAML body; ?name= when the file has none)"});
  r.push_back({V::get, "/api/v1/workflows/{name}", Need::kRead, &GetWorkflow,
               "A workflow: versions, source, triggers, input schema, flow graph"});
  r.push_back({V::post, "/api/v1/workflows/{name}/triggers/{index}/enable", Need::kDeploy, &EnableTrigger,
               "Switch a trigger on (its index in the workflow's triggers)"});
  r.push_back({V::post, "/api/v1/workflows/{name}/triggers/{index}/disable", Need::kDeploy, &DisableTrigger,
               "Switch a trigger off: webhooks answer 503, forms are closed, schedule slots and events pass, "
               "outboxes wait"});
  r.push_back({V::post, "/api/v1/runs", Need::kOperate, &StartRun,
               "Start a run: {workflow, version?, input, context?, wait_ms?, idempotency_key?}"});
  r.push_back({V::get, "/api/v1/runs", Need::kRead, &ListRuns,
               "List runs, newest first (?workflow, status, trigger, limit, cursor)"});
  r.push_back({V::get, "/api/v1/runs/{id}", Need::kRead, &GetRun, "A run with its step history"});
  r.push_back({V::post, "/api/v1/runs/{id}/cancel", Need::kOperate, &CancelRun, "Cancel a run and its children"});
  r.push_back({V::post, "/api/v1/runs/{id}/retry", Need::kOperate, &RetryRun,
               "Retry a failed run from the failed step ({version?})"});
  r.push_back({V::post, "/api/v1/runs/{id}/resume", Need::kOperate, &ResumeRun,
               "Resume a suspended run: {payload} or {error: {message}}"});
  r.push_back({V::get, "/api/v1/conversations/{id}/messages", Need::kRead, &ListMessages,
               "A conversation's messages (?after, limit)"});
  r.push_back({V::get, "/api/v1/usage", Need::kRead, &Usage, "Tokens and cost (?day=YYYY-MM-DD, workflow)"});
  r.push_back({V::get, "/api/v1/usage/daily", Need::kRead, &UsageDaily,
               "Tokens and cost per day, workflow and model (?from, to: YYYY-MM-DD; workflow) and daily budgets"});
  r.push_back({V::get, "/api/v1/keys", Need::kAdmin, &ListKeys, "List API keys (never their secrets)"});
  r.push_back({V::post, "/api/v1/keys", Need::kAdmin, &CreateKey,
               "Create an API key: {name, role, ttl_ms?} (the key is shown once)"});
  r.push_back({V::post, "/api/v1/keys/{id}/revoke", Need::kAdmin, &RevokeKey, "Revoke an API key"});
}

Value RunSummary(const store::RunRecord& run) { return store::RunToJson(run); }

}  // namespace weft::server

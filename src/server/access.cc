// Who may do what: signing in and out (browser sessions with a CSRF
// token), users, secrets by name, and the audit log.
#include <cmath>

#include "server_impl.h"
#include "weft/core/clock.h"
#include "weft/core/crypto.h"
#include "weft/core/json.h"
#include "weft/security/audit.h"
#include "weft/security/passwords.h"
#include "weft/security/users.h"

namespace weft::server {

namespace http = beast::http;

namespace {

int64_t Now() { return SystemClock::Instance().NowMillis(); }

// A hash to check a password against when the user does not exist, so that
// an unknown name takes as long as a wrong password.
const std::string& DecoyHash() {
  static const std::string hash = [] {
    Result<std::string> h = security::HashPassword(RandomHex(16));
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

std::string SessionCookie(const Request& req, std::string_view token, int64_t max_age_s) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(token) +
                  "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  if (req.secure) c += "; Secure";
  return c;
}

}  // namespace

// A JSON array of strings from a request field (undefined = empty).
Result<std::vector<std::string>> StringsField(const Value& v, std::string_view field) {
  std::vector<std::string> out;
  if (v.is_undefined()) return out;
  if (!v.is_array()) return InvalidArgumentError("'" + std::string(field) + "' must be an array of strings");
  for (const Value& item : v.as_array()) {
    if (!item.is_string()) return InvalidArgumentError("'" + std::string(field) + "' must be an array of strings");
    out.push_back(item.as_string());
  }
  return out;
}

namespace {

Value PrincipalJson(const Principal& p) {
  Value o = Value::MakeObject();
  if (!p.user.empty()) o.set("user", p.user);
  if (!p.key_id.empty()) o.set("key", p.key_id);
  o.set("role", std::string(RoleName(p.role)));
  if (!p.csrf_token.empty()) o.set("csrf_token", p.csrf_token);
  if (!p.workflows.empty()) o.set("workflows", StringArray(p.workflows));
  return o;
}

asio::awaitable<Response> SignIn(Server::Impl& s, Request& req) {
  if (double wait = s.logins.Take("login:" + req.client, NowSeconds()); wait > 0) {
    Response r = Response::Error(429, "RESOURCE_EXHAUSTED", "too many sign-in attempts from " + req.client);
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
    co_return r;
  }
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value name = body->get("user");
  const Value password = body->get("password");
  if (!name.is_string() || !password.is_string()) co_return BadRequest("'user' and 'password' are required");
  if (!security::CheckUserName(name.as_string()).ok()) {
    co_return Response::Error(401, "UNAUTHENTICATED", "wrong user name or password");
  }
  struct Outcome {
    std::optional<store::UserRecord> user;
    std::string token;
    store::SessionRecord session;
    Status status;
  };
  Outcome out = co_await s.Blocking([&] {
    Outcome o;
    Result<store::UserRecord> user = s.store.GetUser(name.as_string());
    const bool verified =
        security::VerifyPassword(user.ok() ? user->password_hash : DecoyHash(), password.as_string()) && user.ok();
    if (!verified) {
      s.Audit(req, "login.failed", "user:" + name.as_string());
      o.status = Status(StatusCode::kUnauthenticated, "wrong user name or password");
      return o;
    }
    o.token = RandomHex(32);
    const int64_t now = Now();
    o.session =
        store::SessionRecord{Sha256Hex(o.token), user->name, RandomHex(16), now, now + s.Live()->session_ttl_ms};
    o.status = s.store.PutSession(o.session);
    if (o.status.ok()) {
      Request as_user = req;
      as_user.principal.user = user->name;
      s.Audit(as_user, "login", "user:" + user->name);
    }
    o.user = std::move(*user);
    return o;
  });
  if (!out.status.ok()) co_return Response::FromStatus(out.status);
  Principal p;
  p.role = ParseRole(out.user->role).value_or(Role::kNone);
  p.user = out.user->name;
  p.csrf_token = out.session.csrf_token;
  p.workflows = out.user->workflows;
  Value o = PrincipalJson(p);
  o.set("expires_ms", static_cast<double>(out.session.expires_ms));
  Response r = Response::Json(200, o);
  r.headers.emplace_back("Set-Cookie",
                         SessionCookie(req, out.token, (out.session.expires_ms - out.session.created_ms) / 1000));
  r.headers.emplace_back("Cache-Control", "no-store");
  co_return r;
}

asio::awaitable<Response> WhoAmI(Server::Impl&, Request& req) {
  co_return Response::Json(200, PrincipalJson(req.principal));
}

asio::awaitable<Response> SignOut(Server::Impl& s, Request& req) {
  if (req.principal.session_hash.empty()) co_return BadRequest("this caller is not a signed-in session");
  const std::string hash = req.principal.session_hash;
  Status done = co_await s.Blocking([&] {
    Status st = s.store.DeleteSession(hash);
    if (st.ok()) s.Audit(req, "logout", "user:" + req.principal.user);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  s.ForgetPrincipals([&hash](const Principal& p) { return p.session_hash == hash; });
  Response r = Response::Json(200, Value::MakeObject());
  r.headers.emplace_back("Set-Cookie", SessionCookie(req, "", 0));
  co_return r;
}

Value UserJson(const store::UserRecord& u) {
  Value o = Value::MakeObject();
  o.set("name", u.name);
  o.set("role", u.role);
  o.set("workflows", StringArray(u.workflows));
  o.set("created_ms", static_cast<double>(u.created_ms));
  o.set("updated_ms", static_cast<double>(u.updated_ms));
  return o;
}

asio::awaitable<Response> ListUsers(Server::Impl& s, Request&) {
  Result<std::vector<store::UserRecord>> users = co_await s.Blocking([&] { return s.store.ListUsers(); });
  if (!users.ok()) co_return Response::FromStatus(users.status());
  Value list = Value::MakeArray();
  for (const store::UserRecord& u : *users) list.push_back(UserJson(u));
  Value o = Value::MakeObject();
  o.set("users", list);
  co_return Response::Json(200, o);
}

asio::awaitable<Response> AddUser(Server::Impl& s, Request& req) {
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value name = body->get("name");
  const Value role = body->get("role");
  const Value password = body->get("password");
  if (!name.is_string() || !role.is_string() || !password.is_string()) {
    co_return BadRequest("'name', 'role' and 'password' are required");
  }
  Result<std::vector<std::string>> workflows = StringsField(body->get("workflows"), "workflows");
  if (!workflows.ok()) co_return Response::FromStatus(workflows.status());
  Result<store::UserRecord> user = co_await s.Blocking([&]() -> Result<store::UserRecord> {
    WEFT_ASSIGN_OR_RETURN(store::UserRecord u, security::MakeUser(name.as_string(), role.as_string(),
                                                                  password.as_string(), *workflows, Now()));
    WEFT_RETURN_IF_ERROR(s.store.PutUser(u, false));
    Value d = Value::MakeObject();
    d.set("role", u.role);
    d.set("workflows", StringArray(u.workflows));
    s.Audit(req, "user.add", "user:" + u.name, d);
    return u;
  });
  if (!user.ok()) co_return Response::FromStatus(user.status());
  co_return Response::Json(201, UserJson(*user));
}

asio::awaitable<Response> ChangeUser(Server::Impl& s, Request& req) {
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const std::string name = req.params["name"];
  const Value role = body->get("role");
  const Value password = body->get("password");
  if (role.is_defined() && (!role.is_string() || !security::IsRoleName(role.as_string()))) {
    co_return BadRequest("'role' must be admin, editor, operator or viewer");
  }
  if (password.is_defined() && !password.is_string()) co_return BadRequest("'password' must be a string");
  Result<std::vector<std::string>> workflows = StringsField(body->get("workflows"), "workflows");
  if (!workflows.ok()) co_return Response::FromStatus(workflows.status());
  if (Status g = security::CheckGrants(*workflows); !g.ok()) co_return Response::FromStatus(g);
  Result<store::UserRecord> user = co_await s.Blocking([&]() -> Result<store::UserRecord> {
    WEFT_ASSIGN_OR_RETURN(store::UserRecord u, s.store.GetUser(name));
    Value changed = Value::MakeArray();
    if (role.is_string()) {
      u.role = role.as_string();
      changed.push_back(Value("role"));
    }
    if (password.is_string()) {
      WEFT_ASSIGN_OR_RETURN(u.password_hash, security::HashPassword(password.as_string()));
      changed.push_back(Value("password"));
    }
    if (body->get("workflows").is_defined()) {
      u.workflows = *workflows;
      changed.push_back(Value("workflows"));
    }
    u.updated_ms = Now();
    WEFT_RETURN_IF_ERROR(s.store.PutUser(u, true));
    Value d = Value::MakeObject();
    d.set("changed", changed);
    d.set("role", u.role);
    s.Audit(req, "user.change", "user:" + u.name, d);
    return u;
  });
  if (!user.ok()) co_return Response::FromStatus(user.status());
  s.ForgetPrincipals([&name](const Principal& p) { return p.user == name; });
  co_return Response::Json(200, UserJson(*user));
}

asio::awaitable<Response> RemoveUser(Server::Impl& s, Request& req) {
  const std::string name = req.params["name"];
  Status done = co_await s.Blocking([&] {
    Status st = s.store.DeleteUser(name);
    if (st.ok()) s.Audit(req, "user.remove", "user:" + name);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  s.ForgetPrincipals([&name](const Principal& p) { return p.user == name; });
  co_return Response::Json(200, Value::MakeObject());
}

asio::awaitable<Response> ListSecrets(Server::Impl& s, Request&) {
  Result<std::vector<store::SecretRecord>> secrets = co_await s.Blocking([&] { return s.runtime.vault().List(); });
  if (!secrets.ok()) co_return Response::FromStatus(secrets.status());
  Value list = Value::MakeArray();
  for (const store::SecretRecord& r : *secrets) {
    Value o = Value::MakeObject();
    o.set("name", r.name);
    o.set("updated_ms", static_cast<double>(r.updated_ms));
    list.push_back(o);
  }
  Value o = Value::MakeObject();
  o.set("secrets", list);
  o.set("can_store", s.runtime.vault().has_key());
  co_return Response::Json(200, o);
}

asio::awaitable<Response> SetSecret(Server::Impl& s, Request& req) {
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value value = body->get("value");
  if (!value.is_string()) co_return BadRequest("'value' (a string) is required");
  const std::string name = req.params["name"];
  const int64_t now = Now();
  Status done = co_await s.Blocking([&] {
    Status st = s.runtime.vault().Set(name, value.as_string(), now);
    if (st.ok()) s.Audit(req, "secret.set", "secret:" + name);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  Value o = Value::MakeObject();
  o.set("name", name);
  o.set("updated_ms", static_cast<double>(now));
  co_return Response::Json(200, o);
}

asio::awaitable<Response> DeleteSecret(Server::Impl& s, Request& req) {
  const std::string name = req.params["name"];
  Status done = co_await s.Blocking([&] {
    Status st = s.runtime.vault().Delete(name);
    if (st.ok()) s.Audit(req, "secret.delete", "secret:" + name);
    return st;
  });
  if (!done.ok()) co_return Response::FromStatus(done);
  co_return Response::Json(200, Value::MakeObject());
}

Value AuditJson(const store::AuditEntry& e) {
  Value o = Value::MakeObject();
  o.set("seq", static_cast<double>(e.seq));
  o.set("at_ms", static_cast<double>(e.at_ms));
  o.set("actor", e.actor);
  o.set("action", e.action);
  o.set("target", e.target);
  Result<Value> details = ParseJson(e.details);
  o.set("details", details.ok() ? *details : Value(e.details));
  o.set("hash", e.hash);
  return o;
}

asio::awaitable<Response> ListAudit(Server::Impl& s, Request& req) {
  int64_t after = 0;
  const std::string after_text = req.query_param("after");
  if (!after_text.empty()) {
    char* end = nullptr;
    after = std::strtoll(after_text.c_str(), &end, 10);
    if (*end != '\0' || after < 0) co_return BadRequest("'after' must be an entry's seq");
  }
  int limit = 100;
  if (const std::string l = req.query_param("limit"); !l.empty()) limit = std::clamp(std::atoi(l.c_str()), 1, 1000);
  Result<std::vector<store::AuditEntry>> entries = co_await s.Blocking([&] { return s.store.ListAudit(after, limit); });
  if (!entries.ok()) co_return Response::FromStatus(entries.status());
  Value list = Value::MakeArray();
  for (const store::AuditEntry& e : *entries) list.push_back(AuditJson(e));
  Value o = Value::MakeObject();
  o.set("entries", list);
  if (static_cast<int>(entries->size()) == limit) o.set("next_after", static_cast<double>(entries->back().seq));
  co_return Response::Json(200, o);
}

asio::awaitable<Response> VerifyAuditRoute(Server::Impl& s, Request& req) {
  const std::string head = req.query_param("head");
  Result<security::AuditVerdict> v = co_await s.Blocking([&] { return security::VerifyAudit(s.store, head); });
  if (!v.ok()) co_return Response::FromStatus(v.status());
  Value o = Value::MakeObject();
  o.set("ok", v->ok);
  o.set("entries", static_cast<double>(v->entries));
  o.set("head_hash", v->head_hash);
  if (!v->ok) {
    o.set("broken_seq", static_cast<double>(v->broken_seq));
    o.set("problem", v->problem);
  }
  co_return Response::Json(200, o);
}

}  // namespace

void AddAccessRoutes(std::vector<Route>& r) {
  using V = http::verb;
  r.push_back({V::post, "/api/v1/session", Need::kPublic, &SignIn,
               "Sign in: {user, password}; sets the session cookie and returns the CSRF token"});
  r.push_back({V::get, "/api/v1/session", Need::kRead, &WhoAmI, "Who the caller is: user or key, role, CSRF token"});
  r.push_back({V::delete_, "/api/v1/session", Need::kRead, &SignOut, "Sign out (ends the session)"});
  r.push_back({V::get, "/api/v1/users", Need::kAdmin, &ListUsers, "List users (never their passwords)"});
  r.push_back({V::post, "/api/v1/users", Need::kAdmin, &AddUser, "Add a user: {name, role, password, workflows?}"});
  r.push_back({V::patch, "/api/v1/users/{name}", Need::kAdmin, &ChangeUser,
               "Change a user's role, password or workflow grants"});
  r.push_back({V::delete_, "/api/v1/users/{name}", Need::kAdmin, &RemoveUser, "Remove a user and end their sessions"});
  r.push_back({V::get, "/api/v1/secrets", Need::kDeploy, &ListSecrets, "Secrets by name (never their values)"});
  r.push_back({V::put, "/api/v1/secrets/{name}", Need::kDeploy, &SetSecret,
               "Set a secret: {value} (stored encrypted; never returned)"});
  r.push_back({V::delete_, "/api/v1/secrets/{name}", Need::kDeploy, &DeleteSecret, "Delete a secret"});
  r.push_back({V::get, "/api/v1/audit", Need::kAdmin, &ListAudit, "The audit log, oldest first (?after, limit)"});
  r.push_back({V::get, "/api/v1/audit/verify", Need::kAdmin, &VerifyAuditRoute,
               "Check the audit log's hash chain (?head= a head hash kept earlier)"});
}

}  // namespace weft::server

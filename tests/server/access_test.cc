// Who may do what, through the real server: users signing in with
// sessions and CSRF tokens, per-workflow grants, secrets set through the
// API and used by a webhook, and the audit log with its hash chain.
#include <gtest/gtest.h>

#include <functional>

#include "server_fixture.h"
#include "sqlite_query.h"
#include "weft/security/secrets.h"

namespace weft::server {
namespace {

// A browser: the session cookie and CSRF token it got when signing in.
struct Browser {
  std::string cookie;  // "weft_session=..."
  std::string csrf;
};

class AccessTest : public ServerTest {
 protected:
  void AddUser(const std::string& name, const std::string& role, const std::string& workflows = "[]") {
    HttpReply r = Api("admin", "POST", "/api/v1/users",
                      R"({"name":")" + name + R"(","role":")" + role + R"(","password":"pw-)" + name +
                          R"(-long","workflows":)" + workflows + "}");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  std::optional<Browser> SignIn(const std::string& name, const std::string& password) {
    HttpReply r =
        HttpCall(port(), "POST", "/api/v1/session", R"({"user":")" + name + R"(","password":")" + password + R"("})",
                 {{"Content-Type", "application/json"}});
    if (r.status != 200) return std::nullopt;
    const std::string set = r.header("set-cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
    EXPECT_EQ(r.body.find(set.substr(13, 20)), std::string::npos) << "the session token is not in the body";
    return Browser{set.substr(0, set.find(';')), Json(r).get("csrf_token").as_string()};
  }

  HttpReply As(const Browser& b, const std::string& method, const std::string& target, const std::string& body = "",
               bool with_csrf = true) {
    testing::Headers h = {{"Content-Type", "application/json"}, {"Cookie", "theme=dark; " + b.cookie}};
    if (with_csrf) h.emplace_back("X-CSRF-Token", b.csrf);
    return HttpCall(port(), method, target, body, h);
  }

  // What a caller granted only "rev*" (an operator) sees and may do.
  void ExpectLimitedToReview(
      const std::function<HttpReply(const std::string&, const std::string&, const std::string&)>& as) {
    Value listed = Json(as("GET", "/api/v1/workflows", "")).get("workflows");
    ASSERT_EQ(listed.size(), 1u) << ToJson(listed);
    EXPECT_EQ(listed.as_array()[0].get("name").as_string(), "review");
    EXPECT_EQ(as("GET", "/api/v1/workflows/triage", "").status, 404);
    // Runs of other workflows are invisible to them.
    HttpReply other = Hook("triage", R"({"message":"x","urgency":"low"})");
    const std::string other_run = other.header("x-weft-run");
    ASSERT_FALSE(other_run.empty());
    EXPECT_EQ(as("GET", "/api/v1/runs/" + other_run, "").status, 404);
    EXPECT_EQ(as("POST", "/api/v1/runs/" + other_run + "/cancel", "{}").status, 404);
    EXPECT_EQ(as("POST", "/api/v1/runs", R"({"workflow":"triage","input":{"message":"m","urgency":"low"}})").status,
              404);
    HttpReply mine = as("POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":7},"wait_ms":5000})");
    ASSERT_EQ(mine.status / 100, 2) << mine.body;
    Value runs = Json(as("GET", "/api/v1/runs", "")).get("runs");
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs.as_array()[0].get("workflow").as_string(), "review");
    Value tasks = Json(as("GET", "/api/v1/tasks", "")).get("tasks");
    EXPECT_EQ(tasks.size(), 1u);
    EXPECT_EQ(as("GET", "/api/v1/usage", "").status, 400);
    EXPECT_EQ(as("GET", "/api/v1/usage?workflow=triage", "").status, 404);
  }

  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    Value entries = Json(Api("admin", "GET", "/api/v1/audit?limit=1000")).get("entries");
    for (const Value& e : entries.as_array()) {
      out.push_back(e.get("actor").as_string() + " " + e.get("action").as_string() + " " + e.get("target").as_string());
    }
    return out;
  }
};

TEST_F(AccessTest, ASignedInBrowserActsWithItsRoleAndItsCsrfToken) {
  AddUser("olga", "operator");
  EXPECT_FALSE(SignIn("olga", "wrong-password"));
  EXPECT_FALSE(SignIn("nobody", "pw-olga-long"));
  std::optional<Browser> b = SignIn("olga", "pw-olga-long");
  ASSERT_TRUE(b);
  HttpReply me = As(*b, "GET", "/api/v1/session");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json(me).get("user").as_string(), "olga");
  EXPECT_EQ(Json(me).get("role").as_string(), "operator");
  EXPECT_EQ(As(*b, "GET", "/api/v1/runs").status, 200);
  // Changing something needs the CSRF token: a page on another site
  // cannot read it.
  const std::string start = R"({"workflow":"review","input":{"amount":5}})";
  HttpReply forged = As(*b, "POST", "/api/v1/runs", start, /*with_csrf=*/false);
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_NE(forged.body.find("CSRF"), std::string::npos);
  Browser wrong = *b;
  wrong.csrf = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(As(wrong, "POST", "/api/v1/runs", start).status, 403);
  EXPECT_EQ(RunCount("review"), 0u);
  HttpReply started = As(*b, "POST", "/api/v1/runs", start);
  ASSERT_EQ(started.status / 100, 2) << started.body;
  // The role holds: an operator does not deploy.
  EXPECT_EQ(As(*b, "POST", "/api/v1/workflows", kTriage).status, 403);
  // Signing out ends the session.
  HttpReply out = As(*b, "DELETE", "/api/v1/session");
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(As(*b, "GET", "/api/v1/runs").status, 401);
  // A made-up cookie is not a session.
  EXPECT_EQ(As(Browser{"weft_session=abcdef", ""}, "GET", "/api/v1/runs").status, 401);
}

TEST_F(AccessTest, RoleChangesAndRemovalTakeEffect) {
  AddUser("vic", "viewer");
  std::optional<Browser> b = SignIn("vic", "pw-vic-long");
  ASSERT_TRUE(b);
  const std::string start = R"({"workflow":"review","input":{"amount":5}})";
  EXPECT_EQ(As(*b, "POST", "/api/v1/runs", start).status, 403);
  ASSERT_EQ(Api("admin", "PATCH", "/api/v1/users/vic", R"({"role":"operator"})").status, 200);
  EXPECT_EQ(As(*b, "POST", "/api/v1/runs", start).status / 100, 2);
  ASSERT_EQ(Api("admin", "PATCH", "/api/v1/users/vic", R"({"password":"a-new-password"})").status, 200);
  EXPECT_FALSE(SignIn("vic", "pw-vic-long"));
  EXPECT_TRUE(SignIn("vic", "a-new-password"));
  ASSERT_EQ(Api("admin", "DELETE", "/api/v1/users/vic").status, 200);
  EXPECT_EQ(As(*b, "GET", "/api/v1/runs").status, 401);
  // Bad requests are refused with what was wrong.
  HttpReply bad = Api("admin", "POST", "/api/v1/users", R"({"name":"x y","role":"viewer","password":"longenough"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("user name"), std::string::npos) << bad.body;
  bad = Api("admin", "POST", "/api/v1/users", R"({"name":"amy","role":"boss","password":"longenough"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unknown role"), std::string::npos) << bad.body;
  bad = Api("admin", "POST", "/api/v1/users", R"({"name":"amy","role":"viewer","password":"short"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("at least 8"), std::string::npos) << bad.body;
  // Listing users never shows password hashes.
  HttpReply list = Api("admin", "GET", "/api/v1/users");
  EXPECT_EQ(list.body.find("argon2"), std::string::npos) << list.body;
}

TEST_F(AccessTest, SignInAttemptsAreRateLimited) {
  AddUser("sam", "viewer");
  int limited = 0;
  for (int i = 0; i < 14; ++i) {
    HttpReply r =
        HttpCall(port(), "POST", "/api/v1/session", R"({"user":"sam","password":"guess-)" + std::to_string(i) + R"("})",
                 {{"Content-Type", "application/json"}});
    if (r.status == 429) {
      ++limited;
      EXPECT_FALSE(r.header("retry-after").empty());
    } else {
      EXPECT_EQ(r.status, 401) << r.body;
    }
  }
  EXPECT_GE(limited, 3);
}

TEST_F(AccessTest, GrantsLimitAUserToTheirWorkflows) {
  AddUser("fin", "operator", R"(["rev*"])");
  std::optional<Browser> b = SignIn("fin", "pw-fin-long");
  ASSERT_TRUE(b);
  ExpectLimitedToReview([&](const std::string& method, const std::string& target, const std::string& body) {
    return As(*b, method, target, body);
  });
}

TEST_F(AccessTest, GrantsLimitAKeyToItsWorkflows) {
  EXPECT_EQ(Api("admin", "POST", "/api/v1/keys", R"({"name":"k","role":"operator","workflows":"rev*"})").status, 400);
  EXPECT_EQ(Api("admin", "POST", "/api/v1/keys", R"({"name":"k","role":"operator","workflows":[""]})").status, 400);
  HttpReply created =
      Api("admin", "POST", "/api/v1/keys", R"({"name":"finance bot","role":"operator","workflows":["rev*"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = Json(created).get("key").as_string();
  EXPECT_EQ(ToJson(Json(created).get("workflows")), R"(["rev*"])");
  // Listed with its grants; kept by the store.
  bool listed = false;
  const Value keys = Json(Api("admin", "GET", "/api/v1/keys")).get("keys");
  for (const Value& k : keys.as_array()) {
    if (k.get("name") == Value("finance bot")) {
      listed = true;
      EXPECT_EQ(ToJson(k.get("workflows")), R"(["rev*"])");
    }
  }
  EXPECT_TRUE(listed);
  ExpectLimitedToReview([&](const std::string& method, const std::string& target, const std::string& body) {
    return HttpCall(port(), method, target, body,
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}});
  });
}

TEST_F(AccessTest, SecretsSetThroughTheApiAreSealedAndServeWebhooks) {
  unsetenv("WEFT_SECRET_HOOK_TOKEN");
  // Without a master key nothing can be stored.
  HttpReply refused = Api("editor", "PUT", "/api/v1/secrets/HOOK_TOKEN", R"({"value":"from-the-api"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("WEFT_MASTER_KEY"), std::string::npos) << refused.body;
  setenv("WEFT_MASTER_KEY", security::MasterKey::Generate().c_str(), 1);
  Open();
  HttpReply set = Api("editor", "PUT", "/api/v1/secrets/HOOK_TOKEN", R"({"value":"from-the-api"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Api("editor", "PUT", "/api/v1/secrets/bad-name", R"({"value":"v"})").status, 400);
  EXPECT_EQ(Hook("orders/token", "{}", {{"Authorization", "Bearer from-the-api"}}).status / 100, 2);
  EXPECT_EQ(Hook("orders/token", "{}", {{"Authorization", "Bearer t0ken"}}).status, 401);
  // Listed by name; the value is in no answer and not in the database.
  HttpReply list = Api("editor", "GET", "/api/v1/secrets");
  EXPECT_NE(list.body.find("HOOK_TOKEN"), std::string::npos);
  EXPECT_EQ(list.body.find("from-the-api"), std::string::npos);
  auto sealed = runtime_->store().ListSecrets();
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 1u);
  EXPECT_EQ(sealed->at(0).sealed.find("from-the-api"), std::string::npos);
  // A restarted server opens it with the same key.
  Open();
  EXPECT_EQ(Hook("orders/token", "{}", {{"Authorization", "Bearer from-the-api"}}).status / 100, 2);
  ASSERT_EQ(Api("editor", "DELETE", "/api/v1/secrets/HOOK_TOKEN").status, 200);
  EXPECT_EQ(Hook("orders/token", "{}", {{"Authorization", "Bearer from-the-api"}}).status / 100, 5);
  unsetenv("WEFT_MASTER_KEY");
  setenv("WEFT_SECRET_HOOK_TOKEN", "t0ken", 1);
}

TEST_F(AccessTest, TheAuditLogRecordsWhoDidWhatAndDetectsTampering) {
  AddUser("ana", "admin");
  EXPECT_FALSE(SignIn("ana", "not-her-password"));
  std::optional<Browser> b = SignIn("ana", "pw-ana-long");
  ASSERT_TRUE(b);
  HttpReply deployed = As(*b, "POST", "/api/v1/workflows?name=extra", std::string(kReview).replace(6, 6, "extra"));
  ASSERT_EQ(deployed.status, 201) << deployed.body;
  HttpReply started =
      Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":9},"wait_ms":5000})");
  ASSERT_EQ(started.status / 100, 2) << started.body;
  const std::string run_id = Json(started).get("run_id").as_string();
  HttpReply approved =
      Api("operator", "POST", "/api/v1/tasks/" + run_id + "/complete", R"({"payload":{"approved":true,"by":"ana"}})");
  ASSERT_EQ(approved.status, 202) << approved.body;
  HttpReply second =
      Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":10},"wait_ms":5000})");
  const std::string second_id = Json(second).get("run_id").as_string();
  ASSERT_EQ(As(*b, "POST", "/api/v1/runs/" + second_id + "/cancel", "{}").status, 200);
  const std::string operator_key = keys_["operator"].substr(3, keys_["operator"].find('_', 3) - 3);
  const std::vector<std::string> actions = AuditActions();
  const std::vector<std::string> expected = {
      "key:" + keys_["admin"].substr(3, keys_["admin"].find('_', 3) - 3) + " user.add user:ana",
      "anonymous login.failed user:ana",
      "user:ana login user:ana",
      "user:ana deploy workflow:extra",
      "key:" + operator_key + " task.approve run:" + run_id,
      "user:ana run.cancel run:" + second_id,
  };
  size_t at = 0;
  for (const std::string& a : actions) {
    if (at < expected.size() && a == expected[at]) ++at;
  }
  EXPECT_EQ(at, expected.size()) << "missing in order: " << (at < expected.size() ? expected[at] : "") << "\n"
                                 << ::testing::PrintToString(actions);
  Value verdict = Json(Api("admin", "GET", "/api/v1/audit/verify"));
  EXPECT_TRUE(verdict.get("ok").as_bool()) << ToJson(verdict);
  const std::string head = verdict.get("head_hash").as_string();
  // Someone with the file in hand rewrites who cancelled the run.
  ASSERT_EQ(ExecSql("UPDATE audit SET actor = 'user:nobody' WHERE action = 'run.cancel'"), "");
  verdict = Json(Api("admin", "GET", "/api/v1/audit/verify?head=" + head));
  EXPECT_FALSE(verdict.get("ok").as_bool());
  EXPECT_NE(verdict.get("problem").as_string().find("edited"), std::string::npos) << ToJson(verdict);
  // Only admins read it.
  EXPECT_EQ(Api("editor", "GET", "/api/v1/audit").status, 403);
}

}  // namespace
}  // namespace weft::server

// The http and notify actions in real runs: the engine, the curl client and
// a fake CRM / webhook sink on loopback. Declared actions, permissions, the
// SSRF guard and approval of sensitive actions go through the same path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fake_crm.h"
#include "fake_http_server.h"
#include "run_workflow.h"
#include "weft/actions/builtin.h"
#include "weft/actions/http.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft::actions {
namespace {

using testing::FakeCrm;
using testing::FakeResponse;

constexpr const char* kToken = "tok-7c1e99ab";

class HttpActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = http::NewCurlClient();
    ASSERT_TRUE(RegisterBuiltinActions(registry_).ok());
    ASSERT_TRUE(
        RegisterHttpActions(registry_, {.client = client_.get(), .run_url_prefix = "http://weft.test/runs/"}).ok());
    store_ = store::NewMemoryStore();
    engine::EngineOptions o;
    o.store = store_.get();
    o.actions = &registry_;
    o.threads = 2;
    o.secrets = [](std::string_view name) -> std::optional<std::string> {
      if (name == "CRM_TOKEN") return kToken;
      return std::nullopt;
    };
    engine_ = std::move(engine::Engine::Create(std::move(o))).value();
  }

  // The workflow text with CRM replaced by the fake's URL.
  std::string With(std::string yaml) {
    for (size_t p; (p = yaml.find("{crm}")) != std::string::npos;) yaml.replace(p, 5, crm_.url());
    for (size_t p; (p = yaml.find("{port}")) != std::string::npos;) yaml.replace(p, 6, std::to_string(crm_.port()));
    return yaml;
  }
  Result<std::shared_ptr<const dsl::Workflow>> Load(const std::string& yaml, const std::string& file = "wf.yaml") {
    return dsl::LoadWorkflow(With(yaml), file, registry_);
  }
  store::RunRecord Run(const std::string& yaml, Value input = Value::MakeObject()) {
    return RunWorkflow(*engine_, registry_, With(yaml), std::move(input));
  }
  std::vector<store::StepRecord> Steps(const std::string& run) { return *store_->GetSteps(run); }

  FakeCrm crm_;
  std::unique_ptr<http::Client> client_;
  engine::ActionRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Engine> engine_;
};

// A declared business action over http: schemas, $secret auth, mapping.
constexpr const char* kCheckAccount = R"yaml(
workflow: { name: lookup }
permissions:
  network: { hosts: ["127.0.0.1:{port}"], private: true }
actions:
  check_account:
    description: Finds a customer account by email
    inputs:
      email: { type: string, required: true }
    output:
      type: object
      required: [found]
      properties: { found: { type: boolean }, plan: { type: string }, id: { type: string } }
    implementation:
      action: http
      inputs:
        url: "{crm}/accounts"
        query: { email: "=$input.email" }
        auth: { type: bearer, token: "=$secret('CRM_TOKEN')" }
      settings:
        fail_on_status: false
        map: "status = 200 ? { 'found': true, 'plan': body.plan, 'id': body.id } : { 'found': false }"
defs:
  check:
    kind: task
    action: check_account
    inputs: { email: "=$input.email" }
flow:
  - do: check
outputs:
  account: "=$output.check"
)yaml";

TEST_F(HttpActionTest, DeclaredActionCallsTheApiWithSecretsAndMapsTheAnswer) {
  crm_.AddAccount("ada@example.com", "Ada", "pro");
  Value input = Value::MakeObject();
  input.set("email", "ada@example.com");
  auto run = Run(kCheckAccount, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs.get("account")), R"({"found":true,"plan":"pro","id":"acc_1"})");
  auto requests = crm_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/accounts?email=ada%40example.com");
  EXPECT_EQ(requests[0].header("Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(requests[0].header("Idempotency-Key"), "");  // a GET repeats nothing
  // The history shows the declared action's inputs and the exchange, never
  // the token.
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(ToJson(steps[0].input), R"({"email":"ada@example.com"})");
  EXPECT_EQ(steps[0].action, "check_account");
  const std::string history = ToJson(steps[0].input) + ToJson(steps[0].detail) + ToJson(steps[0].output);
  EXPECT_EQ(history.find(kToken), std::string::npos) << history;
  EXPECT_EQ(steps[0].detail.get("response").get("status"), Value(200));

  input = Value::MakeObject();  // the first run holds the other one
  input.set("email", "nobody@example.com");
  run = Run(kCheckAccount, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(ToJson(run.outputs.get("account")), R"({"found":false})");
}

constexpr const char* kCreateTicket = R"yaml(
workflow: { name: ticket }
permissions:
  network: { hosts: ["127.0.0.1"], private: true }
defs:
  create:
    kind: task
    action: http
    inputs:
      method: POST
      url: "{crm}/tickets"
      json: { subject: "=$input.subject", priority: high }
    settings:
      resend: { max: 3, backoff_ms: 5 }
      map: body
      response_schema: { type: object, required: [id] }
flow:
  - do: create
outputs:
  ticket: "=$output.create.id"
)yaml";

TEST_F(HttpActionTest, RetriesAfterA500ThatCommittedCreateOneTicket) {
  // The worst case: the CRM created the ticket, then failed the answer.
  crm_.Inject({"/tickets", FakeResponse::Json(R"({"error":"boom"})", 500), true});
  crm_.Inject({"/tickets", FakeResponse{.status = 429, .headers = {{"Retry-After", "0"}}}, false});
  crm_.Inject({"/tickets", FakeResponse{.drop = true}, false});
  Value input = Value::MakeObject();
  input.set("subject", "charged twice");
  auto run = Run(kCreateTicket, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("ticket"), Value("T-1000"));
  ASSERT_EQ(crm_.tickets().size(), 1u);  // one side effect, whatever was retried
  EXPECT_EQ(crm_.tickets()[0].get("priority"), Value("high"));
  auto requests = crm_.requests();
  ASSERT_GE(requests.size(), 4u);
  const std::string key = requests[0].header("Idempotency-Key");
  EXPECT_EQ(key, run.id + "/0:create");
  for (const auto& r : requests) EXPECT_EQ(r.header("Idempotency-Key"), key);
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 1u);
  // curl itself re-sends once on a kept-alive connection that died.
  EXPECT_GE(steps[0].detail.get("response").get("sends").as_number(), 3);
}

// One retry model: `resend` is the action's, within one attempt; the
// step's `retries` make new attempts. With resends off, each attempt sends
// once, and every send of every attempt carries the same Idempotency-Key.
TEST_F(HttpActionTest, TheStepsRetriesMakeAttemptsAndResendIsTheActions) {
  for (int i = 0; i < 2; ++i) crm_.Inject({"/tickets", FakeResponse::Json(R"({"error":"boom"})", 503), false});
  std::string wf = kCreateTicket;
  wf.replace(wf.find("resend: { max: 3, backoff_ms: 5 }"), 33,
             "resend: false\n      retries: { enabled: true, max_attempts: 3, backoff_ms: 1 }");
  Value input = Value::MakeObject();
  input.set("subject", "charged twice");
  auto run = Run(wf, input);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  auto requests = crm_.requests();
  ASSERT_EQ(requests.size(), 3u);  // three attempts, one send each
  for (const auto& r : requests) EXPECT_EQ(r.header("Idempotency-Key"), run.id + "/0:create");
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[2].attempt, 3);
  for (const auto& s : steps) EXPECT_EQ(s.detail.get("response").get("sends"), Value(1));
}

TEST_F(HttpActionTest, AnswersOutsideTheSchemaOrTooLargeFailTheStep) {
  crm_.Inject({"/tickets", FakeResponse::Json(R"({"no_id":true})", 201), false});
  auto run = Run(kCreateTicket, Value::MakeObject());
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("response"), std::string::npos) << run.error;

  crm_.Inject({"/tickets", FakeResponse::Json("[" + std::string(5000, '1') + "]", 201), false});
  std::string small = kCreateTicket;
  small.replace(small.find("map: body"), 9, "map: body\n      max_response_bytes: 1000");
  run = Run(small, Value::MakeObject());
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_NE(run.error.find("larger than 1000 bytes"), std::string::npos) << run.error;
}

TEST_F(HttpActionTest, NonRetryableStatusFailsAtOnceWithTheApisMessage) {
  crm_.Inject({"/tickets", FakeResponse::Json(R"({"error":"subject too long"})", 422), false});
  auto run = Run(kCreateTicket, Value::MakeObject());
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "INVALID_ARGUMENT");
  EXPECT_NE(run.error.find("HTTP 422: {\"error\":\"subject too long\"}"), std::string::npos) << run.error;
  EXPECT_EQ(crm_.requests_to("/tickets"), 1);
}

TEST_F(HttpActionTest, ASlowApiHitsTheStepTimeoutAndTheRetryGetsThrough) {
  // The first answer comes after the step's timeout; the step's retry,
  // with the same Idempotency-Key, is answered at once.
  crm_.Inject({"/tickets", FakeResponse{.status = 201, .body = R"({"id":"T-1000"})", .delay_ms = 800}, true});
  auto run = Run(R"yaml(
workflow: { name: slow }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
defs:
  create:
    kind: task
    action: http
    inputs: { method: POST, url: "{crm}/tickets", json: { subject: slow } }
    settings:
      timeout_ms: 300
      retries: { enabled: true, max_attempts: 2, backoff_ms: 1 }
      map: body
flow:
  - do: create
outputs:
  ticket: "=$output.create.id"
)yaml");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("ticket"), Value("T-1000"));
  auto steps = Steps(run.id);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].error_code, "DEADLINE_EXCEEDED");
  EXPECT_EQ(crm_.tickets().size(), 1u);  // applied once, though sent twice
  auto requests = crm_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("Idempotency-Key"), requests[1].header("Idempotency-Key"));
}

TEST_F(HttpActionTest, EncodesQueryFormMultipartAndSignsWithHmac) {
  auto run = Run(R"yaml(
workflow: { name: encode }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
defs:
  form:
    kind: task
    action: http
    inputs: { method: POST, url: "{crm}/hooks/form", query: { tag: [a, "b c"] }, form: { name: "Ada L", n: 3 } }
  upload:
    kind: task
    action: http
    inputs:
      url: "{crm}/hooks/upload"
      multipart:
        - { name: note, value: hello }
        - { name: file, filename: a.txt, content_type: text/plain, content_base64: "aGkgdGhlcmU=" }
  signed:
    kind: task
    action: http
    inputs:
      url: "{crm}/hooks/signed"
      body: The quick brown fox jumps over the lazy dog
      content_type: text/plain
      auth: { type: hmac, secret: key, header: X-Hub-Signature-256, prefix: "sha256=" }
  keyed:
    kind: task
    action: http
    inputs: { url: "{crm}/hooks/keyed", json: {}, auth: { type: basic, username: ada, password: "s3cret" } }
flow:
  - do: form
  - do: upload
  - do: signed
  - do: keyed
)yaml");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  auto hooks = crm_.hooks();
  ASSERT_EQ(hooks.size(), 4u);
  EXPECT_EQ(hooks[0].target, "/hooks/form?tag=a&tag=b%20c");
  EXPECT_EQ(hooks[0].body, "name=Ada%20L&n=3");
  EXPECT_EQ(hooks[0].header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_NE(hooks[1].header("Content-Type").find("multipart/form-data; boundary="), std::string::npos);
  EXPECT_NE(hooks[1].body.find("name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi there\r\n"),
            std::string::npos)
      << hooks[1].body;
  // RFC 4231-style known answer for HMAC-SHA256("key", the fox sentence).
  EXPECT_EQ(hooks[2].header("X-Hub-Signature-256"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_EQ(hooks[3].header("Authorization"), "Basic YWRhOnMzY3JldA==");
}

TEST_F(HttpActionTest, NotifyPostsSlackAndGenericMessagesWithTheRunLink) {
  auto run = Run(R"yaml(
workflow: { name: alerts }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
defs:
  slack:
    kind: task
    action: notify
    inputs: { webhook: "{crm}/hooks/slack", title: Billing, message: "Charged twice", fields: { customer: ada } }
  generic:
    kind: task
    action: notify
    inputs: { webhook: "{crm}/hooks/ops", format: generic, message: "CRM down" }
flow:
  - do: slack
  - do: generic
)yaml");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  auto hooks = crm_.hooks();
  ASSERT_EQ(hooks.size(), 2u);
  Value slack = *ParseJson(hooks[0].body);
  EXPECT_EQ(slack.get("text"), Value("*Billing*\nCharged twice"));
  const std::string blocks = ToJson(slack.get("blocks"));
  EXPECT_NE(blocks.find("*customer*\\nada"), std::string::npos) << blocks;
  EXPECT_NE(blocks.find("<http://weft.test/runs/" + run.id + "|Open the run>"), std::string::npos) << blocks;
  Value generic = *ParseJson(hooks[1].body);
  EXPECT_EQ(generic.get("message"), Value("CRM down"));
  EXPECT_EQ(generic.get("link"), Value("http://weft.test/runs/" + run.id));
  EXPECT_EQ(generic.get("workflow"), Value("alerts"));
}

// The SSRF guard and permissions, at load and at run time.
TEST_F(HttpActionTest, RefusesHostsAndAddressesTheWorkflowDoesNotGrant) {
  struct Case {
    const char* permissions;
    const char* url;
    const char* load_error;  // "" = loads
  };
  const Case cases[] = {
      {"", "{crm}/x", "needs the 'network' permission"},
      {"permissions: { network: { hosts: [api.example.com] } }", "{crm}/x", "is not in the workflow's"},
      {"permissions: { network: { hosts: ['127.0.0.1'] } }", "{crm}/x", "loopback, private or link-local"},
      {"permissions: { network: { hosts: ['169.254.169.254'] } }", "http://169.254.169.254/latest/meta-data",
       "loopback, private or link-local"},
      {"permissions: { network: { hosts: ['10.1.2.3'] } }", "http://10.1.2.3/", "loopback, private or link-local"},
      {"permissions: { network: { hosts: ['::1'] } }", "http://[::1]:80/", "loopback, private or link-local"},
      {"permissions: { network: { hosts: ['*'] } }", "http://[::ffff:127.0.0.1]/", "loopback, private or link-local"},
      {"permissions: { network: { hosts: ['127.0.0.1:1'], private: true } }", "{crm}/x", "is not in the workflow's"},
      {"permissions: { network: { hosts: ['*'] } }", "file:///etc/passwd", "only http and https"},
  };
  for (const Case& c : cases) {
    const std::string yaml = std::string("workflow: { name: ssrf }\n") + c.permissions +
                             "\ndefs:\n  call: { kind: task, action: http, inputs: { url: \"" + c.url +
                             "\" } }\nflow:\n  - do: call\n";
    auto wf = Load(yaml);
    ASSERT_FALSE(wf.ok()) << c.url;
    EXPECT_NE(wf.status().message().find(c.load_error), std::string::npos) << wf.status();
  }
  // The same URLs from an expression are refused when the step runs.
  for (const Case& c : cases) {
    if (std::string(c.permissions).empty()) continue;
    const std::string yaml = std::string("workflow: { name: ssrf_run }\n") + c.permissions +
                             "\ndefs:\n  call: { kind: task, action: http, inputs: { url: \"=$input.url\" } }\n"
                             "flow:\n  - do: call\n";
    Value input = Value::MakeObject();
    input.set("url", With(c.url));
    auto run = Run(yaml, input);
    ASSERT_EQ(run.status, store::RunStatus::kFailed) << c.url;
    EXPECT_TRUE(run.error_code == "PERMISSION_DENIED" || run.error_code == "INVALID_ARGUMENT") << run.error_code;
    EXPECT_NE(run.error.find(c.load_error), std::string::npos) << run.error;
  }
  crm_.AddAccount("ada@example.com", "Ada", "pro");
  // A workflow that may reach private addresses leaves a kept-alive
  // connection to localhost behind ...
  auto allowed = Run(R"yaml(
workflow: { name: internal }
permissions: { network: { hosts: [localhost], private: true } }
defs:
  call: { kind: task, action: http, inputs: { url: "http://localhost:{port}/accounts", query: { email: ada@example.com } } }
flow:
  - do: call
)yaml");
  ASSERT_EQ(allowed.status, store::RunStatus::kCompleted) << allowed.error;
  ASSERT_EQ(crm_.requests().size(), 1u);
  // ... which one that may not is refused too: the guard sees the address of
  // a reused connection as well as of a new one.
  auto run = Run(R"yaml(
workflow: { name: rebind }
permissions: { network: { hosts: [localhost] } }
defs:
  call: { kind: task, action: http, inputs: { url: "http://localhost:{port}/accounts" } }
flow:
  - do: call
)yaml");
  ASSERT_EQ(run.status, store::RunStatus::kFailed);
  EXPECT_EQ(run.error_code, "PERMISSION_DENIED");
  EXPECT_NE(run.error.find("refused to connect to"), std::string::npos) << run.error;
  EXPECT_EQ(crm_.requests().size(), 1u);  // the refused request never reached the server
}

TEST_F(HttpActionTest, WorkflowCallsNeverGoThroughAnEnvironmentProxy) {
  // A proxy from the environment would stand between the workflow and the
  // host its permissions name (and the SSRF guard would see only the proxy).
  testing::FakeHttpServer proxy([](const testing::FakeRequest&) { return FakeResponse::Json(R"({"proxied":true})"); });
  crm_.AddAccount("ada@example.com", "Ada", "pro");
  ::setenv("http_proxy", proxy.url().c_str(), 1);
  ::setenv("ALL_PROXY", proxy.url().c_str(), 1);
  auto run = Run(R"yaml(
workflow: { name: direct }
permissions: { network: { hosts: ["127.0.0.1:{port}"], private: true } }
defs:
  call: { kind: task, action: http, inputs: { url: "{crm}/accounts", query: { email: ada@example.com } } }
flow:
  - do: call
outputs: { body: "=$output.call.body" }
)yaml");
  ::unsetenv("http_proxy");
  ::unsetenv("ALL_PROXY");
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("body").get("name"), Value("Ada"));
  EXPECT_EQ(proxy.requests(), 0);
  EXPECT_EQ(crm_.requests_to("/accounts"), 1);
}

constexpr const char* kSensitive = R"yaml(
workflow: { name: refund }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
actions:
  create_ticket:
    description: Opens a ticket in the CRM
    sensitive: true
    inputs: { subject: { type: string, required: true } }
    output: { type: object, required: [id] }
    implementation:
      action: http
      inputs: { url: "{crm}/tickets", json: { subject: "=$input.subject" } }
      settings: { map: body }
defs:
  open:
    kind: task
    action: create_ticket
    inputs: { subject: "=$input.subject" }
flow:
  - do: open
outputs:
  id: "=$output.open.id"
)yaml";

TEST_F(HttpActionTest, SensitiveActionWaitsForApproval) {
  Value input = Value::MakeObject();
  input.set("subject", "refund 40 EUR");
  auto run = Run(kSensitive, input);
  ASSERT_EQ(run.status, store::RunStatus::kSuspended) << run.error;
  EXPECT_EQ(run.wait.get("kind"), Value("approval"));
  EXPECT_EQ(run.wait.get("path"), Value("0:open/approval"));
  EXPECT_EQ(run.wait.get("data").get("action"), Value("create_ticket"));
  EXPECT_EQ(ToJson(run.wait.get("data").get("inputs")), R"({"subject":"refund 40 EUR"})");
  EXPECT_EQ(crm_.requests().size(), 0u);  // nothing before a human says yes

  // A payload that is no decision is refused, and nothing changes.
  EXPECT_FALSE(engine_->Resume(run.id, *ParseJson(R"({"ok":1})")).ok());
  ASSERT_TRUE(engine_->Resume(run.id, *ParseJson(R"({"approved":true,"by":"lea"})")).ok());
  auto done = *engine_->Wait(run.id);
  ASSERT_EQ(done.status, store::RunStatus::kCompleted) << done.error;
  EXPECT_EQ(done.outputs.get("id"), Value("T-1000"));
  ASSERT_EQ(crm_.tickets().size(), 1u);

  // Refused: the step fails, the CRM never hears of it.
  run = Run(kSensitive, input);
  ASSERT_EQ(run.status, store::RunStatus::kSuspended);
  ASSERT_TRUE(engine_->Resume(run.id, *ParseJson(R"({"approved":false,"by":"lea","comment":"not eligible"})")).ok());
  done = *engine_->Wait(run.id);
  ASSERT_EQ(done.status, store::RunStatus::kFailed);
  EXPECT_EQ(done.error_code, "PERMISSION_DENIED");
  EXPECT_NE(done.error.find("not approved by lea: not eligible"), std::string::npos) << done.error;
  EXPECT_EQ(crm_.tickets().size(), 1u);
}

TEST_F(HttpActionTest, ImportedCatalogTravelsWithTheStoredVersion) {
  const auto dir = std::filesystem::temp_directory_path() / ("weft_catalog_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "crm.yaml") << With(R"yaml(
description: The CRM's actions
actions:
  check_account:
    inputs: { email: { type: string, required: true } }
    implementation:
      action: http
      inputs: { url: "{crm}/accounts", query: { email: "=$input.email" } }
      settings: { fail_on_status: false, map: "status" }
)yaml");
    std::ofstream(dir / "flow.yaml") << With(R"yaml(
workflow: { name: imported }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
imports: [crm.yaml]
defs:
  check: { kind: task, action: check_account, inputs: { email: "=$input.email" } }
flow:
  - do: check
outputs: { status: "=$output.check" }
)yaml");
  }
  auto wf = dsl::LoadWorkflowFile((dir / "flow.yaml").string(), registry_);
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_NE((*wf)->source.find("--- # weft import: crm.yaml"), std::string::npos);
  auto version = engine_->Deploy(*wf);
  ASSERT_TRUE(version.ok());
  std::filesystem::remove_all(dir);  // the stored version needs no file
  // A stored version reloads from its source alone.
  auto again = dsl::LoadWorkflow((*wf)->source, "imported.yaml (stored)", registry_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->actions.count("check_account"), 1u);
  Value input = Value::MakeObject();
  input.set("email", "x@example.com");
  auto id = engine_->Start("imported", *version, input);
  auto run = *engine_->Wait(*id);
  ASSERT_EQ(run.status, store::RunStatus::kCompleted) << run.error;
  EXPECT_EQ(run.outputs.get("status"), Value(404));
}

TEST_F(HttpActionTest, LoaderNamesWhatIsWrongWithDeclaredActions) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"actions: { http: { implementation: { action: set } } }", "is built in"},
      {"actions: { a: { implementation: { action: sett } } }", "did you mean 'set'"},
      {"actions: { a: { inputs: { x: { type: strin } }, implementation: { action: set } } }", "did you mean 'string'"},
      {"actions: { a: { implementation: { inputs: {} } } }", "needs an 'action'"},
      {"actions: { a: { implementation: { action: http, inputs: { method: GET } } } }", "needs input 'url'"},
      {"actions: { a: { sensitive: maybe, implementation: { action: set } } }", "sensitive"},
      {"imports: [does-not-exist.yaml]", "imported catalog: cannot read 'does-not-exist.yaml'"},
      {"imports: [/etc/passwd]", "must be a relative path below the workflow's folder"},
      {"imports: [../secrets/catalog.yaml]", "must be a relative path below the workflow's folder"},
      {"permissions: { network: { hosts: ['https://api.example.com'] } }", "is a URL"},
      {"permissions: { network: { hosts: ['a.example.com:99999'] } }", "invalid port"},
      {"permissions: { sql: { crm: all } }", "must be 'read' or 'write'"},
      {"permissions: { email: yes please }", "permissions.email"},
  };
  for (const Case& c : cases) {
    const std::string yaml =
        std::string(c.yaml) + "\ndefs:\n  noop: { kind: task, action: set, inputs: {} }\nflow:\n  - do: noop\n";
    auto wf = Load(yaml);
    ASSERT_FALSE(wf.ok()) << c.yaml;
    EXPECT_NE(wf.status().message().find(c.error), std::string::npos) << c.yaml << "\n" << wf.status();
  }
}

}  // namespace
}  // namespace weft::actions

// The fixture of the server's tests: a real `weft serve` (Server::Start)
// on a loopback port over a real SQLite file (or, when
// WEFT_TEST_SERVER_POSTGRES names a server, a schema of its own there: the
// same tests on the other backend), with a folder of workflows and an API
// key per role.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "http_test_client.h"
#include "sqlite_query.h"
#include "temp_db.h"
#include "weft/core/clock.h"
#include "weft/core/json.h"
#include "weft/runtime/runtime.h"
#include "weft/server/server.h"

namespace weft::server {

namespace fs = std::filesystem;
using testing::HttpCall;
using testing::HttpReply;

inline const char* const kTriage = R"yaml(name: triage
trigger:
  webhook: { path: triage, respond: completion }
inputs:
  schema:
    message: { type: string, required: true }
    urgency: { type: string, enum: [low, medium, high], required: true }
defs:
  human: { kind: task, action: set, inputs: { route: human } }
  auto: { kind: task, action: set, inputs: { route: auto } }
flow:
  - conditional:
      when:
        - condition: "=$input.urgency = 'high'"
          steps: [ { do: human } ]
      else:
        steps: [ { do: auto } ]
outputs:
  message: "=$input.message"
  route: "=$exists($output.human) ? 'human' : 'auto'"
)yaml";

inline const char* const kIntake = R"yaml(name: intake
triggers:
  - webhook:
      path: orders
      respond: accepted
      idempotency: { header: Idempotency-Key }
  - webhook: { path: orders/by-id, methods: [POST, PUT], idempotency: { key: "=$input.order_id" } }
  - webhook: { path: orders/token, auth: { bearer: HOOK_TOKEN } }
  - webhook: { path: orders/basic, auth: { basic: { username: shop, password: HOOK_PASSWORD } } }
  - webhook: { path: orders/github, auth: { hmac: { secret: HOOK_KEY, style: github } } }
  - webhook: { path: orders/stripe, auth: { hmac: { secret: HOOK_KEY, tolerance_s: 60 } } }
  - webhook: { path: orders/small, max_body_kb: 1 }
  - webhook: { path: orders/lookup, methods: [GET] }
  - webhook:
      path: orders/custom
      response:
        status: "=$outputs.count > 1 ? 201 : 200"
        headers: { X-Count: "=$string($outputs.count)", Content-Type: text/plain }
        body: "=$join($outputs.items, ',')"
defs:
  count: { kind: task, action: set, inputs: { n: "=$count($keys($input))" } }
flow:
  - do: count
outputs:
  count: "=$output.count.n"
  items: "=$keys($input)"
  input: "=$input"
)yaml";

inline const char* const kReview = R"yaml(name: review
trigger: manual
inputs:
  schema:
    amount: { type: number, required: true }
defs:
  approve: { kind: task, action: approval, inputs: { amount: "=$input.amount", queue: finance } }
  done: { kind: task, action: set, inputs: { approved: "=$output.approve.approved" } }
flow:
  - do: approve
  - do: done
outputs:
  approved: "=$output.done.approved"
)yaml";

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresUrl().empty()) {
      const std::string drop =
          "psql -q -d '" + PostgresUrl() + "' -c 'DROP SCHEMA IF EXISTS " + Schema() + " CASCADE' >/dev/null 2>&1";
      (void)std::system(drop.c_str());
    }
    dir_ = fs::temp_directory_path() / ("weft_server_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "workflows");
    Write("triage.yaml", kTriage);
    Write("intake.yaml", kIntake);
    Write("review.yaml", kReview);
    setenv("WEFT_SECRET_HOOK_TOKEN", "t0ken", 1);
    setenv("WEFT_SECRET_HOOK_PASSWORD", "pa55", 1);
    setenv("WEFT_SECRET_HOOK_KEY", "k3y", 1);
    Open();
  }

  void TearDown() override {
    server_.reset();
    runtime_.reset();
    fs::remove_all(dir_);
    if (!PostgresUrl().empty()) {
      const std::string drop =
          "psql -q -d '" + PostgresUrl() + "' -c 'DROP SCHEMA IF EXISTS " + Schema() + " CASCADE' >/dev/null 2>&1";
      (void)std::system(drop.c_str());
    }
  }

  // Runs `sql` on the database behind the store, as someone with the
  // database in hand would; returns the error ("" when it ran).
  std::string ExecSql(const std::string& sql) {
    if (PostgresUrl().empty()) return testing::ExecSql(db_.path(), sql);
    const std::string command = "psql -q -v ON_ERROR_STOP=1 -d '" + PostgresUrl() + "' -c 'SET search_path TO " +
                                Schema() + "' -c \"" + sql + "\" >/dev/null 2>&1";
    return std::system(command.c_str()) == 0 ? "" : "psql failed: " + sql;
  }

  // The PostgreSQL server the tests run on instead of SQLite ("" = SQLite).
  static std::string PostgresUrl() {
    const char* url = std::getenv("WEFT_TEST_SERVER_POSTGRES");
    return url != nullptr ? url : "";
  }
  // This test's schema there.
  static std::string Schema() {
    std::string name =
        "weft_srv" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
    }
    return name.substr(0, 63);
  }

  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / "workflows" / name) << text; }

  void Open(ServerOptions options = {}) {
    server_.reset();
    runtime_.reset();
    runtime::RuntimeOptions ro;
    ro.db = db_.path();
    if (const std::string url = PostgresUrl(); !url.empty()) {
      ro.db = url;
      ro.db_schema = Schema();
    }
    ro.config_path = (dir_ / "weft.yaml").string();
    std::ofstream(ro.config_path) << config_;
    ro.threads = 2;
    ro.events = true;
    ro.workflows_dir = (dir_ / "workflows").string();
    ro.data_dir = (dir_ / "data").string();
    runtime_ = runtime::Runtime::Open(ro).value();
    options.port = 0;
    options.workflows_dir = (dir_ / "workflows").string();
    options.data_dir = (dir_ / "data").string();
    options.watch_interval_ms = 0;  // tests rescan by hand
    if (options.header_timeout_ms == ServerOptions{}.header_timeout_ms) options.header_timeout_ms = 500;
    options.drain_timeout_ms = 2000;
    Result<std::unique_ptr<Server>> s = Server::Start(*runtime_, options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    for (const char* role : {"admin", "editor", "operator", "viewer"}) {
      if (keys_.count(role) == 0) {
        keys_[role] =
            CreateApiKey(runtime_->store(), std::string("test ") + role, role, 0, SystemClock::Instance().NowMillis())
                .value();
      }
    }
  }

  int port() const { return server_->port(); }

  HttpReply Api(const std::string& role, const std::string& method, const std::string& target,
                const std::string& body = "") {
    testing::Headers h = {{"Content-Type", "application/json"}};
    if (!role.empty()) h.emplace_back("Authorization", "Bearer " + keys_.at(role));
    return HttpCall(port(), method, target, body, h);
  }

  HttpReply Hook(const std::string& path, const std::string& body, testing::Headers headers = {},
                 const std::string& method = "POST") {
    bool typed = false;
    for (const auto& [k, v] : headers) typed = typed || k == "Content-Type";
    if (!typed) headers.emplace_back("Content-Type", "application/json");
    return HttpCall(port(), method, "/hooks/" + path, body, headers);
  }

  size_t RunCount(const std::string& workflow = "") {
    store::RunFilter f;
    f.workflow = workflow;
    f.limit = 10000;
    return runtime_->store().ListRuns(f).value().size();
  }

  static Value Json(const HttpReply& r) {
    Result<Value> v = ParseJson(r.body);
    return v.ok() ? *v : Value();
  }

  std::string config_ = "{}\n";  // weft.yaml, written by Open()
  testing::TempDb db_{"weft_server_test"};
  fs::path dir_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<Server> server_;
  std::map<std::string, std::string> keys_;
};

}  // namespace weft::server

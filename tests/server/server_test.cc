// The server through real HTTP on loopback: webhooks (bodies, auth,
// idempotency, answers), the REST API and its roles, live updates, limits
// against bad clients, metrics, the OpenAPI document. Every test uses a
// real SQLite file and a real port.
#include "weft/server/server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "event_relay.h"
#include "event_triggers.h"
#include "fake_http_server.h"
#include "http_test_client.h"
#include "schedule.h"
#include "server_fixture.h"
#include "temp_db.h"
#include "test_pdf.h"
#include "weft/core/clock.h"
#include "weft/core/cron.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/dsl/loader.h"
#include "weft/dsl/schema.h"

namespace weft::server {
namespace {

TEST_F(ServerTest, WebhookAnswersTheRunsOutputsOnceCompleted) {
  HttpReply r = Hook("triage", R"({"message":"server down","urgency":"high"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"message":"server down","route":"human"})");
  const std::string run_id = r.header("x-weft-run");
  ASSERT_FALSE(run_id.empty());
  store::RunRecord run = runtime_->store().GetRun(run_id).value();
  EXPECT_EQ(run.status, store::RunStatus::kCompleted);
  EXPECT_EQ(run.trigger, "webhook");
  EXPECT_EQ(ToJson(run.context.get("webhook").get("path")), R"("triage")");
  r = Hook("triage", R"({"message":"typo","urgency":"low"})");
  EXPECT_EQ(r.body, R"({"message":"typo","route":"auto"})");
}

TEST_F(ServerTest, WebhookRefusesBadInputAndStoresNothing) {
  struct Case {
    std::string path, body, content_type;
    int status;
    std::string says;
  };
  const Case cases[] = {
      {"triage", R"({"message":"x","urgency":"urgent"})", "application/json", 400, "urgency"},
      {"triage", R"({"message":"x"})", "application/json", 400, "urgency"},
      {"triage", R"({"message":"x","urgency":)", "application/json", 400, "line 1, column"},
      {"triage", R"({"message":"x","message":"y","urgency":"low"})", "application/json", 400, "duplicate"},
      {"triage", "\xff\xfe", "text/plain", 400, "UTF-8"},
      {"orders/small", "{\"a\":\"" + std::string(2000, 'x') + "\"}", "application/json", 413, "limit of 1024"},
      {"nowhere", "{}", "application/json", 404, "no webhook"},
      {"orders/lookup", "{}", "application/json", 405, "not accepted"},
  };
  for (const Case& c : cases) {
    HttpReply r = Hook(c.path, c.body, {{"Content-Type", c.content_type}});
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << ": " << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
    EXPECT_NE(Json(r).get("error").get("message").as_string(), "");
  }
  EXPECT_EQ(RunCount(), 0U);
}

TEST_F(ServerTest, WebhookAuthenticatesEachWay) {
  const std::string body = R"({"order_id":"A1"})";
  const std::string now = std::to_string(SystemClock::Instance().NowMillis() / 1000);
  const std::string old = std::to_string(SystemClock::Instance().NowMillis() / 1000 - 3600);
  auto stripe = [&](const std::string& t, const std::string& key, const std::string& b) {
    return "t=" + t + ",v1=" + HexEncode(Hmac(key, t + "." + b));
  };
  struct Case {
    std::string name, path;
    testing::Headers headers;
    int status;
  };
  const std::vector<Case> cases = {
      {"bearer", "orders/token", {{"Authorization", "Bearer t0ken"}}, 200},
      {"bearer wrong", "orders/token", {{"Authorization", "Bearer nope"}}, 401},
      {"bearer missing", "orders/token", {}, 401},
      {"basic", "orders/basic", {{"Authorization", "Basic " + Base64Encode("shop:pa55")}}, 200},
      {"basic wrong", "orders/basic", {{"Authorization", "Basic " + Base64Encode("shop:nope")}}, 401},
      {"github", "orders/github", {{"X-Hub-Signature-256", "sha256=" + HexEncode(Hmac("k3y", body))}}, 200},
      {"github other body", "orders/github", {{"X-Hub-Signature-256", "sha256=" + HexEncode(Hmac("k3y", "{}"))}}, 401},
      {"github wrong key", "orders/github", {{"X-Hub-Signature-256", "sha256=" + HexEncode(Hmac("nope", body))}}, 401},
      {"stripe", "orders/stripe", {{"Stripe-Signature", stripe(now, "k3y", body)}}, 200},
      {"stripe too old", "orders/stripe", {{"Stripe-Signature", stripe(old, "k3y", body)}}, 401},
      {"stripe wrong key", "orders/stripe", {{"Stripe-Signature", stripe(now, "nope", body)}}, 401},
      {"stripe malformed", "orders/stripe", {{"Stripe-Signature", "v1=abc"}}, 401},
  };
  size_t accepted = 0;
  for (const Case& c : cases) {
    HttpReply r = Hook(c.path, body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    if (r.status == 200) ++accepted;
    EXPECT_EQ(RunCount(), accepted) << c.name << ": a refused request stored a run";
  }
  // A signed request replayed within the tolerance starts nothing.
  for (const auto& [path, header] :
       {std::pair<std::string, testing::Headers>{"orders/github",
                                                 {{"X-Hub-Signature-256", "sha256=" + HexEncode(Hmac("k3y", body))}}},
        std::pair<std::string, testing::Headers>{"orders/stripe", {{"Stripe-Signature", stripe(now, "k3y", body)}}}}) {
    HttpReply r = Hook(path, body, header);
    EXPECT_EQ(r.status, 409) << path << ": " << r.body;
    EXPECT_NE(r.body.find("replay"), std::string::npos);
  }
  EXPECT_EQ(RunCount(), accepted);
}

TEST_F(ServerTest, IdempotencyKeysAnswerTheSameRun) {
  HttpReply a = Hook("orders", R"({"order_id":"A1"})", {{"Idempotency-Key", "abc"}});
  ASSERT_EQ(a.status, 202) << a.body;
  const std::string run_id = Json(a).get("run_id").as_string();
  EXPECT_EQ(a.header("location"), "/api/v1/runs/" + run_id);
  HttpReply b = Hook("orders", R"({"order_id":"A1"})", {{"Idempotency-Key", "abc"}});
  EXPECT_EQ(b.status, 202);
  EXPECT_EQ(Json(b).get("run_id").as_string(), run_id);
  EXPECT_EQ(b.header("idempotent-replayed"), "true");
  HttpReply c = Hook("orders", R"({"order_id":"A2"})", {{"Idempotency-Key", "other"}});
  EXPECT_NE(Json(c).get("run_id").as_string(), run_id);
  // A key from the payload, and methods beyond POST.
  HttpReply d = Hook("orders/by-id", R"({"order_id":"B7"})");
  HttpReply e = Hook("orders/by-id", R"({"order_id":"B7","note":"again"})", {}, "PUT");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(d.header("x-weft-run"), e.header("x-weft-run"));
  EXPECT_EQ(RunCount("intake"), 3U);
  (void)runtime_->engine().Wait(run_id, std::chrono::seconds(10));
  EXPECT_EQ(runtime_->store().GetRun(run_id).value().status, store::RunStatus::kCompleted);
}

TEST_F(ServerTest, AnUploadedPdfIsTypedByContentAndReadAsText) {
  Write("docs.yaml", R"yaml(name: docs
trigger:
  webhook: { path: docs }
defs:
  read: { kind: task, action: file_text, inputs: { file: "=$input.doc" } }
flow: [ { do: read } ]
outputs:
  type: "=$input.doc.type"
  pages: "=$output.read.pages"
  text: "=$output.read.text"
)yaml");
  ServerOptions options;
  options.upload_types = {"application/pdf", "text/*"};
  Open(options);
  auto upload = [&](const std::string& filename, const std::string& declared, const std::string& content) {
    const std::string body = "--B0\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"" + filename +
                             "\"\r\nContent-Type: " + declared + "\r\n\r\n" + content + "\r\n--B0--\r\n";
    return Hook("docs", body, {{"Content-Type", "multipart/form-data; boundary=B0"}});
  };
  // The name and the declared type say text; the content is a PDF.
  HttpReply r = upload("notes.txt", "text/plain", testing::MakePdf({"Invoice 42: 130 EUR", "Thank you"}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).get("type").as_string(), "application/pdf");
  EXPECT_EQ(Json(r).get("pages").as_number(), 2);
  EXPECT_NE(Json(r).get("text").as_string().find("Invoice 42: 130 EUR"), std::string::npos) << r.body;
  // A type the server does not take is refused before anything is stored.
  const size_t before = RunCount("docs");
  r = upload("photo.pdf", "application/pdf",
             std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0", 29));
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_NE(r.body.find("image/png"), std::string::npos) << r.body;
  EXPECT_EQ(RunCount("docs"), before);
}

TEST_F(ServerTest, BodiesOfEveryKindBecomeTheInput) {
  // A form.
  HttpReply r = Hook("orders/by-id", "order_id=F1&tag=a&tag=b&note=caf%C3%A9+au+lait",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(Json(r).get("input")), R"({"order_id":"F1","tag":["a","b"],"note":"café au lait"})");
  // Multipart with a file: stored content-addressed, the input describes it.
  const std::string file = "invoice line 1\ninvoice line 2\n";
  const std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"order_id\"\r\n\r\nM1\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"invoice.txt\"\r\nContent-Type: "
      "text/plain\r\n\r\n" +
      file + "\r\n--XyZ--\r\n";
  r = Hook("orders/by-id", multipart, {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Value doc = Json(r).get("input").get("doc");
  EXPECT_EQ(doc.get("name").as_string(), "invoice.txt");
  EXPECT_EQ(doc.get("size").as_number(), static_cast<double>(file.size()));
  const std::string sha = Sha256Hex(file);
  EXPECT_EQ(doc.get("sha256").as_string(), sha);
  std::ifstream stored(dir_ / "data" / "uploads" / sha.substr(0, 2) / sha, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(stored)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, file);
  // Raw text, and GET with a query.
  r = Hook("orders/by-id", "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(ToJson(Json(r).get("input")), R"({"body":"hello","content_type":"text/plain"})");
  r = HttpCall(port(), "GET", "/hooks/orders/lookup?order_id=Q1&x=%20y");
  EXPECT_EQ(ToJson(Json(r).get("input")), R"({"order_id":"Q1","x":" y"})");
  // A multipart body that breaks its own rules.
  r = Hook("orders/by-id", "--XyZ\r\nContent-Disposition: form-data\r\n\r\nM1\r\n--XyZ--\r\n",
           {{"Content-Type", "multipart/form-data; boundary=XyZ"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("multipart part 1"), std::string::npos) << r.body;
}

TEST_F(ServerTest, ResponseExpressionsShapeTheAnswer) {
  HttpReply r = Hook("orders/custom", R"({"b":1,"a":2})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "b,a");
  EXPECT_EQ(r.header("x-count"), "2");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  r = Hook("orders/custom", R"({"a":2})");
  EXPECT_EQ(r.status, 200);
}

TEST_F(ServerTest, ClientsThatBreakTheProtocolAreRefused) {
  // A malformed request line.
  std::string raw = testing::RawExchange(port(), "GARBAGE\r\n\r\n");
  EXPECT_NE(raw.find("400 Bad Request"), std::string::npos) << raw;
  // Headers past the limit.
  raw = testing::RawExchange(port(),
                             "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_NE(raw.find("431"), std::string::npos) << raw.substr(0, 200);
  // A client that never finishes its headers is cut off (header timeout 500 ms).
  const auto start = std::chrono::steady_clock::now();
  raw = testing::RawExchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n", 5000);
  EXPECT_EQ(raw, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  // A body announced larger than the route takes is refused before it is read.
  raw = testing::RawExchange(port(),
                             "POST /hooks/orders/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 100000000\r\n\r\n{");
  EXPECT_NE(raw.find("413"), std::string::npos) << raw;
  // Pipelined requests are answered in order on one connection.
  raw = testing::RawExchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
                             1000);
  const size_t ok = raw.find("200 OK");
  const size_t missing = raw.find("404 Not Found");
  EXPECT_NE(ok, std::string::npos);
  EXPECT_NE(missing, std::string::npos);
  EXPECT_LT(ok, missing);
  EXPECT_EQ(RunCount(), 0U);
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, BodiesAreReadWholeHoweverTheyArrive) {
  // orders/custom answers 201 with the input's keys when there are two,
  // 200 with the one key otherwise; orders/small takes at most 1 KB.
  const std::string head = "POST /hooks/orders/custom HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  const std::string sized = head + "Content-Length: 13\r\n\r\n";
  const std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
  const std::string small = "POST /hooks/orders/small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  struct Case {
    const char* name;
    std::vector<std::string> pieces;
    std::vector<std::string> answers;  // in this order
  };
  const std::vector<Case> cases = {
      {"with its header", {sized + R"({"a":1,"b":2})"}, {"201 Created", "a,b"}},
      {"after its header", {sized, R"({"a":1,"b":2})"}, {"201 Created", "a,b"}},
      {"split in the middle", {sized + R"({"a":1,)", R"("b":2})"}, {"201 Created", "a,b"}},
      {"chunked, whole", {chunked + "7\r\n{\"c\":1}\r\n0\r\n\r\n"}, {"200 OK", "\r\n\r\nc"}},
      {"chunked, in pieces", {chunked + "3\r\n{\"c", "\r\n4\r\n\":1}\r\n0\r\n\r\n"}, {"200 OK", "\r\n\r\nc"}},
      {"pipelined with bodies",
       {sized + R"({"a":1,"b":2})" + head + "Content-Length: 7\r\n\r\n{\"c\":1}"},
       {"201 Created", "a,b", "200 OK", "\r\n\r\nc"}},
      {"chunked past the route's limit",
       {small + "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" + std::string(2000, ' ') + "\r\n0\r\n\r\n"},
       {"413", "over this route's limit"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string raw = testing::RawExchange(port(), c.pieces, 50, 1000);
    size_t at = 0;
    for (const std::string& answer : c.answers) {
      const size_t found = raw.find(answer, at);
      ASSERT_NE(found, std::string::npos) << "no " << answer << " after byte " << at << " of:\n" << raw;
      at = found + answer.size();
    }
  }
}

// /healthz's status once the connection cap lets it through, asked for up
// to 2 s (the last answer, 503, if it never does).
int HealthzOnceFree(int port) {
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = HttpCall(port, "GET", "/healthz").status;
  }
  return status;
}

TEST_F(ServerTest, ConnectionsPastTheCapAreTurnedAway) {
  ServerOptions o;
  o.max_connections = 2;
  o.header_timeout_ms = 3000;
  Open(o);
  // Two idle connections hold the cap.
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<boost::asio::ip::tcp::socket>(io));
    held.back()->connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port())});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpReply r = HttpCall(port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 503);
  held.clear();
  EXPECT_EQ(HealthzOnceFree(port()), 200);
}

// An event stream holds its connection while the client listens, and lets
// it go once the client leaves (seen by the connection cap of one).
TEST_F(ServerTest, AnEventStreamEndsWhenItsClientLeaves) {
  ServerOptions o;
  o.max_connections = 1;
  Open(o);
  boost::asio::io_context io;
  auto stream = std::make_unique<boost::asio::ip::tcp::socket>(io);
  stream->connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port())});
  const std::string request =
      "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + keys_.at("viewer") + "\r\n\r\n";
  boost::asio::write(*stream, boost::asio::buffer(request));
  std::string head;
  std::array<char, 1024> chunk{};
  while (head.find("retry:") == std::string::npos) {
    head.append(chunk.data(), stream->read_some(boost::asio::buffer(chunk)));
  }
  EXPECT_NE(head.find("text/event-stream"), std::string::npos) << head;
  // Listening: the cap is held, and stays held.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 503);
  stream.reset();  // the client leaves
  EXPECT_EQ(HealthzOnceFree(port()), 200);
}

// Every route, every role: who may do what. Deny by default.
TEST_F(ServerTest, RolesMatrix) {
  struct RouteCase {
    std::string method, target;
    const char* lowest;  // the least role allowed; "" = public
  };
  const RouteCase routes[] = {
      {"GET", "/healthz", ""},
      {"GET", "/readyz", ""},
      {"GET", "/metrics", ""},
      {"GET", "/api/openapi.json", ""},
      {"GET", "/api/v1/workflows", "viewer"},
      {"GET", "/api/v1/workflows/triage", "viewer"},
      {"POST", "/api/v1/workflows", "editor"},
      {"POST", "/api/v1/runs", "operator"},
      {"GET", "/api/v1/runs", "viewer"},
      {"GET", "/api/v1/runs/none", "viewer"},
      {"POST", "/api/v1/runs/none/cancel", "operator"},
      {"POST", "/api/v1/runs/none/retry", "operator"},
      {"POST", "/api/v1/runs/none/resume", "operator"},
      {"GET", "/api/v1/tasks", "viewer"},
      {"POST", "/api/v1/tasks/none/complete", "operator"},
      {"POST", "/api/v1/tasks/none/claim", "operator"},
      {"POST", "/api/v1/tasks/none/release", "operator"},
      {"POST", "/api/v1/tasks/none/links", "operator"},
      {"GET", "/approve/x.y", ""},
      {"POST", "/approve/x.y", ""},
      {"GET", "/api/v1/conversations/c1/messages", "viewer"},
      {"POST", "/api/v1/conversations/c1/messages", "operator"},
      {"POST", "/chat/none/conversations", ""},
      {"GET", "/chat/none", ""},
      {"POST", "/chat/none/messages", ""},
      {"GET", "/chat/none/messages", ""},
      {"GET", "/chat/none/events", ""},
      {"POST", "/chat/none/uploads", ""},
      {"GET", "/chat/none/uploads/x", ""},
      {"GET", "/api/v1/conversations/c1/uploads/x", "viewer"},
      {"GET", "/widget.js", ""},
      {"GET", "/demo/none", ""},
      {"GET", "/api/v1/usage", "viewer"},
      {"GET", "/api/v1/usage/daily", "viewer"},
      {"GET", "/", ""},
      {"GET", "/console.js", ""},
      {"GET", "/console.css", ""},
      {"GET", "/api/v1/keys", "admin"},
      {"POST", "/api/v1/keys", "admin"},
      {"POST", "/api/v1/keys/none/revoke", "admin"},
      {"POST", "/api/v1/workflows/triage/triggers/0/enable", "editor"},
      {"POST", "/api/v1/workflows/triage/triggers/0/disable", "editor"},
      {"POST", "/api/v1/session", ""},
      {"GET", "/api/v1/session", "viewer"},
      {"DELETE", "/api/v1/session", "viewer"},
      {"GET", "/api/v1/users", "admin"},
      {"POST", "/api/v1/users", "admin"},
      {"PATCH", "/api/v1/users/none", "admin"},
      {"DELETE", "/api/v1/users/none", "admin"},
      {"GET", "/api/v1/secrets", "editor"},
      {"PUT", "/api/v1/secrets/NONE", "editor"},
      {"DELETE", "/api/v1/secrets/NONE", "editor"},
      {"GET", "/api/v1/audit", "admin"},
      {"GET", "/api/v1/audit/verify", "admin"},
      {"GET", "/api/v1/knowledge", "viewer"},
      {"PUT", "/api/v1/knowledge/made-by-matrix", "editor"},
      {"DELETE", "/api/v1/knowledge/none", "editor"},
      {"GET", "/api/v1/knowledge/none/documents", "viewer"},
      {"PUT", "/api/v1/knowledge/none/documents?id=x", "editor"},
      {"DELETE", "/api/v1/knowledge/none/documents?id=x", "editor"},
      {"GET", "/api/v1/knowledge/none/search?q=x", "viewer"},
      {"POST", "/api/v1/knowledge/none/sync", "editor"},
  };
  const std::vector<std::string> order = {"", "viewer", "operator", "editor", "admin"};
  auto rank = [&](const std::string& role) {
    // editor may do what operator may (and deploy); operator may not deploy.
    return std::find(order.begin(), order.end(), role) - order.begin();
  };
  for (const RouteCase& rc : routes) {
    for (const std::string& role : order) {
      HttpReply r = Api(role, rc.method, rc.target, rc.method == "GET" || rc.method == "DELETE" ? "" : "{}");
      bool allowed = std::string(rc.lowest).empty() || rank(role) >= rank(rc.lowest);
      if (std::string(rc.lowest) == "operator" && role == "viewer") allowed = false;
      if (allowed) {
        EXPECT_NE(r.status, 401) << role << " " << rc.method << " " << rc.target << ": " << r.body;
        EXPECT_NE(r.status, 403) << role << " " << rc.method << " " << rc.target << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, role.empty() ? 401 : 403) << role << " " << rc.method << " " << rc.target << ": " << r.body;
      }
    }
  }
  // Every route of the server is in this table.
  Value doc = Json(HttpCall(port(), "GET", "/api/openapi.json"));
  size_t operations = 0;
  for (const auto& path : doc.get("paths").members()) operations += path.value.size();
  EXPECT_EQ(operations, std::size(routes) + 2) << "routes not in the matrix (the two event streams are tested apart)";
  // A wrong, revoked or malformed key.
  EXPECT_EQ(HttpCall(port(), "GET", "/api/v1/runs", "", {{"Authorization", "Bearer wk_0000_1111"}}).status, 401);
  EXPECT_EQ(HttpCall(port(), "GET", "/api/v1/runs", "", {{"Authorization", "Bearer nonsense"}}).status, 401);
  const std::string viewer_id = keys_["viewer"].substr(3, keys_["viewer"].find('_', 3) - 3);
  EXPECT_EQ(Api("admin", "POST", "/api/v1/keys/" + viewer_id + "/revoke").status, 200);
  HttpReply revoked = Api("viewer", "GET", "/api/v1/runs");
  EXPECT_EQ(revoked.status, 401);
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos);
}

TEST_F(ServerTest, WorkflowsAreDeployedAndDescribed) {
  HttpReply list = Api("viewer", "GET", "/api/v1/workflows");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list).get("workflows").size(), 3U);
  HttpReply wf = Api("viewer", "GET", "/api/v1/workflows/triage");
  ASSERT_EQ(wf.status, 200);
  const Value graph = Json(wf).get("graph");
  EXPECT_EQ(graph.get("nodes").size(), 5U);  // start, decision, two tasks, end
  EXPECT_EQ(graph.get("edges").size(), 5U);
  EXPECT_EQ(
      ToJson(Json(wf).get("triggers")),
      R"([{"kind":"webhook","path":"/hooks/triage","methods":["POST"],"respond":"completion","auth":"none","enabled":true}])");
  // Deploy through the API: a new version, then a broken file refused with
  // its diagnostics while the old version stays live.
  std::string changed = kTriage;
  changed.replace(changed.find("? 'human'"), 9, "? 'people'");
  HttpReply d = Api("editor", "POST", "/api/v1/workflows", changed);
  ASSERT_EQ(d.status, 201) << d.body;
  EXPECT_EQ(Json(d).get("version").as_number(), 2);
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"high"})").body, R"({"message":"m","route":"people"})");
  HttpReply bad = Api("editor", "POST", "/api/v1/workflows", "name: triage\nflow:\n  - do: nowhere\n");
  EXPECT_EQ(bad.status, 400);
  const Value details = Json(bad).get("error").get("details");
  ASSERT_GT(details.size(), 0U) << bad.body;
  EXPECT_EQ(details.as_array()[0].get("line").as_number(), 3);
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"high"})").body, R"({"message":"m","route":"people"})");
  // A webhook path another workflow serves is refused.
  HttpReply clash =
      Api("editor", "POST", "/api/v1/workflows",
          "name: thief\ntrigger: { webhook: { path: triage } }\ndefs: { a: { kind: task, action: set } }\n"
          "flow: [ { do: a } ]\n");
  EXPECT_EQ(clash.status, 400) << clash.body;
  EXPECT_NE(clash.body.find("already served by workflow 'triage'"), std::string::npos);
  // The folder: a changed file becomes a new version, a broken one changes nothing.
  Write("triage.yaml", std::string(kTriage) + "description: changed on disk\n");
  server_->Rescan();
  EXPECT_EQ(Json(Api("viewer", "GET", "/api/v1/workflows/triage")).get("version").as_number(), 3);
  Write("triage.yaml", "flow: [");
  server_->Rescan();
  EXPECT_EQ(Json(Api("viewer", "GET", "/api/v1/workflows/triage")).get("version").as_number(), 3);
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 200);
}

TEST_F(ServerTest, RunsAndTheInboxThroughTheApi) {
  // Start, wait for the approval, find it in the inbox, approve it.
  HttpReply started =
      Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":120},"wait_ms":5000})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string run_id = Json(started).get("run_id").as_string();
  EXPECT_EQ(Json(started).get("status").as_string(), "suspended");
  EXPECT_EQ(Json(Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{}})"))
                .get("error")
                .get("code")
                .as_string(),
            "INVALID_ARGUMENT");
  HttpReply tasks = Api("viewer", "GET", "/api/v1/tasks?queue=finance");
  ASSERT_EQ(tasks.status, 200);
  ASSERT_EQ(Json(tasks).get("tasks").size(), 1U) << tasks.body;
  const Value task = Json(tasks).get("tasks").as_array()[0];
  EXPECT_EQ(task.get("kind").as_string(), "approval");
  EXPECT_EQ(task.get("data").get("amount").as_number(), 120);
  // What completes it (the form the console draws), and the conversation
  // it is about (the run's own, without a chat).
  EXPECT_EQ(task.get("payload_schema").get("required").as_array()[0].as_string(), "approved") << ToJson(task);
  EXPECT_EQ(task.get("conversation").as_string(), run_id);
  EXPECT_EQ(Json(Api("viewer", "GET", "/api/v1/tasks?queue=legal")).get("tasks").size(), 0U);
  // A payload the approval's schema refuses changes nothing.
  HttpReply wrong = Api("operator", "POST", "/api/v1/tasks/" + run_id + "/complete", R"({"payload":{"ok":1}})");
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  HttpReply done =
      Api("operator", "POST", "/api/v1/tasks/" + run_id + "/complete", R"({"payload":{"approved":true,"by":"ana"}})");
  EXPECT_EQ(done.status, 202) << done.body;
  (void)runtime_->engine().Wait(run_id, std::chrono::seconds(10));
  HttpReply run = Api("viewer", "GET", "/api/v1/runs/" + run_id);
  ASSERT_EQ(run.status, 200);
  EXPECT_EQ(Json(run).get("status").as_string(), "completed");
  EXPECT_EQ(ToJson(Json(run).get("outputs")), R"({"approved":true})");
  EXPECT_EQ(Json(run).get("steps").size(), 3U);  // suspended, resumed, done
  EXPECT_EQ(Api("operator", "POST", "/api/v1/tasks/" + run_id + "/complete", "{}").status, 409);
  // Refusing and cancelling.
  const std::string second =
      Json(Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":5},"wait_ms":5000})"))
          .get("run_id")
          .as_string();
  HttpReply cancelled = Api("operator", "POST", "/api/v1/runs/" + second + "/cancel");
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_EQ(Json(cancelled).get("status").as_string(), "cancelled");
  // Lists, filters, pages.
  HttpReply page = Api("viewer", "GET", "/api/v1/runs?workflow=review&limit=1");
  EXPECT_EQ(Json(page).get("runs").size(), 1U);
  const std::string cursor = Json(page).get("next_cursor").as_string();
  HttpReply next = Api("viewer", "GET", "/api/v1/runs?workflow=review&limit=1&cursor=" + cursor);
  EXPECT_EQ(Json(next).get("runs").size(), 1U);
  EXPECT_NE(Json(next).get("runs").as_array()[0].get("run_id").as_string(), cursor);
  EXPECT_EQ(Json(Api("viewer", "GET", "/api/v1/runs?status=cancelled")).get("runs").size(), 1U);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/runs?status=nope").status, 400);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/runs/nope").status, 404);
}

TEST_F(ServerTest, LiveUpdatesStreamAndResume) {
  testing::SseClient all(port(), "/api/v1/events", {{"Authorization", "Bearer " + keys_["viewer"]}});
  ASSERT_EQ(all.status(), 200);
  ASSERT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 200);
  std::vector<testing::SseEvent> seen;
  while (auto e = all.Next(2000)) {
    seen.push_back(*e);
    if (e->event == "run" && e->data.find("\"completed\"") != std::string::npos) break;
  }
  ASSERT_GE(seen.size(), 3U);  // run started, a step, run completed
  EXPECT_EQ(seen.front().event, "run");
  EXPECT_EQ(seen[1].event, "step");
  // Reconnecting after the first event replays the rest.
  testing::SseClient again(port(), "/api/v1/events",
                           {{"Authorization", "Bearer " + keys_["viewer"]}, {"Last-Event-ID", seen.front().id}});
  std::vector<std::string> replayed;
  while (auto e = again.Next(500)) replayed.push_back(e->id);
  ASSERT_EQ(replayed.size(), seen.size() - 1);
  EXPECT_EQ(replayed.front(), seen[1].id);
  // One run's stream starts with its snapshot.
  const std::string run_id = ParseJson(seen.front().data).value().get("run_id").as_string();
  testing::SseClient one(port(), "/api/v1/runs/" + run_id + "/events",
                         {{"Authorization", "Bearer " + keys_["viewer"]}});
  auto snapshot = one.Next(2000);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->event, "snapshot");
  EXPECT_NE(snapshot->data.find("\"completed\""), std::string::npos);
  // With its steps: a client that read the run before subscribing would
  // otherwise miss a step recorded in between.
  Value snap = ParseJson(snapshot->data).value();
  ASSERT_TRUE(snap.get("steps").is_array()) << snapshot->data;
  EXPECT_GE(snap.get("steps").size(), 1U);
  testing::SseClient anonymous(port(), "/api/v1/events");
  EXPECT_EQ(anonymous.status(), 401);
}

TEST_F(ServerTest, TriggersSwitchOffAndOnAcrossRestarts) {
  HttpReply off = Api("editor", "POST", "/api/v1/workflows/triage/triggers/0/disable");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(Json(off).get("enabled").as_bool());
  EXPECT_EQ(Json(off).get("kind").as_string(), "webhook");
  const size_t before = RunCount("triage");
  HttpReply r = Hook("triage", R"({"message":"m","urgency":"low"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("switched off"), std::string::npos);
  EXPECT_EQ(RunCount("triage"), before);
  Value wf = Json(Api("viewer", "GET", "/api/v1/workflows/triage"));
  EXPECT_FALSE(wf.get("triggers").as_array()[0].get("enabled").as_bool());
  Open();  // a restart keeps it off
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 503);
  ASSERT_EQ(Api("editor", "POST", "/api/v1/workflows/triage/triggers/0/enable").status, 200);
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 200);
  EXPECT_EQ(Api("editor", "POST", "/api/v1/workflows/triage/triggers/7/disable").status, 404);
  EXPECT_EQ(Api("editor", "POST", "/api/v1/workflows/nope/triggers/0/disable").status, 404);
  const std::string audit = Api("admin", "GET", "/api/v1/audit").body;
  EXPECT_NE(audit.find("trigger.disable"), std::string::npos);
  EXPECT_NE(audit.find("trigger.enable"), std::string::npos);
}

TEST_F(ServerTest, RunsAndStepsAreExportedAsOtlpSpans) {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::atomic<bool> failing{false};
  testing::FakeHttpServer collector([&](const testing::FakeRequest& r) {
    if (failing) return testing::FakeResponse::Json("{}", 500);
    if (r.target == "/v1/traces" && r.header("Content-Type") == "application/json") {
      std::lock_guard lock(mu);
      bodies.push_back(r.body);
    }
    return testing::FakeResponse::Json("{}");
  });
  ServerOptions options;
  options.otlp_endpoint = collector.url();
  options.otlp_interval_ms = 50;
  options.log_steps = true;
  Open(options);
  HttpReply r = Hook("triage", R"({"message":"disk full","urgency":"high"})");
  ASSERT_EQ(r.status, 200);
  const std::string run_id = r.header("x-weft-run");
  // The spans of the run: one for the run, one per step, in one trace.
  std::vector<Value> spans;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    spans.clear();
    std::lock_guard lock(mu);
    for (const std::string& b : bodies) {
      const Value doc = *ParseJson(b);
      for (const Value& s :
           doc.get("resourceSpans").as_array()[0].get("scopeSpans").as_array()[0].get("spans").as_array()) {
        spans.push_back(s);
      }
    }
    bool has_run = false;
    for (const Value& s : spans) has_run = has_run || s.get("name") == Value("triage");
    if (has_run) break;
  }
  const Value* run_span = nullptr;
  for (const Value& s : spans) {
    if (s.get("name") == Value("triage")) run_span = &s;
  }
  ASSERT_NE(run_span, nullptr) << spans.size() << " spans";
  EXPECT_EQ(run_span->get("traceId").as_string().size(), 32u);
  EXPECT_EQ(run_span->get("status").get("code").as_number(), 1);
  int steps = 0;
  for (const Value& s : spans) {
    if (s.get("parentSpanId") != run_span->get("spanId")) continue;
    ++steps;
    EXPECT_EQ(s.get("traceId"), run_span->get("traceId"));
    EXPECT_GE(std::stoll(s.get("endTimeUnixNano").as_string()), std::stoll(s.get("startTimeUnixNano").as_string()));
    const std::string attrs = ToJson(s.get("attributes"));
    EXPECT_NE(attrs.find(run_id), std::string::npos) << attrs;
    EXPECT_NE(attrs.find("weft.action"), std::string::npos) << attrs;
  }
  EXPECT_GE(steps, 1);
  // A collector that fails costs the runs nothing; the loss is counted.
  failing = true;
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_NE(HttpCall(port(), "GET", "/metrics").body.find(R"(weft_otlp_spans_total{outcome="failed"})"),
            std::string::npos);
}

TEST_F(ServerTest, TasksAreTakenAndApprovedThroughOneTimeLinks) {
  auto start = [&](int amount) {
    return Json(Api("operator", "POST", "/api/v1/runs",
                    R"({"workflow":"review","input":{"amount":)" + std::to_string(amount) + R"(},"wait_ms":5000})"))
        .get("run_id")
        .as_string();
  };
  // Taken by one operator, the task is theirs.
  const std::string run = start(10);
  HttpReply claimed = Api("operator", "POST", "/api/v1/tasks/" + run + "/claim");
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  const std::string operator_id = keys_["operator"].substr(3, keys_["operator"].find('_', 3) - 3);
  EXPECT_EQ(Json(claimed).get("claimed").get("by").as_string(), "key:" + operator_id);
  EXPECT_EQ(Api("editor", "POST", "/api/v1/tasks/" + run + "/claim").status, 409);
  HttpReply other =
      Api("editor", "POST", "/api/v1/tasks/" + run + "/complete", R"({"payload":{"approved":true,"by":"e"}})");
  EXPECT_EQ(other.status, 409) << other.body;
  Value tasks = Json(Api("viewer", "GET", "/api/v1/tasks"));
  EXPECT_NE(ToJson(tasks).find("key:" + operator_id), std::string::npos);
  ASSERT_EQ(Api("operator", "POST", "/api/v1/tasks/" + run + "/release").status, 200);
  EXPECT_EQ(
      Api("editor", "POST", "/api/v1/tasks/" + run + "/complete", R"({"payload":{"approved":true,"by":"e"}})").status,
      202);
  // Links: GET only shows the question; POST approves, once.
  const std::string second = start(20);
  HttpReply made = Api("operator", "POST", "/api/v1/tasks/" + second + "/links", R"({"ttl_hours":1})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string approve = Json(made).get("approve").as_string();
  const std::string refuse = Json(made).get("refuse").as_string();
  const std::string approve_path = approve.substr(approve.find("/approve/"));
  const std::string refuse_path = refuse.substr(refuse.find("/approve/"));
  HttpReply page = HttpCall(port(), "GET", approve_path);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
  EXPECT_EQ(runtime_->store().GetRun(second)->status, store::RunStatus::kSuspended);
  HttpReply used = HttpCall(port(), "POST", approve_path);
  ASSERT_EQ(used.status, 200) << used.body;
  (void)runtime_->engine().Wait(second, std::chrono::seconds(10));
  store::RunRecord done = runtime_->store().GetRun(second).value();
  EXPECT_EQ(done.status, store::RunStatus::kCompleted);
  EXPECT_EQ(ToJson(done.outputs), R"({"approved":true})");
  EXPECT_EQ(HttpCall(port(), "POST", approve_path).status / 100, 4);  // used
  EXPECT_EQ(HttpCall(port(), "POST", refuse_path).status / 100, 4);   // its pair is spent too
  // Refusing, a forged link, an expired one.
  const std::string third = start(30);
  HttpReply pair = Api("operator", "POST", "/api/v1/tasks/" + third + "/links");
  const std::string no = Json(pair).get("refuse").as_string();
  std::string forged = no.substr(no.find("/approve/"));
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(HttpCall(port(), "POST", forged).status, 404);
  ASSERT_EQ(HttpCall(port(), "POST", no.substr(no.find("/approve/"))).status, 200);
  (void)runtime_->engine().Wait(third, std::chrono::seconds(10));
  EXPECT_EQ(runtime_->store().GetRun(third)->status, store::RunStatus::kFailed);
  const std::string fourth = start(40);
  HttpReply brief = Api("operator", "POST", "/api/v1/tasks/" + fourth + "/links", R"({"ttl_hours":0.0000001})");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string late = Json(brief).get("approve").as_string();
  HttpReply expired = HttpCall(port(), "POST", late.substr(late.find("/approve/")));
  EXPECT_EQ(expired.status, 410);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);
  const std::string audit = Api("admin", "GET", "/api/v1/audit?limit=1000").body;
  EXPECT_NE(audit.find("task.claim"), std::string::npos);
  EXPECT_NE(audit.find(R"("via":"link")"), std::string::npos);
}

// A run is stored before its first step that acts outside it: an accepted
// webhook answers 202 while the call is still under way, and the run is
// there to be recovered if the process dies meanwhile.
TEST_F(ServerTest, ARunIsStoredBeforeItsFirstCallOutside) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  testing::FakeHttpServer crm([&](const testing::FakeRequest&) {
    ++calls;
    released.wait_for(std::chrono::seconds(5));  // the test fails rather than hangs
    return testing::FakeResponse::Json(R"({"id":"T-1"})", 201);
  });
  Write("ticket.yaml", R"yaml(name: ticket
trigger:
  webhook: { path: ticket, respond: accepted }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
defs:
  create: { kind: task, action: http, inputs: { method: POST, url: ")yaml" +
                           crm.url() + R"yaml(/tickets", json: {} }, settings: { map: body } }
flow: [ { do: create } ]
outputs:
  ticket: "=$output.create.id"
)yaml");
  server_->Rescan();
  HttpReply r = Hook("ticket", "{}");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string run_id = Json(r).get("run_id").as_string();
  // Answered while the call waits: the run is stored.
  Result<store::RunRecord> stored = runtime_->store().GetRun(run_id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->status, store::RunStatus::kRunning);
  release.set_value();
  (void)runtime_->engine().Wait(run_id, std::chrono::seconds(10));
  store::RunRecord done = runtime_->store().GetRun(run_id).value();
  EXPECT_EQ(done.status, store::RunStatus::kCompleted) << done.error;
  EXPECT_EQ(ToJson(done.outputs), R"({"ticket":"T-1"})");
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(ServerTest, MetricsCountRequestsRunsAndSteps) {
  Write("sort.yaml", R"yaml(name: sort
trigger: { webhook: { path: sort } }
defs:
  topic:
    kind: task
    action: classify
    inputs: { text: "=$input.text" }
    settings:
      output_schema: { type: object, required: [topic], properties: { topic: { enum: [billing, bug] } } }
      examples:
        - { text: "I was charged twice", topic: billing }
        - { text: "refund my payment please", topic: billing }
        - { text: "the app crashes on start", topic: bug }
        - { text: "error 500 when I save", topic: bug }
flow: [ { do: topic } ]
)yaml");
  server_->Rescan();
  ASSERT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 200);
  ASSERT_EQ(Hook("triage", R"({"message":"m"})").status, 400);
  ASSERT_EQ(Hook("sort", R"({"text":"charged twice for my payment"})").status, 200);
  ASSERT_EQ(
      Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":3},"wait_ms":5000})").status,
      201);
  HttpReply m = HttpCall(port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* line : {
           R"(weft_runs_suspended{workflow="review",waiting_for="approval"} 1)",
           R"(weft_tasks_waiting{workflow="review",kind="approval"} 1)",
           R"(weft_ai_calls_total{model="local"} 1)",
           R"(weft_ai_tokens_total{model="local",direction="input"} 0)",
           R"(weft_store_commit_batch_size_count )",
           R"(weft_store_commit_seconds_bucket{le="+Inf"} )",
           R"(weft_http_requests_total{route="/hooks/{path}",status="200"} 2)",
           R"(weft_http_requests_total{route="/hooks/{path}",status="400"} 1)",
           R"(weft_runs_started_total{workflow="triage",trigger="webhook"} 1)",
           R"(weft_runs_finished_total{workflow="triage",status="completed"} 1)",
           R"(weft_step_duration_seconds_count{action="set",status="completed"} 1)",
           R"(weft_webhook_refusals_total{workflow="triage",reason="schema"} 1)",
       }) {
    EXPECT_NE(m.body.find(line), std::string::npos) << line << "\n" << m.body;
  }
}

// The responses the API gives validate against the schemas its OpenAPI
// document declares for them.
TEST_F(ServerTest, ResponsesMatchTheOpenApiDocument) {
  Value doc = Json(HttpCall(port(), "GET", "/api/openapi.json"));
  ASSERT_EQ(doc.get("openapi").as_string(), "3.1.0");
  const std::string run_id =
      Json(Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":1},"wait_ms":5000})"))
          .get("run_id")
          .as_string();
  struct Call {
    std::string role, method, target, pattern, body;
  };
  const Call calls[] = {
      {"viewer", "GET", "/api/v1/workflows", "/api/v1/workflows", ""},
      {"viewer", "GET", "/api/v1/workflows/review", "/api/v1/workflows/{name}", ""},
      {"viewer", "GET", "/api/v1/runs", "/api/v1/runs", ""},
      {"viewer", "GET", "/api/v1/runs/" + run_id, "/api/v1/runs/{id}", ""},
      {"viewer", "GET", "/api/v1/tasks", "/api/v1/tasks", ""},
      {"viewer", "GET", "/api/v1/usage", "/api/v1/usage", ""},
      {"viewer", "GET", "/api/v1/usage/daily", "/api/v1/usage/daily", ""},
      {"viewer", "GET", "/api/v1/conversations/c/messages", "/api/v1/conversations/{id}/messages", ""},
      {"admin", "GET", "/api/v1/keys", "/api/v1/keys", ""},
      {"admin", "POST", "/api/v1/keys", "/api/v1/keys", R"({"name":"ci","role":"viewer"})"},
      {"operator", "POST", "/api/v1/runs", "/api/v1/runs",
       R"({"workflow":"review","input":{"amount":2},"wait_ms":5000})"},
      {"operator", "POST", "/api/v1/tasks/" + run_id + "/complete", "/api/v1/tasks/{id}/complete",
       R"({"payload":{"approved":false}})"},
      {"editor", "POST", "/api/v1/workflows", "/api/v1/workflows", kTriage},
      {"viewer", "GET", "/api/v1/runs/nope", "/api/v1/runs/{id}", ""},
  };
  for (const Call& c : calls) {
    HttpReply r = Api(c.role, c.method, c.target, c.body);
    std::string method = c.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const Value responses = doc.get("paths").get(c.pattern).get(method).get("responses");
    ASSERT_TRUE(responses.is_object()) << c.pattern << " " << method << " is not in the document";
    Value shape = responses.get(std::to_string(r.status));
    if (shape.is_undefined()) shape = responses.get("default");
    ASSERT_TRUE(shape.is_object()) << c.target << " answered " << r.status;
    const Value schema = shape.get("content").get("application/json").get("schema");
    Result<dsl::Schema> compiled = dsl::Schema::Compile(schema);
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    Status valid = compiled->Validate(Json(r), c.target);
    EXPECT_TRUE(valid.ok()) << c.method << " " << c.target << " (" << r.status << "): " << valid.message() << "\n"
                            << r.body;
  }
}

// Knowledge bases through the API: a PDF and a Markdown document put, found
// by a search, listed, removed; the folder indexed again on demand; each
// answer in the OpenAPI document's shape; editors write, viewers read.
TEST_F(ServerTest, KnowledgeDocumentsArePutSearchedAndRemovedThroughTheApi) {
  fs::create_directories(dir_ / "kb");
  std::ofstream(dir_ / "kb" / "parking.md") << "# Parking\n\nThe garage closes at midnight.\n";
  config_ = "knowledge:\n  office: { folder: kb, tags: [office] }\n";
  Open();
  const Value doc = Json(HttpCall(port(), "GET", "/api/openapi.json"));
  auto shaped = [&](const HttpReply& r, const std::string& method, const std::string& pattern) {
    const Value schema = doc.get("paths")
                             .get(pattern)
                             .get(method)
                             .get("responses")
                             .get(std::to_string(r.status))
                             .get("content")
                             .get("application/json")
                             .get("schema");
    Result<dsl::Schema> compiled = dsl::Schema::Compile(schema);
    ASSERT_TRUE(compiled.ok()) << method << " " << pattern << " " << r.status << ": " << compiled.status();
    Status valid = compiled->Validate(Json(r), pattern);
    EXPECT_TRUE(valid.ok()) << valid.message() << "\n" << r.body;
  };
  HttpReply bases = Api("viewer", "GET", "/api/v1/knowledge");
  ASSERT_EQ(bases.status, 200) << bases.body;
  shaped(bases, "get", "/api/v1/knowledge");
  EXPECT_EQ(Json(bases).get("bases").as_array()[0].get("name"), Value("office"));

  // A PDF, as a file would hold it.
  HttpReply pdf = HttpCall(port(), "PUT", "/api/v1/knowledge/office/documents?id=guides/badges.pdf&tags=security",
                           testing::MakePdf({"Badge renewal", "Badges are renewed every January at reception"}),
                           {{"Authorization", "Bearer " + keys_.at("editor")}, {"Content-Type", "application/pdf"}});
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  shaped(pdf, "put", "/api/v1/knowledge/{base}/documents");
  EXPECT_EQ(Json(pdf).get("title"), Value("Badge renewal"));
  EXPECT_EQ(Json(pdf).get("tags"), ParseJson(R"(["security","office"])").value());
  HttpReply md = HttpCall(port(), "PUT", "/api/v1/knowledge/office/documents?id=lunch.md&source=https://intra/lunch",
                          "---\ntitle: Lunch\n---\nThe canteen serves lunch from noon.\n",
                          {{"Authorization", "Bearer " + keys_.at("editor")}, {"Content-Type", "text/markdown"}});
  ASSERT_EQ(md.status, 200) << md.body;
  EXPECT_EQ(Json(md).get("source"), Value("https://intra/lunch"));
  EXPECT_EQ(Api("viewer", "PUT", "/api/v1/knowledge/office/documents?id=x.md", "text").status, 403);
  EXPECT_EQ(Api("editor", "PUT", "/api/v1/knowledge/office/documents", "text").status, 400);
  EXPECT_EQ(Api("editor", "PUT", "/api/v1/knowledge/nope/documents?id=x.md", "text").status, 404);

  HttpReply found = Api("viewer", "GET", "/api/v1/knowledge/office/search?q=when%20are%20badges%20renewed&k=2");
  ASSERT_EQ(found.status, 200) << found.body;
  shaped(found, "get", "/api/v1/knowledge/{base}/search");
  EXPECT_EQ(Json(found).get("chunks").as_array()[0].get("document"), Value("guides/badges.pdf")) << found.body;
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/knowledge/office/search?q=x&k=500").status, 400);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/knowledge/office/search?q=x&mode=vector").status, 400)
      << "no embedding model: no vector search";

  HttpReply listed = Api("viewer", "GET", "/api/v1/knowledge/office/documents");
  ASSERT_EQ(listed.status, 200);
  shaped(listed, "get", "/api/v1/knowledge/{base}/documents");
  EXPECT_EQ(Json(listed).get("documents").size(), 3u);  // the folder's file and the two put

  HttpReply removed = Api("editor", "DELETE", "/api/v1/knowledge/office/documents?id=guides/badges.pdf");
  ASSERT_EQ(removed.status, 200);
  shaped(removed, "delete", "/api/v1/knowledge/{base}/documents");
  EXPECT_EQ(Api("editor", "DELETE", "/api/v1/knowledge/office/documents?id=guides/badges.pdf").status, 404);
  EXPECT_TRUE(Json(Api("viewer", "GET", "/api/v1/knowledge/office/search?q=badges%20renewed%20January"))
                  .get("chunks")
                  .as_array()
                  .empty());

  // The folder changed: indexed again on demand.
  std::ofstream(dir_ / "kb" / "parking.md") << "# Parking\n\nThe garage now closes at ten.\n";
  fs::last_write_time(dir_ / "kb" / "parking.md", fs::file_time_type::clock::now() + std::chrono::seconds(5));
  HttpReply synced = Api("editor", "POST", "/api/v1/knowledge/office/sync");
  ASSERT_EQ(synced.status, 200) << synced.body;
  shaped(synced, "post", "/api/v1/knowledge/{base}/sync");
  EXPECT_EQ(Json(synced).get("updated"), Value(1));
  // A base declared through the API; weft.yaml's cannot be removed through it.
  HttpReply made = Api("editor", "PUT", "/api/v1/knowledge/faq", R"({"language":"en","tags":["faq"]})");
  ASSERT_EQ(made.status, 201) << made.body;
  shaped(made, "put", "/api/v1/knowledge/{base}");
  EXPECT_EQ(Api("editor", "PUT", "/api/v1/knowledge/faq", "{}").status, 409);
  EXPECT_EQ(Api("editor", "PUT", "/api/v1/knowledge/bad", R"({"folder":"/etc"})").status, 400);
  ASSERT_EQ(HttpCall(port(), "PUT", "/api/v1/knowledge/faq/documents?id=hours.md", "Support is open 9 to 5.",
                     {{"Authorization", "Bearer " + keys_.at("editor")}})
                .status,
            200);
  EXPECT_EQ(Json(Api("viewer", "GET", "/api/v1/knowledge/faq/search?q=support%20open")).get("chunks").size(), 1u);
  EXPECT_NE(Api("editor", "DELETE", "/api/v1/knowledge/office").status, 200);
  HttpReply dropped = Api("editor", "DELETE", "/api/v1/knowledge/faq");
  ASSERT_EQ(dropped.status, 200) << dropped.body;
  shaped(dropped, "delete", "/api/v1/knowledge/{base}");
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/knowledge/faq/documents").status, 404);
  // Every write is in the audit log.
  const std::string audit = Api("admin", "GET", "/api/v1/audit").body;
  for (const char* action :
       {"knowledge.put", "knowledge.delete", "knowledge.sync", "knowledge.create", "knowledge.drop"}) {
    EXPECT_NE(audit.find(action), std::string::npos) << action;
  }
}

TEST_F(ServerTest, FormsAreGeneratedFromTheSchemaAndStartRuns) {
  Write("signup.yaml", R"yaml(name: signup
description: Ask for <b>seats</b>
trigger: { form: { title: Sign up, submit_label: Join } }
inputs:
  schema:
    name: { type: string, required: true, description: "Your <full> name", maxLength: 80 }
    plan: { type: string, enum: [free, team], required: true }
    seats: { type: integer }
    newsletter: { type: boolean }
    doc: { type: object, contentMediaType: application/octet-stream }
defs:
  welcome: { kind: task, action: set, inputs: { greeting: "=$join(['Welcome', $input.name], ' ')" } }
flow: [ { do: welcome } ]
outputs:
  greeting: "=$output.welcome.greeting"
  seats: "=$input.seats"
)yaml");
  server_->Rescan();
  HttpReply page = HttpCall(port(), "GET", "/forms/signup");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  for (const char* part : {"<title>Sign up</title>", "<label for=\"f-name\">name", "aria-describedby=\"f-name-hint\"",
                           "Your &lt;full&gt; name", "<select id=\"f-plan\" name=\"plan\"", "type=\"number\"",
                           "step=\"1\"", "type=\"checkbox\"", "type=\"file\"", "required aria-required=\"true\"",
                           ">Join</button>", "enctype=\"multipart/form-data\""}) {
    EXPECT_NE(page.body.find(part), std::string::npos) << part << "\n" << page.body;
  }
  EXPECT_EQ(page.body.find("<b>"), std::string::npos) << "text from the file is escaped";
  const std::string form =
      "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAda <script>\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"plan\"\r\n\r\nteam\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"seats\"\r\n\r\n3\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
      "hello\r\n--B--\r\n";
  HttpReply done =
      HttpCall(port(), "POST", "/forms/signup", form, {{"Content-Type", "multipart/form-data; boundary=B"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("Welcome Ada &lt;script&gt;"), std::string::npos) << done.body;
  const store::RunRecord run = runtime_->store().GetRun(done.header("x-weft-run")).value();
  EXPECT_EQ(run.trigger, "form");
  EXPECT_EQ(run.input.get("seats").as_number(), 3);
  EXPECT_EQ(run.input.get("newsletter"), Value(false));
  EXPECT_EQ(run.input.get("doc").get("sha256").as_string(), Sha256Hex("hello"));
  // A required field missing: the form again, with the problem, and no run.
  const size_t before = RunCount("signup");
  HttpReply missing =
      HttpCall(port(), "POST", "/forms/signup", "name=Bo", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(missing.body.find("plan"), std::string::npos);
  EXPECT_NE(missing.body.find("value=\"Bo\""), std::string::npos) << "what was typed stays";
  EXPECT_EQ(RunCount("signup"), before);
  EXPECT_EQ(HttpCall(port(), "GET", "/forms/triage").status, 404) << "triage has no form trigger";
}

TEST_F(ServerTest, RateLimitsAnswer429WithRetryAfter) {
  ServerOptions o;
  o.rate_per_address = 1;
  o.rate_burst = 2;
  Open(o);
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpCall(port(), "GET", "/healthz").status, 200);
  HttpReply limited = HttpCall(port(), "GET", "/healthz");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "1");
  EXPECT_EQ(Hook("triage", R"({"message":"m","urgency":"low"})").status, 429);
  EXPECT_EQ(RunCount(), 0U);
}

TEST_F(ServerTest, EmittedEventsStartEachSubscriberOnce) {
  Write("orders_in.yaml", R"yaml(name: orders_in
trigger: manual
inputs:
  schema:
    n: { type: number, required: true }
defs:
  announce: { kind: task, action: emit, inputs: { event: order.created, payload: { order: "=$input.n" } } }
flow: [ { do: announce } ]
)yaml");
  for (const char* name : {"bill", "ship"}) {
    Write(std::string(name) + ".yaml", "name: " + std::string(name) + R"yaml(
trigger: { event: order.created }
inputs:
  schema:
    order: { type: number, required: true }
defs:
  handle: { kind: task, action: set, inputs: { order: "=$input.order", from: "=$context.event.from_run" } }
flow: [ { do: handle } ]
)yaml");
  }
  server_->Rescan();
  std::vector<std::string> emitters;
  for (int n = 1; n <= 3; ++n) {
    HttpReply r = Api("operator", "POST", "/api/v1/runs",
                      R"({"workflow":"orders_in","input":{"n":)" + std::to_string(n) + R"(},"wait_ms":5000})");
    ASSERT_EQ(r.status, 201) << r.body;
    emitters.push_back(Json(r).get("run_id").as_string());
  }
  auto subscriber_runs = [&](const std::string& wf) {
    store::RunFilter f;
    f.workflow = wf;
    f.trigger = "event";
    f.limit = 100;
    return runtime_->store().ListRuns(f).value();
  };
  // Stored, then executed: wait for both (a run can be listed before its
  // execution starts, which Drain alone would not see).
  const auto settled = [&](const std::string& wf) {
    std::vector<store::RunRecord> runs = subscriber_runs(wf);
    return runs.size() >= 3 && std::all_of(runs.begin(), runs.end(), [](const store::RunRecord& r) {
             return r.status != store::RunStatus::kRunning;
           });
  };
  for (int i = 0; i < 500 && !(settled("bill") && settled("ship")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runtime_->engine().Drain();
  for (const char* wf : {"bill", "ship"}) {
    std::vector<store::RunRecord> runs = subscriber_runs(wf);
    ASSERT_EQ(runs.size(), 3U) << wf;
    std::set<double> orders;
    for (const store::RunRecord& r : runs) {
      orders.insert(r.input.get("order").as_number());
      EXPECT_NE(std::find(emitters.begin(), emitters.end(), r.context.get("event").get("from_run").as_string()),
                emitters.end());
      EXPECT_EQ(r.status, store::RunStatus::kCompleted);
    }
    EXPECT_EQ(orders, (std::set<double>{1, 2, 3})) << wf;
  }
  // Dispatching everything again (a crash before the cursor moved) starts nothing twice.
  ASSERT_TRUE(runtime_->store().PutState("events:dispatched_seq", "0").ok());
  EventDispatcher again(runtime_->engine(), runtime_->store(), std::make_shared<Metrics>());
  for (const char* wf : {"bill", "ship"}) again.Set(runtime_->engine().GetWorkflow(wf, 0).value());
  EXPECT_EQ(again.DispatchPending(), 0);
  EXPECT_EQ(subscriber_runs("bill").size(), 3U);
}

int64_t Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return UnixSecondsFromCivil(CivilTime{y, mo, d, h, mi, s}) * 1000;
}

TEST(Schedule, SlotsFollowTheTimeZone) {
  const CronSpec nine = CronSpec::Parse("0 9 * * *").value();
  const auto* paris = FindZone("Europe/Paris").value();
  ASSERT_NE(paris, nullptr);
  EXPECT_EQ(NextSlot(nine, paris, Utc(2026, 7, 1, 0, 0)), Utc(2026, 7, 1, 7, 0));    // summer: UTC+2
  EXPECT_EQ(NextSlot(nine, paris, Utc(2026, 12, 1, 0, 0)), Utc(2026, 12, 1, 8, 0));  // winter: UTC+1
  EXPECT_EQ(NextSlot(nine, nullptr, Utc(2026, 12, 1, 9, 0)), Utc(2026, 12, 2, 9, 0));
  // 02:30 does not exist on 2026-03-29 in Paris (02:00 -> 03:00): it fires at the change.
  const CronSpec half_two = CronSpec::Parse("30 2 * * *").value();
  EXPECT_EQ(NextSlot(half_two, paris, Utc(2026, 3, 28, 12, 0)), Utc(2026, 3, 29, 1, 0));
  // 02:30 happens twice on 2026-10-25 (03:00 -> 02:00): it fires once.
  const int64_t first = NextSlot(half_two, paris, Utc(2026, 10, 24, 12, 0));
  EXPECT_EQ(first, Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(NextSlot(half_two, paris, first), Utc(2026, 10, 26, 1, 30));
  EXPECT_FALSE(FindZone("Mars/Olympus").ok());
}

TEST_F(ServerTest, ScheduledSlotsStartOneRunEachAcrossRestarts) {
  // Deployed to the engine only: the server's own scheduler (on the real
  // clock) does not know them, the test ticks by hand.
  auto deploy = [&](const std::string& text) {
    auto wf = dsl::LoadWorkflow(text, "schedule.yaml", runtime_->actions());
    ASSERT_TRUE(wf.ok()) << wf.status().message();
    ASSERT_TRUE(runtime_->engine().Deploy(*wf).ok());
  };
  deploy(R"yaml(name: every_second
triggers:
  - schedule: { cron: "* * * * * *", missed: skip }
defs:
  tick: { kind: task, action: set, inputs: { at: "=$context.schedule.slot_ms" } }
flow: [ { do: tick } ]
)yaml");
  deploy(R"yaml(name: catch_up
triggers:
  - schedule: { cron: "0 * * * * *", missed: all, max_missed: 3, input: { from: schedule } }
defs:
  tick: { kind: task, action: set, inputs: { from: "=$input.from" } }
flow: [ { do: tick } ]
)yaml");
  deploy(R"yaml(name: latest
triggers:
  - schedule: { cron: "0 * * * * *", missed: once }
defs:
  tick: { kind: task, action: set, inputs: {} }
flow: [ { do: tick } ]
)yaml");
  auto count = [&](const std::string& wf) {
    store::RunFilter f;
    f.workflow = wf;
    f.trigger = "schedule";
    f.limit = 1000;
    return runtime_->store().ListRuns(f).value().size();
  };
  // Driven by hand with times far from now, so that the server's own
  // scheduler thread (on the real clock) has nothing to fire meanwhile.
  auto tick = [&](int64_t now) {
    Scheduler s(runtime_->engine(), runtime_->store(), std::make_shared<Metrics>(), SystemClock::Instance());
    for (const char* wf : {"every_second", "catch_up", "latest"}) {
      s.Set(runtime_->engine().GetWorkflow(wf, 0).value());
    }
    (void)s.Tick(now);
    runtime_->engine().Drain();
  };
  const int64_t t0 = Utc(2030, 1, 1, 0, 0, 0) + 200;
  tick(t0);  // the schedules begin: nothing before now fires
  EXPECT_EQ(count("every_second") + count("catch_up") + count("latest"), 0U);
  tick(t0 + 1000);  // one slot due
  EXPECT_EQ(count("every_second"), 1U);
  tick(t0 + 1000);  // the same moment again (another process, a restart): nothing twice
  tick(t0 + 1500);
  EXPECT_EQ(count("every_second"), 1U);
  tick(t0 + 3000);  // two slots passed within the minute: both on time
  EXPECT_EQ(count("every_second"), 3U);
  // Down for ten minutes: skip fires only what is on time (the last
  // minute's slots), all fires the last 3 missed plus the on-time one, once
  // fires the on-time one.
  tick(t0 + 600'000);
  EXPECT_EQ(count("every_second"), 3U + 60U);
  EXPECT_EQ(count("catch_up"), 4U);
  EXPECT_EQ(count("latest"), 1U);
  // A run knows its slot (the four started in one tick may share a
  // millisecond: their order in the list is not the slots' order).
  store::RunFilter f;
  f.workflow = "catch_up";
  const int64_t last_slot = Utc(2030, 1, 1, 0, 10, 0);
  int found = 0;
  const std::vector<store::RunRecord> runs = runtime_->store().ListRuns(f).value();
  for (const store::RunRecord& r : runs) {
    if (r.context.get("schedule").get("slot_ms").as_number() != static_cast<double>(last_slot)) continue;
    ++found;
    EXPECT_EQ(r.start_key, "schedule:catch_up:0:" + std::to_string(last_slot));
  }
  EXPECT_EQ(found, 1);
}

// The graph draws a step's fallback steps, named as their records' paths.
TEST_F(ServerTest, TheGraphDrawsFallbackStepsUnderTheirPaths) {
  const char* fallback = R"yaml(name: fallback
trigger: manual
defs:
  fetch:
    kind: task
    action: fail
    inputs: { message: down }
    settings:
      on_error:
        steps:
          - do: notify
  notify: { kind: task, action: log, inputs: { message: fetch failed } }
  after: { kind: task, action: log, inputs: { message: done } }
flow:
  - do: fetch
  - do: after
)yaml";
  ASSERT_EQ(Api("editor", "POST", "/api/v1/workflows?name=fallback", fallback).status, 201);
  const Value graph = Json(Api("viewer", "GET", "/api/v1/workflows/fallback")).get("graph");
  std::vector<std::string> edges;
  for (const Value& e : graph.get("edges").as_array()) {
    edges.push_back(e.get("from").as_string() + ">" + e.get("to").as_string() +
                    (e.get("label").is_string() ? " " + e.get("label").as_string() : ""));
  }
  EXPECT_EQ(edges, (std::vector<std::string>{"start>0", "0>0:fetch.fallback.0 on error", "0>1", "0:fetch.fallback.0>1",
                                             "1>end"}))
      << ToJson(graph);
  // A run's records name the same nodes.
  Value run = Json(Api("operator", "POST", "/api/v1/runs", R"({"workflow":"fallback","input":{},"wait_ms":5000})"));
  Value detail = Json(Api("viewer", "GET", "/api/v1/runs/" + run.get("run_id").as_string()));
  std::vector<std::string> paths;
  for (const Value& st : detail.get("steps").as_array()) paths.push_back(st.get("path").as_string());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "0:fetch.fallback.0:notify"), paths.end()) << ToJson(detail);
}

// The usage by day, workflow and model, and the workflows' daily budgets.
TEST_F(ServerTest, UsageIsListedByDayWorkflowAndModelWithBudgets) {
  const char* budgeted = R"yaml(name: budgeted
trigger: manual
defs:
  answer:
    kind: task
    action: generate_text
    inputs: { text: hi }
    settings: { template: "='hello'", budget: { per_workflow_day: 2, per_run: 0.5 } }
flow:
  - do: answer
)yaml";
  ASSERT_EQ(Api("editor", "POST", "/api/v1/workflows?name=budgeted", budgeted).status, 201);
  const std::time_t now = SystemClock::Instance().NowMillis() / 1000;
  std::tm tm{};
  gmtime_r(&now, &tm);
  char today[16];
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  store::Store& st = runtime_->store();
  const std::string day = today;
  ASSERT_TRUE(st.AddSpend({"usage:" + day + ":budgeted:gpt", "workflow:budgeted:" + day}, {0.5, 100, 20, 1}).ok());
  ASSERT_TRUE(st.AddSpend({"usage:" + day + ":triage:local"}, {0, 0, 0, 4}).ok());
  ASSERT_TRUE(st.AddSpend({"usage:2020-01-01:budgeted:gpt"}, {9, 9, 9, 9}).ok());

  Value recent = Json(Api("viewer", "GET", "/api/v1/usage/daily"));
  ASSERT_EQ(recent.get("rows").size(), 2u) << ToJson(recent);
  const Value first = recent.get("rows").as_array()[0];
  EXPECT_EQ(first.get("day").as_string(), day);
  EXPECT_EQ(first.get("workflow").as_string(), "budgeted");
  EXPECT_EQ(first.get("model").as_string(), "gpt");
  EXPECT_DOUBLE_EQ(first.get("cost").as_number(), 0.5);
  EXPECT_EQ(first.get("input_tokens").as_number(), 100);
  EXPECT_EQ(recent.get("rows").as_array()[1].get("calls").as_number(), 4);
  ASSERT_EQ(recent.get("budgets").size(), 1u) << ToJson(recent);
  EXPECT_EQ(recent.get("budgets").as_array()[0].get("per_workflow_day").as_number(), 2);
  EXPECT_DOUBLE_EQ(recent.get("budgets").as_array()[0].get("spent_today").as_number(), 0.5);

  Value old = Json(Api("viewer", "GET", "/api/v1/usage/daily?from=2020-01-01&to=2020-01-31&workflow=budgeted"));
  ASSERT_EQ(old.get("rows").size(), 1u);
  EXPECT_DOUBLE_EQ(old.get("rows").as_array()[0].get("cost").as_number(), 9);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/usage/daily?from=2020-02-01&to=2020-01-01").status, 400);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/usage/daily?from=yesterday").status, 400);
}

}  // namespace
}  // namespace weft::server

namespace weft::server {
namespace {

// Two servers on one PostgreSQL (as two processes behind a load balancer):
// a browser connected to either sees the runs the other executes, live.
TEST_F(ServerTest, ABrowserOnOneServerSeesWhatAnotherRuns) {
  if (PostgresUrl().empty()) GTEST_SKIP() << "needs the servers on PostgreSQL (WEFT_TEST_SERVER_POSTGRES)";
  runtime::RuntimeOptions ro;
  ro.db = PostgresUrl();
  ro.db_schema = Schema();
  ro.config_path = (dir_ / "weft.yaml").string();
  ro.threads = 2;
  ro.events = true;
  ro.data_dir = (dir_ / "data_b").string();
  std::unique_ptr<runtime::Runtime> other = runtime::Runtime::Open(ro).value();
  ServerOptions so;
  so.port = 0;
  so.watch_interval_ms = 0;
  so.data_dir = ro.data_dir;
  std::unique_ptr<Server> b = Server::Start(*other, so).value();
  const testing::Headers viewer = {{"Authorization", "Bearer " + keys_["viewer"]}};
  testing::SseClient on_b(b->port(), "/api/v1/events", viewer);
  ASSERT_EQ(on_b.status(), 200);

  // Started on the first server, where it runs until it waits for approval.
  HttpReply started =
      Api("operator", "POST", "/api/v1/runs", R"({"workflow":"review","input":{"amount":7},"wait_ms":5000})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string run_id = Json(started).get("run_id").as_string();
  bool saw_task = false;
  while (auto e = on_b.Next(5000)) {
    if (e->event == "task" && e->data.find(run_id) != std::string::npos) {
      saw_task = true;
      break;
    }
  }
  EXPECT_TRUE(saw_task) << "the approval the first server's run waits for, on the second's stream";

  // Approved through the second server: it continues the run there, and
  // the first server's stream shows it finish.
  testing::SseClient on_a(port(), "/api/v1/events", viewer);
  HttpCall(b->port(), "POST", "/api/v1/tasks/" + run_id + "/complete", R"({"payload":{"approved":true}})",
           {{"Authorization", "Bearer " + keys_["operator"]}, {"Content-Type", "application/json"}});
  bool saw_done = false;
  while (auto e = on_a.Next(5000)) {
    if (e->event == "run" && e->data.find(run_id) != std::string::npos &&
        e->data.find("\"completed\"") != std::string::npos) {
      saw_done = true;
      break;
    }
  }
  EXPECT_TRUE(saw_done) << "the run the second server finished, on the first's stream";
  b->Stop();
}

}  // namespace
}  // namespace weft::server

namespace weft::runtime {
namespace {

TEST(EventRelay, EventsTravelWholeOrAsAnOutlineWithinTheLimit) {
  engine::Event small;
  small.kind = engine::Event::Kind::kStep;
  small.run_id = "01R";
  small.workflow = "wf";
  small.data = *ParseJson(R"({"path":"0:a","status":"completed","output":{"x":[1,2]}})");
  std::optional<engine::Event> back = EventRelay::Decode(EventRelay::Encode(small));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->remote);
  EXPECT_EQ(back->kind, engine::Event::Kind::kStep);
  EXPECT_EQ(back->run_id, "01R");
  EXPECT_EQ(back->data, small.data);

  engine::Event big = small;
  big.data.set("output", std::string(20000, 'x'));
  const std::string text = EventRelay::Encode(big);
  EXPECT_LE(text.size(), store::Store::kMaxBroadcastBytes);
  back = EventRelay::Decode(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->data.get("path"), Value("0:a"));
  EXPECT_EQ(back->data.get("truncated"), Value(true));
  EXPECT_TRUE(back->data.get("output").is_undefined());

  big.data = Value::MakeObject();
  big.data.set("path", std::string(20000, 'p'));  // even the outline is too big
  EXPECT_LE(EventRelay::Encode(big).size(), store::Store::kMaxBroadcastBytes);
  for (const char* bad : {"", "[]", "{\"k\":\"nope\",\"r\":\"\",\"w\":\"\"}", "{\"k\":\"run\"}", "not json"}) {
    EXPECT_FALSE(EventRelay::Decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace weft::runtime

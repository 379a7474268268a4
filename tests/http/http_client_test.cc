// The curl client against a real server on loopback.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <vector>

#include "fake_http_server.h"
#include "weft/http/client.h"

namespace weft::http {
namespace {

namespace asio = boost::asio;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

// co_spawn needs a default-constructible result; Result has none.
asio::awaitable<void> SendInto(Client& client, Request req, std::optional<Result<Response>>& out) {
  out = co_await client.Send(std::move(req));
}

// Runs one request to completion on a fresh io_context.
Result<Response> SendOne(Client& client, Request req) {
  asio::io_context io;
  std::optional<Result<Response>> out;
  asio::co_spawn(io, SendInto(client, std::move(req), out), asio::detached);
  io.run();
  return out.has_value() ? *out : Result<Response>(InternalError("no result"));
}

Request Get(const std::string& url) {
  Request r;
  r.url = url;
  return r;
}

TEST(HttpClient, ExchangesMethodHeadersAndBodies) {
  FakeHttpServer server([](const FakeRequest& r) {
    FakeResponse out = FakeResponse::Json(R"({"method":")" + r.method + R"(","target":")" + r.target + R"(","auth":")" +
                                          r.header("authorization") + R"(","body":")" + r.body + R"("})");
    out.headers.emplace_back("X-Trace", "abc");
    return out;
  });
  auto client = NewCurlClient();
  Request post;
  post.method = "POST";
  post.url = server.url() + "/v1/things?q=1";
  post.headers.push_back({"Authorization", "Bearer k"});
  post.body = "hello";
  auto r = SendOne(*client, post);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"method":"POST","target":"/v1/things?q=1","auth":"Bearer k","body":"hello"})");
  EXPECT_EQ(r->header("x-trace"), "abc");
  EXPECT_EQ(r->header("content-type"), "application/json");

  auto g = SendOne(*client, Get(server.url() + "/x"));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->body, R"({"method":"GET","target":"/x","auth":"","body":""})");
}

TEST(HttpClient, AnyStatusIsAResponse) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse::Json(R"({"error":"slow down"})", 429); });
  auto client = NewCurlClient();
  auto r = SendOne(*client, Get(server.url()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 429);
}

TEST(HttpClient, ReusesConnectionsAndRunsManyAtOnce) {
  FakeHttpServer server([](const FakeRequest& r) { return FakeResponse::Json(r.body); });
  auto client = NewCurlClient();
  for (int i = 0; i < 20; ++i) {
    Request req = Get(server.url());
    req.method = "POST";
    req.body = std::to_string(i);
    auto r = SendOne(*client, req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1) << "sequential requests should share one kept-alive connection";

  // 200 concurrent requests from one thread: one client thread serves them.
  asio::io_context io;
  std::vector<std::optional<Result<Response>>> results(200);
  for (int i = 0; i < 200; ++i) {
    Request req = Get(server.url());
    req.method = "POST";
    req.body = std::to_string(i);
    asio::co_spawn(io, SendInto(*client, std::move(req), results[i]), asio::detached);
  }
  io.run();
  int ok = 0;
  for (int i = 0; i < 200; ++i) {
    if (results[i] && results[i]->ok() && (*results[i])->body == std::to_string(i)) ++ok;
  }
  EXPECT_EQ(ok, 200);
}

TEST(HttpClient, TimesOut) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse r = FakeResponse::Json("{}");
    r.delay_ms = 1500;
    return r;
  });
  auto client = NewCurlClient();
  Request req = Get(server.url());
  req.timeout_ms = 100;
  auto start = std::chrono::steady_clock::now();
  auto r = SendOne(*client, req);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(r.status().retryable());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
}

TEST(HttpClient, DroppedAndRefusedConnectionsAreUnavailable) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse r;
    r.drop = true;
    return r;
  });
  auto client = NewCurlClient();
  auto dropped = SendOne(*client, Get(server.url()));
  EXPECT_EQ(dropped.status().code(), StatusCode::kUnavailable) << dropped.status();

  int closed_port = 0;
  {
    FakeHttpServer gone([](const FakeRequest&) { return FakeResponse(); });
    closed_port = gone.port();
  }
  auto refused = SendOne(*client, Get("http://127.0.0.1:" + std::to_string(closed_port) + "/"));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status();
  EXPECT_NE(refused.status().message().find("127.0.0.1"), std::string::npos) << refused.status();
}

TEST(HttpClient, RefusesOversizedBodiesAndBadUrls) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse::Json(std::string(100000, 'x')); });
  auto client = NewCurlClient();
  Request req = Get(server.url());
  req.max_response_bytes = 1000;
  auto r = SendOne(*client, req);
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange) << r.status();

  EXPECT_EQ(SendOne(*client, Get("ftp://127.0.0.1/")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SendOne(*client, Get("not a url")).status().code(), StatusCode::kInvalidArgument);
  Request bad_header = Get(server.url());
  bad_header.headers.push_back({"X-Evil", "a\r\nInjected: 1"});
  EXPECT_EQ(SendOne(*client, bad_header).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClient, StreamsChunks) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse r;
    r.headers.emplace_back("Content-Type", "text/event-stream");
    r.chunks = {"data: one\n\n", "data: two\n\n", "data: [DONE]\n\n"};
    r.chunk_delay_ms = 20;
    return r;
  });
  auto client = NewCurlClient();
  std::string seen;
  int calls = 0;
  Request req = Get(server.url());
  req.on_body = [&](std::string_view chunk) {
    seen.append(chunk);
    ++calls;
  };
  auto r = SendOne(*client, req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seen, "data: one\n\ndata: two\n\ndata: [DONE]\n\n");
  EXPECT_GE(calls, 2) << "chunks arrive as they are sent";
  EXPECT_TRUE(r->body.empty());
}

TEST(HttpClient, CancellationAbortsTheTransfer) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse r = FakeResponse::Json("{}");
    r.delay_ms = 2000;
    return r;
  });
  auto client = NewCurlClient();
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<Result<Response>> got;
  asio::co_spawn(io, SendInto(*client, Get(server.url()), got),
                 asio::bind_cancellation_slot(signal.slot(), asio::detached));
  asio::steady_timer t(io, std::chrono::milliseconds(50));
  t.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
  auto start = std::chrono::steady_clock::now();
  io.run();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kCancelled) << got->status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(HttpClient, ReadsRetryAfter) {
  Response r;
  EXPECT_EQ(RetryAfterMillis(r, 0), -1);
  r.headers.push_back({"Retry-After", "2"});
  EXPECT_EQ(RetryAfterMillis(r, 0), 2000);
  r.headers[0].value = "0.5";
  EXPECT_EQ(RetryAfterMillis(r, 0), 500);
  r.headers[0].value = "Wed, 21 Oct 2015 07:28:00 GMT";
  const int64_t at = 1445412480000;
  EXPECT_EQ(RetryAfterMillis(r, at - 3000), 3000);
  EXPECT_EQ(RetryAfterMillis(r, at + 5000), 0);
  r.headers[0].value = "soon";
  EXPECT_EQ(RetryAfterMillis(r, 0), -1);
  // The server decides the number: beyond int64 it saturates (a cast would
  // be undefined behaviour).
  r.headers[0].value = "99999999999999999999999";
  EXPECT_EQ(RetryAfterMillis(r, 0), std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace weft::http

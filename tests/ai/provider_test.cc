// Provider clients and structured output against the fake provider server.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>

#include "fake_provider.h"
#include "weft/ai/provider.h"
#include "weft/ai/structured.h"
#include "weft/core/json.h"

namespace weft::ai {
namespace {

namespace asio = boost::asio;
using testing::FakeProvider;
using testing::ProviderCall;
using testing::ProviderReply;

template <typename T>
asio::awaitable<void> Into(asio::awaitable<T> a, std::optional<T>& out) {
  out = co_await std::move(a);
}

// Runs an awaitable to completion on a fresh io_context.
template <typename T>
T RunSync(asio::awaitable<T> a) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(io, Into(std::move(a), out), asio::detached);
  io.run();
  return std::move(*out);
}

class ProviderTest : public ::testing::Test {
 protected:
  std::unique_ptr<Provider> Make(const FakeProvider& fake, const std::string& kind, int retries = 3) {
    ProviderOptions o;
    o.base_url = fake.base_url();
    o.api_key = "sk-test";
    o.http = http_.get();
    o.max_retries = retries;
    o.backoff_ms = 10;
    return kind == "anthropic" ? NewAnthropicProvider(o) : NewOpenAiProvider(o);
  }
  static ModelRequest Ask(const std::string& text) {
    ModelRequest r;
    r.model = "m-1";
    r.messages = {{"system", "be brief"}, {"user", text}};
    r.temperature = 0.2;
    r.max_tokens = 50;
    return r;
  }
  std::unique_ptr<http::Client> http_ = http::NewCurlClient();
};

TEST_F(ProviderTest, OpenAiSendsTheRequestAndReadsTheAnswer) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text(R"({"label":"billing"})"); });
  auto p = Make(fake, "openai");
  ModelRequest req = Ask("charged twice");
  req.json_schema = *ParseJson(R"({"type":"object","properties":{"label":{"enum":["billing","bug"]}}})");
  auto r = RunSync(p->Complete(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, R"({"label":"billing"})");
  EXPECT_EQ(r->usage.input_tokens, 12);
  EXPECT_EQ(r->usage.output_tokens, 7);
  EXPECT_FALSE(r->usage.estimated);
  ASSERT_EQ(fake.call_count(), 1);
  ProviderCall call = fake.calls()[0];
  EXPECT_EQ(call.authorization, "Bearer sk-test");
  EXPECT_EQ(call.body.get("model"), Value("m-1"));
  EXPECT_EQ(call.LastUser(), "charged twice");
  EXPECT_EQ(call.body.get("max_tokens"), Value(50));
  EXPECT_EQ(call.body.get("response_format").get("type"), Value("json_schema"));
  EXPECT_EQ(call.body.get("response_format").get("json_schema").get("schema"), req.json_schema);
}

TEST_F(ProviderTest, JsonModeAndEstimatedUsage) {
  FakeProvider fake([](const ProviderCall&) {
    ProviderReply r = ProviderReply::Text("{\"a\":1}");
    r.usage = false;
    return r;
  });
  auto p = Make(fake, "openai");
  ModelRequest req = Ask("x");
  req.json_schema = *ParseJson(R"({"type":"object"})");
  req.json_mode = JsonMode::kObject;
  auto r = RunSync(p->Complete(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(fake.calls()[0].body.get("response_format").get("type"), Value("json_object"));
  EXPECT_TRUE(r->usage.estimated);
  EXPECT_GT(r->usage.input_tokens, 0);
  EXPECT_EQ(r->usage.output_tokens, 2);
}

TEST_F(ProviderTest, RetriesRateLimitsAfterRetryAfter) {
  FakeProvider fake(
      [](const ProviderCall& c) { return c.index == 0 ? ProviderReply::Status(429, "1") : ProviderReply::Text("ok"); });
  auto p = Make(fake, "openai");
  auto start = std::chrono::steady_clock::now();
  auto r = RunSync(p->Complete(Ask("x")));
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, "ok");
  EXPECT_EQ(r->exchanges, 2);
  EXPECT_GE(waited, std::chrono::milliseconds(990)) << "Retry-After: 1 was not honoured";
}

TEST_F(ProviderTest, RetriesOutagesButNotClientErrors) {
  FakeProvider fake([](const ProviderCall& c) {
    if (c.index == 0) return ProviderReply::Status(500);
    if (c.index == 1) {
      ProviderReply r;
      r.drop = true;
      return r;
    }
    if (c.index == 2) {
      ProviderReply r;
      r.malformed = true;
      r.status = 502;
      return r;
    }
    return ProviderReply::Text("fine");
  });
  auto p = Make(fake, "openai");
  auto r = RunSync(p->Complete(Ask("x")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(fake.call_count(), 4);
  // curl itself re-sends a request once when a reused connection turns out
  // dead, so the dropped one may not count as an exchange of ours.
  EXPECT_GE(r->exchanges, 3);

  FakeProvider dropping([](const ProviderCall&) {
    ProviderReply r;
    r.drop = true;
    return r;
  });
  auto dr = RunSync(Make(dropping, "openai", 1)->Complete(Ask("x")));
  EXPECT_EQ(dr.status().code(), StatusCode::kUnavailable) << dr.status();

  FakeProvider bad([](const ProviderCall&) { return ProviderReply::Status(400); });
  auto q = Make(bad, "openai");
  auto e = RunSync(q->Complete(Ask("x")));
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status();
  EXPECT_NE(e.status().message().find("scripted failure"), std::string::npos) << e.status();
  EXPECT_EQ(bad.call_count(), 1) << "a 400 is not retried";

  FakeProvider unauthorized([](const ProviderCall&) { return ProviderReply::Status(401); });
  auto u = RunSync(Make(unauthorized, "openai")->Complete(Ask("x")));
  EXPECT_EQ(u.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unauthorized.call_count(), 1);

  FakeProvider garbled([](const ProviderCall&) {
    ProviderReply r;
    r.malformed = true;
    return r;
  });
  auto g = RunSync(Make(garbled, "openai")->Complete(Ask("x")));
  EXPECT_EQ(g.status().code(), StatusCode::kUnavailable) << "a 200 that is not JSON";

  FakeProvider down([](const ProviderCall&) { return ProviderReply::Status(503); });
  auto d = RunSync(Make(down, "openai", 2)->Complete(Ask("x")));
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.call_count(), 3) << "one call and two retries";
}

TEST_F(ProviderTest, SlowAnswersTimeOut) {
  FakeProvider fake([](const ProviderCall&) {
    ProviderReply r = ProviderReply::Text("late");
    r.delay_ms = 800;
    return r;
  });
  auto p = Make(fake, "openai", 0);
  ModelRequest req = Ask("x");
  req.timeout_ms = 100;
  auto r = RunSync(p->Complete(req));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status();
}

TEST_F(ProviderTest, OpenAiStreams) {
  const std::string text = "Hello! Your refund is on its way.";
  FakeProvider fake([&](const ProviderCall&) { return ProviderReply::Text(text); });
  auto p = Make(fake, "openai");
  ModelRequest req = Ask("x");
  std::vector<std::string> deltas;
  req.on_text = [&](std::string_view d) { deltas.emplace_back(d); };
  auto r = RunSync(p->Complete(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->text, text);
  EXPECT_GT(deltas.size(), 2u);
  EXPECT_EQ(r->usage.output_tokens, 7);
  EXPECT_EQ(fake.calls()[0].body.get("stream"), Value(true));
}

TEST_F(ProviderTest, AnthropicUsesAToolForStructuredOutputAndStreamsText) {
  FakeProvider fake([](const ProviderCall&) { return ProviderReply::Text(R"({"label":"bug","confidence":0.8})"); });
  auto p = Make(fake, "anthropic");
  ModelRequest req = Ask("the app crashes");
  req.json_schema = *ParseJson(R"({"type":"object","required":["label"]})");
  auto r = RunSync(p->Complete(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*ParseJson(r->text), *ParseJson(R"({"label":"bug","confidence":0.8})"));
  ProviderCall call = fake.calls()[0];
  EXPECT_EQ(call.api, "anthropic");
  EXPECT_EQ(call.authorization, "sk-test");
  EXPECT_EQ(call.body.get("system"), Value("be brief"));
  EXPECT_EQ(call.body.get("tool_choice").get("name"), Value("answer"));
  EXPECT_EQ(call.body.get("tools").as_array()[0].get("input_schema"), req.json_schema);
  EXPECT_EQ(r->usage.input_tokens, 12);

  ModelRequest stream = Ask("hi");
  std::string seen;
  stream.on_text = [&](std::string_view d) { seen.append(d); };
  fake.set_script([](const ProviderCall&) { return ProviderReply::Text("Hi there, how can I help?"); });
  auto s = RunSync(p->Complete(stream));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->text, "Hi there, how can I help?");
  EXPECT_EQ(seen, s->text);
  EXPECT_EQ(s->usage.input_tokens, 12);
  EXPECT_EQ(s->usage.output_tokens, 7);
  EXPECT_EQ(s->finish_reason, "end_turn");
}

// Function calling, both APIs: tools offered, calls read back, and the
// conversation continued with the tools' results.
TEST_F(ProviderTest, ToolCallsRoundTrip) {
  for (const std::string api : {"openai", "anthropic"}) {
    SCOPED_TRACE(api);
    FakeProvider fake([](const ProviderCall& c) {
      if (c.index == 0) {
        ProviderReply r;
        r.tool_calls = {{"check_account", R"({"email":"ana@example.com"})"}};
        return r;
      }
      return ProviderReply::Text("Your account is on the pro plan.");
    });
    auto p = Make(fake, api);
    ModelRequest req = Ask("what plan am I on? ana@example.com");
    req.tools.push_back(
        {"check_account", "Looks up an account by email",
         *ParseJson(R"({"type":"object","required":["email"],"properties":{"email":{"type":"string"}}})")});
    auto first = RunSync(p->Complete(req));
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(first->tool_calls.size(), 1u);
    EXPECT_EQ(first->tool_calls[0].name, "check_account");
    EXPECT_EQ(first->tool_calls[0].arguments, *ParseJson(R"({"email":"ana@example.com"})"));
    EXPECT_FALSE(first->tool_calls[0].id.empty());
    // The request offered the tool in the API's own shape.
    const Value sent = fake.calls()[0].body.get("tools").as_array()[0];
    if (api == "openai") {
      EXPECT_EQ(sent.get("function").get("name"), Value("check_account"));
      EXPECT_EQ(fake.calls()[0].body.get("tool_choice"), Value("auto"));
    } else {
      EXPECT_EQ(sent.get("name"), Value("check_account"));
      EXPECT_TRUE(sent.get("input_schema").is_object());
    }
    // Continue with the result.
    req.messages.push_back({"assistant", "", first->tool_calls, ""});
    req.messages.push_back({"tool", R"({"plan":"pro"})", {}, first->tool_calls[0].id});
    auto second = RunSync(p->Complete(req));
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->text, "Your account is on the pro plan.");
    const Value messages = fake.calls()[1].body.get("messages");
    const std::string wire = ToJson(messages);
    EXPECT_NE(wire.find(first->tool_calls[0].id), std::string::npos) << wire;
    EXPECT_NE(wire.find("pro"), std::string::npos) << wire;
    if (api == "anthropic") {
      EXPECT_NE(wire.find("tool_result"), std::string::npos) << wire;
    }
  }
}

TEST(ExtractJson, FindsTheValueInTheAnswer) {
  EXPECT_EQ(*ExtractJson(R"( {"a":1} )"), *ParseJson(R"({"a":1})"));
  EXPECT_EQ(*ExtractJson("```json\n{\"a\": [1, 2]}\n```"), *ParseJson(R"({"a":[1,2]})"));
  EXPECT_EQ(*ExtractJson("Sure! Here it is: {\"a\": \"}\"} Hope that helps."), *ParseJson(R"({"a":"}"})"));
  EXPECT_FALSE(ExtractJson("I cannot help with that.").ok());
  EXPECT_FALSE(ExtractJson("{\"a\": ").ok());
  EXPECT_FALSE(ExtractJson("").ok());
}

TEST_F(ProviderTest, StructuredOutputRepairsOnceThenGivesUp) {
  const dsl::Schema schema = *dsl::Schema::Compile(*ParseJson(R"({"type":"object","required":["label"],
          "properties":{"label":{"enum":["billing","bug"]}}})"));
  FakeProvider fake([](const ProviderCall& c) {
    return c.index == 0 ? ProviderReply::Text("not json at all") : ProviderReply::Text(R"({"label":"bug"})");
  });
  auto p = Make(fake, "openai");
  StructuredOutcome ok = RunSync(CompleteStructured(*p, Ask("crash"), schema));
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.value, *ParseJson(R"({"label":"bug"})"));
  ASSERT_EQ(ok.attempts.size(), 2u);
  EXPECT_TRUE(ok.attempts.as_array()[0].get("error").is_string());
  EXPECT_EQ(ok.usage.input_tokens, 24);
  // The repair turn shows the model its answer and the error.
  ProviderCall repair = fake.calls()[1];
  EXPECT_NE(repair.LastUser().find("invalid"), std::string::npos) << repair.LastUser();

  fake.set_script([](const ProviderCall&) { return ProviderReply::Text(R"({"label":"refund"})"); });
  StructuredOutcome bad = RunSync(CompleteStructured(*p, Ask("crash"), schema));
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status.message().find("refund"), std::string::npos) << bad.status;
  EXPECT_TRUE(bad.value.is_undefined());
  EXPECT_EQ(bad.attempts.size(), 2u);
}

}  // namespace
}  // namespace weft::ai

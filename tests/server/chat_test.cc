// The chat channel through a real server: conversations over HTTP and
// WebSocket, messages routed to runs exactly once, handover to an agent,
// reconnection after a restart, and what bad input gets.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>

#include "server_fixture.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"

namespace weft {
// Values in failure messages as JSON.
inline void PrintTo(const Value& v, std::ostream* os) { *os << (v.is_undefined() ? "undefined" : ToJson(v)); }
}  // namespace weft

namespace weft::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

const char* const kEcho = R"yaml(name: echo
trigger:
  chat: { channel: support }
defs:
  greet: { kind: task, action: send_message, inputs: { text: "='You said: ' & $input.text" } }
  ask: { kind: task, action: await_user_input, inputs: { prompt: "more?" } }
  echo: { kind: task, action: send_message, inputs: { text: "='Then: ' & $output.ask.text" } }
flow:
  - do: greet
  - do: ask
  - do: echo
outputs:
  conversation: "=$context.chat.conversation"
  user: "=$context.chat.user.id"
)yaml";

const char* const kDesk = R"yaml(name: desk
trigger:
  chat: { channel: desk, identity_secret: SITE_KEY }
defs:
  hand: { kind: task, action: handover, inputs: { queue: billing, reason: asked for a person } }
  back: { kind: task, action: send_message, inputs: { text: The assistant is back. } }
flow:
  - do: hand
  - do: back
)yaml";

const char* const kEach = R"yaml(name: each
trigger:
  chat: { channel: each, per: message, max_message_kb: 1, max_upload_mb: 1 }
defs:
  say: { kind: task, action: send_message, inputs: { text: "='#' & $input.text" } }
flow:
  - do: say
)yaml";

// A WebSocket client that reads frames in the background of its own
// io_context and hands them out with a deadline.
class WsClient {
 public:
  // Connects and upgrades; returns the HTTP status of a refused upgrade
  // (101 when it succeeded).
  int Connect(int port, const std::string& target) {
    tcp::resolver resolver(ioc_);
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    websocket::response_type res;
    boost::system::error_code ec;
    ws_.handshake(res, "127.0.0.1", target, ec);
    if (ec) return res.result_int();
    ReadNext();
    return 101;
  }
  void Send(const std::string& text) {
    bool done = false;
    ws_.text(true);
    ws_.async_write(asio::buffer(text), [&](boost::system::error_code, size_t) { done = true; });
    while (!done && ioc_.run_one_for(std::chrono::seconds(5)) > 0) {
    }
  }
  void SendMessage(const std::string& id, const std::string& text) {
    Value m = Value::MakeObject();
    m.set("type", "message");
    m.set("id", id);
    m.set("text", text);
    Send(ToJson(m));
  }
  // The next frame (undefined when none came within `ms` or the server closed).
  Value Next(int ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (frames_.empty() && !closed_ && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_one_until(deadline);
    }
    if (frames_.empty()) return Value();
    Value v = frames_.front();
    frames_.pop_front();
    return v;
  }
  // The next frame of `type` (others skipped).
  Value NextOf(const std::string& type, int ms = 20000) {
    for (;;) {
      Value v = Next(ms);
      if (v.is_undefined() || v.get("type") == Value(type)) return v;
    }
  }
  // The next message frame's message.
  Value NextMessage(int ms = 20000) { return NextOf("message", ms).get("message"); }
  bool closed() const { return closed_; }

 private:
  void ReadNext() {
    ws_.async_read(buffer_, [this](boost::system::error_code ec, size_t) {
      if (ec) {
        closed_ = true;
        return;
      }
      Result<Value> v = ParseJson(beast::buffers_to_string(buffer_.data()));
      frames_.push_back(v.ok() ? *v : Value("not json"));
      buffer_.consume(buffer_.size());
      ReadNext();
    });
  }

  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  beast::flat_buffer buffer_;
  std::deque<Value> frames_;
  bool closed_ = false;
};

class ChatTest : public ServerTest {
 protected:
  void SetUp() override {
    setenv("WEFT_SECRET_SITE_KEY", "s1te", 1);
    ServerTest::SetUp();
    Write("echo.yaml", kEcho);
    Write("desk.yaml", kDesk);
    Write("each.yaml", kEach);
    server_->Rescan();
  }

  struct Conversation {
    std::string id;
    std::string token;
  };
  Conversation OpenConversation(const std::string& channel, const std::string& body = "{}") {
    HttpReply r =
        HttpCall(port(), "POST", "/chat/" + channel + "/conversations", body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    Value v = Json(r);
    return {v.get("conversation").is_string() ? v.get("conversation").as_string() : "",
            v.get("token").is_string() ? v.get("token").as_string() : ""};
  }
  HttpReply Say(const std::string& channel, const Conversation& c, const std::string& id, const std::string& text) {
    Value m = Value::MakeObject();
    m.set("id", id);
    m.set("text", text);
    return HttpCall(port(), "POST", "/chat/" + channel + "/messages", ToJson(m),
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + c.token}});
  }
  // The conversation's messages as "role: text" lines, after `after`.
  std::vector<std::string> Transcript(const std::string& channel, const Conversation& c, int64_t after = 0) {
    HttpReply r =
        HttpCall(port(), "GET", "/chat/" + channel + "/messages?after=" + std::to_string(after) + "&token=" + c.token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const Value list = Json(r).get("messages");
    if (!list.is_array()) return out;
    for (const Value& m : list.as_array()) {
      Value text = m.get("content").get("text");
      out.push_back(m.get("role").as_string() + ": " +
                    (text.is_string() ? text.as_string() : m.get("kind").as_string()));
    }
    return out;
  }
  // Waits until the conversation has `n` messages.
  std::vector<std::string> WaitTranscript(const std::string& channel, const Conversation& c, size_t n) {
    // Generous: under sanitizers the local classifier's first training
    // takes seconds.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<std::string> t;
    while (std::chrono::steady_clock::now() < deadline) {
      t = Transcript(channel, c);
      if (t.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return t;
  }
  std::vector<store::RunRecord> Runs(const std::string& workflow) {
    store::RunFilter f;
    f.workflow = workflow;
    return runtime_->store().ListRuns(f).value();
  }
  store::RunRecord WaitRun(const std::string& workflow, store::RunStatus status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<store::RunRecord> runs = Runs(workflow);
      if (!runs.empty() && runs.front().status == status) return runs.front();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no run of " << workflow << " reached the status";
    return {};
  }
};

// A workflow that waits for an order number (`expect`), on a channel
// whose `topic_change` is `mode`.
std::string OrdersWorkflow(const std::string& mode) {
  return "name: orders_" + mode + "\ntrigger:\n  chat: { channel: orders_" + mode + ", topic_change: " + mode + " }\n" +
         R"yaml(defs:
  greet: { kind: task, action: send_message, inputs: { text: "='Topic: ' & $input.text" } }
  ask:
    kind: task
    action: await_user_input
    inputs:
      prompt: Your order number?
      expect: { type: object, required: [text], properties: { text: { type: string, pattern: "^[0-9]+$" } } }
  done: { kind: task, action: send_message, inputs: { text: "='Order ' & $output.ask.text" } }
flow:
  - do: greet
  - do: ask
  - do: done
)yaml";
}

// The user changes topic while a run waits for a specific answer: each
// `topic_change` setting does what docs/server.md says.
TEST_F(ChatTest, AMessageThatDoesNotFitTheAwaitedAnswerIsANewTopicAsTheChannelSays) {
  for (const char* mode : {"deliver", "cancel", "park", "ask"}) {
    Write(std::string("orders_") + mode + ".yaml", OrdersWorkflow(mode));
  }
  server_->Rescan();
  const auto say_payload = [&](const std::string& channel, const Conversation& c, const std::string& id,
                               const std::string& title, const std::string& payload) {
    Value m = Value::MakeObject();
    m.set("id", id);
    m.set("text", title);
    m.set("payload", payload);
    return HttpCall(port(), "POST", "/chat/" + channel + "/messages", ToJson(m),
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + c.token}});
  };
  using Lines = std::vector<std::string>;
  // The workflow's runs once `n` of them have started and all have ended.
  const auto settled = [&](const std::string& workflow, size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<store::RunRecord> runs;
    for (;;) {
      runs = Runs(workflow);
      bool done = runs.size() >= n;
      for (const store::RunRecord& r : runs) done = done && store::IsTerminal(r.status);
      if (done || std::chrono::steady_clock::now() > deadline) return runs;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  {
    SCOPED_TRACE("deliver: the step takes it anyway");
    Conversation c = OpenConversation("orders_deliver");
    ASSERT_EQ(Say("orders_deliver", c, "1", "refund").status, 202);
    WaitRun("orders_deliver", store::RunStatus::kSuspended);
    ASSERT_EQ(Say("orders_deliver", c, "2", "opening hours?").status, 202);
    EXPECT_EQ(
        WaitTranscript("orders_deliver", c, 4),
        (Lines{"user: refund", "assistant: Topic: refund", "user: opening hours?", "assistant: Order opening hours?"}));
  }
  {
    SCOPED_TRACE("cancel: the waiting run is cancelled, a new one starts");
    Conversation c = OpenConversation("orders_cancel");
    ASSERT_EQ(Say("orders_cancel", c, "1", "refund").status, 202);
    WaitRun("orders_cancel", store::RunStatus::kSuspended);
    ASSERT_EQ(Say("orders_cancel", c, "2", "opening hours?").status, 202);
    WaitTranscript("orders_cancel", c, 4);
    ASSERT_EQ(Say("orders_cancel", c, "3", "42").status, 202);
    EXPECT_EQ(WaitTranscript("orders_cancel", c, 6),
              (Lines{"user: refund", "assistant: Topic: refund", "user: opening hours?",
                     "assistant: Topic: opening hours?", "user: 42", "assistant: Order 42"}));
    std::vector<store::RunRecord> runs = settled("orders_cancel", 2);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].status, store::RunStatus::kCompleted);  // newest first
    EXPECT_EQ(runs[1].status, store::RunStatus::kCancelled);
  }
  {
    SCOPED_TRACE("park: a new run, then back to the parked one");
    Conversation c = OpenConversation("orders_park");
    ASSERT_EQ(Say("orders_park", c, "1", "refund").status, 202);
    WaitRun("orders_park", store::RunStatus::kSuspended);
    ASSERT_EQ(Say("orders_park", c, "2", "opening hours?").status, 202);
    WaitTranscript("orders_park", c, 4);
    ASSERT_EQ(Say("orders_park", c, "3", "7").status, 202);
    EXPECT_EQ(
        WaitTranscript("orders_park", c, 7),
        (Lines{"user: refund", "assistant: Topic: refund", "user: opening hours?", "assistant: Topic: opening hours?",
               "user: 7", "assistant: Order 7", "assistant: Back to your earlier question: Your order number?"}));
    ASSERT_EQ(Say("orders_park", c, "4", "42").status, 202);
    EXPECT_EQ(WaitTranscript("orders_park", c, 9).back(), "assistant: Order 42");
    std::vector<store::RunRecord> runs = settled("orders_park", 2);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].status, store::RunStatus::kCompleted);
    EXPECT_EQ(runs[1].status, store::RunStatus::kCompleted);
  }
  {
    SCOPED_TRACE("ask: the user says whether it is a new question");
    Conversation c = OpenConversation("orders_ask");
    ASSERT_EQ(Say("orders_ask", c, "1", "refund").status, 202);
    WaitRun("orders_ask", store::RunStatus::kSuspended);
    ASSERT_EQ(Say("orders_ask", c, "2", "opening hours?").status, 202);
    EXPECT_EQ(WaitTranscript("orders_ask", c, 4).back(),
              "assistant: Is this a new question, or about what we were discussing?");
    ASSERT_EQ(say_payload("orders_ask", c, "3", "Continue", "weft:topic:continue").status, 202);
    EXPECT_EQ(WaitTranscript("orders_ask", c, 6).back(),
              "assistant: Back to your earlier question: Your order number?");
    ASSERT_EQ(Say("orders_ask", c, "4", "where is my parcel").status, 202);
    WaitTranscript("orders_ask", c, 8);
    ASSERT_EQ(say_payload("orders_ask", c, "5", "New question", "weft:topic:new").status, 202);
    EXPECT_EQ(WaitTranscript("orders_ask", c, 10).back(), "assistant: Topic: where is my parcel");
    std::vector<store::RunRecord> runs = Runs("orders_ask");
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[1].status, store::RunStatus::kCancelled);
    // An answer that fits goes to the step as usual.
    ASSERT_EQ(Say("orders_ask", c, "6", "42").status, 202);
    EXPECT_EQ(WaitTranscript("orders_ask", c, 12).back(), "assistant: Order 42");
  }
}

// Files attached to messages: kept once, typed by content, reachable from
// their own conversation only (and by the console's users), handed to runs.
TEST_F(ChatTest, AttachmentsAreUploadedSentAndReadBackByTheirConversationOnly) {
  Conversation c = OpenConversation("support");
  Conversation other = OpenConversation("support");
  const auto upload = [&](const Conversation& to, const std::string& channel, const std::string& name,
                          const std::string& body) {
    return HttpCall(port(), "POST", "/chat/" + channel + "/uploads?name=" + name, body,
                    {{"Content-Type", "application/octet-stream"}, {"Authorization", "Bearer " + to.token}});
  };
  HttpReply up = upload(c, "support", "receipt.txt", "Order 42, paid twice.\n");
  ASSERT_EQ(up.status, 201) << up.body;
  const Value file = Json(up);
  EXPECT_EQ(file.get("name").as_string(), "receipt.txt");
  EXPECT_EQ(file.get("type").as_string(), "text/plain");
  EXPECT_EQ(file.get("size").as_number(), 22);
  const std::string id = file.get("id").as_string();

  // Sent with a message: the run gets what the server kept.
  Value m = Value::MakeObject();
  m.set("id", "f1");
  m.set("text", "here is the receipt");
  Value list = Value::MakeArray();
  Value ref = Value::MakeObject();
  ref.set("id", id);
  ref.set("name", "forged.exe");  // the client's say is ignored
  list.push_back(ref);
  m.set("attachments", list);
  const testing::Headers as_c = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + c.token}};
  ASSERT_EQ(HttpCall(port(), "POST", "/chat/support/messages", ToJson(m), as_c).status, 202);
  store::RunRecord run = WaitRun("echo", store::RunStatus::kSuspended);
  const Value attached = run.input.get("attachments");
  ASSERT_EQ(attached.size(), 1u) << ToJson(run.input);
  EXPECT_EQ(attached.as_array()[0].get("name").as_string(), "receipt.txt");
  EXPECT_EQ(attached.as_array()[0].get("id").as_string(), id);

  // Read back by its conversation, as a download; not by another one.
  HttpReply got = HttpCall(port(), "GET", "/chat/support/uploads/" + id + "?token=" + c.token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "Order 42, paid twice.\n");
  EXPECT_EQ(got.header("content-disposition"), "attachment; filename=\"receipt.txt\"");
  EXPECT_EQ(HttpCall(port(), "GET", "/chat/support/uploads/" + id + "?token=" + other.token).status, 404);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/conversations/" + c.id + "/uploads/" + id).status, 200);
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/conversations/" + other.id + "/uploads/" + id).status, 404);

  // Another conversation cannot attach it; bad uploads say what is wrong.
  m.set("id", "f2");
  const testing::Headers as_other = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + other.token}};
  HttpReply stolen = HttpCall(port(), "POST", "/chat/support/messages", ToJson(m), as_other);
  EXPECT_EQ(stolen.status, 404) << stolen.body;
  EXPECT_EQ(upload(c, "support", "a%2Fb.txt", "x").status, 400);
  EXPECT_EQ(upload(c, "support", "empty.txt", "").status, 400);
  EXPECT_EQ(HttpCall(port(), "POST", "/chat/support/uploads?name=x", "x").status, 401);
  Conversation e = OpenConversation("each");
  HttpReply big = upload(e, "each", "big.bin", std::string((1 << 20) + 1, 'a'));
  EXPECT_EQ(big.status, 413) << big.body;
}

TEST_F(ChatTest, AConversationOverHttpStartsOneRunAndAnswersItsQuestion) {
  Conversation c = OpenConversation("support");
  ASSERT_FALSE(c.token.empty());
  HttpReply first = Say("support", c, "m1", "hello");
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(Json(first).get("seq"), Value(1.0));
  EXPECT_EQ(WaitTranscript("support", c, 2), (std::vector<std::string>{"user: hello", "assistant: You said: hello"}));
  WaitRun("echo", store::RunStatus::kSuspended);

  // Sent again (a client that did not see the answer): stored once, no new run.
  HttpReply again = Say("support", c, "m1", "hello");
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(Json(again).get("seq"), Value(1.0));
  EXPECT_EQ(Runs("echo").size(), 1u);

  ASSERT_EQ(Say("support", c, "m2", "and more").status, 202);
  EXPECT_EQ(WaitTranscript("support", c, 4), (std::vector<std::string>{"user: hello", "assistant: You said: hello",
                                                                       "user: and more", "assistant: Then: and more"}));
  store::RunRecord run = WaitRun("echo", store::RunStatus::kCompleted);
  EXPECT_EQ(run.outputs.get("conversation"), Value(c.id));
  EXPECT_EQ(run.trigger, "chat");
  EXPECT_EQ(Runs("echo").size(), 1u);

  // The next message starts the conversation's next run.
  ASSERT_EQ(Say("support", c, "m3", "hi again").status, 202);
  EXPECT_EQ(WaitTranscript("support", c, 6).back(), "assistant: You said: hi again");
  EXPECT_EQ(Runs("echo").size(), 2u);
  // Only what comes after a seq, for a client catching up.
  const Value all = Json(HttpCall(port(), "GET", "/chat/support/messages?token=" + c.token)).get("messages");
  ASSERT_EQ(all.size(), 6u);
  const auto fourth = static_cast<int64_t>(all.as_array()[3].get("seq").as_number());
  EXPECT_EQ(Transcript("support", c, fourth),
            (std::vector<std::string>{"user: hi again", "assistant: You said: hi again"}));
}

TEST_F(ChatTest, AWebSocketSeesAcknowledgementsRepliesAndResumesAfterARestart) {
  Conversation c = OpenConversation("support");
  int64_t last_seq = 0;
  {
    WsClient ws;
    ASSERT_EQ(ws.Connect(port(), "/chat/support?token=" + c.token), 101);
    Value ready = ws.Next();
    EXPECT_EQ(ready.get("type"), Value("ready"));
    EXPECT_EQ(ready.get("conversation"), Value(c.id));
    ws.SendMessage("a1", "hello");
    // The acknowledgement, its own message (for the visitor's other tabs)
    // and the reply, in the order they happen to be ready.
    Value ack, mine, reply;
    for (int i = 0; i < 10 && (ack.is_undefined() || mine.is_undefined() || reply.is_undefined()); ++i) {
      Value f = ws.Next();
      if (f.get("type") == Value("ack")) ack = f;
      if (f.get("type") == Value("message")) (mine.is_undefined() ? mine : reply) = f.get("message");
    }
    EXPECT_EQ(ack.get("id"), Value("a1"));
    EXPECT_EQ(ack.get("seq"), Value(1.0));
    EXPECT_EQ(mine.get("role"), Value("user"));
    EXPECT_EQ(mine.get("content").get("id"), Value("a1"));
    EXPECT_EQ(reply.get("role"), Value("assistant"));
    EXPECT_EQ(reply.get("content").get("text"), Value("You said: hello"));
    last_seq = static_cast<int64_t>(reply.get("seq").as_number());
    // A frame that is not JSON, and one of no known type, get errors; the
    // connection stays.
    ws.Send("{oops");
    EXPECT_EQ(ws.NextOf("error").get("error").get("code"), Value("INVALID_ARGUMENT"));
    ws.Send(R"({"type":"shout","id":"x"})");
    Value unknown = ws.NextOf("error");
    EXPECT_EQ(unknown.get("id"), Value("x"));
    ws.Send(R"({"type":"ping"})");
    EXPECT_EQ(ws.NextOf("pong").get("type"), Value("pong"));
  }
  // The server restarts; the client reconnects with the last seq it saw and
  // gets only what is newer.
  Open();
  ASSERT_EQ(Say("support", c, "h2", "from another tab").status, 202);
  WaitTranscript("support", c, 4);
  WsClient ws;
  ASSERT_EQ(ws.Connect(port(), "/chat/support?after=" + std::to_string(last_seq) + "&token=" + c.token), 101);
  EXPECT_EQ(ws.Next().get("type"), Value("ready"));
  Value m = ws.NextMessage();
  EXPECT_EQ(m.get("seq"), Value(static_cast<double>(last_seq + 1)));
  EXPECT_EQ(m.get("content").get("text"), Value("from another tab"));
  EXPECT_EQ(ws.NextMessage().get("content").get("text"), Value("Then: from another tab"));
  EXPECT_TRUE(ws.NextMessage(300).is_undefined());  // nothing twice
}

TEST_F(ChatTest, AHandedOverConversationIsAnsweredByAnAgentUntilHandedBack) {
  const std::string id = "visitor-7";
  const std::string signature = HexEncode(Hmac("s1te", id));
  Conversation c =
      OpenConversation("desk", R"({"user":{"id":"visitor-7","name":"Ada","signature":")" + signature + "\"}}");
  WsClient ws;
  ASSERT_EQ(ws.Connect(port(), "/chat/desk?token=" + c.token), 101);
  ASSERT_EQ(Say("desk", c, "d1", "I want a person").status, 202);
  Value handover = ws.NextMessage();  // its own message first
  handover = ws.NextMessage();
  EXPECT_EQ(handover.get("kind"), Value("handover"));
  store::RunRecord run = WaitRun("desk", store::RunStatus::kSuspended);
  EXPECT_EQ(run.context.get("chat").get("user").get("name"), Value("Ada"));

  // While a person has it, the visitor's messages are for that person.
  ASSERT_EQ(Say("desk", c, "d2", "hello? anyone?").status, 202);
  EXPECT_EQ(ws.NextMessage().get("content").get("text"), Value("hello? anyone?"));
  EXPECT_EQ(Runs("desk").size(), 1u);
  EXPECT_EQ(Api("viewer", "POST", "/api/v1/conversations/" + c.id + "/messages", R"({"text":"hi"})").status, 403);
  HttpReply agent =
      Api("operator", "POST", "/api/v1/conversations/" + c.id + "/messages", R"({"text":"Hi, I am here"})");
  ASSERT_EQ(agent.status, 201) << agent.body;
  Value said = ws.NextMessage();
  EXPECT_EQ(said.get("role"), Value("agent"));
  EXPECT_EQ(said.get("content").get("text"), Value("Hi, I am here"));

  // Handed back: the workflow goes on, and agents may no longer write.
  HttpReply done = Api("operator", "POST", "/api/v1/runs/" + run.id + "/resume", R"({"payload":{}})");
  ASSERT_EQ(done.status, 202) << done.body;
  EXPECT_EQ(ws.NextMessage().get("content").get("text"), Value("The assistant is back."));
  WaitRun("desk", store::RunStatus::kCompleted);
  EXPECT_EQ(Api("operator", "POST", "/api/v1/conversations/" + c.id + "/messages", R"({"text":"late"})").status, 409);
}

TEST_F(ChatTest, PerMessageChannelsStartARunForEachMessage) {
  Conversation c = OpenConversation("each");
  ASSERT_EQ(Say("each", c, "1", "one").status, 202);
  ASSERT_EQ(Say("each", c, "2", "two").status, 202);
  std::vector<std::string> t = WaitTranscript("each", c, 4);
  EXPECT_EQ(std::count(t.begin(), t.end(), "assistant: #one"), 1);
  EXPECT_EQ(std::count(t.begin(), t.end(), "assistant: #two"), 1);
  EXPECT_EQ(Runs("each").size(), 2u);
}

TEST_F(ChatTest, BadRequestsAreRefusedAndNameTheProblem) {
  Conversation c = OpenConversation("support");
  Conversation other = OpenConversation("each");
  struct Case {
    std::string name, channel, token, body;
    int status;
    std::string says;
  } cases[] = {
      {"no token", "support", "", R"({"id":"1","text":"x"})", 401, "token"},
      {"forged token", "support", c.token + "x", R"({"id":"1","text":"x"})", 401, "not valid"},
      {"another channel's token", "support", other.token, R"({"id":"1","text":"x"})", 401, "not valid"},
      {"unknown channel", "nowhere", c.token, R"({"id":"1","text":"x"})", 404, "no chat channel"},
      {"no id", "support", c.token, R"({"text":"x"})", 400, "'id'"},
      {"no text", "support", c.token, R"({"id":"1"})", 400, "'text'"},
      {"text not a string", "support", c.token, R"({"id":"1","text":5})", 400, "'text' must be a string"},
      {"not JSON", "support", c.token, "{", 400, ""},
      {"too long", "each", other.token, R"({"id":"1","text":")" + std::string(2000, 'a') + "\"}", 400, "1024"},
  };
  for (const Case& k : cases) {
    testing::Headers h = {{"Content-Type", "application/json"}};
    if (!k.token.empty()) h.emplace_back("Authorization", "Bearer " + k.token);
    HttpReply r = HttpCall(port(), "POST", "/chat/" + k.channel + "/messages", k.body, h);
    EXPECT_EQ(r.status, k.status) << k.name << ": " << r.body;
    EXPECT_NE(r.body.find(k.says), std::string::npos) << k.name << ": " << r.body;
  }
  EXPECT_EQ(Transcript("support", c).size(), 0u);
  // A signed identity on a channel without a secret, and a wrong signature.
  EXPECT_EQ(HttpCall(port(), "POST", "/chat/support/conversations", R"({"user":{"id":"u","signature":"00"}})").status,
            400);
  EXPECT_EQ(HttpCall(port(), "POST", "/chat/desk/conversations", R"({"user":{"id":"u","signature":"00"}})").status,
            401);
  // The WebSocket route wants an upgrade; a bad token gets no socket.
  EXPECT_EQ(HttpCall(port(), "GET", "/chat/support?token=" + c.token).status, 426);
  WsClient ws;
  EXPECT_EQ(ws.Connect(port(), "/chat/support?token=nope"), 401);
  // A conversation that sends too fast is slowed down (burst of 10).
  int limited = 0;
  for (int i = 0; i < 15; ++i) limited += Say("each", other, "r" + std::to_string(i), "x").status == 429 ? 1 : 0;
  EXPECT_GE(limited, 3);
  // Conversations are rows in the store: an address may not open them
  // without end (bursts of 20).
  int refused = 0;
  for (int i = 0; i < 30; ++i) {
    refused += HttpCall(port(), "POST", "/chat/support/conversations", "{}").status == 429 ? 1 : 0;
  }
  EXPECT_GE(refused, 5);
}

TEST_F(ChatTest, AResumeInterruptedByACrashIsFinishedOnceAfterTheRestart) {
  Conversation c = OpenConversation("support");
  ASSERT_EQ(Say("support", c, "m1", "hello").status, 202);
  store::RunRecord run = WaitRun("echo", store::RunStatus::kSuspended);
  // As a crash leaves it: the visitor's answer stored and marked pending
  // for the waiting step, the run not resumed yet.
  store::Store& st = runtime_->store();
  store::MessageRecord m;
  m.conversation = c.id;
  m.key = "user:m2";
  m.role = "user";
  m.kind = "text";
  m.content = ParseJson(R"({"id":"m2","text":"answer"})").value();
  const int64_t seq = st.AppendMessage(m).value().seq;
  Value state = ParseJson(st.GetState("chat:" + c.id).value().value()).value();
  Value pending = Value::MakeObject();
  pending.set("seq", static_cast<double>(seq));
  pending.set("path", run.wait.get("path"));
  state.set("pending", pending);
  state.set("delivered", static_cast<double>(seq));
  ASSERT_TRUE(st.PutState("chat:" + c.id, ToJson(state)).ok());
  Open();
  // The next thing the conversation hears finishes the interrupted resume
  // (once), then the new message starts the next run.
  ASSERT_EQ(Say("support", c, "m3", "new topic").status, 202);
  std::vector<std::string> t = WaitTranscript("support", c, 6);
  EXPECT_EQ(std::count(t.begin(), t.end(), "assistant: Then: answer"), 1) << ::testing::PrintToString(t);
  EXPECT_EQ(std::count(t.begin(), t.end(), "assistant: You said: new topic"), 1) << ::testing::PrintToString(t);
  EXPECT_EQ(Runs("echo").size(), 2u);
}

TEST_F(ChatTest, AMessageStoredJustBeforeACrashIsHandedOnWhenTheVisitorReconnects) {
  Conversation c = OpenConversation("support");
  store::MessageRecord m;
  m.conversation = c.id;
  m.key = "user:l1";
  m.role = "user";
  m.kind = "text";
  m.content = ParseJson(R"({"id":"l1","text":"lost?"})").value();
  ASSERT_TRUE(runtime_->store().AppendMessage(m).ok());
  Open();
  WsClient ws;
  ASSERT_EQ(ws.Connect(port(), "/chat/support?token=" + c.token), 101);
  EXPECT_EQ(ws.NextMessage().get("content").get("text"), Value("lost?"));
  EXPECT_EQ(ws.NextMessage().get("content").get("text"), Value("You said: lost?"));
  EXPECT_EQ(Runs("echo").size(), 1u);
}

TEST_F(ChatTest, TheWidgetAndItsDemoPageAreServedAndOtherSitesMayCall) {
  HttpReply js = HttpCall(port(), "GET", "/widget.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("data-channel"), std::string::npos);  // the bundle, not a placeholder
  EXPECT_EQ(HttpCall(port(), "GET", "/widget.js", "", {{"If-None-Match", js.header("etag")}}).status, 304);
  HttpReply demo = HttpCall(port(), "GET", "/demo/support");
  ASSERT_EQ(demo.status, 200);
  EXPECT_NE(demo.body.find(R"(<script src="/widget.js" data-channel="support")"), std::string::npos);
  EXPECT_EQ(HttpCall(port(), "GET", "/demo/nowhere").status, 404);
  // A page on another origin: the preflight and the answers allow it.
  HttpReply pre = HttpCall(port(), "OPTIONS", "/chat/support/messages", "", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "*");
  EXPECT_NE(pre.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  HttpReply open = HttpCall(port(), "POST", "/chat/support/conversations", "{}", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(open.status, 201);
  EXPECT_EQ(open.header("access-control-allow-origin"), "*");
  // The API stays same-origin.
  EXPECT_EQ(Api("viewer", "GET", "/api/v1/runs").header("access-control-allow-origin"), "");
}

// The README's example behind the chat channel, on the local classifier:
// an answer for a simple question, a person for an urgent one.
TEST_F(ChatTest, TheSupportTriageExampleAnswersOrHandsOverInAChat) {
  // The echo workflow gives the channel up in its next version.
  std::string echo = kEcho;
  echo.replace(echo.find("channel: support"), 16, "channel: echoes");
  Write("echo.yaml", echo);
  fs::copy_file(fs::path(WEFT_SOURCE_DIR) / "examples" / "support-triage.yaml", dir_ / "workflows" / "triage.yaml",
                fs::copy_options::overwrite_existing);
  Open();
  Conversation simple = OpenConversation("support");
  ASSERT_EQ(Say("support", simple, "q1", "Where can I download my invoices for taxes?").status, 202);
  std::vector<std::string> t = WaitTranscript("support", simple, 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1], "assistant: Thanks for reaching out about your billing question. We will get back to you shortly.");
  Conversation urgent = OpenConversation("support");
  ASSERT_EQ(Say("support", urgent, "q1", "I was charged twice and nobody answered").status, 202);
  t = WaitTranscript("support", urgent, 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1], "assistant: handover");
  store::RunRecord run = WaitRun("support-triage", store::RunStatus::kSuspended);
  EXPECT_EQ(run.input.get("message"), Value("I was charged twice and nobody answered"));  // the trigger's `input`
}

}  // namespace
}  // namespace weft::server

// The chat channel (/chat/<channel>): conversations between a site's
// visitors and the workflow whose `chat` trigger serves the channel.
//
// A conversation is opened with POST /chat/<channel>/conversations, which
// answers its id and a signed token. The visitor's messages (WebSocket, or
// POST .../messages) go into the conversation log first, keyed by the
// client's message id, so sending one again after a reconnect stores
// nothing twice; then the conversation's router hands them to runs, one at a
// time: the first starts a run, the next ones answer its `await_user_input`
// steps, and while a person has the conversation (a handover) they are for
// that person. What runs say (send_message, handover), what agents write
// and what the visitor wrote reach every live connection of the
// conversation as events; a client reconnecting with the last seq it saw
// gets the rest from the log, so nothing is lost or shown twice, also
// across a restart.
//
// Where each message went is kept per conversation in the store
// ("chat:<conversation>": {channel, user, run, delivered, pending}). A
// message is marked `pending` with the path of the step it answers before
// the run is resumed: after a crash between the two, the router sees
// whether the run still waits at that path and resumes it then, so a
// message is delivered exactly once.
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <unordered_map>

#include "server_impl.h"
#include "sse.h"
#include "weft/core/clock.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/core/log.h"
#include "weft/core/utf8.h"
#include "weft/dsl/schema.h"
#include "weft/engine/events.h"
#include "weft/files/files.h"
#include "weft/store/record_json.h"

namespace weft::server {

namespace {

// A frame for a live connection; `seq` > 0 for a message of the log (a
// connection skips those it sent from the backlog already).
struct Outgoing {
  int64_t seq = 0;
  std::string frame;
};
using OutChannel = asio::experimental::concurrent_channel<void(boost::system::error_code, Outgoing)>;
constexpr size_t kQueue = 256;  // frames a slow client may fall behind by before it is dropped
// The payloads of the quick replies that answer "is this a new question?".
constexpr const char* kTopicNew = "weft:topic:new";
constexpr const char* kTopicContinue = "weft:topic:continue";
constexpr int kBacklog = 500;          // messages sent on (re)connection at most
constexpr size_t kMaxClientId = 100;   // a message id's length
constexpr size_t kMaxAttachments = 5;  // files on one message
constexpr size_t kMaxFileName = 200;

// Where the conversation keeps what it was sent: an upload belongs to the
// conversation it was sent in, and only that conversation's messages (and
// the people who may see it) reach it.
std::string UploadKey(const std::string& conversation, const std::string& id) {
  return "chat-upload:" + conversation + ":" + id;
}

std::string StateKey(const std::string& conversation) { return "chat:" + conversation; }

int64_t NowMs() { return SystemClock::Instance().NowMillis(); }

Value TypeFrame(const char* type) {
  Value o = Value::MakeObject();
  o.set("type", type);
  return o;
}

}  // namespace

class ChatHub : public std::enable_shared_from_this<ChatHub> {
 public:
  explicit ChatHub(Server::Impl& s) : s_(s) {}

  // Live connections of a conversation.
  uint64_t Subscribe(const std::string& conversation, std::shared_ptr<OutChannel> channel) {
    MutexLock lock(mu_);
    const uint64_t id = next_subscription_++;
    subscribers_.emplace(conversation, std::make_pair(id, std::move(channel)));
    return id;
  }
  void Unsubscribe(const std::string& conversation, uint64_t id) {
    MutexLock lock(mu_);
    auto [from, to] = subscribers_.equal_range(conversation);
    for (auto it = from; it != to; ++it) {
      if (it->second.first == id) {
        subscribers_.erase(it);
        return;
      }
    }
  }

  // To every live connection of the conversation. One that has fallen too
  // far behind is closed: it reconnects and reads the log.
  void Send(const std::string& conversation, const Outgoing& out) {
    std::vector<std::shared_ptr<OutChannel>> to;
    {
      MutexLock lock(mu_);
      auto [from, end] = subscribers_.equal_range(conversation);
      for (auto it = from; it != end; ++it) to.push_back(it->second.second);
    }
    for (const auto& c : to) {
      if (!c->try_send(boost::system::error_code{}, out)) c->close();
    }
  }
  void Typing(const std::string& conversation, bool on) {
    Value t = TypeFrame("typing");
    t.set("on", on);
    Send(conversation, {0, ToJson(t)});
  }

  void NoteRun(const std::string& run_id, const std::string& conversation) {
    MutexLock lock(mu_);
    runs_[run_id] = conversation;
  }
  std::string ConversationOf(const std::string& run_id) {
    MutexLock lock(mu_);
    auto it = runs_.find(run_id);
    return it == runs_.end() ? std::string() : it->second;
  }
  void ForgetRun(const std::string& run_id) {
    MutexLock lock(mu_);
    runs_.erase(run_id);
  }

  // From the engine's event log (on any thread): keep it short.
  void OnEvent(const engine::Event& e) {
    switch (e.kind) {
      case engine::Event::Kind::kMessage: {
        const Value conversation = e.data.get("conversation");
        if (!conversation.is_string()) return;
        const std::string& conv = conversation.as_string();
        if (!e.run_id.empty()) NoteRun(e.run_id, conv);
        Value frame = TypeFrame("message");
        frame.set("message", Public(e.data));
        const Value seq = e.data.get("seq");
        Send(conv, {seq.is_number() ? static_cast<int64_t>(seq.as_number()) : 0, ToJson(frame)});
        if (e.data.get("role") != Value("user")) Typing(conv, false);
        return;
      }
      case engine::Event::Kind::kDelta: {
        const std::string conv = ConversationOf(e.run_id);
        if (conv.empty()) return;
        Value frame = TypeFrame("delta");
        frame.set("run_id", e.run_id);
        frame.set("path", e.data.get("path"));
        frame.set("delta", e.data.get("delta"));
        Send(conv, {0, ToJson(frame)});
        return;
      }
      case engine::Event::Kind::kTask: {
        if (e.data.get("kind") != Value("user_input")) return;
        const std::string conv = ConversationOf(e.run_id);
        if (!conv.empty()) Typing(conv, false);
        DeliverLater(conv, e.run_id);
        return;
      }
      case engine::Event::Kind::kRun: {
        const Value status = e.data.get("status");
        if (status != Value("completed") && status != Value("failed") && status != Value("cancelled")) return;
        const std::string conv = ConversationOf(e.run_id);
        if (conv.empty()) return;
        Typing(conv, false);
        ForgetRun(e.run_id);
        DeliverLater(conv, "");
        return;
      }
      case engine::Event::Kind::kStep: return;
    }
  }

  // Routes the conversation's next messages on the blocking pool. With an
  // unknown conversation, `run_id`'s context says which it is (a run this
  // process did not start, after a restart).
  void DeliverLater(const std::string& conversation, const std::string& run_id) {
    if (conversation.empty() && run_id.empty()) return;
    // Under the lock Stop takes: once Stop returns, nothing posts to the
    // pool the server is about to join and destroy (an engine thread may
    // still be publishing an event as the server shuts down).
    MutexLock lock(stop_mu_);
    if (stopped_) return;
    asio::post(s_.blocking, [self = shared_from_this(), conversation, run_id] {
      std::string conv = conversation;
      if (conv.empty()) {
        Result<store::RunRecord> run = self->s_.store.GetRun(run_id);
        if (!run.ok()) return;
        const Value c = run->context.get("chat").get("conversation");
        if (!c.is_string()) return;  // not a chat's run
        conv = c.as_string();
        self->NoteRun(run_id, conv);
      }
      Status st = self->Deliver(conv);
      if (!st.ok()) Log(LogLevel::kWarning, "chat conversation " + conv + ": " + st.ToString());
    });
  }

  // A message (as stored) for clients: what they may see.
  static Value Public(const Value& m) {
    Value o = Value::MakeObject();
    for (const char* k : {"seq", "role", "kind", "content", "created_ms"}) o.set(k, m.get(k));
    return o;
  }

  // Hands the conversation's undelivered user messages on, one at a time
  // (blocking: on the blocking pool).
  Status Deliver(const std::string& conversation) {
    MutexLock lock(Stripe(conversation));
    WEFT_ASSIGN_OR_RETURN(Value state, LoadState(conversation));
    for (int round = 0; round < 100; ++round) {
      const std::string channel = StringOf(state.get("channel"));
      std::optional<ChatEntry> entry = s_.FindChat(channel);
      if (!entry) return Status::Ok();  // the channel is gone: messages wait for it
      const int64_t delivered = IntOf(state.get("delivered"));
      std::string run_id = StringOf(state.get("run"));
      std::optional<store::RunRecord> run;
      if (!run_id.empty()) {
        Result<store::RunRecord> r = s_.store.GetRun(run_id);
        if (r.ok()) run = std::move(*r);
      }
      const auto waits_for = [&](std::string_view kind) {
        return run && run->status == store::RunStatus::kSuspended && run->wait.get("kind") == Value(kind);
      };
      // A resume begun before a crash: done if the run moved on.
      if (const Value pending = state.get("pending"); pending.is_object()) {
        if (waits_for("user_input") && run->wait.get("path") == pending.get("path")) {
          WEFT_ASSIGN_OR_RETURN(std::optional<store::MessageRecord> m,
                                MessageAt(conversation, IntOf(pending.get("seq"))));
          if (m) WEFT_RETURN_IF_ERROR(Resume(*run, *m, state));
        }
        state.set("pending", Value());
        WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
        continue;
      }
      // The run that took over from a parked one has ended: back to the
      // parked one, if it still waits for the user.
      if (run && store::IsTerminal(run->status) && state.get("parked").size() > 0) {
        const Value parked_runs = state.get("parked");
        const auto& parked = parked_runs.as_array();
        const std::string back = StringOf(parked.back());
        Value remaining = Value::MakeArray();
        for (size_t i = 0; i + 1 < parked.size(); ++i) remaining.push_back(parked[i]);
        state.set("parked", remaining);
        Result<store::RunRecord> r = s_.store.GetRun(back);
        if (r.ok() && r->status == store::RunStatus::kSuspended && r->wait.get("kind") == Value("user_input")) {
          state.set("run", back);
          NoteRun(back, conversation);
          WEFT_RETURN_IF_ERROR(SayPromptAgain(conversation, *r, "topic:back:" + back + ":" + run->id));
        }
        WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
        continue;
      }
      WEFT_ASSIGN_OR_RETURN(std::optional<store::MessageRecord> next, NextUserMessage(conversation, delivered));
      if (!next) return Status::Ok();
      bool new_topic = false;
      if (entry->trigger->per == dsl::ChatTrigger::Per::kConversation && run) {
        // The user's answer to "is this a new question?": a new run for the
        // held message, or back to the waiting one. Anything else is routed
        // as any message.
        if (const Value held = state.get("held"); held.is_number()) {
          const Value choice = next->content.get("payload");
          state.set("held", Value());
          if (choice == Value(kTopicNew) || choice == Value(kTopicContinue)) {
            state.set("delivered", static_cast<double>(next->seq));
            if (choice == Value(kTopicContinue)) {
              if (waits_for("user_input")) {
                WEFT_RETURN_IF_ERROR(SayPromptAgain(conversation, *run, "topic:continue:" + std::to_string(next->seq)));
              }
              WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
              continue;
            }
            WEFT_ASSIGN_OR_RETURN(std::optional<store::MessageRecord> first, MessageAt(conversation, IntOf(held)));
            if (waits_for("user_input")) WEFT_RETURN_IF_ERROR(CancelForTopic(run->id));
            if (first) {
              Status started = StartRun(*entry, conversation, *first, state);
              if (!started.ok()) SayError(conversation, "This message could not be handled: " + started.message());
            }
            return SaveState(conversation, state);
          }
        }
        if (waits_for("user_input") && entry->trigger->topic_change != dsl::ChatTrigger::TopicChange::kDeliver &&
            !Fits(*run, *next, state)) {
          switch (entry->trigger->topic_change) {
            case dsl::ChatTrigger::TopicChange::kAsk: {
              state.set("held", static_cast<double>(next->seq));
              state.set("delivered", static_cast<double>(next->seq));
              WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
              Value content = Value::MakeObject();
              content.set("text", "Is this a new question, or about what we were discussing?");
              Value replies = Value::MakeArray();
              for (const auto& [title, payload] :
                   {std::pair{"New question", kTopicNew}, std::pair{"Continue", kTopicContinue}}) {
                Value q = Value::MakeObject();
                q.set("title", title);
                q.set("payload", payload);
                replies.push_back(q);
              }
              content.set("quick_replies", replies);
              return Say(conversation, "assistant", "text", std::move(content),
                         "topic:ask:" + std::to_string(next->seq));
            }
            case dsl::ChatTrigger::TopicChange::kCancel: WEFT_RETURN_IF_ERROR(CancelForTopic(run->id)); break;
            case dsl::ChatTrigger::TopicChange::kPark: {
              Value parked = state.get("parked").is_array() ? state.get("parked") : Value::MakeArray();
              parked.push_back(run->id);
              state.set("parked", parked);
              ForgetRun(run->id);
              break;
            }
            case dsl::ChatTrigger::TopicChange::kDeliver: break;
          }
          new_topic = true;
        }
        if (waits_for("user_input") && !new_topic) {
          Value pending = Value::MakeObject();
          pending.set("seq", static_cast<double>(next->seq));
          pending.set("path", run->wait.get("path"));
          state.set("pending", pending);
          state.set("delivered", static_cast<double>(next->seq));
          WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
          WEFT_RETURN_IF_ERROR(Resume(*run, *next, state));
          state.set("pending", Value());
          return SaveState(conversation, state);
        }
        if (waits_for("handover")) {
          // For the person who has the conversation: they read the log.
          state.set("delivered", static_cast<double>(next->seq));
          WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
          continue;
        }
        // Busy (running, or waiting for something else): handed on once it
        // asks for the user or ends.
        if (!new_topic && !store::IsTerminal(run->status)) return Status::Ok();
      }
      Status started = StartRun(*entry, conversation, *next, state);
      state.set("delivered", static_cast<double>(next->seq));
      WEFT_RETURN_IF_ERROR(SaveState(conversation, state));
      if (!started.ok()) {
        Log(LogLevel::kWarning, "chat conversation " + conversation + ": " + started.ToString());
        SayError(conversation, "This message could not be handled: " + started.message());
        continue;
      }
      if (entry->trigger->per == dsl::ChatTrigger::Per::kConversation) return Status::Ok();
    }
    return Status::Ok();
  }

  // The router's own words into the conversation, stored once under `key`
  // (said again after a crash, they are not repeated).
  Status Say(const std::string& conversation, const char* role, const char* kind, Value content, std::string key) {
    store::MessageRecord m;
    m.conversation = conversation;
    m.key = std::move(key);
    m.role = role;
    m.kind = kind;
    m.content = std::move(content);
    m.created_ms = NowMs();
    WEFT_ASSIGN_OR_RETURN(store::MessageRecord said, s_.store.AppendMessage(std::move(m)));
    Publish(said, "");
    return Status::Ok();
  }

  // A system message into the conversation (what went wrong, for the user).
  void SayError(const std::string& conversation, const std::string& text) {
    Value content = Value::MakeObject();
    content.set("text", text);
    (void)Say(conversation, "system", "error", std::move(content), "error:" + RandomHex(8));
  }

  // Says the question a run waits on again (returning to a parked topic, or
  // continuing after "is this a new question?").
  Status SayPromptAgain(const std::string& conversation, const store::RunRecord& run, const std::string& key) {
    const Value prompt = run.wait.get("data").get("prompt");
    Value content = Value::MakeObject();
    content.set("text", prompt.is_string() && !prompt.as_string().empty()
                            ? "Back to your earlier question: " + prompt.as_string()
                            : std::string("Back to where we were."));
    return Say(conversation, "assistant", "text", std::move(content), key);
  }

  // Whether a message fits the answer `run` waits for: its await step's
  // `expect` schema, checked against what the step would receive. A step
  // without one takes anything.
  static bool Fits(const store::RunRecord& run, const store::MessageRecord& m, const Value& state) {
    const Value expect = run.wait.get("data").get("expect");
    if (!expect.is_object()) return true;
    Result<dsl::Schema> schema = dsl::Schema::Compile(expect);
    if (!schema.ok()) {
      Log(LogLevel::kWarning,
          "run " + run.id + ": the awaited answer's `expect` is not a valid schema: " + schema.status().message());
      return true;
    }
    return schema->Validate(RunPayload(m, state)).ok();
  }

  void Publish(const store::MessageRecord& m, const std::string& workflow) {
    if (engine::EventLog* log = s_.runtime.events()) {
      log->Publish({0, engine::Event::Kind::kMessage, m.run_id, workflow, store::MessageToJson(m)});
    }
  }

  Result<Value> LoadState(const std::string& conversation) {
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> text, s_.store.GetState(StateKey(conversation)));
    if (!text) return NotFoundError("no conversation '" + conversation + "'");
    return ParseJson(*text);
  }
  Status SaveState(const std::string& conversation, const Value& state) {
    return s_.store.PutState(StateKey(conversation), ToJson(state));
  }

  Mutex& Stripe(const std::string& conversation) { return stripes_[std::hash<std::string>{}(conversation) % 32]; }

  void Stop() {
    MutexLock lock(stop_mu_);
    stopped_ = true;
  }

  // Messages per conversation (a visitor typing into a loop), and
  // conversations opened per address (each is a row in the store).
  RateLimiter per_conversation{2, 10};
  RateLimiter opens_per_address{0.5, 20};

  // The key that signs conversation tokens, read once (blocking).
  Result<std::string> TokenKey() {
    {
      MutexLock lock(mu_);
      if (!token_key_.empty()) return token_key_;
    }
    WEFT_ASSIGN_OR_RETURN(std::string key, SigningKey(s_.store, "chat"));
    MutexLock lock(mu_);
    token_key_ = key;
    return key;
  }

 private:
  static std::string StringOf(const Value& v) { return v.is_string() ? v.as_string() : std::string(); }
  static int64_t IntOf(const Value& v) { return v.is_number() ? static_cast<int64_t>(v.as_number()) : 0; }

  Result<std::optional<store::MessageRecord>> MessageAt(const std::string& conversation, int64_t seq) {
    store::MessageFilter f;
    f.conversation = conversation;
    f.after_seq = seq - 1;
    f.limit = 1;
    WEFT_ASSIGN_OR_RETURN(std::vector<store::MessageRecord> found, s_.store.ListMessages(f));
    if (found.empty() || found[0].seq != seq) return std::optional<store::MessageRecord>();
    return std::optional<store::MessageRecord>(std::move(found[0]));
  }

  Result<std::optional<store::MessageRecord>> NextUserMessage(const std::string& conversation, int64_t after) {
    store::MessageFilter f;
    f.conversation = conversation;
    f.after_seq = after;
    f.limit = 100;
    for (int page = 0; page < 1000; ++page) {
      WEFT_ASSIGN_OR_RETURN(std::vector<store::MessageRecord> found, s_.store.ListMessages(f));
      for (store::MessageRecord& m : found) {
        if (m.role == "user") return std::optional<store::MessageRecord>(std::move(m));
      }
      if (found.size() < static_cast<size_t>(f.limit)) break;
      f.after_seq = found.back().seq;
    }
    return std::optional<store::MessageRecord>();
  }

  // What a run receives for a message: its input, or an await's result.
  static Value RunPayload(const store::MessageRecord& m, const Value& state) {
    Value p = Value::MakeObject();
    for (const char* k : {"text", "payload", "attachments"}) {
      if (Value v = m.content.get(k); v.is_defined()) p.set(k, v);
    }
    p.set("message_id", m.content.get("id"));
    p.set("seq", static_cast<double>(m.seq));
    if (Value user = state.get("user"); user.is_object()) p.set("user", user);
    return p;
  }

  // Cancels a run the user left for another topic (one already over is fine).
  Status CancelForTopic(const std::string& run_id) {
    ForgetRun(run_id);
    Status st = s_.engine.Cancel(run_id);
    return st.ok() || st.code() == StatusCode::kFailedPrecondition || st.code() == StatusCode::kNotFound ? Status::Ok()
                                                                                                         : st;
  }

  Status Resume(const store::RunRecord& run, const store::MessageRecord& m, const Value& state) {
    NoteRun(run.id, m.conversation);
    Status st = s_.engine.Resume(run.id, RunPayload(m, state));
    if (st.ok()) Typing(m.conversation, true);
    return st;
  }

  Status StartRun(const ChatEntry& entry, const std::string& conversation, const store::MessageRecord& m,
                  Value& state) {
    engine::StartOptions start;
    start.trigger = "chat";
    start.start_key = "chat:" + conversation + ":" + std::to_string(m.seq);
    Value chat = Value::MakeObject();
    chat.set("channel", entry.trigger->channel);
    chat.set("conversation", conversation);
    if (Value user = state.get("user"); user.is_object()) chat.set("user", user);
    start.context = Value::MakeObject();
    start.context.set("chat", chat);
    Value input = RunPayload(m, state);
    if (entry.trigger->input.is_defined()) {
      Value bindings = Value::MakeObject();
      bindings.set("message", input);
      expr::EvalOptions eval;
      eval.timeout_ms = 1000;
      eval.max_memory_bytes = int64_t{16} << 20;
      WEFT_ASSIGN_OR_RETURN(input, entry.trigger->input.Evaluate(dsl::Scope{input, bindings}, eval));
    }
    Result<std::string> id = s_.engine.Start(entry.workflow, entry.definition->version, std::move(input), start);
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
      Result<store::RunRecord> existing = s_.store.GetRunByStartKey(start.start_key);
      if (existing.ok()) id = existing->id;
    }
    if (!id.ok()) return id.status();
    NoteRun(*id, conversation);
    state.set("run", *id);
    s_.metrics->Add("weft_runs_started_total", {{"workflow", entry.workflow}, {"trigger", "chat"}});
    Typing(conversation, true);
    return Status::Ok();
  }

  Server::Impl& s_;
  Mutex mu_;
  std::multimap<std::string, std::pair<uint64_t, std::shared_ptr<OutChannel>>> subscribers_ WEFT_GUARDED_BY(mu_);
  uint64_t next_subscription_ WEFT_GUARDED_BY(mu_) = 1;
  // Runs talking in a conversation this process knows of (for streamed text).
  std::unordered_map<std::string, std::string> runs_ WEFT_GUARDED_BY(mu_);
  std::string token_key_ WEFT_GUARDED_BY(mu_);
  // Delivery is one at a time per conversation: 32 locks shared by hash.
  std::array<Mutex, 32> stripes_;
  Mutex stop_mu_;
  bool stopped_ WEFT_GUARDED_BY(stop_mu_) = false;
};

namespace {

// The conversation a token opens, checked against the channel.
struct Opened {
  std::string conversation;
  ChatEntry entry;
};

Result<Opened> OpenToken(Server::Impl& s, const std::string& channel, std::string_view token) {
  std::optional<ChatEntry> entry = s.FindChat(channel);
  if (!entry) return NotFoundError("no chat channel '" + channel + "'");
  if (token.empty()) return Status(StatusCode::kUnauthenticated, "a conversation token is needed (?token=)");
  WEFT_ASSIGN_OR_RETURN(std::string key, s.chat->TokenKey());
  Result<Value> claims = VerifyClaims(key, token);
  if (!claims.ok() || claims->get("ch") != Value(channel) || !claims->get("c").is_string()) {
    return Status(StatusCode::kUnauthenticated, "this conversation token is not valid on channel '" + channel + "'");
  }
  return Opened{claims->get("c").as_string(), std::move(*entry)};
}

std::string TokenOf(const Request& req) {
  std::string_view h = req.header("Authorization");
  if (h.rfind("Bearer ", 0) == 0) return std::string(h.substr(7));
  return req.query_param("token");
}

int64_t AfterParam(const Request& req) {
  std::string_view h = req.header("Last-Event-ID");
  const std::string after = h.empty() ? req.query_param("after") : std::string(h);
  return after.empty() ? 0 : std::max<int64_t>(0, std::atoll(after.c_str()));
}

// POST /chat/{channel}/conversations {user?: {id, name?, signature}}
asio::awaitable<Response> OpenConversation(Server::Impl& s, Request& req) {
  const std::string channel = req.params["channel"];
  std::optional<ChatEntry> entry = s.FindChat(channel);
  if (!entry) co_return Response::Error(404, "NOT_FOUND", "no chat channel '" + channel + "'");
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  Value user;
  if (const Value u = body->get("user"); u.is_defined()) {
    if (entry->trigger->identity_secret.empty()) {
      co_return BadRequest("channel '" + channel + "' takes no user identity (its trigger names no identity_secret)");
    }
    const Value id = u.get("id");
    const Value signature = u.get("signature");
    if (!id.is_string() || id.as_string().empty() || id.as_string().size() > 200 || !signature.is_string()) {
      co_return BadRequest("'user' needs 'id' (a string up to 200 characters) and 'signature'");
    }
    std::optional<std::string> secret = s.runtime.Secret(entry->trigger->identity_secret);
    if (!secret || secret->empty()) {
      co_return Response::Error(503, "FAILED_PRECONDITION",
                                "the channel's identity secret '" + entry->trigger->identity_secret + "' is not set");
    }
    if (!ConstantTimeEquals(AsciiLower(signature.as_string()), HexEncode(Hmac(*secret, id.as_string())))) {
      co_return Response::Error(401, "UNAUTHENTICATED",
                                "the user's signature is not the HMAC-SHA256 of its id with the channel's secret");
    }
    user = Value::MakeObject();
    user.set("id", id);
    if (const Value name = u.get("name"); name.is_string() && name.as_string().size() <= 200) user.set("name", name);
  }
  const std::string conversation = "cv_" + RandomHex(16);
  if (double wait = s.chat->opens_per_address.Take(req.client, NowSeconds()); wait > 0) {
    Response r = Response::Error(429, "RESOURCE_EXHAUSTED", "too many conversations opened from " + req.client);
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(wait))));
    co_return r;
  }
  Result<std::string> token = co_await s.Blocking([&]() -> Result<std::string> {
    WEFT_ASSIGN_OR_RETURN(std::string key, s.chat->TokenKey());
    Value state = Value::MakeObject();
    state.set("channel", channel);
    if (user.is_object()) state.set("user", user);
    state.set("delivered", 0.0);
    state.set("created_ms", static_cast<double>(NowMs()));
    WEFT_RETURN_IF_ERROR(s.store.PutState(StateKey(conversation), ToJson(state)));
    Value claims = Value::MakeObject();
    claims.set("c", conversation);
    claims.set("ch", channel);
    return SignClaims(key, claims);
  });
  if (!token.ok()) co_return Response::FromStatus(token.status());
  Value out = Value::MakeObject();
  out.set("conversation", conversation);
  out.set("channel", channel);
  out.set("token", *token);
  co_return Response::Json(201, out);
}

// Checks a visitor's message and stores it; then routes the conversation.
// Blocking. Returns the stored message.
Result<store::MessageRecord> PostMessage(Server::Impl& s, ChatHub& hub, const Opened& opened, const Value& body) {
  if (!body.is_object()) return InvalidArgumentError("a message is a JSON object: {id, text?, payload?}");
  const Value id = body.get("id");
  if (!id.is_string() || id.as_string().empty() || id.as_string().size() > kMaxClientId) {
    return InvalidArgumentError(
        "a message needs 'id': the client's id for it (1 to 100 characters), which makes "
        "sending it again harmless");
  }
  const Value text = body.get("text");
  const Value payload = body.get("payload");
  if (text.is_defined() && !text.is_string()) return InvalidArgumentError("'text' must be a string");
  if (payload.is_defined() && !payload.is_string()) return InvalidArgumentError("'payload' must be a string");
  // Files sent before with POST .../uploads, by id: what the message carries
  // is what the server kept, not what the client says.
  Value attachments = Value::MakeArray();
  if (const Value files = body.get("attachments"); files.is_defined()) {
    if (!files.is_array() || files.size() > kMaxAttachments) {
      return InvalidArgumentError("'attachments' is a list of at most " + std::to_string(kMaxAttachments) +
                                  " files: [{id}] as POST /chat/<channel>/uploads answered");
    }
    for (const Value& f : files.as_array()) {
      const Value file_id = f.is_object() ? f.get("id") : f;
      if (!file_id.is_string() || file_id.as_string().size() != 64) {
        return InvalidArgumentError("an attachment is {id} of an upload of this conversation");
      }
      WEFT_ASSIGN_OR_RETURN(std::optional<std::string> meta,
                            s.store.GetState(UploadKey(opened.conversation, file_id.as_string())));
      if (!meta) return NotFoundError("no upload '" + file_id.as_string() + "' in this conversation");
      WEFT_ASSIGN_OR_RETURN(Value kept, ParseJson(*meta));
      attachments.push_back(std::move(kept));
    }
  }
  if ((!text.is_string() || text.as_string().empty()) && !payload.is_string() && attachments.size() == 0) {
    return InvalidArgumentError("a message needs 'text' (or a quick reply's 'payload', or 'attachments')");
  }
  const size_t limit = static_cast<size_t>(opened.entry.trigger->max_message_kb) * 1024;
  const size_t size =
      (text.is_string() ? text.as_string().size() : 0) + (payload.is_string() ? payload.as_string().size() : 0);
  if (size > limit) {
    return InvalidArgumentError("the message is " + std::to_string(size) + " bytes; this channel takes up to " +
                                std::to_string(limit));
  }
  if (text.is_string() && !IsValidUtf8(text.as_string())) return InvalidArgumentError("'text' is not UTF-8");
  store::MessageRecord m;
  m.conversation = opened.conversation;
  m.key = "user:" + id.as_string();
  m.role = "user";
  m.kind = "text";
  Value content = Value::MakeObject();
  content.set("id", id);
  if (text.is_string()) content.set("text", text);
  if (payload.is_string()) content.set("payload", payload);
  if (attachments.size() > 0) content.set("attachments", attachments);
  m.content = content;
  m.created_ms = NowMs();
  WEFT_ASSIGN_OR_RETURN(store::MessageRecord stored, s.store.AppendMessage(std::move(m)));
  hub.Publish(stored, opened.entry.workflow);
  WEFT_RETURN_IF_ERROR(hub.Deliver(opened.conversation));
  return stored;
}

Value Ack(const store::MessageRecord& m) {
  Value a = TypeFrame("ack");
  a.set("id", m.content.get("id"));
  a.set("seq", static_cast<double>(m.seq));
  return a;
}

// A rate-limited post: 429 when the conversation sends too fast.
asio::awaitable<Result<store::MessageRecord>> Post(Server::Impl& s, const Opened& opened, Value body) {
  if (double wait = s.chat->per_conversation.Take(opened.conversation, NowSeconds()); wait > 0) {
    co_return Status(StatusCode::kResourceExhausted, "this conversation sends too fast: wait " +
                                                         std::to_string(static_cast<int>(std::ceil(wait))) + " s");
  }
  co_return co_await s.Blocking([&] { return PostMessage(s, *s.chat, opened, body); });
}

asio::awaitable<Result<Opened>> Open(Server::Impl& s, const Request& req) {
  const std::string channel = req.params.at("channel");
  const std::string token = TokenOf(req);
  co_return co_await s.Blocking([&] { return OpenToken(s, channel, token); });
}

// POST /chat/{channel}/messages {id, text?, payload?} (Authorization: Bearer <conversation token>)
asio::awaitable<Response> SendMessageRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  Result<store::MessageRecord> stored = co_await Post(s, *opened, std::move(*body));
  if (!stored.ok()) {
    Response r = Response::FromStatus(stored.status());
    if (stored.status().code() == StatusCode::kResourceExhausted) r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  Value out = Value::MakeObject();
  out.set("id", stored->content.get("id"));
  out.set("seq", static_cast<double>(stored->seq));
  co_return Response::Json(202, out);
}

// POST /chat/{channel}/uploads?name=FILE (Bearer conversation token; the
// body is the file): kept content-addressed, typed by its content, and
// answered as {id, name, size, type, sha256} for a message's attachments.
asio::awaitable<Response> UploadRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  if (s.options.data_dir.empty()) {
    co_return Response::Error(415, "INVALID_ARGUMENT", "this server keeps no uploads (no data folder)");
  }
  if (req.body.empty()) co_return BadRequest("the body is the file, and it is empty");
  std::string name = req.query_param("name");
  if (name.empty()) name = "file";
  if (name.size() > kMaxFileName || !IsValidUtf8(name) || name.find_first_of("/\\\n\r") != std::string::npos) {
    co_return BadRequest("'name' is a file name (at most 200 characters, no '/' or line breaks)");
  }
  if (double wait = s.chat->per_conversation.Take(opened->conversation, NowSeconds()); wait > 0) {
    Response r = Response::Error(429, "RESOURCE_EXHAUSTED", "too many messages in this conversation; slow down");
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }
  if (Status allowed = CheckUploadType(s, name, files::SniffMediaType(req.body)); !allowed.ok()) {
    co_return Response::Error(415, "INVALID_ARGUMENT", allowed.message());
  }
  Result<Value> kept = co_await s.Blocking([&]() -> Result<Value> {
    WEFT_ASSIGN_OR_RETURN(Value meta, files::UploadStore(s.options.data_dir).Put(name, req.body));
    WEFT_RETURN_IF_ERROR(s.store.PutState(UploadKey(opened->conversation, meta.get("id").as_string()), ToJson(meta)));
    return meta;
  });
  if (!kept.ok()) co_return Response::FromStatus(kept.status());
  co_return Response::Json(201, *kept);
}

// A conversation's file, as a download (never shown inline: it is
// whatever a visitor sent).
asio::awaitable<Response> ServeUpload(Server::Impl& s, const std::string& conversation, const std::string& id) {
  struct Found {
    Value meta;
    std::string content;
  };
  Result<Found> found = co_await s.Blocking([&]() -> Result<Found> {
    WEFT_ASSIGN_OR_RETURN(std::optional<std::string> meta, s.store.GetState(UploadKey(conversation, id)));
    if (!meta || s.options.data_dir.empty()) return NotFoundError("no upload '" + id + "' in this conversation");
    WEFT_ASSIGN_OR_RETURN(Value m, ParseJson(*meta));
    WEFT_ASSIGN_OR_RETURN(std::string content, files::UploadStore(s.options.data_dir).Get(id));
    return Found{std::move(m), std::move(content)};
  });
  if (!found.ok()) co_return Response::FromStatus(found.status());
  Response r;
  r.status = 200;
  r.content_type =
      found->meta.get("type").is_string() ? found->meta.get("type").as_string() : "application/octet-stream";
  std::string name = found->meta.get("name").is_string() ? found->meta.get("name").as_string() : "file";
  for (char& c : name) {
    if (c == '"' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  r.headers.emplace_back("Cache-Control", "private, max-age=3600");
  r.body = std::move(found->content);
  co_return r;
}

// GET /chat/{channel}/uploads/{id}?token: a file of the visitor's conversation.
asio::awaitable<Response> DownloadRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  co_return co_await ServeUpload(s, opened->conversation, req.params["id"]);
}

// GET /api/v1/conversations/{id}/uploads/{file}: a file sent in a
// conversation, for the people who may see it (its workflow's).
asio::awaitable<Response> ConversationUploadRoute(Server::Impl& s, Request& req) {
  const std::string conversation = req.params["id"];
  if (!req.principal.workflows.empty()) {
    Result<Value> state = co_await s.Blocking([&]() -> Result<Value> {
      WEFT_ASSIGN_OR_RETURN(std::optional<std::string> text, s.store.GetState(StateKey(conversation)));
      if (!text) return NotFoundError("no conversation '" + conversation + "'");
      return ParseJson(*text);
    });
    const Value channel = state.ok() ? state->get("channel") : Value();
    std::optional<ChatEntry> chat = channel.is_string() ? s.FindChat(channel.as_string()) : std::nullopt;
    if (!chat || !req.principal.MaySee(chat->workflow)) {
      co_return Response::Error(404, "NOT_FOUND", "no conversation '" + conversation + "'");
    }
  }
  co_return co_await ServeUpload(s, conversation, req.params["file"]);
}

// The conversation's messages after `after`, oldest first (at most kBacklog).
Result<std::vector<store::MessageRecord>> Backlog(Server::Impl& s, const std::string& conversation, int64_t after) {
  store::MessageFilter f;
  f.conversation = conversation;
  f.after_seq = after;
  f.limit = kBacklog;
  return s.store.ListMessages(f);
}

// GET /chat/{channel}/messages?token&after: the conversation so far.
asio::awaitable<Response> ListMessagesRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  const int64_t after = AfterParam(req);
  Result<std::vector<store::MessageRecord>> messages =
      co_await s.Blocking([&] { return Backlog(s, opened->conversation, after); });
  if (!messages.ok()) co_return Response::FromStatus(messages.status());
  Value list = Value::MakeArray();
  for (const store::MessageRecord& m : *messages) list.push_back(ChatHub::Public(store::MessageToJson(m)));
  Value out = Value::MakeObject();
  out.set("conversation", opened->conversation);
  out.set("messages", list);
  co_return Response::Json(200, out);
}

// Subscribes a connection to its conversation; unsubscribes when it goes.
struct Subscription {
  Subscription(ChatHub& hub, std::string conversation, const asio::any_io_executor& executor)
      : hub(hub), conversation(std::move(conversation)), channel(std::make_shared<OutChannel>(executor, kQueue)) {
    id = hub.Subscribe(this->conversation, channel);
    // A visitor coming back: hand on what a crash may have left waiting.
    hub.DeliverLater(this->conversation, "");
  }
  ~Subscription() { hub.Unsubscribe(conversation, id); }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ChatHub& hub;
  std::string conversation;
  std::shared_ptr<OutChannel> channel;
  uint64_t id = 0;
};

std::string MessageFrame(const store::MessageRecord& m) {
  Value frame = TypeFrame("message");
  frame.set("message", ChatHub::Public(store::MessageToJson(m)));
  return ToJson(frame);
}

// GET /chat/{channel}/events?token&after (SSE; Last-Event-ID is a message seq)
asio::awaitable<Response> EventsRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  const int64_t after = AfterParam(req);
  Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream = [&s, conversation = opened->conversation, after](StreamIo& stream) -> asio::awaitable<void> {
    Subscription sub(*s.chat, conversation, co_await asio::this_coro::executor);
    Result<std::vector<store::MessageRecord>> backlog =
        co_await s.Blocking([&] { return Backlog(s, conversation, after); });
    if (!backlog.ok()) co_return;
    int64_t sent_up_to = after;
    std::string head = "retry: 2000\n\n";
    for (const store::MessageRecord& m : *backlog) {
      head += "id: " + std::to_string(m.seq) + "\nevent: message\ndata: " + MessageFrame(m) + "\n\n";
      sent_up_to = m.seq;
    }
    if (!co_await stream.Write(head)) co_return;
    co_await PumpEvents(s.stopping, stream, sub.channel, [&sent_up_to](const Outgoing& item) {
      if (item.seq > 0 && item.seq <= sent_up_to) return std::string();
      std::string out;
      if (item.seq > 0) {
        sent_up_to = item.seq;
        out = "id: " + std::to_string(item.seq) + "\n";
      }
      out += "event: " + std::string(item.seq > 0 ? "message" : "live") + "\ndata: " + item.frame + "\n\n";
      return out;
    });
  };
  co_return r;
}

// A WebSocket's two halves, which run together until either ends.
struct WsSession {
  Server::Impl& s;
  const Opened& opened;
  WebSocketIo& io;
  Subscription& sub;
  int64_t sent_up_to = 0;  // the last message seq written
};

// The one writer: what the hub sends and the reader's answers.
asio::awaitable<void> WsWriter(WsSession& w) {
  const std::shared_ptr<OutChannel> channel = w.sub.channel;
  bool open = true;
  while (open) {
    auto [err, item] = co_await channel->async_receive(asio::as_tuple(asio::use_awaitable));
    if (err) break;
    if (item.seq > 0 && item.seq <= w.sent_up_to) continue;
    if (item.seq > 0) w.sent_up_to = item.seq;
    open = co_await w.io.Write(std::move(item.frame));
  }
}

Value ErrorFrame(const Result<Value>& frame, const Status& status) {
  Value e = TypeFrame("error");
  if (frame.ok() && frame->get("id").is_string()) e.set("id", frame->get("id"));
  Value err = Value::MakeObject();
  err.set("code", std::string(StatusCodeName(status.code())));
  err.set("message", status.message());
  e.set("error", err);
  return e;
}

asio::awaitable<void> WsReader(WsSession& w) {
  const auto answer = [&w](const Value& frame) {
    (void)w.sub.channel->try_send(boost::system::error_code{}, Outgoing{0, ToJson(frame)});
  };
  for (;;) {
    std::optional<std::string> text = co_await w.io.Read();
    if (!text) co_return;
    Result<Value> frame = ParseJson(*text, JsonParseOptions{.max_depth = 16});
    if (!frame.ok()) {
      answer(ErrorFrame(frame, InvalidArgumentError("a frame is a JSON object: " + frame.status().message())));
      continue;
    }
    const Value type = frame->get("type");
    if (type == Value("ping")) {
      answer(TypeFrame("pong"));
    } else if (type == Value("message")) {
      Result<store::MessageRecord> stored = co_await Post(w.s, w.opened, *frame);
      answer(stored.ok() ? Ack(*stored) : ErrorFrame(frame, stored.status()));
    } else if (type != Value("typing")) {
      answer(ErrorFrame(frame, InvalidArgumentError("unknown frame type: send {\"type\":\"message\",\"id\","
                                                    "\"text\"} or {\"type\":\"ping\"}")));
    }
  }
}

// GET /chat/{channel}?token&after (WebSocket). Client frames:
// {"type":"message","id","text"?,"payload"?}, {"type":"ping"}. Server
// frames: {"type":"ready","conversation"}, {"type":"message","message"},
// {"type":"ack","id","seq"}, {"type":"delta","run_id","path","delta"},
// {"type":"typing","on"}, {"type":"error","id"?,"error":{code,message}},
// {"type":"pong"}.
asio::awaitable<Response> WebSocketRoute(Server::Impl& s, Request& req) {
  Result<Opened> opened = co_await Open(s, req);
  if (!opened.ok()) co_return Response::FromStatus(opened.status());
  const int64_t after = AfterParam(req);
  Response r;
  r.websocket_message_limit = opened->entry.trigger->max_message_kb * 1024 + 1024;
  r.websocket = [&s, opened = *opened, after](WebSocketIo& io) -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    Subscription sub(*s.chat, opened.conversation, executor);
    Result<std::vector<store::MessageRecord>> backlog =
        co_await s.Blocking([&] { return Backlog(s, opened.conversation, after); });
    if (!backlog.ok()) co_return;
    Value ready = TypeFrame("ready");
    ready.set("conversation", opened.conversation);
    if (!co_await io.Write(ToJson(ready))) co_return;
    int64_t sent_up_to = after;
    for (const store::MessageRecord& m : *backlog) {
      if (!co_await io.Write(MessageFrame(m))) co_return;
      sent_up_to = m.seq;
    }
    WsSession session{s, opened, io, sub, sent_up_to};
    using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
    co_await (WsReader(session) || WsWriter(session));
  };
  co_return r;
}

// POST /api/v1/conversations/{id}/messages {text}: an agent who has the
// conversation (its run waits in a handover) writes to the visitor.
asio::awaitable<Response> AgentMessage(Server::Impl& s, Request& req) {
  const std::string conversation = req.params["id"];
  Result<Value> body = JsonBody(req);
  if (!body.ok()) co_return Response::FromStatus(body.status());
  const Value text = body->get("text");
  if (!text.is_string() || text.as_string().empty() || text.as_string().size() > int64_t{64} * 1024 ||
      !IsValidUtf8(text.as_string())) {
    co_return BadRequest("'text' must be non-empty UTF-8 text up to 64 KiB");
  }
  Result<store::MessageRecord> said = co_await s.Blocking([&]() -> Result<store::MessageRecord> {
    WEFT_ASSIGN_OR_RETURN(Value state, s.chat->LoadState(conversation));
    const Value run_id = state.get("run");
    Result<store::RunRecord> run =
        run_id.is_string() ? s.store.GetRun(run_id.as_string()) : Result<store::RunRecord>(NotFoundError(""));
    if (!run.ok() || !req.principal.MaySee(run->workflow)) {
      return NotFoundError("no conversation '" + conversation + "'");
    }
    if (run->status != store::RunStatus::kSuspended || run->wait.get("kind") != Value("handover")) {
      return FailedPreconditionError("conversation " + conversation +
                                     " is not handed over to a person: its workflow answers it");
    }
    store::MessageRecord m;
    m.conversation = conversation;
    m.run_id = run->id;
    m.key = "agent:" + RandomHex(12);
    m.role = "agent";
    m.kind = "text";
    Value content = Value::MakeObject();
    content.set("text", text);
    // The visitor sees who answers: a signed-in person's name, never a key's id.
    content.set("by", req.principal.user.empty() ? std::string("Agent") : req.principal.user);
    m.content = content;
    m.created_ms = NowMs();
    WEFT_ASSIGN_OR_RETURN(store::MessageRecord stored, s.store.AppendMessage(std::move(m)));
    s.chat->Publish(stored, run->workflow);
    Value d = Value::MakeObject();
    d.set("seq", static_cast<double>(stored.seq));
    s.Audit(req, "conversation.message", "conversation:" + conversation, d);
    return stored;
  });
  if (!said.ok()) co_return Response::FromStatus(said.status());
  co_return Response::Json(201, ChatHub::Public(store::MessageToJson(*said)));
}

// GET /demo/{channel}: a page with the widget on it, to try a channel.
asio::awaitable<Response> DemoRoute(Server::Impl& s, Request& req) {
  const std::string channel = req.params["channel"];
  if (!s.FindChat(channel)) co_return Response::Error(404, "NOT_FOUND", "no chat channel '" + channel + "'");
  const std::string body =
      "<h1>" + Html(channel) +
      "</h1><p>This page has weft's chat widget on it: the button at the bottom right opens a "
      "conversation with the workflow behind this channel. On a site, one tag adds it:</p><pre>" +
      Html("<script src=\"") + "/widget.js" + Html("\" data-channel=\"" + channel + "\"></script>") +
      "</pre><script src=\"/widget.js\" data-channel=\"" + Html(channel) + "\" data-title=\"Support\"></script>";
  Response r = Response::Text(200, Page("Chat: " + channel, body), "text/html; charset=utf-8");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'");
  co_return r;
}

}  // namespace

void AddChatRoutes(std::vector<Route>& r) {
  using V = beast::http::verb;
  r.push_back({V::post, "/chat/{channel}/conversations", Need::kPublic, &OpenConversation,
               "Open a conversation on a chat channel: {user?: {id, name?, signature}} -> {conversation, token}"});
  r.push_back({V::get, "/chat/{channel}", Need::kPublic, &WebSocketRoute,
               "The conversation as a WebSocket (?token, after): messages, acknowledgements, streamed text"});
  r.push_back({V::post, "/chat/{channel}/messages", Need::kPublic, &SendMessageRoute,
               "Send a message (Bearer conversation token): {id, text?, payload?} -> 202 {id, seq}"});
  r.push_back({V::get, "/chat/{channel}/messages", Need::kPublic, &ListMessagesRoute,
               "The conversation's messages (?token, after)"});
  r.push_back({V::get, "/chat/{channel}/events", Need::kPublic, &EventsRoute,
               "The conversation's messages and streamed text as Server-Sent Events (?token, after)"});
  r.push_back({V::post, "/chat/{channel}/uploads", Need::kPublic, &UploadRoute,
               "Attach a file (Bearer conversation token; ?name; the body is the file) -> 201 {id, name, size, type}"});
  r.push_back(
      {V::get, "/chat/{channel}/uploads/{id}", Need::kPublic, &DownloadRoute, "A file of the conversation (?token)"});
  r.push_back({V::get, "/api/v1/conversations/{id}/uploads/{file}", Need::kRead, &ConversationUploadRoute,
               "A file sent in a conversation"});
  r.push_back({V::post, "/api/v1/conversations/{id}/messages", Need::kOperate, &AgentMessage,
               "Write to a handed-over conversation as its agent: {text}"});
  r.push_back({V::get, "/demo/{channel}", Need::kPublic, &DemoRoute, "A page with the chat widget of a channel"});
}

void StartChat(Server::Impl& s) {
  s.chat = std::make_shared<ChatHub>(s);
  if (engine::EventLog* log = s.runtime.events()) {
    s.chat_subscription = log->Subscribe([hub = s.chat](const engine::Event& e) { hub->OnEvent(e); });
  }
}

void StopChat(Server::Impl& s) {
  if (!s.chat) return;
  s.chat->Stop();
  if (s.chat_subscription != 0 && s.runtime.events() != nullptr) s.runtime.events()->Unsubscribe(s.chat_subscription);
  s.chat_subscription = 0;
}

}  // namespace weft::server

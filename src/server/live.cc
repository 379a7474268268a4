// Live updates as Server-Sent Events: everything (/api/v1/events) or one
// run (/api/v1/runs/{id}/events). A client that reconnects with
// Last-Event-ID gets what it missed while the server still has it, or a
// `reset` event telling it to reload.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "server_impl.h"
#include "sse.h"
#include "weft/core/json.h"
#include "weft/engine/events.h"
#include "weft/store/record_json.h"

namespace weft::server {
namespace {

using Channel = asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;
// How far a slow client may fall behind before it is dropped (it reconnects
// with Last-Event-ID and catches up): events, and bytes of their frames.
constexpr size_t kQueue = 512;
constexpr int64_t kQueueBytes = int64_t{8} << 20;

std::string Frame(const engine::Event& e) {
  Value data = e.data.is_object() ? e.data : Value::MakeObject();
  data.set("run_id", e.run_id);
  data.set("workflow", e.workflow);
  // Broadcast events (streamed text) have no id: a client resumes after
  // the last kept one.
  std::string out = e.id == 0 ? std::string() : "id: " + std::to_string(e.id) + "\n";
  out += "event: " + std::string(engine::EventKindName(e.kind)) + "\ndata: ";
  AppendJson(out, data);
  out += "\n\n";
  return out;
}

uint64_t LastEventId(const Request& req) {
  std::string_view h = req.header("Last-Event-ID");
  if (h.empty()) {
    const std::string q = req.query_param("last_event_id");
    return q.empty() ? 0 : std::strtoull(q.c_str(), nullptr, 10);
  }
  return std::strtoull(std::string(h).c_str(), nullptr, 10);
}

// What a stream starts with, read once the stream is subscribed to the
// events: a change made in between is then in it, in the events that
// follow, or in both (applying one twice changes nothing) — never in neither.
using Opening = std::function<asio::awaitable<std::string>()>;

// Streams the events `run_id` selects ("" = all) of the workflows the
// caller may see, until the client leaves.
Response EventStream(Server::Impl& s, const Request& req, const std::string& run_id, Opening opening) {
  engine::EventLog* log = s.runtime.events();
  Response r;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("X-Accel-Buffering", "no");
  const uint64_t after = LastEventId(req);
  auto selects = [run_id, grants = req.principal](const engine::Event& e) {
    return (run_id.empty() || e.run_id == run_id) && grants.MaySee(e.workflow);
  };
  r.stream = [&s, log, selects, opening = std::move(opening), after](StreamIo& stream) -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto channel = std::make_shared<Channel>(executor, kQueue);
    auto queued = std::make_shared<std::atomic<int64_t>>(0);  // bytes sent to the channel, not yet written
    // Subscribe before reading the backlog: nothing falls between.
    const uint64_t subscription = log->Subscribe(
        [channel, queued, selects](const engine::Event& e) {
          if (!selects(e)) return;
          std::string frame = Frame(e);
          const auto size = static_cast<int64_t>(frame.size());
          if (queued->fetch_add(size) + size > kQueueBytes ||
              !channel->try_send(boost::system::error_code{}, std::move(frame))) {
            channel->close();  // too far behind: the client reconnects with Last-Event-ID
          }
        },
        /*replays=*/true);
    struct Unsubscribe {
      engine::EventLog* log;
      uint64_t id;
      ~Unsubscribe() { log->Unsubscribe(id); }
    } unsubscribe{log, subscription};
    std::string head = "retry: 2000\n\n";
    if (opening) head += co_await opening();
    uint64_t sent_up_to = 0;
    if (after > 0) {
      bool complete = true;
      std::vector<engine::Event> missed = log->Since(after, &complete);
      if (!complete) head += "event: reset\ndata: {}\n\n";
      for (const engine::Event& e : missed) {
        if (!selects(e)) continue;
        head += Frame(e);
        sent_up_to = e.id;
      }
    }
    if (!co_await stream.Write(head)) co_return;
    co_await PumpEvents(s.stopping, stream, channel, [sent_up_to, queued](std::string& frame) {
      queued->fetch_sub(static_cast<int64_t>(frame.size()));
      // Events already sent from the backlog are not sent twice.
      if (sent_up_to != 0 && frame.starts_with("id: ") && std::strtoull(frame.c_str() + 4, nullptr, 10) <= sent_up_to) {
        return std::string();
      }
      return std::move(frame);
    });
  };
  return r;
}

asio::awaitable<Response> AllEvents(Server::Impl& s, Request& req) {
  if (s.runtime.events() == nullptr) co_return Response::Error(503, "UNAVAILABLE", "live updates are off");
  co_return EventStream(s, req, "", nullptr);
}

asio::awaitable<Response> RunEvents(Server::Impl& s, Request& req) {
  if (s.runtime.events() == nullptr) co_return Response::Error(503, "UNAVAILABLE", "live updates are off");
  const std::string id = req.params["id"];
  Result<store::RunRecord> run = co_await s.Blocking([&] { return s.store.GetRun(id); });
  if (!run.ok()) co_return Response::FromStatus(run.status());
  if (!req.principal.MaySee(run->workflow)) co_return Response::Error(404, "NOT_FOUND", "no run '" + id + "'");
  // The run as it is now, with its steps, then its changes.
  Opening snapshot;
  if (LastEventId(req) == 0) {
    snapshot = [&s, id]() -> asio::awaitable<std::string> {
      Result<RunWithSteps> now = co_await ReadRunWithSteps(s, id);
      if (!now.ok()) co_return std::string();  // the events still follow
      std::string frame = "event: snapshot\ndata: ";
      AppendJson(frame, store::RunToJson(now->run, &now->steps));
      frame += "\n\n";
      co_return frame;
    };
  }
  co_return EventStream(s, req, id, std::move(snapshot));
}

}  // namespace

void AddLiveRoutes(std::vector<Route>& r) {
  r.push_back({beast::http::verb::get, "/api/v1/events", Need::kRead, &AllEvents,
               "Server-Sent Events: every run, step, task and message event, and streamed text (resumable with "
               "Last-Event-ID)"});
  r.push_back({beast::http::verb::get, "/api/v1/runs/{id}/events", Need::kRead, &RunEvents,
               "Server-Sent Events of one run: a snapshot, then its run and step events"});
}

}  // namespace weft::server

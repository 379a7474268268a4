// Actions: HTTP call throughput against a loopback server with keep-alive
// (a bare libcurl multi loop, weft's HTTP client, the http action, whole
// runs of a one-step workflow), and the cost of a small Lua script.
//
//   build/release/bench/actions_bench --benchmark_filter='Http|Curl' --benchmark_repetitions=3
//
// The server is a minimal Asio HTTP/1.1 responder on its own thread, so that
// the client side is what is measured (on 2 cores it takes one).
#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "weft/actions/builtin.h"
#include "weft/actions/http.h"
#include "weft/actions/script.h"
#include "weft/core/json.h"
#include "weft/core/random.h"
#include "weft/dsl/loader.h"
#include "weft/engine/engine.h"
#include "weft/store/memory_store.h"

namespace weft {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Answers every request on a connection with the same small JSON document.
class LoopbackServer {
 public:
  LoopbackServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackServer() {
    io_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      tcp::socket s = co_await acceptor_.async_accept(asio::use_awaitable);
      s.set_option(tcp::no_delay(true));
      asio::co_spawn(io_, Serve(std::move(s)), asio::detached);
    }
  }
  static asio::awaitable<void> Serve(tcp::socket s) {
    static const std::string kResponse =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        "25\r\n\r\n{\"id\":\"T-1000\",\"ok\":true}";
    asio::streambuf buf;
    try {
      for (;;) {
        const size_t head = co_await asio::async_read_until(s, buf, "\r\n\r\n", asio::use_awaitable);
        std::string headers(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + head);
        buf.consume(head);
        size_t length = 0;
        for (const char* name : {"Content-Length: ", "content-length: "}) {
          if (size_t at = headers.find(name); at != std::string::npos) length = std::stoul(headers.substr(at + 16));
        }
        while (buf.size() < length) {
          co_await asio::async_read(s, buf, asio::transfer_exactly(length - buf.size()), asio::use_awaitable);
        }
        buf.consume(length);
        co_await asio::async_write(s, asio::buffer(kResponse), asio::use_awaitable);
      }
    } catch (const std::exception&) {
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

constexpr const char* kBody = R"({"subject":"charged twice","priority":"high"})";

// libcurl's multi interface, nothing else: `concurrency` transfers kept in
// flight on kept-alive connections, `state.range(1)` requests per iteration.
void BM_BareCurl(benchmark::State& state) {
  LoopbackServer server;
  const std::string url = server.url() + "/tickets";
  const int concurrency = static_cast<int>(state.range(0));
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
  std::vector<CURL*> handles;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  auto sink = +[](char*, size_t size, size_t n, void*) { return size * n; };
  for (int i = 0; i < concurrency; ++i) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, kBody);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    handles.push_back(e);
  }
  const int per_iteration = 2000;
  for (auto _ : state) {
    int started = 0;
    int done = 0;
    for (CURL* e : handles) {
      curl_multi_add_handle(multi, e);
      ++started;
    }
    while (done < per_iteration) {
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        ++done;
        CURL* e = m->easy_handle;
        curl_multi_remove_handle(multi, e);
        if (started < per_iteration) {
          curl_multi_add_handle(multi, e);
          ++started;
        }
      }
      if (done < per_iteration) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
  for (CURL* e : handles) curl_easy_cleanup(e);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
}
BENCHMARK(BM_BareCurl)->Arg(1)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// weft's HTTP client (curl multi on its own thread, results back through a
// channel): `concurrency` coroutines sending one after another.
void BM_HttpClient(benchmark::State& state) {
  LoopbackServer server;
  auto client = http::NewCurlClient();
  const int concurrency = static_cast<int>(state.range(0));
  const int per_iteration = 2000;
  http::Request req;
  req.method = "POST";
  req.url = server.url() + "/tickets";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = kBody;
  for (auto _ : state) {
    asio::io_context io;
    int left = per_iteration;
    for (int i = 0; i < concurrency; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            while (left > 0) {
              --left;
              http::Request copy = req;
              (void)co_await client->Send(std::move(copy));
            }
          },
          asio::detached);
    }
    io.run();
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
}
BENCHMARK(BM_HttpClient)->Arg(1)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// The http action itself (request building, the SSRF guard, retries
// policy, JSON parsing of the answer, a JSONata mapping), without the engine.
void BM_HttpAction(benchmark::State& state) {
  LoopbackServer server;
  auto client = http::NewCurlClient();
  engine::ActionRegistry registry;
  (void)actions::RegisterHttpActions(registry, {.client = client.get()});
  const engine::Action* action = registry.FindAction("http");
  dsl::Permissions granted;
  granted.hosts.push_back({"127.0.0.1", 0});
  granted.private_network = true;
  Value inputs = Value::MakeObject();
  inputs.set("method", "POST");
  inputs.set("url", server.url() + "/tickets");
  inputs.set("json", *ParseJson(kBody));
  Value settings = *ParseJson(R"({"map":"body.id"})");
  const int concurrency = static_cast<int>(state.range(0));
  const int per_iteration = 2000;
  auto random = std::make_unique<DefaultRandom>();
  for (auto _ : state) {
    asio::io_context io;
    int left = per_iteration;
    int failed = 0;
    for (int i = 0; i < concurrency; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            const std::string run = "run-" + std::to_string(i);
            while (left > 0) {
              const std::string path = "0:create." + std::to_string(left--);
              engine::ActionContext ctx;
              ctx.run_id = run;
              ctx.workflow = "bench";
              ctx.step_path = path;
              ctx.task = "create";
              ctx.inputs = inputs;
              ctx.settings = settings;
              ctx.clock = &SystemClock::Instance();
              ctx.random = random.get();
              ctx.executor = io.get_executor();
              ctx.permissions = &granted;
              engine::ActionResult r = co_await action->Execute(ctx);
              failed += r.ok() ? 0 : 1;
            }
          },
          asio::detached);
    }
    io.run();
    if (failed > 0) state.SkipWithError("http action calls failed");
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
}
BENCHMARK(BM_HttpAction)->Arg(1)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// Whole runs of a one-step workflow (an http POST), `concurrency` at a
// time, on the in-memory store: what a run costs around its call.
void BM_HttpStep(benchmark::State& state) {
  LoopbackServer server;
  auto client = http::NewCurlClient();
  engine::ActionRegistry registry;
  (void)actions::RegisterBuiltinActions(registry);
  (void)actions::RegisterHttpActions(registry, {.client = client.get()});
  auto store = store::NewMemoryStore(1u << 20);
  engine::EngineOptions o;
  o.store = store.get();
  o.actions = &registry;
  o.threads = 1;
  auto engine = std::move(engine::Engine::Create(std::move(o))).value();
  auto wf = dsl::LoadWorkflow(R"yaml(
workflow: { name: one }
permissions: { network: { hosts: ["127.0.0.1"], private: true } }
defs:
  create:
    kind: task
    action: http
    inputs: { method: POST, url: "=$input.url", json: { subject: charged twice, priority: high } }
    settings: { map: body.id }
flow: [{ do: create }]
)yaml",
                              "one.yaml", registry);
  const int64_t v = *engine->Deploy(*wf);
  Value input = Value::MakeObject();
  input.set("url", server.url() + "/tickets");
  const int concurrency = static_cast<int>(state.range(0));
  const int per_iteration = 1000;
  for (auto _ : state) {
    std::vector<std::string> ids;
    ids.reserve(per_iteration);
    for (int i = 0; i < per_iteration; ++i) {
      ids.push_back(*engine->Start("one", v, input));
      if (static_cast<int>(ids.size()) % concurrency == 0) (void)engine->Wait(ids.back());
    }
    for (const std::string& id : ids) {
      auto rec = engine->Wait(id);
      if (!rec.ok() || rec->status != store::RunStatus::kCompleted) {
        const std::string why = "a run failed: " + (rec.ok() ? rec->error : rec.status().message());
        state.SkipWithError(why.c_str());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
}
BENCHMARK(BM_HttpStep)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// A small function through the sandbox: compiled once, fresh globals, JSON
// in and out.
void BM_ScriptCall(benchmark::State& state) {
  const Value input = *ParseJson(R"({"amount":120,"plan":"pro"})");
  const std::string code = "return { total = input.amount * 1.2, vip = input.plan == 'pro' }";
  for (auto _ : state) {
    Result<Value> out = actions::RunScript(code, input, {});
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ScriptCall)->Unit(benchmark::kMicrosecond);

// The same, called as the script action (what a step adds is measured by
// engine_bench).
void BM_ScriptAction(benchmark::State& state) {
  engine::ActionRegistry registry;
  (void)actions::RegisterScriptAction(registry);
  const engine::Action* action = registry.FindAction("script");
  engine::ActionContext ctx;
  Value inputs = Value::MakeObject();
  inputs.set("code", "return { total = input.amount * 1.2, vip = input.plan == 'pro' }");
  inputs.set("input", *ParseJson(R"({"amount":120,"plan":"pro"})"));
  ctx.inputs = inputs;
  asio::io_context io;
  for (auto _ : state) {
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { benchmark::DoNotOptimize(co_await action->Execute(ctx)); },
        asio::detached);
    io.run();
    io.restart();
  }
}
BENCHMARK(BM_ScriptAction)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace weft

BENCHMARK_MAIN();

#include "telemetry.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <future>

#include "weft/core/crypto.h"
#include "weft/core/json.h"
#include "weft/core/log.h"

namespace weft::server {

namespace asio = boost::asio;

namespace {

// OTLP ids: 16 bytes for a trace (the run), 8 for a span, as hex.
std::string TraceId(const std::string& run_id) { return Sha256Hex("trace:" + run_id).substr(0, 32); }
std::string SpanId(const std::string& what) { return Sha256Hex("span:" + what).substr(0, 16); }

std::string Nanos(const Value& ms) {
  const double v = ms.is_number() ? ms.as_number() : 0;
  return std::to_string(static_cast<int64_t>(v)) + "000000";
}

Value Attribute(const std::string& key, const Value& v) {
  Value value = Value::MakeObject();
  if (v.is_number()) {
    const double d = v.as_number();
    if (d == static_cast<double>(static_cast<int64_t>(d))) {
      value.set("intValue", std::to_string(static_cast<int64_t>(d)));
    } else {
      value.set("doubleValue", d);
    }
  } else if (v.is_bool()) {
    value.set("boolValue", v);
  } else {
    value.set("stringValue", v.is_string() ? v.as_string() : ToJson(v));
  }
  Value a = Value::MakeObject();
  a.set("key", key);
  a.set("value", value);
  return a;
}

Value Status(bool failed, const Value& message) {
  Value s = Value::MakeObject();
  s.set("code", failed ? 2 : 1);  // ERROR : OK
  if (failed && message.is_string()) s.set("message", message);
  return s;
}

// A span's frame: ids, name, kind (1 INTERNAL, 2 SERVER) and times.
Value Span(const std::string& run_id, const std::string& span_key, const std::string& parent_key, const Value& name,
           int kind, const Value& start_ms, const Value& end_ms) {
  Value span = Value::MakeObject();
  span.set("traceId", TraceId(run_id));
  span.set("spanId", SpanId(span_key));
  if (!parent_key.empty()) span.set("parentSpanId", SpanId(parent_key));
  span.set("name", name);
  span.set("kind", kind);
  span.set("startTimeUnixNano", Nanos(start_ms));
  span.set("endTimeUnixNano", Nanos(end_ms));
  return span;
}

}  // namespace

Telemetry::Telemetry(TelemetryOptions options, std::shared_ptr<Metrics> metrics)
    : options_(std::move(options)), metrics_(std::move(metrics)) {
  if (!options_.otlp_endpoint.empty()) client_ = http::NewCurlClient();
  metrics_->DeclareCounter("weft_otlp_spans_total", "Spans exported to the OTLP collector, by outcome");
}

Telemetry::~Telemetry() { Stop(); }

void Telemetry::AddSpan(Value span) {
  MutexLock lock(mu_);
  if (spans_.size() >= options_.otlp_max_buffered) {
    metrics_->Add("weft_otlp_spans_total", {{"outcome", "dropped"}});
    return;
  }
  spans_.push_back(std::move(span));
}

void Telemetry::OnEvent(const engine::Event& e) {
  if (!options_.log_steps && !client_) return;  // nothing asked for: no cost per event
  if (e.kind == engine::Event::Kind::kStep) {
    const Value status = e.data.get("status");
    const Value path = e.data.get("path");
    if (options_.log_steps) {
      Value f = Value::MakeObject();
      f.set("run_id", e.run_id);
      f.set("workflow", e.workflow);
      f.set("step", path);
      f.set("task", e.data.get("task"));
      f.set("action", e.data.get("action"));
      f.set("status", status);
      f.set("attempt", e.data.get("attempt"));
      const Value started = e.data.get("started_ms");
      const Value ended = e.data.get("ended_ms");
      if (started.is_number() && ended.is_number()) f.set("duration_ms", ended.as_number() - started.as_number());
      if (e.data.get("error").is_string() && !e.data.get("error").as_string().empty()) {
        f.set("error", e.data.get("error"));
      }
      const bool failed = status == Value("failed");
      Log(failed ? LogLevel::kWarning : LogLevel::kInfo, "step", f);
    }
    if (client_) {
      const std::string attempt = ToJson(e.data.get("attempt"));
      Value span = Span(e.run_id, e.run_id + "/" + (path.is_string() ? path.as_string() : "") + "#" + attempt, e.run_id,
                        e.data.get("task").is_string() ? e.data.get("task") : path, 1, e.data.get("started_ms"),
                        e.data.get("ended_ms"));
      Value attributes = Value::MakeArray();
      attributes.push_back(Attribute("weft.run_id", Value(e.run_id)));
      attributes.push_back(Attribute("weft.workflow", Value(e.workflow)));
      attributes.push_back(Attribute("weft.step", path));
      attributes.push_back(Attribute("weft.action", e.data.get("action")));
      attributes.push_back(Attribute("weft.status", status));
      attributes.push_back(Attribute("weft.attempt", e.data.get("attempt")));
      const Value detail = e.data.get("detail");
      if (detail.get("alias").is_string()) {
        attributes.push_back(Attribute("gen_ai.request.model", detail.get("alias")));
        attributes.push_back(Attribute("gen_ai.usage.input_tokens", detail.get("tokens").get("input")));
        attributes.push_back(Attribute("gen_ai.usage.output_tokens", detail.get("tokens").get("output")));
      }
      span.set("attributes", attributes);
      span.set("status", Status(status == Value("failed") || status == Value("retrying"), e.data.get("error")));
      AddSpan(std::move(span));
    }
  } else if (e.kind == engine::Event::Kind::kRun && client_) {
    const Value status = e.data.get("status");
    // A run's span covers it from creation to its end.
    if (status != Value("completed") && status != Value("failed") && status != Value("cancelled")) return;
    Value span = Span(e.run_id, e.run_id, "", Value(e.workflow), 2, e.data.get("created_ms"), e.data.get("updated_ms"));
    Value attributes = Value::MakeArray();
    attributes.push_back(Attribute("weft.run_id", Value(e.run_id)));
    attributes.push_back(Attribute("weft.workflow", Value(e.workflow)));
    attributes.push_back(Attribute("weft.version", e.data.get("version")));
    attributes.push_back(Attribute("weft.trigger", e.data.get("trigger")));
    attributes.push_back(Attribute("weft.status", status));
    span.set("attributes", attributes);
    span.set("status", Status(status != Value("completed"), e.data.get("error")));
    AddSpan(std::move(span));
  }
}

size_t Telemetry::Flush() {
  if (!client_) return 0;
  MutexLock exporting(flush_mu_);
  std::vector<Value> batch;
  {
    MutexLock lock(mu_);
    batch.swap(spans_);
  }
  if (batch.empty()) return 0;
  Value spans = Value::MakeArray();
  for (Value& s : batch) spans.push_back(std::move(s));
  Value scope = Value::MakeObject();
  scope.set("name", "weft");
  Value scope_spans = Value::MakeObject();
  scope_spans.set("scope", scope);
  scope_spans.set("spans", spans);
  Value resource = Value::MakeObject();
  Value resource_attributes = Value::MakeArray();
  resource_attributes.push_back(Attribute("service.name", Value(options_.service_name)));
  resource.set("attributes", resource_attributes);
  Value resource_spans = Value::MakeObject();
  resource_spans.set("resource", resource);
  resource_spans.set("scopeSpans", Value::MakeArray({scope_spans}));
  Value body = Value::MakeObject();
  body.set("resourceSpans", Value::MakeArray({resource_spans}));

  http::Request request;
  request.method = "POST";
  std::string endpoint = options_.otlp_endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  request.url = endpoint + "/v1/traces";
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = ToJson(body);
  request.timeout_ms = 10'000;
  request.direct = true;
  const std::string url = request.url;
  // The client's own loop runs the request; this thread waits for it.
  asio::io_context io;
  std::promise<std::shared_ptr<Result<http::Response>>> answer;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        answer.set_value(std::make_shared<Result<http::Response>>(co_await client_->Send(std::move(request))));
      },
      [&answer](const std::exception_ptr& e) {
        if (e) answer.set_value(std::make_shared<Result<http::Response>>(InternalError("export failed")));
      });
  io.run();
  std::shared_ptr<Result<http::Response>> sent = answer.get_future().get();
  const bool ok = sent->ok() && (*sent)->status / 100 == 2;
  metrics_->Add("weft_otlp_spans_total", {{"outcome", ok ? "sent" : "failed"}}, static_cast<double>(batch.size()));
  if (!ok) {
    Log(LogLevel::kWarning, "OTLP export to " + url + " failed: " +
                                (sent->ok() ? "HTTP " + std::to_string((*sent)->status) : sent->status().message()));
    return 0;
  }
  return batch.size();
}

void Telemetry::Start() {
  if (!client_) return;
  thread_ = std::thread([this] {
    for (;;) {
      {
        MutexLock lock(mu_);
        lock.WaitFor(wake_, std::chrono::milliseconds(options_.otlp_interval_ms),
                     [&]() WEFT_REQUIRES(mu_) { return stopping_; });
        if (stopping_) break;
      }
      (void)Flush();
    }
    (void)Flush();  // what is left, once
  });
}

void Telemetry::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace weft::server

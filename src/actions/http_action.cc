// The http and notify actions.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <strings.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "weft/actions/http.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/expr/expression.h"
#include "weft/http/address.h"
#include "weft/http/retry.h"

namespace weft::actions {
namespace {

namespace asio = boost::asio;
using engine::ActionContext;
using engine::ActionResult;

std::string Text(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_undefined() || v.is_null()) return "";
  return ToJson(v);
}

struct Target {
  std::string scheme, host;
  int port = 0;
};

// Scheme, host and port as curl will read them.
Result<Target> ParseTarget(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return ResourceExhaustedError("curl_url failed");
  struct Free {
    CURLU* u;
    ~Free() { curl_url_cleanup(u); }
  } free_url{u};
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return InvalidArgumentError("'" + url + "' is not a URL");
  }
  Target t;
  auto part = [u](CURLUPart which, unsigned flags, std::string& out) {
    char* p = nullptr;
    if (curl_url_get(u, which, &p, flags) != CURLUE_OK) return false;
    out = p;
    curl_free(p);
    return true;
  };
  std::string port;
  if (!part(CURLUPART_SCHEME, 0, t.scheme) || (t.scheme != "http" && t.scheme != "https")) {
    return InvalidArgumentError("'" + url + "': only http and https URLs can be called");
  }
  if (!part(CURLUPART_HOST, 0, t.host) || !part(CURLUPART_PORT, CURLU_DEFAULT_PORT, port)) {
    return InvalidArgumentError("'" + url + "' has no host");
  }
  if (t.host.size() > 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  t.port = std::atoi(port.c_str());
  return t;
}

// The SSRF guard, before anything is sent: the host must be granted, and an
// address literal must be public unless private addresses are. (Names are
// checked on the address they resolve to, as curl connects.)
Status CheckTarget(const Target& t, const dsl::Permissions* granted, bool& public_only) {
  if (granted == nullptr || !granted->AllowsHost(t.host, t.port)) {
    return PermissionDeniedError("host '" + t.host + ":" + std::to_string(t.port) +
                                 "' is not in the workflow's permissions.network.hosts");
  }
  public_only = !granted->private_network;
  if (public_only && !http::IsPublicIpLiteral(t.host).value_or(true)) {
    return PermissionDeniedError("address " + t.host +
                                 " is loopback, private or link-local; the workflow allows such addresses only "
                                 "with permissions.network.private: true");
  }
  return Status::Ok();
}

std::string CheckGrantsAtLoad(const Value& literal, const dsl::Permissions& granted, const char* url_key) {
  Value url = literal.get(url_key);
  if (!url.is_string()) return "";
  Result<Target> t = ParseTarget(url.as_string());
  if (!t.ok()) return t.status().message();
  bool public_only = false;
  Status s = CheckTarget(*t, &granted, public_only);
  return s.ok() ? "" : s.message();
}

void AppendQuery(std::string& url, const Value& query) {
  if (!query.is_object()) return;
  auto add = [&url](const std::string& key, const Value& v) {
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += UrlComponentEncode(key);
    url += '=';
    url += UrlComponentEncode(Text(v));
  };
  for (const auto& m : query.members()) {
    if (m.value.is_undefined() || m.value.is_null()) continue;
    if (m.value.is_array()) {
      for (const Value& item : m.value.as_array()) add(m.key, item);
    } else {
      add(m.key, m.value);
    }
  }
}

std::string FormEncode(const Value& form) {
  std::string out;
  for (const auto& m : form.members()) {
    if (m.value.is_undefined()) continue;
    if (!out.empty()) out += '&';
    out += UrlComponentEncode(m.key) + "=" + UrlComponentEncode(Text(m.value));
  }
  return out;
}

Result<std::string> Multipart(const Value& parts, const std::string& boundary) {
  std::string out;
  for (const Value& p : parts.as_array()) {
    const std::string name = p.get("name").as_string();
    if (name.find_first_of("\"\r\n") != std::string::npos) {
      return InvalidArgumentError("multipart part name '" + name + "' contains a quote or line break");
    }
    out.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(name).append("\"");
    std::string content;
    if (Value b64 = p.get("content_base64"); b64.is_string()) {
      std::optional<std::string> bytes = Base64Decode(b64.as_string());
      if (!bytes) return InvalidArgumentError("multipart part '" + name + "': content_base64 is not base64");
      content = std::move(*bytes);
    } else {
      content = Text(p.get("value"));
    }
    if (Value f = p.get("filename"); f.is_string()) {
      if (f.as_string().find_first_of("\"\r\n") != std::string::npos) {
        return InvalidArgumentError("multipart part '" + name + "': filename contains a quote or line break");
      }
      out += "; filename=\"" + f.as_string() + "\"";
    }
    out += "\r\n";
    if (Value ct = p.get("content_type"); ct.is_string()) out += "Content-Type: " + ct.as_string() + "\r\n";
    out += "\r\n" + content + "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string Hmac(const std::string& algorithm, std::string_view key, std::string_view data) {
  const EVP_MD* md = algorithm == "sha1" ? EVP_sha1() : algorithm == "sha512" ? EVP_sha512() : EVP_sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &n);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), n));
}

// Adds the credentials of `auth` to the request.
void ApplyAuth(const Value& auth, const ActionContext& ctx, http::Request& req) {
  const std::string type = auth.get("type").as_string();
  if (type == "bearer") {
    req.headers.push_back({"Authorization", "Bearer " + Text(auth.get("token"))});
  } else if (type == "basic") {
    req.headers.push_back(
        {"Authorization", "Basic " + Base64Encode(Text(auth.get("username")) + ":" + Text(auth.get("password")))});
  } else if (type == "api_key") {
    if (Value q = auth.get("query"); q.is_string()) {
      req.url += req.url.find('?') == std::string::npos ? '?' : '&';
      req.url += UrlComponentEncode(q.as_string()) + "=" + UrlComponentEncode(Text(auth.get("value")));
    } else {
      const Value h = auth.get("header");
      req.headers.push_back({h.is_string() ? h.as_string() : "X-API-Key", Text(auth.get("value"))});
    }
  } else if (type == "hmac") {
    // Signs the body (prefixed with a timestamp when asked, as Stripe and
    // Slack do: "<unix seconds>.<body>").
    const std::string algorithm = auth.get("algorithm").is_string() ? auth.get("algorithm").as_string() : "sha256";
    std::string payload = req.body;
    if (Value th = auth.get("timestamp_header"); th.is_string()) {
      const std::string ts = std::to_string(ctx.clock->NowMillis() / 1000);
      req.headers.push_back({th.as_string(), ts});
      payload = ts + "." + payload;
    }
    const Value header = auth.get("header");
    const Value prefix = auth.get("prefix");
    req.headers.push_back({header.is_string() ? header.as_string() : "X-Signature",
                           (prefix.is_string() ? prefix.as_string() : algorithm + "=") +
                               Hmac(algorithm, Text(auth.get("secret")), payload)});
  }
}

Value HeadersObject(const std::vector<http::Header>& headers) {
  Value out = Value::MakeObject();
  for (const http::Header& h : headers) {
    std::string name = h.name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (out.get(name).is_undefined()) out.set(name, h.value);
  }
  return out;
}

// Expressions and schemas given in settings, compiled once.
class Compiled {
 public:
  Result<std::shared_ptr<const expr::Expression>> Expression(const std::string& text) {
    std::lock_guard lock(mu_);
    if (auto it = expressions_.find(text); it != expressions_.end()) return it->second;
    Result<expr::Expression> e = expr::Expression::Compile(text);
    if (!e.ok()) return InvalidArgumentError("map: " + e.status().message());
    auto shared = std::make_shared<const expr::Expression>(std::move(e).value());
    if (expressions_.size() < kMax) expressions_[text] = shared;
    return shared;
  }
  Result<std::shared_ptr<const dsl::Schema>> Schema(const Value& document) {
    const std::string key = ToJson(document);
    std::lock_guard lock(mu_);
    if (auto it = schemas_.find(key); it != schemas_.end()) return it->second;
    Result<dsl::Schema> s = dsl::Schema::Compile(document);
    if (!s.ok()) return InvalidArgumentError("response_schema: " + s.status().message());
    auto shared = std::make_shared<const dsl::Schema>(std::move(s).value());
    if (schemas_.size() < kMax) schemas_[key] = shared;
    return shared;
  }

 private:
  static constexpr size_t kMax = 1024;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const expr::Expression>> expressions_;
  std::unordered_map<std::string, std::shared_ptr<const dsl::Schema>> schemas_;
};

// A whole-number setting, at most `max` (durations: about 24 days, so that
// nothing adding them to a clock overflows).
constexpr int64_t kMaxMillis = std::numeric_limits<int32_t>::max();

int64_t IntSetting(const Value& settings, std::string_view key, int64_t fallback, int64_t max = kMaxMillis) {
  const Value v = settings.get(key);
  return v.is_number() && v.as_number() >= 0 ? std::min(SaturatingInt64(v.as_number()), max) : fallback;
}

bool BoolSetting(const Value& settings, std::string_view key, bool fallback) {
  const Value v = settings.get(key);
  return v.is_bool() ? v.as_bool() : fallback;
}

// Shared by http and notify: sends `req` to a granted host with retries,
// and describes the exchange in the step's detail.
asio::awaitable<Result<http::Response>> Call(http::Client& client, http::Request req, const ActionContext& ctx,
                                             const Value& settings, Value& detail) {
  Result<Target> target = ParseTarget(req.url);
  if (!target.ok()) co_return target.status();
  if (Status s = CheckTarget(*target, ctx.permissions, req.public_only); !s.ok()) co_return s;
  req.direct = true;  // what the permissions grant is the host itself, never a proxy in between
  // The step's timeout_ms bounds the whole attempt (resends included).
  req.timeout_ms = ctx.MillisLeft(30'000);
  req.max_response_bytes =
      static_cast<size_t>(IntSetting(settings, "max_response_bytes", 4 << 20, std::numeric_limits<int64_t>::max()));
  // Resends within this attempt (the step's `retries` make new attempts):
  // 3 by default, `resend: false` for none.
  http::RetryPolicy policy;
  policy.clock = ctx.clock;
  policy.max_retries = 3;
  policy.backoff_ms = 200;
  if (Value r = settings.get("resend"); r.is_bool() && !r.as_bool()) {
    policy.max_retries = 0;
  } else if (r.is_object()) {
    policy.max_retries = static_cast<int>(IntSetting(r, "max", policy.max_retries, 10));
    policy.backoff_ms = IntSetting(r, "backoff_ms", policy.backoff_ms);
    policy.max_backoff_ms = IntSetting(r, "max_delay_ms", policy.max_backoff_ms);
  }
  Value request = Value::MakeObject();
  request.set("method", req.method);
  request.set("url", req.url);
  detail.set("request", request);
  int sends = 0;
  Result<http::Response> r = co_await http::SendWithRetries(client, std::move(req), policy, &sends);
  Value response = Value::MakeObject();
  response.set("sends", sends);
  if (r.ok()) {
    response.set("status", r->status);
    response.set("elapsed_ms", static_cast<double>(r->elapsed_ms));
  } else {
    response.set("error", r.status().message());
  }
  detail.set("response", response);
  co_return r;
}

// The settings of http and notify: `properties` (JSON members) plus
// `max_response_bytes` and `resend`, what the action does on its own within
// one attempt (docs/workflows.md, "Retries").
dsl::Schema SettingsSchema(std::string_view properties) {
  std::string doc = R"({"type":"object","properties":{)";
  doc.append(properties);
  doc += R"("max_response_bytes":{"type":"number","minimum":1},
    "resend":{"oneOf":[{"enum":[false]},{"type":"object","additionalProperties":false,"properties":{
      "max":{"type":"integer","minimum":0,"maximum":10},"backoff_ms":{"type":"integer","minimum":0},
      "max_delay_ms":{"type":"integer","minimum":0}}}]}}})";
  return dsl::Schema::FromLiteral(doc);
}

class HttpAction final : public engine::Action {
 public:
  explicit HttpAction(http::Client* client) : client_(client) {
    spec_.name = "http";
    spec_.description = "Calls an HTTP API and returns its status, headers and body (or a mapping of them)";
    spec_.needs = dsl::kNeedNetwork;
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["url"],"properties":{
      "method":{"enum":["GET","POST","PUT","PATCH","DELETE","HEAD","OPTIONS"]},
      "url":{"type":"string","minLength":1},
      "query":{"type":"object"},
      "headers":{"type":"object","additionalProperties":{"type":["string","number","boolean"]}},
      "json":{},
      "form":{"type":"object"},
      "body":{"type":"string"},
      "content_type":{"type":"string"},
      "multipart":{"type":"array","items":{"type":"object","required":["name"],"properties":{
        "name":{"type":"string","minLength":1},"filename":{"type":"string"},"content_type":{"type":"string"},
        "content_base64":{"type":"string"}}}},
      "auth":{"type":"object","required":["type"],"properties":{
        "type":{"enum":["bearer","basic","api_key","hmac"]},
        "token":{"type":"string"},"username":{"type":"string"},"password":{"type":"string"},
        "header":{"type":"string"},"query":{"type":"string"},"value":{"type":"string"},
        "secret":{"type":"string"},"algorithm":{"enum":["sha1","sha256","sha512"]},"prefix":{"type":"string"},
        "timestamp_header":{"type":"string"}}}},
      "not":{"anyOf":[{"required":["json","form"]},{"required":["json","body"]},{"required":["json","multipart"]},
                      {"required":["form","body"]},{"required":["form","multipart"]},{"required":["body","multipart"]}]}
    })");
    spec_.settings_schema = SettingsSchema(R"(
      "accept_status":{"type":"array","items":{"type":"integer","minimum":100,"maximum":599}},
      "fail_on_status":{"type":"boolean"},
      "idempotency_key":{"type":"boolean"},
      "map":{"type":"string"},
      "response_schema":{"type":"object"},)");
    spec_.check_grants = [](const Value& literal, const dsl::Permissions& granted) {
      return CheckGrantsAtLoad(literal, granted, "url");
    };
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    const Value& in = ctx.inputs;
    http::Request req;
    const bool has_body = in.get("json").is_defined() || in.get("form").is_defined() || in.get("body").is_defined() ||
                          in.get("multipart").is_defined();
    req.method = in.get("method").is_string() ? in.get("method").as_string() : (has_body ? "POST" : "GET");
    req.url = in.get("url").as_string();
    AppendQuery(req.url, in.get("query"));
    std::string content_type = in.get("content_type").is_string() ? in.get("content_type").as_string() : "";
    if (Value j = in.get("json"); j.is_defined()) {
      req.body = ToJson(j);
      if (content_type.empty()) content_type = "application/json";
    } else if (Value f = in.get("form"); f.is_object()) {
      req.body = FormEncode(f);
      content_type = "application/x-www-form-urlencoded";
    } else if (Value m = in.get("multipart"); m.is_array()) {
      const std::string boundary = "weft-" + HexEncode(std::to_string(ctx.random->Next()));
      Result<std::string> body = Multipart(m, boundary);
      if (!body.ok()) co_return ActionResult::Error(body.status());
      req.body = std::move(body).value();
      content_type = "multipart/form-data; boundary=" + boundary;
    } else if (Value b = in.get("body"); b.is_string()) {
      req.body = b.as_string();
    }
    if (!content_type.empty()) req.headers.push_back({"Content-Type", content_type});
    bool accept = false;
    if (Value h = in.get("headers"); h.is_object()) {
      for (const auto& m : h.members()) {
        accept = accept || (m.key.size() == 6 && strncasecmp(m.key.c_str(), "accept", 6) == 0);
        req.headers.push_back({m.key, Text(m.value)});
      }
    }
    if (!accept) req.headers.push_back({"Accept", "application/json, */*;q=0.5"});
    // One key per step, the same for every attempt: the API can tell a
    // retry from a new request whatever made the step run again.
    if (BoolSetting(ctx.settings, "idempotency_key", req.method != "GET" && req.method != "HEAD")) {
      req.headers.push_back({"Idempotency-Key", ctx.IdempotencyKey()});
    }
    if (Value auth = in.get("auth"); auth.is_object()) ApplyAuth(auth, ctx, req);

    Value detail = Value::MakeObject();
    Result<http::Response> r = co_await Call(*client_, std::move(req), ctx, ctx.settings, detail);
    ctx.detail = detail;
    if (!r.ok()) co_return ActionResult::Error(r.status());

    Value out = Value::MakeObject();
    out.set("status", r->status);
    out.set("headers", HeadersObject(r->headers));
    Value body(r->body);
    if (r->header("content-type").find("json") != std::string_view::npos && !r->body.empty()) {
      Result<Value> parsed = ParseJson(r->body);
      if (!parsed.ok()) {
        co_return ActionResult::Error(
            InvalidArgumentError("the response claims JSON but is not: " + parsed.status().message()));
      }
      body = std::move(parsed).value();
    }
    out.set("body", body);
    // Statuses other than 2xx fail the step, but for those the step lists
    // as answers (`accept_status: [404]`) or with `fail_on_status: false`.
    bool accepted = r->status >= 200 && r->status < 300;
    if (Value list = ctx.settings.get("accept_status"); list.is_array()) {
      for (const Value& st : list.as_array()) accepted = accepted || st == Value(r->status);
    }
    if (!accepted && BoolSetting(ctx.settings, "fail_on_status", true)) {
      std::string excerpt = r->body.substr(0, 300);
      co_return ActionResult::Error(
          http::StatusForHttp(r->status, detail.get("request").get("method").as_string() + " " +
                                             detail.get("request").get("url").as_string() + " answered HTTP " +
                                             std::to_string(r->status) + (excerpt.empty() ? "" : ": " + excerpt)));
    }
    if (Value map = ctx.settings.get("map"); map.is_string()) {
      Result<std::shared_ptr<const expr::Expression>> e = compiled_.Expression(map.as_string());
      if (!e.ok()) co_return ActionResult::Error(e.status());
      Result<Value> mapped = (*e)->Evaluate(out);
      if (!mapped.ok()) co_return ActionResult::Error(InvalidArgumentError("map: " + mapped.status().message()));
      out = mapped->is_undefined() ? Value::Null() : std::move(mapped).value();
    }
    if (Value schema = ctx.settings.get("response_schema"); schema.is_object()) {
      Result<std::shared_ptr<const dsl::Schema>> s = compiled_.Schema(schema);
      if (!s.ok()) co_return ActionResult::Error(s.status());
      if (Status v = (*s)->Validate(out, "response"); !v.ok()) co_return ActionResult::Error(v);
    }
    co_return ActionResult::Ok(out);
  }

 private:
  http::Client* client_;
  dsl::ActionSpec spec_;
  mutable Compiled compiled_;
};

// A message for people: Slack's incoming-webhook format ({text, blocks})
// or a generic JSON document ({message, fields, run, link}).
class NotifyAction final : public engine::Action {
 public:
  NotifyAction(http::Client* client, std::string run_url_prefix)
      : client_(client), run_url_prefix_(std::move(run_url_prefix)) {
    spec_.name = "notify";
    spec_.description = "Posts a message to a Slack-compatible or generic webhook, with a link to the run";
    spec_.needs = dsl::kNeedNetwork;
    spec_.input_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["webhook","message"],"properties":{
      "webhook":{"type":"string","minLength":1},
      "format":{"enum":["slack","generic"]},
      "message":{"type":"string"},
      "title":{"type":"string"},
      "fields":{"type":"object"},
      "link":{"type":"string"},
      "headers":{"type":"object","additionalProperties":{"type":"string"}}}})");
    spec_.output_schema = dsl::Schema::FromLiteral(R"({"type":"object","required":["status"]})");
    spec_.settings_schema = SettingsSchema("");
    spec_.check_grants = [](const Value& literal, const dsl::Permissions& granted) {
      return CheckGrantsAtLoad(literal, granted, "webhook");
    };
  }
  const dsl::ActionSpec& spec() const override { return spec_; }

  asio::awaitable<ActionResult> Execute(ActionContext& ctx) const override {
    const Value& in = ctx.inputs;
    std::string link = in.get("link").is_string() ? in.get("link").as_string() : "";
    if (link.empty() && !run_url_prefix_.empty()) link = run_url_prefix_ + std::string(ctx.run_id);
    const std::string message = in.get("message").as_string();
    const std::string title = in.get("title").is_string() ? in.get("title").as_string() : "";
    const bool slack = !in.get("format").is_string() || in.get("format").as_string() == "slack";
    Value doc = Value::MakeObject();
    if (slack) {
      std::string text = title.empty() ? message : "*" + title + "*\n" + message;
      doc.set("text", text);
      Value::Array blocks;
      Value section = Value::MakeObject();
      section.set("type", "section");
      Value md = Value::MakeObject();
      md.set("type", "mrkdwn");
      md.set("text", text);
      section.set("text", md);
      if (Value f = in.get("fields"); f.is_object() && f.size() > 0) {
        Value::Array fields;
        for (const auto& m : f.members()) {
          Value field = Value::MakeObject();
          field.set("type", "mrkdwn");
          field.set("text", "*" + m.key + "*\n" + Text(m.value));
          fields.push_back(field);
        }
        section.set("fields", Value::MakeArray(std::move(fields)));
      }
      blocks.push_back(section);
      if (!link.empty()) {
        Value context = Value::MakeObject();
        context.set("type", "context");
        Value el = Value::MakeObject();
        el.set("type", "mrkdwn");
        el.set("text", "<" + link + "|Open the run>");
        context.set("elements", Value::MakeArray({el}));
        blocks.push_back(context);
      }
      doc.set("blocks", Value::MakeArray(std::move(blocks)));
    } else {
      if (!title.empty()) doc.set("title", title);
      doc.set("message", message);
      if (Value f = in.get("fields"); f.is_object()) doc.set("fields", f);
      doc.set("run", std::string(ctx.run_id));
      doc.set("workflow", std::string(ctx.workflow));
      if (!link.empty()) doc.set("link", link);
    }
    http::Request req;
    req.method = "POST";
    req.url = in.get("webhook").as_string();
    req.body = ToJson(doc);
    req.headers.push_back({"Content-Type", "application/json"});
    std::string key(ctx.run_id);
    key.append("/").append(ctx.step_path);
    req.headers.push_back({"Idempotency-Key", key});
    if (Value h = in.get("headers"); h.is_object()) {
      for (const auto& m : h.members()) req.headers.push_back({m.key, Text(m.value)});
    }
    Value detail = Value::MakeObject();
    Result<http::Response> r = co_await Call(*client_, std::move(req), ctx, ctx.settings, detail);
    ctx.detail = detail;
    if (!r.ok()) co_return ActionResult::Error(r.status());
    if (r->status < 200 || r->status >= 300) {
      co_return ActionResult::Error(http::StatusForHttp(
          r->status, "the webhook answered HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300)));
    }
    Value out = Value::MakeObject();
    out.set("status", r->status);
    co_return ActionResult::Ok(out);
  }

 private:
  http::Client* client_;
  std::string run_url_prefix_;
  dsl::ActionSpec spec_;
};

}  // namespace

Status RegisterHttpActions(engine::ActionRegistry& registry, const HttpActionOptions& options) {
  if (options.client == nullptr) return InvalidArgumentError("the http actions need an HTTP client");
  WEFT_RETURN_IF_ERROR(registry.Register(std::make_unique<HttpAction>(options.client)));
  return registry.Register(std::make_unique<NotifyAction>(options.client, options.run_url_prefix));
}

}  // namespace weft::actions

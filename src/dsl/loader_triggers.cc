// The `trigger:` / `triggers:` section (dsl/trigger.h).
#include <date/tz.h>

#include <cctype>

#include "loader_internal.h"
#include "weft/core/cron.h"

namespace weft::dsl {

std::string_view TriggerKindName(Trigger::Kind kind) {
  switch (kind) {
    case Trigger::Kind::kWebhook: return "webhook";
    case Trigger::Kind::kSchedule: return "schedule";
    case Trigger::Kind::kForm: return "form";
    case Trigger::Kind::kEvent: return "event";
    case Trigger::Kind::kDatabase: return "database";
    case Trigger::Kind::kManual: return "manual";
    case Trigger::Kind::kChat: return "chat";
  }
  return "manual";
}

namespace internal {
namespace {

const Keys kTriggerKinds = {"webhook", "schedule", "form", "event", "database", "manual", "chat"};
const Keys kWebhookKeys = {"path",    "methods",    "max_body_kb", "auth",
                           "respond", "timeout_ms", "response",    "idempotency"};
const Keys kWebhookAuthKeys = {"bearer", "basic", "hmac"};
const Keys kBasicKeys = {"username", "password"};
const Keys kHmacKeys = {"secret", "style", "header", "tolerance_s"};
const Keys kResponseKeys = {"status", "body", "headers"};
const Keys kIdempotencyKeys = {"header", "key"};
const Keys kScheduleKeys = {"cron", "timezone", "missed", "max_missed", "input"};
const Keys kFormKeys = {"title", "description", "submit_label", "max_body_kb"};
const Keys kEventKeys = {"name"};
const Keys kDatabaseKeys = {"connection", "channel", "table", "cursor", "interval_ms"};
const Keys kChatKeys = {"channel",       "per",   "identity_secret", "max_message_kb",
                        "max_upload_mb", "input", "topic_change"};
const Keys kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};

bool IsHookPath(const std::string& s) {
  if (s.empty() || s.size() > 200 || s.front() == '/' || s.back() == '/') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') continue;
    if (c == '/' && s[i - 1] != '/') continue;
    return false;
  }
  return s.find("..") == std::string::npos;
}

bool IsSecretName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace

void Loader::LoadTriggers(const YAML::Node& root) {
  const YAML::Node one = root["trigger"];
  const YAML::Node many = root["triggers"];
  if (one && many) diag_.Error(Loc(many), "write 'trigger' (one) or 'triggers' (a list), not both");
  if (one) {
    // `trigger:` may also hold a list.
    if (one.IsSequence()) {
      for (size_t i = 0; i < one.size(); ++i) LoadTrigger(one[i], "trigger[" + std::to_string(i) + "]");
    } else {
      LoadTrigger(one, "trigger");
    }
  } else if (many) {
    if (ExpectSequence(many, "'triggers'")) {
      for (size_t i = 0; i < many.size(); ++i) LoadTrigger(many[i], "triggers[" + std::to_string(i) + "]");
    }
  }
  CheckTriggerClashes();
}

void Loader::LoadTrigger(const YAML::Node& n, const std::string& where) {
  Trigger t;
  t.location = Loc(n);
  // `manual` alone is a trigger without settings.
  if (n.IsScalar() && n.Scalar() == "manual") {
    t.kind = Trigger::Kind::kManual;
    wf_->triggers.push_back(std::move(t));
    return;
  }
  if (!n.IsMap() || n.size() != 1) {
    diag_.Error(Loc(n), where +
                            " must be a mapping with one key, the trigger's kind (one of webhook, schedule, form, "
                            "event, database, manual, chat)");
    return;
  }
  const std::string kind = n.begin()->first.Scalar();
  const YAML::Node body = n.begin()->second;
  const std::string at = Cat({where, ".", kind});
  auto settings_map = [&](const Keys& keys) {
    if (body.IsNull()) return false;
    if (!ExpectMap(body, at)) return false;
    CheckKeys(body, keys, at);
    return true;
  };
  auto read_string = [&](const YAML::Node& map, const char* key, std::string& out) {
    if (const YAML::Node v = map[key]) ExpectString(v, Cat({at, ".", key}), out);
  };
  if (kind == "webhook") {
    t.kind = Trigger::Kind::kWebhook;
    t.webhook.path = wf_->name;
    t.webhook.methods = {"POST"};
    if (settings_map(kWebhookKeys)) LoadWebhook(body, at, t.webhook);
    if (!IsHookPath(t.webhook.path)) {
      diag_.Error(body && body["path"] ? Loc(body["path"]) : Loc(n),
                  at + ".path '" + t.webhook.path +
                      "' must be letters, digits, '-', '_', '.' and single '/' between parts (it follows /hooks/)");
    }
  } else if (kind == "schedule") {
    t.kind = Trigger::Kind::kSchedule;
    if (body.IsScalar()) {
      t.schedule.cron = body.Scalar();  // `schedule: "0 9 * * 1-5"`
      if (Result<CronSpec> spec = CronSpec::Parse(t.schedule.cron); !spec.ok()) {
        diag_.Error(Loc(body), at + ": " + spec.status().message());
      }
    } else if (settings_map(kScheduleKeys)) {
      LoadSchedule(body, at, t.schedule);
    } else {
      diag_.Error(Loc(n), at + " needs a cron expression");
    }
  } else if (kind == "form") {
    t.kind = Trigger::Kind::kForm;
    t.form.title = wf_->name;
    t.form.description = wf_->description;
    if (settings_map(kFormKeys)) {
      read_string(body, "title", t.form.title);
      read_string(body, "description", t.form.description);
      read_string(body, "submit_label", t.form.submit_label);
      int64_t kb = 0;
      if (const YAML::Node v = body["max_body_kb"]; v && ExpectInt(v, at + ".max_body_kb", 1, kb)) {
        t.form.max_body_bytes = std::min<int64_t>(kb, int64_t{1} << 22) * 1024;
      }
    }
  } else if (kind == "event") {
    t.kind = Trigger::Kind::kEvent;
    if (body.IsScalar()) {
      t.event.name = body.Scalar();
    } else if (settings_map(kEventKeys)) {
      read_string(body, "name", t.event.name);
    }
    if (!IsIdentifier(t.event.name) && t.event.name.find('.') == std::string::npos) {
      diag_.Error(Loc(body ? body : n), at + " needs an event name (letters, digits, '_', '-', '.')");
    }
  } else if (kind == "database") {
    t.kind = Trigger::Kind::kDatabase;
    if (settings_map(kDatabaseKeys)) {
      DatabaseTrigger& d = t.database;
      read_string(body, "connection", d.connection);
      read_string(body, "channel", d.channel);
      read_string(body, "table", d.table);
      read_string(body, "cursor", d.cursor);
      if (const YAML::Node v = body["interval_ms"]) ExpectInt(v, at + ".interval_ms", 10, d.interval_ms);
      if (d.connection.empty()) diag_.Error(Loc(body), at + " needs a 'connection' (one of weft.yaml's)");
      if (d.channel.empty() == d.table.empty()) {
        diag_.Error(Loc(body), at + " needs either 'channel' (PostgreSQL LISTEN) or 'table' with 'cursor' (an outbox)");
      } else if (!d.table.empty() && d.cursor.empty()) {
        diag_.Error(Loc(body), at + ".table needs 'cursor', the increasing column read after");
      }
      // Names go into SQL text (quoted): only plain identifiers.
      auto sql_name = [](const std::string& s, bool dotted) {
        if (s.empty() || s.size() > 128) return false;
        bool start = true;
        for (char c : s) {
          if (dotted && c == '.' && !start) {
            start = true;
            continue;
          }
          const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
          if (!letter && (start || !(c >= '0' && c <= '9'))) return false;
          start = false;
        }
        return !start;
      };
      if (!d.table.empty() && !sql_name(d.table, true)) {
        diag_.Error(Loc(body["table"]), at + ".table must be a table name ([schema.]name: letters, digits, '_')");
      }
      if (!d.cursor.empty() && !sql_name(d.cursor, false)) {
        diag_.Error(Loc(body["cursor"]), at + ".cursor must be a column name (letters, digits, '_')");
      }
      if (!d.channel.empty() && !sql_name(d.channel, false)) {
        diag_.Error(Loc(body["channel"]), at + ".channel must be a channel name (letters, digits, '_')");
      }
    } else {
      diag_.Error(Loc(n), at + " needs a 'connection'");
    }
  } else if (kind == "manual") {
    t.kind = Trigger::Kind::kManual;
    if (!body.IsNull() && !(body.IsMap() && body.size() == 0) && !(body.IsScalar() && body.Scalar() == "true")) {
      diag_.Error(Loc(body), at + " takes no settings");
    }
  } else if (kind == "chat") {
    t.kind = Trigger::Kind::kChat;
    if (body.IsScalar()) {
      t.chat.channel = body.Scalar();
    } else if (settings_map(kChatKeys)) {
      read_string(body, "channel", t.chat.channel);
      if (const YAML::Node per = body["per"]) {
        std::string s;
        if (ExpectString(per, at + ".per", s)) {
          if (s == "message") {
            t.chat.per = ChatTrigger::Per::kMessage;
          } else if (s != "conversation") {
            diag_.Error(Loc(per), at + ".per must be 'conversation' or 'message', not '" + s + "'");
          }
        }
      }
      if (const YAML::Node secret = body["identity_secret"]) {
        if (ExpectString(secret, at + ".identity_secret", t.chat.identity_secret) &&
            !IsSecretName(t.chat.identity_secret)) {
          diag_.Error(Loc(secret),
                      at + ".identity_secret names a secret (letters, digits, '_'), not the secret itself");
        }
      }
      int64_t kb = 0;
      if (const YAML::Node v = body["max_message_kb"]; v && ExpectInt(v, at + ".max_message_kb", 1, kb)) {
        if (kb > 1024) diag_.Error(Loc(v), at + ".max_message_kb is at most 1024 (1 MiB)");
        t.chat.max_message_kb = std::min<int64_t>(kb, 1024);
      }
      int64_t mb = 0;
      if (const YAML::Node v = body["max_upload_mb"]; v && ExpectInt(v, at + ".max_upload_mb", 1, mb)) {
        if (mb > 100) diag_.Error(Loc(v), at + ".max_upload_mb is at most 100");
        t.chat.max_upload_mb = std::min<int64_t>(mb, 100);
      }
      if (const YAML::Node i = body["input"]) t.chat.input = CompileTemplate(i, at + ".input");
      if (const YAML::Node change = body["topic_change"]) {
        using TC = ChatTrigger::TopicChange;
        static const std::pair<const char*, TC> kChoices[] = {
            {"deliver", TC::kDeliver}, {"cancel", TC::kCancel}, {"park", TC::kPark}, {"ask", TC::kAsk}};
        std::string s;
        if (ExpectString(change, at + ".topic_change", s)) {
          bool known = false;
          for (const auto& [name, value] : kChoices) {
            if (s == name) {
              t.chat.topic_change = value;
              known = true;
            }
          }
          if (!known) {
            diag_.Error(Loc(change),
                        at + ".topic_change must be 'deliver', 'cancel', 'park' or 'ask', not '" + s + "'");
          }
        }
      }
    }
    if (!IsIdentifier(t.chat.channel)) diag_.Error(Loc(body ? body : n), at + " needs a channel name");
  } else {
    std::string hint = ClosestMatch(kind, kTriggerKinds);
    diag_.Error(Loc(n.begin()->first), "unknown trigger kind '" + kind + "' in " + where +
                                           (hint.empty() ? " (one of webhook, schedule, form, event, database, "
                                                           "manual, chat)"
                                                         : " (did you mean '" + hint + "'?)"));
    return;
  }
  wf_->triggers.push_back(std::move(t));
}

void Loader::LoadWebhook(const YAML::Node& n, const std::string& where, WebhookTrigger& out) {
  if (const YAML::Node p = n["path"]) {
    if (ExpectString(p, where + ".path", out.path) && !out.path.empty() && out.path.front() == '/') {
      out.path.erase(0, 1);
    }
  }
  if (const YAML::Node m = n["methods"]) {
    std::vector<YAML::Node> items;
    if (m.IsSequence()) {
      for (const YAML::Node& item : m) items.push_back(item);
    } else {
      items.push_back(m);
    }
    out.methods.clear();
    for (const YAML::Node& item : items) {
      std::string method;
      if (!ExpectString(item, where + ".methods", method)) continue;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
        diag_.Error(Loc(item), Cat({where, ".methods: '", method, "' is not one of GET, POST, PUT, PATCH, DELETE"}));
        continue;
      }
      out.methods.push_back(method);
    }
    if (out.methods.empty()) diag_.Error(Loc(m), where + ".methods names no method");
  }
  int64_t kb = 0;
  if (const YAML::Node v = n["max_body_kb"]; v && ExpectInt(v, where + ".max_body_kb", 1, kb)) {
    // Past 64 MiB a body belongs in an upload, not a webhook.
    if (kb > int64_t{64} * 1024) {
      diag_.Error(Loc(v), where + ".max_body_kb is at most 65536 (64 MiB)");
    } else {
      out.max_body_bytes = kb * 1024;
    }
  }
  if (const YAML::Node a = n["auth"]) LoadWebhookAuth(a, where + ".auth", out.auth);
  if (const YAML::Node r = n["respond"]) {
    std::string respond;
    if (ExpectString(r, where + ".respond", respond)) {
      if (respond == "accepted") {
        out.respond = WebhookTrigger::Respond::kAccepted;
      } else if (respond == "completion") {
        out.respond = WebhookTrigger::Respond::kCompletion;
      } else {
        diag_.Error(Loc(r), where +
                                ".respond must be 'accepted' (202 once the run is stored) or 'completion' "
                                "(the run's result)");
      }
    }
  }
  if (const YAML::Node v = n["timeout_ms"]) ExpectInt(v, where + ".timeout_ms", 1, out.timeout_ms);
  out.timeout_ms = std::min<int64_t>(out.timeout_ms, 600'000);
  if (const YAML::Node r = n["response"]) {
    if (ExpectMap(r, where + ".response")) {
      CheckKeys(r, kResponseKeys, where + ".response");
      if (out.respond == WebhookTrigger::Respond::kAccepted) {
        diag_.Error(Loc(r), where +
                                ".response is what 'respond: completion' answers; with 'accepted' the answer "
                                "is 202 and the run's id");
      }
      if (const YAML::Node s = r["status"]) out.response_status = CompileTemplate(s, where + ".response.status");
      if (const YAML::Node b = r["body"]) out.response_body = CompileTemplate(b, where + ".response.body");
      if (const YAML::Node h = r["headers"]; h && ExpectMap(h, where + ".response.headers")) {
        for (const auto& kv : h) {
          const std::string name = kv.first.Scalar();
          out.response_headers.emplace_back(name, CompileTemplate(kv.second, Cat({where, ".response.headers.", name})));
        }
      }
    }
  }
  if (const YAML::Node i = n["idempotency"]) {
    if (ExpectMap(i, where + ".idempotency")) {
      CheckKeys(i, kIdempotencyKeys, where + ".idempotency");
      if (const YAML::Node h = i["header"]) ExpectString(h, where + ".idempotency.header", out.idempotency_header);
      if (const YAML::Node k = i["key"]) out.idempotency_key = CompileTemplate(k, where + ".idempotency.key");
      if (out.idempotency_header.empty() && !out.idempotency_key.is_defined()) {
        diag_.Error(Loc(i), where +
                                ".idempotency needs 'header' (e.g. Idempotency-Key) or 'key' (an expression "
                                "over $input)");
      }
    }
  }
}

void Loader::LoadWebhookAuth(const YAML::Node& n, const std::string& where, WebhookAuth& out) {
  if (n.IsScalar() && n.Scalar() == "none") return;
  if (!n.IsMap() || n.size() != 1) {
    diag_.Error(Loc(n), where + " must be 'none' or a mapping with one of bearer, basic, hmac");
    return;
  }
  CheckKeys(n, kWebhookAuthKeys, where);
  const std::string kind = n.begin()->first.Scalar();
  const YAML::Node body = n.begin()->second;
  auto secret_name = [&](const YAML::Node& v, const std::string& what) {
    std::string name;
    if (!ExpectString(v, what, name)) return;
    if (!IsSecretName(name)) {
      diag_.Error(Loc(v), what + " names a secret (letters, digits, '_'), not the secret itself");
      return;
    }
    out.secret = name;
  };
  if (kind == "bearer") {
    out.kind = WebhookAuth::Kind::kBearer;
    secret_name(body, where + ".bearer");
  } else if (kind == "basic") {
    out.kind = WebhookAuth::Kind::kBasic;
    if (!ExpectMap(body, where + ".basic")) return;
    CheckKeys(body, kBasicKeys, where + ".basic");
    if (const YAML::Node u = body["username"]) ExpectString(u, where + ".basic.username", out.username);
    if (const YAML::Node p = body["password"]) secret_name(p, where + ".basic.password");
    if (out.username.empty() || out.secret.empty()) {
      diag_.Error(Loc(body), where + ".basic needs 'username' and 'password' (a secret's name)");
    }
  } else if (kind == "hmac") {
    out.kind = WebhookAuth::Kind::kHmac;
    if (!ExpectMap(body, where + ".hmac")) return;
    CheckKeys(body, kHmacKeys, where + ".hmac");
    if (const YAML::Node s = body["secret"]) secret_name(s, where + ".hmac.secret");
    if (!body["secret"]) diag_.Error(Loc(body), where + ".hmac needs 'secret' (a secret's name)");
    if (const YAML::Node s = body["style"]) {
      std::string style;
      if (ExpectString(s, where + ".hmac.style", style)) {
        if (style == "github") {
          out.style = WebhookAuth::Style::kGithub;
        } else if (style == "stripe") {
          out.style = WebhookAuth::Style::kStripe;
        } else {
          diag_.Error(Loc(s), where +
                                  ".hmac.style must be 'github' (X-Hub-Signature-256: sha256=<hex>) or 'stripe' "
                                  "(Stripe-Signature: t=<time>,v1=<hex>)");
        }
      }
    }
    if (const YAML::Node h = body["header"]) ExpectString(h, where + ".hmac.header", out.header);
    if (const YAML::Node t = body["tolerance_s"]) ExpectInt(t, where + ".hmac.tolerance_s", 1, out.tolerance_s);
    if (out.header.empty()) {
      out.header = out.style == WebhookAuth::Style::kGithub ? "X-Hub-Signature-256" : "Stripe-Signature";
    }
  }
}

void Loader::LoadSchedule(const YAML::Node& n, const std::string& where, ScheduleTrigger& out) {
  if (const YAML::Node c = n["cron"]; c && ExpectString(c, where + ".cron", out.cron)) {
    if (Result<CronSpec> spec = CronSpec::Parse(out.cron); !spec.ok()) {
      diag_.Error(Loc(c), where + ".cron: " + spec.status().message());
    }
  } else if (!c) {
    diag_.Error(Loc(n), where + " needs 'cron'");
  }
  if (const YAML::Node z = n["timezone"]; z && ExpectString(z, where + ".timezone", out.timezone)) {
    if (out.timezone != "UTC") {
      try {
        (void)date::locate_zone(out.timezone);
      } catch (const std::exception&) {
        diag_.Error(Loc(z), Cat({where, ".timezone: unknown time zone '", out.timezone,
                                 "' (an IANA name such as Europe/Paris)"}));
      }
    }
  }
  if (const YAML::Node m = n["missed"]) {
    std::string missed;
    if (ExpectString(m, where + ".missed", missed)) {
      if (missed == "skip") {
        out.missed = ScheduleTrigger::Missed::kSkip;
      } else if (missed == "once") {
        out.missed = ScheduleTrigger::Missed::kOnce;
      } else if (missed == "all") {
        out.missed = ScheduleTrigger::Missed::kAll;
      } else {
        diag_.Error(Loc(m), where + ".missed must be skip, once or all");
      }
    }
  }
  if (const YAML::Node v = n["max_missed"]) ExpectInt(v, where + ".max_missed", 1, out.max_missed);
  if (const YAML::Node i = n["input"]) out.input = ToValue(i);
}

void Loader::CheckTriggerClashes() {
  std::set<std::string> hooks;
  for (const Trigger& t : wf_->triggers) {
    if (t.kind != Trigger::Kind::kWebhook) continue;
    for (const std::string& m : t.webhook.methods) {
      if (!hooks.insert(m + " " + t.webhook.path).second) {
        diag_.Error(t.location, "two webhooks of this workflow answer " + m + " /hooks/" + t.webhook.path);
      }
    }
  }
}

}  // namespace internal
}  // namespace weft::dsl

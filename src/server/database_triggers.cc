#include "database_triggers.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <future>

#include "weft/actions/sql.h"
#include "weft/core/json.h"
#include "weft/core/log.h"

namespace weft::server {

namespace asio = boost::asio;

// One LISTENing PostgreSQL connection, reconnected after a failure.
struct DatabaseTriggers::Listener {
  std::string url;
  std::string channel;
  PGconn* conn = nullptr;
  int64_t retry_at_ms = 0;
  bool reported = false;  // a failure is reported once until it works again

  ~Listener() { Close(); }
  void Close() {
    if (conn != nullptr) PQfinish(conn);
    conn = nullptr;
  }
  bool Connect(int64_t now_ms) {
    if (conn != nullptr) return true;
    if (now_ms < retry_at_ms) return false;
    conn = PQconnectdb(url.c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PGresult* r = PQexec(conn, ("LISTEN \"" + channel + "\"").c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
      PQclear(r);
    }
    if (!error.empty()) {
      if (!reported) Log(LogLevel::kError, "LISTEN " + channel + ": " + error);
      reported = true;
      Close();
      retry_at_ms = now_ms + 2000;
      return false;
    }
    reported = false;
    PQsetnonblocking(conn, 1);
    return true;
  }
};

namespace {

// "schema.table" -> "schema"."table" (the loader allows identifiers only).
std::string Quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '.' ? std::string("\".\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

DatabaseTriggers::DatabaseTriggers(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics,
                                   Lookup connections, const Clock& clock,
                                   std::shared_ptr<const TriggerSwitches> switches)
    : engine_(engine),
      store_(store),
      metrics_(std::move(metrics)),
      connections_(std::move(connections)),
      clock_(clock),
      switches_(std::move(switches)) {}

DatabaseTriggers::~DatabaseTriggers() { Stop(); }

void DatabaseTriggers::Set(const std::shared_ptr<const dsl::Workflow>& wf) {
  std::vector<Entry> list;
  for (size_t i = 0; i < wf->triggers.size(); ++i) {
    const dsl::Trigger& t = wf->triggers[i];
    if (t.kind != dsl::Trigger::Kind::kDatabase) continue;
    list.push_back(Entry{wf->name, i, t.database, 0});
  }
  {
    MutexLock lock(mu_);
    if (list.empty()) {
      entries_.erase(wf->name);
    } else {
      entries_[wf->name] = std::move(list);
    }
    changed_ = true;
  }
  wake_.notify_all();
}

bool DatabaseTriggers::StartRun(const Entry& e, const Value& input, const std::string& start_key, const Value& info) {
  engine::StartOptions start;
  start.trigger = "database";
  start.start_key = start_key;
  start.context = Value::MakeObject();
  start.context.set("database", info);
  Result<std::string> run = engine_.Start(e.workflow, 0, input.is_object() ? input : Value::MakeObject(), start);
  if (run.ok()) {
    metrics_->Add("weft_runs_started_total", {{"workflow", e.workflow}, {"trigger", "database"}});
    return true;
  }
  if (run.status().code() == StatusCode::kAlreadyExists) return true;  // started before a crash, or by another process
  Log(LogLevel::kError, "database trigger of '" + e.workflow + "': " + run.status().message());
  return false;
}

int DatabaseTriggers::PollOutbox(Entry& e) {
  if (switches_ && !switches_->Enabled(e.workflow, e.index)) return 0;
  const runtime::Connection* conn = connections_(e.trigger.connection);
  if (conn == nullptr || !conn->sql) {
    Log(LogLevel::kError,
        "database trigger of '" + e.workflow + "': no connection '" + e.trigger.connection + "' in weft.yaml");
    return 0;
  }
  const std::string state_key =
      "db:" + e.workflow + ":" + std::to_string(e.index) + ":" + e.trigger.table + "." + e.trigger.cursor;
  Result<std::optional<std::string>> state = store_.GetState(state_key);
  if (!state.ok()) return 0;
  const bool postgres = conn->config.get("driver") == Value("postgres");
  std::string sql = "SELECT * FROM " + Quoted(e.trigger.table);
  Value params = Value::MakeArray();
  if (state->has_value()) {
    Result<Value> after = ParseJson(**state);
    if (!after.ok()) return 0;
    sql += " WHERE " + Quoted(e.trigger.cursor) + (postgres ? " > $1" : " > ?1");
    params.push_back(*after);
  }
  sql += " ORDER BY " + Quoted(e.trigger.cursor) + " LIMIT 100";
  actions::SqlLimits limits;
  limits.max_rows = 100;
  limits.timeout_ms = 10'000;
  // The query runs on the connection's threads; this thread waits for it.
  std::promise<Result<actions::SqlResult>> answer;
  asio::co_spawn(
      engine_.executor(),
      [&]() -> asio::awaitable<void> { answer.set_value(co_await conn->sql->Query(sql, params, limits)); },
      [&answer](const std::exception_ptr& e) {
        if (e) answer.set_value(InternalError("the outbox query failed unexpectedly"));
      });
  Result<actions::SqlResult> rows = answer.get_future().get();
  const std::string entry_key = e.workflow + ":" + std::to_string(e.index);
  if (!rows.ok()) {
    // Said once, until it changes or the outbox reads again.
    std::string& last = outbox_errors_[entry_key];
    if (last != rows.status().message()) {
      last = rows.status().message();
      Log(LogLevel::kError, "database trigger of '" + e.workflow + "' reading " + e.trigger.table + ": " + last);
    }
    return 0;
  }
  outbox_errors_.erase(entry_key);
  int started = 0;
  for (const Value& row : rows->rows.as_array()) {
    const Value cursor = row.get(e.trigger.cursor);
    if (!cursor.is_number() && !cursor.is_string()) {
      Log(LogLevel::kError, "database trigger of '" + e.workflow + "': column " + e.trigger.cursor +
                                " is not a number or text; the outbox stops");
      break;
    }
    const std::string at = ToJson(cursor);
    Value info = Value::MakeObject();
    info.set("connection", e.trigger.connection);
    info.set("table", e.trigger.table);
    info.set("cursor", cursor);
    // The run first, then the cursor: a crash between them finds the run
    // by its start key and only moves the cursor.
    if (!StartRun(e, row, "db:" + e.workflow + ":" + std::to_string(e.index) + ":" + at, info)) break;
    if (!store_.PutState(state_key, at).ok()) break;
    ++started;
  }
  return started;
}

int DatabaseTriggers::PollOutboxes(int64_t now_ms) {
  std::vector<Entry> due;  // copies: Set may replace the entries meanwhile
  {
    MutexLock lock(mu_);
    for (auto& [name, list] : entries_) {
      for (Entry& e : list) {
        if (e.trigger.table.empty() || e.next_due_ms > now_ms) continue;
        e.next_due_ms = now_ms + e.trigger.interval_ms;
        due.push_back(e);
      }
    }
  }
  int started = 0;
  for (Entry& e : due) started += PollOutbox(e);
  return started;
}

void DatabaseTriggers::Listen(int64_t wait_ms) {
  // The channels wanted now, and the entries each one starts.
  std::map<std::string, std::vector<Entry>> wanted;
  {
    MutexLock lock(mu_);
    for (const auto& [name, list] : entries_) {
      for (const Entry& e : list) {
        if (!e.trigger.channel.empty()) wanted[e.trigger.connection + "|" + e.trigger.channel].push_back(e);
      }
    }
    changed_ = false;
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    it = wanted.count(it->first) == 0 ? listeners_.erase(it) : std::next(it);
  }
  const int64_t now = clock_.NowMillis();
  std::vector<pollfd> fds;
  std::vector<Listener*> polled;
  for (const auto& [key, entries] : wanted) {
    std::unique_ptr<Listener>& l = listeners_[key];
    if (!l) {
      l = std::make_unique<Listener>();
      const runtime::Connection* conn = connections_(entries.front().trigger.connection);
      if (conn == nullptr || conn->config.get("driver") != Value("postgres") || !conn->config.get("url").is_string()) {
        Log(LogLevel::kError, "database trigger: LISTEN needs a PostgreSQL connection ('" +
                                  entries.front().trigger.connection + "' is not one)");
        l->retry_at_ms = INT64_MAX;
        continue;
      }
      l->url = conn->config.get("url").as_string();
      l->channel = entries.front().trigger.channel;
    }
    if (!l->Connect(now)) continue;
    fds.push_back(pollfd{PQsocket(l->conn), POLLIN, 0});
    polled.push_back(l.get());
  }
  const int timeout = static_cast<int>(std::clamp<int64_t>(wait_ms, 1, 250));
  if (fds.empty()) {
    MutexLock lock(mu_);
    lock.WaitFor(wake_, std::chrono::milliseconds(timeout), [&]() WEFT_REQUIRES(mu_) { return stopping_ || changed_; });
    return;
  }
  if (::poll(fds.data(), fds.size(), timeout) <= 0) return;
  for (size_t i = 0; i < fds.size(); ++i) {
    Listener* l = polled[i];
    if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
    if (PQconsumeInput(l->conn) == 0) {
      Log(LogLevel::kError, "LISTEN " + l->channel + ": " + PQerrorMessage(l->conn));
      l->Close();
      l->retry_at_ms = clock_.NowMillis() + 1000;
      continue;
    }
    while (PGnotify* n = PQnotifies(l->conn)) {
      const std::string payload = n->extra != nullptr ? n->extra : "";
      PQfreemem(n);
      Result<Value> parsed = ParseJson(payload);
      Value input = parsed.ok() && parsed->is_object() ? *parsed : Value::MakeObject();
      if (!parsed.ok() || !parsed->is_object()) input.set("payload", payload);
      const std::string key = std::find_if(wanted.begin(), wanted.end(), [&](const auto& w) {
                                return listeners_[w.first].get() == l;
                              })->first;
      for (const Entry& e : wanted[key]) {
        if (switches_ && !switches_->Enabled(e.workflow, e.index)) continue;
        Value info = Value::MakeObject();
        info.set("connection", e.trigger.connection);
        info.set("channel", e.trigger.channel);
        // A payload with an id starts one run per id, even if sent twice.
        const Value id = input.get("id");
        std::string start_key;
        if (id.is_string() || id.is_number()) {
          start_key = "db:" + e.workflow + ":" + std::to_string(e.index) + ":notify:" + ToJson(id);
        }
        (void)StartRun(e, input, start_key, info);
      }
    }
  }
}

void DatabaseTriggers::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      {
        MutexLock lock(mu_);
        if (stopping_) return;
      }
      const int64_t now = clock_.NowMillis();
      (void)PollOutboxes(now);
      int64_t next = now + 1000;
      {
        MutexLock lock(mu_);
        for (const auto& [name, list] : entries_) {
          for (const Entry& e : list) {
            if (!e.trigger.table.empty()) next = std::min(next, e.next_due_ms);
          }
        }
      }
      Listen(next - clock_.NowMillis());
    }
  });
}

void DatabaseTriggers::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  listeners_.clear();
}

}  // namespace weft::server

#include "schedule.h"

#include "weft/core/log.h"

#include <date/tz.h>

#include <chrono>
#include <cstdio>

namespace weft::server {
namespace {

// Slots that came due this long ago are still on time; older ones were
// missed (no server ran) and follow the trigger's `missed` policy.
constexpr int64_t kOnTimeMs = 60'000;
// At most this many slots are looked at in one tick (a schedule every
// second after a year of downtime).
constexpr int kMaxSlotsPerTick = 10'000;

int64_t ToMillis(const CivilTime& t) { return UnixSecondsFromCivil(t) * 1000; }

}  // namespace

Result<const date::time_zone*> FindZone(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return static_cast<const date::time_zone*>(nullptr);
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return InvalidArgumentError("unknown time zone '" + name + "' (an IANA name such as Europe/Paris)");
  }
}

int64_t NextSlot(const CronSpec& spec, const date::time_zone* zone, int64_t after_ms) {
  using std::chrono::seconds;
  const int64_t after_s = after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000;
  CivilTime local;
  if (zone == nullptr) {
    local = CivilFromUnixSeconds(after_s);
  } else {
    const auto lt = zone->to_local(date::sys_seconds(seconds(after_s)));
    local = CivilFromUnixSeconds(lt.time_since_epoch().count());
  }
  // A wall-clock time that repeats (the hour after a daylight-saving end)
  // maps to its first instant; later candidates move on until one is after.
  for (int guard = 0; guard < 4; ++guard) {
    std::optional<CivilTime> next = spec.Next(local);
    if (!next) return -1;
    int64_t slot_ms = 0;
    if (zone == nullptr) {
      slot_ms = ToMillis(*next);
    } else {
      const date::local_seconds ls(seconds(UnixSecondsFromCivil(*next)));
      const date::local_info info = zone->get_info(ls);
      date::sys_seconds sys;
      if (info.result == date::local_info::nonexistent) {
        sys = info.second.begin;  // skipped by the change: fires at the change
      } else {
        sys = date::sys_seconds(ls.time_since_epoch() - info.first.offset);
      }
      slot_ms = static_cast<int64_t>(sys.time_since_epoch().count()) * 1000;
    }
    if (slot_ms > after_ms) return slot_ms;
    local = *next;
  }
  return -1;
}

Scheduler::Scheduler(engine::Engine& engine, store::Store& store, std::shared_ptr<Metrics> metrics, const Clock& clock,
                     std::shared_ptr<const TriggerSwitches> switches)
    : engine_(engine), store_(store), metrics_(std::move(metrics)), clock_(clock), switches_(std::move(switches)) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Set(const std::shared_ptr<const dsl::Workflow>& wf) {
  std::vector<Entry> list;
  for (size_t i = 0; i < wf->triggers.size(); ++i) {
    const dsl::Trigger& t = wf->triggers[i];
    if (t.kind != dsl::Trigger::Kind::kSchedule) continue;
    Result<CronSpec> spec = CronSpec::Parse(t.schedule.cron);
    Result<const date::time_zone*> zone = FindZone(t.schedule.timezone);
    if (!spec.ok() || !zone.ok()) {
      // The loader refused these already; a stored version read by a
      // machine without the zone says so and is skipped.
      Log(LogLevel::kError, "schedule " + std::to_string(i) + " of workflow '" + wf->name +
                                "' not served: " + (!spec.ok() ? spec.status() : zone.status()).message());
      continue;
    }
    list.push_back(Entry{wf->name, i, t.schedule, *spec, *zone});
  }
  {
    MutexLock lock(mu_);
    if (list.empty()) {
      entries_.erase(wf->name);
    } else {
      entries_[wf->name] = std::move(list);
    }
  }
  wake_.notify_all();
}

void Scheduler::Fire(const Entry& e, int64_t slot_ms) {
  if (switches_ && !switches_->Enabled(e.workflow, e.index)) return;  // the slot passes
  engine::StartOptions start;
  start.trigger = "schedule";
  start.start_key = "schedule:" + e.workflow + ":" + std::to_string(e.index) + ":" + std::to_string(slot_ms);
  Value info = Value::MakeObject();
  info.set("slot_ms", static_cast<double>(slot_ms));
  info.set("cron", e.trigger.cron);
  info.set("timezone", e.trigger.timezone);
  start.context = Value::MakeObject();
  start.context.set("schedule", info);
  Value input = e.trigger.input.is_object() ? e.trigger.input : Value::MakeObject();
  Result<std::string> run = engine_.Start(e.workflow, 0, input, start);
  if (run.ok()) {
    metrics_->Add("weft_runs_started_total", {{"workflow", e.workflow}, {"trigger", "schedule"}});
  } else if (run.status().code() != StatusCode::kAlreadyExists) {  // another process fired it
    Log(LogLevel::kError,
        "schedule of '" + e.workflow + "' at " + std::to_string(slot_ms) + ": " + run.status().message());
  }
}

int64_t Scheduler::Tick(int64_t now_ms) {
  std::vector<Entry> all;
  {
    MutexLock lock(mu_);
    for (const auto& [name, list] : entries_) all.insert(all.end(), list.begin(), list.end());
  }
  int64_t next_due = now_ms + 60'000;
  for (const Entry& e : all) {
    const std::string key = "schedule:" + e.workflow + ":" + std::to_string(e.index) + ":" + e.trigger.cron;
    Result<std::optional<std::string>> state = store_.GetState(key);
    if (!state.ok()) continue;
    if (!state->has_value()) {
      // A new schedule starts from now: slots before it were never due.
      (void)store_.PutState(key, std::to_string(now_ms));
      const int64_t first = NextSlot(e.spec, e.zone, now_ms);
      if (first > 0) next_due = std::min(next_due, first);
      continue;
    }
    int64_t last = std::atoll((*state)->c_str());
    std::vector<int64_t> missed;
    std::vector<int64_t> on_time;
    int64_t slot = NextSlot(e.spec, e.zone, last);
    for (int n = 0; slot > 0 && slot <= now_ms; ++n) {
      if (n == kMaxSlotsPerTick) {
        // Too many missed to walk one by one: keep those seen (the
        // policy picks among them) and go on from the on-time window.
        slot = NextSlot(e.spec, e.zone, now_ms - kOnTimeMs - 1);
        continue;
      }
      (now_ms - slot <= kOnTimeMs ? on_time : missed).push_back(slot);
      last = slot;
      slot = NextSlot(e.spec, e.zone, slot);
    }
    if (!missed.empty()) {
      switch (e.trigger.missed) {
        case dsl::ScheduleTrigger::Missed::kSkip: missed.clear(); break;
        case dsl::ScheduleTrigger::Missed::kOnce:
          if (on_time.empty()) {
            missed.erase(missed.begin(), missed.end() - 1);
          } else {
            missed.clear();
          }
          break;
        case dsl::ScheduleTrigger::Missed::kAll:
          if (static_cast<int64_t>(missed.size()) > e.trigger.max_missed) {
            missed.erase(missed.begin(), missed.end() - e.trigger.max_missed);
          }
          break;
      }
    }
    for (int64_t s : missed) Fire(e, s);
    for (int64_t s : on_time) Fire(e, s);
    // The state moves on once the runs are stored: a crash before this
    // fires the same slots again, which their start keys refuse.
    if (!missed.empty() || !on_time.empty() || last != std::atoll((*state)->c_str())) {
      (void)store_.PutState(key, std::to_string(last));
    }
    if (slot > 0) next_due = std::min(next_due, slot);
  }
  return next_due;
}

void Scheduler::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      const int64_t next = Tick(clock_.NowMillis());
      MutexLock lock(mu_);
      if (stopping_) return;
      const int64_t wait = std::clamp<int64_t>(next - clock_.NowMillis(), 5, 1000);
      lock.WaitFor(wake_, std::chrono::milliseconds(wait), [&]() WEFT_REQUIRES(mu_) { return stopping_; });
      if (stopping_) return;
    }
  });
}

void Scheduler::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace weft::server

#include "weft/core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "weft/core/json.h"

namespace weft {

namespace {

std::atomic<LogFormat> format{LogFormat::kText};
std::mutex write_mu;

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(ms / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void SetLogFormat(LogFormat f) { format.store(f, std::memory_order_relaxed); }
LogFormat GetLogFormat() { return format.load(std::memory_order_relaxed); }

void Log(LogLevel level, std::string_view message, const Value& fields) {
  std::string line;
  if (GetLogFormat() == LogFormat::kJson) {
    Value entry = Value::MakeObject();
    entry.set("ts", Timestamp());
    entry.set("level", std::string(LevelName(level)));
    entry.set("msg", std::string(message));
    if (fields.is_object()) {
      for (const auto& m : fields.members()) entry.set(m.key, m.value);
    }
    line = ToJson(entry);
  } else {
    line = "weft: ";
    if (level == LogLevel::kWarning || level == LogLevel::kError) line.append(LevelName(level)).append(": ");
    line.append(message);
    if (fields.is_object()) {
      for (const auto& m : fields.members()) {
        line.append(" ").append(m.key).append("=");
        line.append(m.value.is_string() ? m.value.as_string() : ToJson(m.value));
      }
    }
  }
  line += '\n';
  std::lock_guard lock(write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace weft

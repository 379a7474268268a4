// The process's log: one line per entry on stderr, as text for a person
// ("weft: deployed x.yaml version=2") or as JSON for a log pipeline
// ({"ts":"2026-12-02T15:30:07.123Z","level":"info","msg":"deployed x.yaml",
// "version":2}). Entries about a run carry run_id and, for a step, step.
// Thread-safe: each entry is written whole.
#pragma once

#include <string_view>

#include "weft/core/value.h"

namespace weft {

enum class LogFormat : uint8_t { kText, kJson };
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

enum class LogLevel : uint8_t { kDebug, kInfo, kWarning, kError };
// `fields`: an object (or undefined) of what the entry is about.
void Log(LogLevel level, std::string_view message, const Value& fields = Value());

}  // namespace weft

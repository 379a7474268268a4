// Reading a whole file that a user names (a workflow, an input, a config)
// with a bound on its size: `/dev/zero` or a huge log passed by mistake is an
// error that names the file, never a process that grows until it is killed.
#pragma once

#include <cstddef>
#include <string>

#include "weft/core/status.h"

namespace weft {

// The default bound: far above any workflow, configuration or input a person
// writes, far below what would hurt a server.
inline constexpr size_t kMaxUserFileBytes = size_t{64} << 20;

// The file's bytes. NotFound when it cannot be opened; InvalidArgument for a
// directory or for more than `max_bytes` (reading stops there, so a device or
// pipe that never ends is refused too). Messages name the path.
Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes = kMaxUserFileBytes);

}  // namespace weft

#include "weft/core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weft {

Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFoundError("cannot read '" + path + "': " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("'" + path + "' is a directory, not a file");
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(std::min(static_cast<size_t>(st.st_size), max_bytes) + 1);
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return InvalidArgumentError("cannot read '" + path + "': " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      std::string message = "'" + path + "' is larger than ";
      message += max_bytes >= (size_t{1} << 20) ? std::to_string(max_bytes >> 20) + " MiB"
                                                : std::to_string(max_bytes) + " bytes";
      message += ", the most weft reads from one file";
      return InvalidArgumentError(std::move(message));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace weft

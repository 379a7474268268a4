// What durable_floor and beast_floor share: the log each POST body is
// appended to and flushed before its answer, and the answer itself.
#ifndef WEFT_BENCH_PEER_FLOOR_LOG_H_
#define WEFT_BENCH_PEER_FLOOR_LOG_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace floor_log {

constexpr off_t kFileBytes = off_t{64} << 20;  // written over and over, as a WAL is

struct Log {
  int fd = -1;
  bool sync = true;
  off_t at = 0;
  // Opens (and sizes) the file; false with the reason printed.
  bool Open(const char* path, bool with_sync) {
    sync = with_sync;
    fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ftruncate(fd, kFileBytes) != 0) {
      std::perror(path);
      return false;
    }
    return true;
  }
  // Appends `data` and makes it durable.
  void Append(const std::string& data) {
    if (data.empty()) return;
    if (at + static_cast<off_t>(data.size()) > kFileBytes) at = 0;
    if (pwrite(fd, data.data(), data.size(), at) != static_cast<ssize_t>(data.size())) std::perror("pwrite");
    at += static_cast<off_t>(data.size());
    if (sync && fdatasync(fd) != 0) std::perror("fdatasync");
  }
};

// The webhook's answer to `body`: the route, and the request echoed.
inline std::string AnswerJson(std::string_view body) {
  const bool high = body.find("\"urgency\":\"high\"") != std::string_view::npos;
  std::string json = "{\"route\":\"";
  json += high ? "human" : "auto";
  json += "\",\"request\":";
  json += body;
  json += "}";
  return json;
}

}  // namespace floor_log

#endif  // WEFT_BENCH_PEER_FLOOR_LOG_H_

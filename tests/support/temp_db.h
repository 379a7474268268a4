// A path for an SQLite database that a test owns: removed (with its WAL
// and shared-memory files) before and after. Declare it before the store
// that uses it, so that the store closes first.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace weft::testing {

class TempDb {
 public:
  explicit TempDb(const std::string& stem)
      : path_((std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(::getpid()) + ".db")).string()) {
    Remove();
  }
  ~TempDb() { Remove(); }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  const std::string& path() const { return path_; }

 private:
  void Remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

}  // namespace weft::testing

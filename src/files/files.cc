#include "weft/files/files.h"

#include <fcntl.h>
#include <magic.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

#include "weft/core/crypto.h"
#include "weft/core/utf8.h"

namespace weft::files {

namespace fs = std::filesystem;

namespace {

// libmagic's handle is not thread-safe: one per thread, loaded once.
magic_t ThreadMagic() {
  struct Handle {
    magic_t cookie = nullptr;
    Handle() {
      cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
      if (cookie != nullptr && magic_load(cookie, nullptr) != 0) {
        magic_close(cookie);
        cookie = nullptr;
      }
    }
    ~Handle() {
      if (cookie != nullptr) magic_close(cookie);
    }
  };
  thread_local Handle handle;
  return handle.cookie;
}

bool IsId(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsTextType(std::string_view type) {
  return type.rfind("text/", 0) == 0 || type == "application/json" || type == "application/xml" ||
         type == "application/csv" || type == "inode/x-empty";
}

// Cuts `text` to `max_chars` bytes at a character boundary.
void Cut(ExtractedText& out, int64_t max_chars) {
  if (static_cast<int64_t>(out.text.size()) <= max_chars) return;
  size_t end = static_cast<size_t>(max_chars);
  while (end > 0 && (static_cast<unsigned char>(out.text[end]) & 0xC0) == 0x80) --end;
  out.text.resize(end);
  out.truncated = true;
}

// The reader program: $WEFT_PDF_TEXT, else weft-pdf-text beside the running
// program or in ../libexec/weft from it (installed), else the one this build
// made (tests run from the build tree).
std::string PdfReaderPath() {
  if (const char* env = std::getenv("WEFT_PDF_TEXT"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(self.parent_path() / "weft-pdf-text");
    candidates.push_back(self.parent_path().parent_path() / "libexec" / "weft" / "weft-pdf-text");
  }
#ifdef WEFT_PDF_TEXT_BUILT
  candidates.emplace_back(WEFT_PDF_TEXT_BUILT);
#endif
  for (const fs::path& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// Starts the reader with `bytes` as its standard input (a memory file, so
// nothing has to be written while its output is read) and its output on
// `*out`. posix_spawn, never a bare fork: this process has many threads.
Result<pid_t> StartPdfReader(const std::string& path, std::string_view bytes, const TextLimits& limits, int* out) {
  const int input = ::memfd_create("weft-pdf", MFD_CLOEXEC);
  if (input < 0) return UnavailableError("cannot create a memory file for the PDF reader");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(input, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(input);
      return UnavailableError("cannot pass the PDF to its reader");
    }
    written += static_cast<size_t>(n);
  }
  ::lseek(input, 0, SEEK_SET);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(input);
    return UnavailableError("cannot create a pipe for the PDF reader");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // the server blocks some signals
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string pages = std::to_string(std::max(limits.max_pages, 0));
  std::string chars = std::to_string(std::max<int64_t>(limits.max_chars, 0));
  std::string program = path;
  char* argv[] = {program.data(), pages.data(), chars.data(), nullptr};
  // Nothing of this process's environment (its secrets) but the sanitizers'
  // settings when built with them.
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    for (std::string_view prefix : {"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "TSAN_OPTIONS="}) {
      if (var.starts_with(prefix)) env.push_back(*e);
    }
  }
  env.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(input);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return UnavailableError("cannot start the PDF reader " + path + ": " + std::strerror(err));
  }
  *out = fds[0];
  return pid;
}

Result<ExtractedText> PdfText(std::string_view bytes, const TextLimits& limits) {
  const std::string path = PdfReaderPath();
  if (path.empty()) {
    return UnavailableError(
        "cannot read PDFs: the reader weft-pdf-text is neither beside weft nor in ../libexec/weft (or set "
        "WEFT_PDF_TEXT)");
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError("the PDF is larger than 2 GiB");
  }
  int output = -1;
  Result<pid_t> started = StartPdfReader(path, bytes, limits, &output);
  if (!started.ok()) return started.status();
  const pid_t pid = *started;
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool timed_out = false;
  bool ended = false;
  char buf[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{output, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::read(output, buf, sizeof buf);
    if (n <= 0) {
      ended = true;
      break;
    }
    text.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(text.size()) > limits.max_chars + (int64_t{1} << 20)) break;  // enough
  }
  ::close(output);
  if (!ended) ::kill(pid, SIGKILL);  // overran the time or the output
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return DeadlineExceededError("reading the PDF took longer than 15 s");
  if (WIFSIGNALED(status) && ended) {
    return InvalidArgumentError("the PDF could not be read (the reader stopped: signal " +
                                std::to_string(WTERMSIG(status)) + ")");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return InvalidArgumentError("the file is not a readable PDF");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 4) return InvalidArgumentError("the PDF is encrypted");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return UnavailableError("the PDF reader " + path + " failed (exit " + std::to_string(WEXITSTATUS(status)) + ")");
  }
  ExtractedText out;
  out.type = "application/pdf";
  const size_t newline = text.find('\n');
  if (newline == std::string::npos) return InvalidArgumentError("the PDF could not be read");
  out.pages = std::atoi(text.substr(0, newline).c_str());
  out.text = text.substr(newline + 1);
  if (!IsValidUtf8(out.text)) return InvalidArgumentError("the PDF's text is not valid UTF-8");
  if (out.pages > limits.max_pages) out.truncated = true;
  Cut(out, limits.max_chars);
  return out;
}

}  // namespace

std::string SniffMediaType(std::string_view bytes) {
  magic_t cookie = ThreadMagic();
  if (cookie == nullptr) return "application/octet-stream";
  const char* type = magic_buffer(cookie, bytes.data(), bytes.size());
  return type != nullptr ? std::string(type) : "application/octet-stream";
}

bool TypeAllowed(std::string_view type, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (p == type || p == "*/*") return true;
    if (p.size() > 2 && p.compare(p.size() - 2, 2, "/*") == 0 && type.rfind(p.substr(0, p.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

Result<Value> UploadStore::Put(std::string_view name, std::string_view content) const {
  const std::string sha256 = Sha256Hex(content);
  const fs::path dir = fs::path(dir_) / "uploads" / sha256.substr(0, 2);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  const fs::path target = dir / sha256;
  if (!fs::exists(target, ec)) {  // the same content is kept once
    const fs::path temp = dir / (sha256 + ".tmp" + RandomHex(4));
    {
      std::ofstream out(temp, std::ios::binary);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
      out.flush();
      if (!out) return UnavailableError("cannot write " + temp.string());
    }
    fs::rename(temp, target, ec);
    if (ec) return UnavailableError("cannot store upload: " + ec.message());
  }
  Value meta = Value::MakeObject();
  meta.set("id", sha256);
  meta.set("name", std::string(name));
  meta.set("size", static_cast<double>(content.size()));
  meta.set("type", SniffMediaType(content));
  meta.set("sha256", sha256);
  return meta;
}

Result<std::string> UploadStore::Get(std::string_view id) const {
  if (!IsId(id)) return InvalidArgumentError("'" + std::string(id.substr(0, 80)) + "' is not an upload's id");
  const fs::path path = fs::path(dir_) / "uploads" / std::string(id.substr(0, 2)) / std::string(id);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("no upload " + std::string(id));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Result<ExtractedText> ExtractText(std::string_view bytes, const TextLimits& limits) {
  const std::string type = SniffMediaType(bytes);
  if (type == "application/pdf") return PdfText(bytes, limits);
  if (!IsTextType(type)) {
    return InvalidArgumentError("cannot read text from a file of type " + type + " (text and PDF only)");
  }
  if (!IsValidUtf8(bytes)) return InvalidArgumentError("the file's text is not valid UTF-8");
  ExtractedText out;
  out.type = type;
  out.text = std::string(bytes);
  Cut(out, limits.max_chars);
  return out;
}

}  // namespace weft::files

#include "weft/files/files.h"

#include <fcntl.h>
#include <magic.h>
#include <poll.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

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

// In the child: the PDF's text to `fd`, then exit. Limits first: a hostile
// file can only exhaust this process.
[[noreturn]] void PdfChild(std::string_view bytes, const TextLimits& limits, int fd) {
  rlimit cpu{10, 10};
  setrlimit(RLIMIT_CPU, &cpu);
  // Address space: what the parent already maps (copied on write) plus 512 MiB.
  long pages_now = 0;
  if (std::ifstream statm("/proc/self/statm"); statm) statm >> pages_now;
  const rlim_t extra = rlim_t{512} << 20;
  rlimit as{static_cast<rlim_t>(pages_now) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + extra, RLIM_INFINITY};
  as.rlim_max = as.rlim_cur;
  setrlimit(RLIMIT_AS, &as);
  poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  std::string out;
  int status = 0;
  if (!doc) {
    status = 3;
  } else if (doc->is_locked()) {
    status = 4;
  } else {
    const int pages = std::min(doc->pages(), limits.max_pages);
    out = std::to_string(doc->pages()) + "\n";
    for (int i = 0; i < pages && static_cast<int64_t>(out.size()) <= limits.max_chars + 64; ++i) {
      std::unique_ptr<poppler::page> page(doc->create_page(i));
      if (!page) continue;
      poppler::byte_array utf8 = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
      if (i > 0) out += "\f";
      out.append(utf8.data(), utf8.size());
    }
  }
  size_t written = 0;
  while (written < out.size()) {
    const ssize_t n = ::write(fd, out.data() + written, out.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  _exit(status);
}

Result<ExtractedText> PdfText(std::string_view bytes, const TextLimits& limits) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return UnavailableError("cannot create a pipe for the PDF reader");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return UnavailableError("cannot start the PDF reader");
  }
  if (pid == 0) {
    ::close(fds[0]);
    PdfChild(bytes, limits, fds[1]);
  }
  ::close(fds[1]);
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool timed_out = false;
  char buf[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(text.size()) > limits.max_chars + (int64_t{1} << 20)) break;  // enough
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) return DeadlineExceededError("reading the PDF took longer than 15 s");
  if (WIFSIGNALED(status)) {
    return InvalidArgumentError("the PDF could not be read (the reader stopped: signal " +
                                std::to_string(WTERMSIG(status)) + ")");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return InvalidArgumentError("the file is not a readable PDF");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 4) return InvalidArgumentError("the PDF is encrypted");
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

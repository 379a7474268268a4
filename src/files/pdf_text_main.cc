// weft-pdf-text: the PDF reader that weft::files::ExtractText starts for each
// PDF. It is its own program (not a fork of the caller) because poppler runs
// here with nothing else: a fork of weft's many-threaded process could inherit
// a lock another thread held and never finish.
//
//   weft-pdf-text MAX_PAGES MAX_CHARS  < file.pdf  > "<pages>\n<text>"
//
// Pages are separated by form feeds. Exit status: 0 read, 2 usage, 3 not a
// readable PDF, 4 encrypted. Limits first: a hostile file can only exhaust
// this process (10 s of CPU, 512 MiB of memory beyond its start).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

bool ParseCount(const char* text, int64_t& out) {
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

void Limit() {
  rlimit cpu{10, 10};
  setrlimit(RLIMIT_CPU, &cpu);
  // Address space: what this process maps now (a sanitizer's shadow
  // included) plus 512 MiB.
  long pages_now = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r"); statm != nullptr) {
    if (std::fscanf(statm, "%ld", &pages_now) != 1) pages_now = 0;
    std::fclose(statm);
  }
  const rlim_t bytes =
      static_cast<rlim_t>(pages_now) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (rlim_t{512} << 20);
  rlimit as{bytes, bytes};
  setrlimit(RLIMIT_AS, &as);
}

std::vector<char> ReadAll(int fd) {
  std::vector<char> bytes;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

void WriteAll(int fd, const std::string& out) {
  size_t written = 0;
  while (written < out.size()) {
    const ssize_t n = ::write(fd, out.data() + written, out.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t max_pages = 0;
  int64_t max_chars = 0;
  if (argc != 3 || !ParseCount(argv[1], max_pages) || !ParseCount(argv[2], max_chars)) {
    std::fputs("usage: weft-pdf-text MAX_PAGES MAX_CHARS < file.pdf\n", stderr);
    return 2;
  }
  Limit();
  const std::vector<char> bytes = ReadAll(STDIN_FILENO);
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return 3;
  poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) return 3;
  if (doc->is_locked()) return 4;
  const int pages = static_cast<int>(std::min<int64_t>(doc->pages(), max_pages));
  std::string out = std::to_string(doc->pages()) + "\n";
  for (int i = 0; i < pages && static_cast<int64_t>(out.size()) <= max_chars + 64; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const poppler::byte_array utf8 = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
    if (i > 0) out += "\f";
    out.append(utf8.data(), utf8.size());
  }
  WriteAll(STDOUT_FILENO, out);
  return 0;
}

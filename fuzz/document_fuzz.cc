// libFuzzer target for reading knowledge documents: Markdown front matter,
// HTML, the chunker. Checks what chunking promises: no chunk longer than
// the limit, none empty, valid UTF-8 in and out, ordinals in order. (PDFs
// are left out: their text comes from poppler in a child process.)
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "weft/core/utf8.h"
#include "weft/knowledge/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.substr(0, 5) == "%PDF-") return 0;
  // The first byte picks the name, so every format is reached.
  static const char* kNames[] = {"a.md", "b.html", "c.txt", "d"};
  const char* name = size > 0 ? kNames[data[0] % 4] : "e.md";
  weft::Result<weft::knowledge::Document> doc = weft::knowledge::ReadDocument(name, bytes);
  if (!doc.ok()) return 0;
  if (!weft::IsValidUtf8(doc->text) || !weft::IsValidUtf8(doc->title)) std::abort();
  weft::knowledge::ChunkOptions options;
  options.max_chars = 64 + (size > 1 ? data[1] % 200 : 0);
  options.overlap_chars = size > 2 ? data[2] % 64 : 0;
  const auto chunks = weft::knowledge::ChunkText(doc->text, options);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    if (c.text.empty() || static_cast<int>(c.text.size()) > options.max_chars) std::abort();
    if (!weft::IsValidUtf8(c.text) || c.ordinal != static_cast<int>(i)) std::abort();
  }
  (void)weft::knowledge::GuessLanguage(doc->text);
  return 0;
}

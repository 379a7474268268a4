// Documents for knowledge bases: reading a file (Markdown, plain text, HTML,
// PDF) into text with its metadata, and cutting that text into chunks along
// its structure (headings, then paragraphs, then sentences) with overlap, so
// that each chunk retrieved for an AI step is a passage that reads on its
// own and says where it comes from.
//
// Pure functions: no I/O except that PDF text comes from files::ExtractText
// (poppler in a separate, limited process). Every input is bounded: a
// document's text is cut at DocumentLimits::max_chars, and the number of
// chunks at max_chunks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"

namespace weft::knowledge {

// A document as indexed: its text (Markdown-like: `#` headings, blank lines
// between paragraphs) and what a reader of a retrieved passage wants to know.
struct Document {
  std::string id;                 // unique in its knowledge base (a file's path relative to the folder)
  std::string title;              // front matter `title:`, the first heading, <title>, else the file name
  std::string source;             // where a citation points: front matter `source:`/`url:`, else the id
  std::string language;           // ISO 639-1 ("en", "fr"); "" when unknown
  std::vector<std::string> tags;  // from front matter and the base's configuration
  std::string text;
};

struct DocumentLimits {
  int64_t max_bytes = 32 << 20;  // a larger file is refused
  int64_t max_chars = 4'000'000;
  int max_pdf_pages = 500;
};

// Reads `bytes` named `id` (the name's extension and the bytes' content say
// the format: .md/.markdown, .html/.htm, .pdf, other text). Markdown front
// matter (`---` YAML `---`: title, source/url, language, tags) fills the
// metadata (the language stays "" when none is given: see GuessLanguage).
// InvalidArgument names the id for a type that holds no text (an image, a
// binary) and for text that is not UTF-8.
Result<Document> ReadDocument(std::string_view id, std::string_view bytes, const DocumentLimits& limits = {});

// HTML to the Markdown-like text chunks are cut from: headings become `#`
// lines, block elements paragraphs, list items `- ` lines; script, style and
// other non-content elements are dropped; entities are decoded. `title`
// (optional) receives <title>'s text.
std::string HtmlToText(std::string_view html, std::string* title = nullptr);

// The language of `text` by its commonest words (en, fr, es, de, it, pt,
// nl); "" when too few are recognised to say.
std::string GuessLanguage(std::string_view text);

struct ChunkOptions {
  int max_chars = 1200;     // a chunk's text is at most this long (UTF-8 bytes)
  int overlap_chars = 150;  // how much of the previous chunk of a section starts the next
  int max_chunks = 20'000;  // per document
};

struct Chunk {
  int ordinal = 0;      // 0, 1, ... in document order
  std::string heading;  // the section's headings, outermost first, joined by " > "
  std::string text;
};

// Cuts `text` into chunks: a chunk never spans two sections (a heading
// starts a new one); within a section paragraphs are packed up to
// `max_chars`, a longer paragraph is cut between sentences (between words,
// then between characters, if need be), and each chunk after the first of
// a section starts with the end of the previous one (up to `overlap_chars`,
// whole sentences or words). Chunks hold no empty text.
std::vector<Chunk> ChunkText(std::string_view text, const ChunkOptions& options = {});

}  // namespace weft::knowledge

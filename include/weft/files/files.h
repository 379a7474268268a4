// Uploaded files: kept content-addressed (by SHA-256) under a folder, typed
// by their content (libmagic, never the name a client gave), and read as
// text for AI steps (plain text as is, PDF through poppler).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::files {

// The media type of `bytes` by their content ("application/pdf",
// "text/plain", "image/png", ...; "application/octet-stream" when unknown).
std::string SniffMediaType(std::string_view bytes);

// Whether `type` matches one of `patterns` ("image/*", "application/pdf";
// empty = any).
bool TypeAllowed(std::string_view type, const std::vector<std::string>& patterns);

class UploadStore {
 public:
  explicit UploadStore(std::string dir) : dir_(std::move(dir)) {}

  // Keeps `content` (once per content) and returns what a run gets for it:
  // {id, name, size, type, sha256}; the id is the SHA-256.
  Result<Value> Put(std::string_view name, std::string_view content) const;
  // The content of an upload by id; NotFound for an id never stored,
  // InvalidArgument for one that is not an id.
  Result<std::string> Get(std::string_view id) const;

 private:
  std::string dir_;
};

struct TextLimits {
  int64_t max_chars = 200'000;  // longer text is cut (and says so)
  int max_pages = 200;          // PDF pages read
};

struct ExtractedText {
  std::string text;
  std::string type;
  int pages = 0;  // PDF
  bool truncated = false;
};

// The text of a document: text/* (UTF-8 checked) and JSON as they are, PDF
// through poppler (page by page, in reading order). Other types:
// InvalidArgument naming the type.
Result<ExtractedText> ExtractText(std::string_view bytes, const TextLimits& limits = {});

}  // namespace weft::files

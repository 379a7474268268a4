// libFuzzer target for what a webhook or form request becomes: the body
// parser (JSON, urlencoded forms, multipart with files, raw text) and the
// query string. Input: the Content-Type on the first line, then the body.
// Every input must parse or be refused with a message; a parsed input must
// be writable as JSON, and a file's recorded size must be its content's.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "body.h"
#include "http.h"
#include "weft/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t nl = text.find('\n');
  std::string_view content_type = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? text : text.substr(nl + 1);
  weft::Result<weft::server::ParsedBody> parsed = weft::server::ParseRequestBody(content_type, body);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) std::abort();
    return 0;
  }
  (void)weft::ToJson(parsed->value);
  size_t total = 0;
  for (const weft::server::UploadedFile& f : parsed->files) total += f.content.size();
  if (total > body.size()) std::abort();
  (void)weft::server::ParseQuery(body);
  (void)weft::server::HeaderParameter(content_type, "boundary");
  return 0;
}

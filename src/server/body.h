// Request bodies into run inputs: JSON, HTML forms (urlencoded and
// multipart, with files) and anything else as raw text. Fuzzed
// (fuzz/request_body_fuzz.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::server {

struct UploadedFile {
  std::string field;
  std::string filename;
  std::string declared_type;  // what the client said (the server trusts the content instead)
  std::string type;           // what the content is (libmagic)
  std::string content;
};

struct ParsedBody {
  // The input: the JSON document; a form's fields (a repeated field becomes
  // a list; a file field {name, size, sha256}); or for other types
  // {body, content_type}.
  Value value;
  std::vector<UploadedFile> files;
};

struct BodyLimits {
  int max_parts = 1000;  // form fields and multipart parts
  int json_max_depth = 64;
};

// InvalidArgument saying what is wrong and where (the JSON's line:column,
// the multipart part's number).
Result<ParsedBody> ParseRequestBody(std::string_view content_type, std::string_view body,
                                    const BodyLimits& limits = {});

// A header parameter: `boundary` of "multipart/form-data; boundary=x".
std::string HeaderParameter(std::string_view header, std::string_view name);

}  // namespace weft::server

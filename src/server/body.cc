#include "body.h"

#include "weft/files/files.h"

#include <algorithm>
#include <cctype>

#include "http.h"
#include "weft/core/crypto.h"
#include "weft/core/encoding.h"
#include "weft/core/json.h"
#include "weft/core/utf8.h"

namespace weft::server {
namespace {

// The media type without parameters, lower case.
std::string MediaType(std::string_view content_type) {
  return AsciiLower(TrimSpace(content_type.substr(0, content_type.find(';'))));
}

// Adds a form field; a repeated name becomes a list.
void AddField(Value& object, const std::string& name, Value value) {
  const Value* existing = object.find(name);
  if (existing == nullptr) {
    object.set(name, std::move(value));
  } else if (existing->is_array()) {
    object.mutable_member(name).push_back(std::move(value));
  } else {
    Value list = Value::MakeArray();
    list.push_back(*existing);
    list.push_back(std::move(value));
    object.set(name, std::move(list));
  }
}

Status NotText(std::string_view what) { return InvalidArgumentError(std::string(what) + " is not valid UTF-8 text"); }

Result<ParsedBody> ParseUrlEncoded(std::string_view body, const BodyLimits& limits) {
  ParsedBody out;
  out.value = Value::MakeObject();
  int fields = 0;
  Status problem;
  ForEachQueryPair(body, [&](const std::string& name, std::string value) {
    if (++fields > limits.max_parts) {
      problem = InvalidArgumentError("form has more than " + std::to_string(limits.max_parts) + " fields");
    } else if (!IsValidUtf8(name)) {
      problem = NotText("form field name #" + std::to_string(fields));
    } else if (!IsValidUtf8(value)) {
      problem = NotText("form field '" + name + "'");
    } else {
      AddField(out.value, name, Value(std::move(value)));
    }
    return problem.ok();
  });
  if (!problem.ok()) return problem;
  return out;
}

Result<ParsedBody> ParseMultipart(std::string_view content_type, std::string_view body, const BodyLimits& limits) {
  const std::string boundary = HeaderParameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    return InvalidArgumentError("multipart/form-data needs a boundary parameter (1 to 200 characters)");
  }
  const std::string delimiter = "--" + boundary;
  ParsedBody out;
  out.value = Value::MakeObject();
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return InvalidArgumentError("multipart body has no part boundary");
  int part = 0;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") {
      return InvalidArgumentError("multipart part " + std::to_string(part + 1) + ": boundary not followed by CRLF");
    }
    pos += 2;
    if (++part > limits.max_parts) {
      return InvalidArgumentError("multipart body has more than " + std::to_string(limits.max_parts) + " parts");
    }
    const std::string where = "multipart part " + std::to_string(part);
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return InvalidArgumentError(where + ": headers do not end");
    std::string_view head = body.substr(pos, head_end - pos);
    const size_t data_start = head_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) return InvalidArgumentError(where + ": no boundary after its content");
    std::string_view data = body.substr(data_start, next - data_start);
    std::string disposition;
    std::string type;
    size_t line_start = 0;
    while (line_start <= head.size()) {
      size_t line_end = head.find("\r\n", line_start);
      if (line_end == std::string_view::npos) line_end = head.size();
      std::string_view line = head.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        const std::string name = AsciiLower(TrimSpace(line.substr(0, colon)));
        if (name == "content-disposition") disposition = std::string(TrimSpace(line.substr(colon + 1)));
        if (name == "content-type") type = std::string(TrimSpace(line.substr(colon + 1)));
      }
      if (line_end == head.size()) break;
    }
    if (MediaType(disposition) != "form-data") {
      return InvalidArgumentError(where + ": Content-Disposition must be form-data with a name");
    }
    const std::string field = HeaderParameter(disposition, "name");
    if (field.empty()) return InvalidArgumentError(where + ": Content-Disposition has no name");
    if (!IsValidUtf8(field)) return NotText(where + "'s name");
    const bool is_file = disposition.find("filename") != std::string::npos;
    if (is_file) {
      UploadedFile file;
      file.field = field;
      file.filename = HeaderParameter(disposition, "filename");
      if (!IsValidUtf8(file.filename)) file.filename = "upload";
      file.declared_type = type.empty() ? "application/octet-stream" : type;
      file.content = std::string(data);
      file.type = files::SniffMediaType(file.content);  // by content, not by name
      const std::string sha256 = Sha256Hex(file.content);
      Value meta = Value::MakeObject();
      meta.set("id", sha256);
      meta.set("name", file.filename);
      meta.set("size", static_cast<double>(file.content.size()));
      meta.set("type", file.type);
      meta.set("sha256", sha256);
      AddField(out.value, field, std::move(meta));
      out.files.push_back(std::move(file));
    } else {
      if (!IsValidUtf8(data)) {
        std::string what = where;
        what.append(" ('").append(field).append("')");
        return NotText(what);
      }
      AddField(out.value, field, Value(std::string(data)));
    }
    pos = next + 2;
  }
  return out;
}

}  // namespace

std::string HeaderParameter(std::string_view header, std::string_view name) {
  size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    size_t start = pos + 1;
    size_t end = start;
    bool quoted = false;
    while (end < header.size() && (quoted || header[end] != ';')) {
      if (header[end] == '"') quoted = !quoted;
      if (quoted && header[end] == '\\') ++end;
      ++end;
    }
    std::string_view param = TrimSpace(header.substr(start, std::min(end, header.size()) - start));
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && AsciiLower(TrimSpace(param.substr(0, eq))) == AsciiLower(name)) {
      std::string_view v = TrimSpace(param.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (size_t i = 1; i + 1 < v.size(); ++i) {
          if (v[i] == '\\' && i + 2 < v.size()) ++i;
          out.push_back(v[i]);
        }
        return out;
      }
      return std::string(v);
    }
    pos = end < header.size() ? end : std::string_view::npos;
  }
  return "";
}

Result<ParsedBody> ParseRequestBody(std::string_view content_type, std::string_view body, const BodyLimits& limits) {
  const std::string type = MediaType(content_type);
  const bool json =
      type == "application/json" || (type.size() > 5 && type.ends_with("+json")) ||
      (type.empty() && !body.empty() && (TrimSpace(body).starts_with("{") || TrimSpace(body).starts_with("[")));
  if (json) {
    JsonParseOptions options;
    options.strict = true;
    options.max_depth = limits.json_max_depth;
    Result<Value> v = ParseJson(body, options);
    if (!v.ok()) return InvalidArgumentError("request body: " + v.status().message());
    return ParsedBody{std::move(v).value(), {}};
  }
  if (type == "application/x-www-form-urlencoded") return ParseUrlEncoded(body, limits);
  if (type == "multipart/form-data") return ParseMultipart(content_type, body, limits);
  ParsedBody out;
  out.value = Value::MakeObject();
  if (body.empty()) return out;
  if (!IsValidUtf8(body)) {
    return InvalidArgumentError("request body of type '" + (type.empty() ? std::string("(none)") : type) +
                                "' is not UTF-8 text; send a file as multipart/form-data");
  }
  out.value.set("body", std::string(body));
  out.value.set("content_type", type);
  return out;
}

}  // namespace weft::server

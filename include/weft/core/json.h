// JSON text <-> weft::Value.
//
// The parser accepts RFC 8259 JSON (UTF-8), reports the line and column of the
// first problem, and refuses documents nested deeper than a limit so that a
// hostile input cannot exhaust the stack. Duplicate keys: the last one wins
// (an error with JsonParseOptions::strict).
//
// The writer follows JavaScript's JSON.stringify: numbers in their shortest
// round-trip form, undefined and function members omitted (null inside
// arrays), non-finite numbers written as null.
#pragma once

#include <string>
#include <string_view>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft {

struct JsonParseOptions {
  int max_depth = 2000;  // arrays/objects nested deeper than this are refused
  // By default the parser reads what JSON.parse reads (the last of
  // duplicate keys wins, 1e400 is Infinity). A document a person hands to
  // weft (a run's input, a request body) is read strictly: either is an
  // error that says where.
  bool strict = false;
};

Result<Value> ParseJson(std::string_view text, const JsonParseOptions& options = {});

struct JsonWriteOptions {
  int indent = 0;                          // spaces per level; 0 = compact
  int number_precision = 0;                // significant digits of fractions (JSONata's $string: 15); 0 = shortest
  bool functions_as_empty_string = false;  // $string writes functions as ""
  // Stop once the output has grown by more than this many bytes (0 = no
  // limit): a value that shares one part many times is small in memory and
  // can be astronomically large written out.
  size_t max_bytes = 0;
};

// Serializes like JSON.stringify(value, null, indent). Undefined and
// functions at the top level produce an empty string.
std::string ToJson(const Value& value, int indent = 0);
void AppendJson(std::string& out, const Value& value, int indent = 0);
// Returns false when it stopped at options.max_bytes (`out` then holds a
// truncated text).
bool AppendJson(std::string& out, const Value& value, const JsonWriteOptions& options);

// Appends a JSON string literal (with quotes) for UTF-8 text.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace weft

// Output you can trust: parse the model's answer, validate it against the
// step's schema, and on failure send the validation error back for one
// repair turn. What does not validate after that is an error (the step's
// on_error decides what happens); it never becomes the step's output.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "weft/ai/provider.h"
#include "weft/dsl/schema.h"

namespace weft::ai {

// The JSON value in a model's answer: the whole text, or the text inside a
// ```json fence, or the first balanced {...} / [...] in it.
Result<Value> ExtractJson(std::string_view text);

struct StructuredOutcome {
  Status status;   // OK, or why no valid value came out
  Value value;     // the validated value when OK
  Value attempts;  // array: one {messages?, raw, parsed, error, tokens, latency_ms} per model call
  Usage usage;     // summed over the attempts
  int64_t latency_ms = 0;
};

// Calls the provider with `request` (whose json_schema is set from
// `schema`), validates, repairs up to `repairs` times. Transport errors
// (the provider's Status) end it at once.
boost::asio::awaitable<StructuredOutcome> CompleteStructured(Provider& provider, ModelRequest request,
                                                             const dsl::Schema& schema, int repairs = 1);

}  // namespace weft::ai

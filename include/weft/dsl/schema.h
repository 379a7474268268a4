// JSON Schema validation (draft 7 keywords, through valijson) for workflow
// inputs and action inputs/outputs.
#pragma once

#include <memory>
#include <string>

#include "weft/core/status.h"
#include "weft/core/value.h"

namespace weft::dsl {

// A compiled schema. Immutable after Compile; Validate may be called from any
// number of threads at once. Copies share the compiled form.
class Schema {
 public:
  // Compiles a JSON Schema document. InvalidArgument names the bad keyword.
  static Result<Schema> Compile(const Value& document);
  // A schema written in the code (an action's spec): JSON text that must
  // parse and compile; anything else is a programming error and aborts.
  static Schema FromLiteral(std::string_view json);

  // OK, or InvalidArgument naming the offending field and the rule it broke:
  // "field 'urgency': value \"urgent\" is not one of [low, medium, high]".
  // `what` prefixes the message ("input", "output of classify_issue", ...).
  Status Validate(const Value& instance, std::string_view what = "value") const;

  const Value& document() const;

 private:
  struct Impl;
  explicit Schema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace weft::dsl

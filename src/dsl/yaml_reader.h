// Reading YAML documents into Values, with YAML 1.2 core-schema typing of
// plain scalars and with source positions kept for diagnostics.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "weft/core/status.h"
#include "weft/core/value.h"
#include "weft/dsl/diagnostic.h"

namespace weft::dsl {

// Parses one YAML document. A syntax error is InvalidArgument with
// "file:line:col: message", also reported into `diagnostics` when given.
Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file, Diagnostics* diagnostics = nullptr);

// Position of a node (1-based), or line 0 when the node has none.
SourceLocation LocationOf(const YAML::Node& node, const std::string& file);

// True when a scalar was written quoted or as a block (so it is a string
// whatever it looks like).
bool IsQuotedScalar(const YAML::Node& node);

// Converts a node: plain scalars become null/bool/number/string by the YAML
// 1.2 core schema; quoted scalars are strings. Duplicate mapping keys are
// reported into `diagnostics` (the last one wins).
Value YamlToValue(const YAML::Node& root, const std::string& file, Diagnostics& diagnostics);

}  // namespace weft::dsl

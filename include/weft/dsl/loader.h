// Loading a workflow file: YAML → validated, compiled Workflow.
//
// Every problem is reported with file:line:col (and a suggestion where one
// fits) into `diagnostics`; loading fails when any of them is an error.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "weft/core/status.h"
#include "weft/dsl/action_spec.h"
#include "weft/dsl/diagnostic.h"
#include "weft/dsl/workflow.h"

namespace weft::dsl {

struct LoadOptions {
  // Name used when the file declares none (usually the file's stem).
  std::string default_name;
  // The version the store gave this text (0 = the one the file declares).
  int64_t version = 0;
};

// Parses and validates `source` (named `file` in messages). On failure the
// Status lists every error; `diagnostics` (optional) receives errors and
// warnings as they are found.
Result<std::shared_ptr<const Workflow>> LoadWorkflow(std::string_view source, std::string_view file,
                                                     const ActionCatalog& actions, Diagnostics* diagnostics = nullptr,
                                                     const LoadOptions& options = {});

// Reads the file, then LoadWorkflow with the file's stem as default name.
Result<std::shared_ptr<const Workflow>> LoadWorkflowFile(const std::string& path, const ActionCatalog& actions,
                                                         Diagnostics* diagnostics = nullptr);

// Reads a YAML file that is not a workflow (weft.yaml, data files) as a
// Value. Errors carry file:line:col.
Result<Value> LoadYamlFile(const std::string& path);

}  // namespace weft::dsl

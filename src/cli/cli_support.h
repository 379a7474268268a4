// What the CLI's command files share.
#pragma once

#include <string>

#include "weft/runtime/runtime.h"
#include "workflow_commands.h"

namespace weft::cli {

inline runtime::RuntimeOptions RuntimeFor(const StoreOptions& store, const std::string& config) {
  runtime::RuntimeOptions o;
  o.config_path = config;
  o.db = store.db;
  o.synchronous_normal = store.synchronous_normal;
  return o;
}

}  // namespace weft::cli

// `weft migrate --to postgresql://...`: moves an SQLite database to PostgreSQL.
#pragma once

#include <ostream>
#include <string>

#include "workflow_commands.h"

namespace weft::cli {

struct MigrateCommandOptions {
  StoreOptions store;  // the SQLite database to copy
  std::string to;      // postgresql://...
  std::string schema;  // "" = the connection's search_path
};

int Migrate(const MigrateCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace weft::cli

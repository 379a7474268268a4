#include "migrate_command.h"

#include <filesystem>

#include "weft/runtime/runtime.h"
#include "weft/store/postgres_store.h"

namespace weft::cli {

int Migrate(const MigrateCommandOptions& options, std::ostream& out, std::ostream& err) {
  const std::string from = options.store.db.empty() ? runtime::DefaultDatabasePath() : options.store.db;
  if (!store::IsPostgresUrl(options.to)) {
    err << "weft migrate: --to must be a PostgreSQL URL (postgresql://user:password@host:port/database)\n";
    return 2;
  }
  if (store::IsPostgresUrl(from) || from == ":memory:" || !std::filesystem::is_regular_file(from)) {
    err << "weft migrate: " << from << " is not an SQLite database file (--db names the one to copy)\n";
    return 2;
  }
  store::PostgresOptions to;
  to.url = options.to;
  to.schema = options.schema;
  Result<store::CopyReport> report = store::CopySqliteToPostgres(from, to);
  if (!report.ok()) {
    err << "weft migrate: " << report.status().message() << "\n";
    return 1;
  }
  for (const auto& [table, rows] : report->rows) out << table << ": " << rows << " rows\n";
  out << "copied " << from << " to PostgreSQL; point weft at it with store: {postgres: ...} in weft.yaml or --db\n";
  return 0;
}

}  // namespace weft::cli

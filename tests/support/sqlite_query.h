// Reads an SQLite database the way a person checking it would: a query's
// rows as text, from a read-only connection (tests that look at what a
// killed process left behind).
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

namespace weft::testing {

inline std::vector<std::vector<std::string>> QueryRows(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::vector<std::string>> rows;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return rows;
}

// Runs statements on the database as someone with the file in hand would
// (tests that tamper with what weft stored). Returns SQLite's error, "" on
// success.
inline std::string ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(db_path.c_str(), &db) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) error = err != nullptr ? err : "error";
    sqlite3_free(err);
  } else {
    error = "cannot open " + db_path;
  }
  sqlite3_close(db);
  return error;
}

}  // namespace weft::testing

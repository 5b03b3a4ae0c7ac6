#include "sink/sqlite_statement.h"

namespace stsync {

Status SqliteError(sqlite3* db, const std::string& what) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  std::string msg = what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status::Busy(msg + " (another process holds the database lock)");
  }
  if (code == SQLITE_FULL) return Status::Io(msg + " (disk or quota full)");
  return Status::Io(msg);
}

Status SqliteExec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return SqliteError(db, sql.substr(0, sql.find_first_of("\n(")));
  }
  return Status::Ok();
}

}  // namespace stsync

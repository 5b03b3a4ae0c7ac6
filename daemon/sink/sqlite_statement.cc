#include "sink/sqlite_statement.h"

namespace stsync {

Status SqliteError(sqlite3* db, const std::string& what) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  std::string msg = what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status::Busy(msg + " (another process holds the database lock)");
  }
  if (code == SQLITE_FULL) return Status::Io(msg + " (disk or quota full)");
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    const char* file = sqlite3_db_filename(db, "main");
    return Status::Corrupt(DamagedMessage(file ? file : "", msg));
  }
  return Status::Io(msg);
}

std::string DamagedMessage(const std::string& path, const std::string& what) {
  return what + ": the database " + path +
         " is damaged; stsync stops writing it. Check it with `stsync verify` "
         "(PRAGMA integrity_check); to recover, restore a backup, or rebuild "
         "it (`sqlite3 " +
         path +
         " .recover | sqlite3 NEW.db`, or move it away and let stsync "
         "sync again from the start)";
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

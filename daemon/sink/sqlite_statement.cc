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

Status Transaction::Begin() {
  Status s = SqliteExec(db_, "BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Transaction::Commit() {
  Status s = SqliteExec(db_, "COMMIT");
  // A failed COMMIT leaves the transaction open: the destructor rolls back.
  if (s.ok()) open_ = false;
  return s;
}

Status SqliteRun(sqlite3* db, const std::string& sql,
                 std::initializer_list<SqlValue> args,
                 const std::string& what) {
  Stmt s;
  if (s.Prepare(db, sql) != SQLITE_OK) return SqliteError(db, what);
  int i = 1;
  for (const SqlValue& v : args) {
    if (const int64_t* n = std::get_if<int64_t>(&v)) {
      s.Int(i, *n);
    } else if (const std::string_view* t = std::get_if<std::string_view>(&v)) {
      s.Text(i, *t);
    } else {
      s.Null(i);
    }
    ++i;
  }
  if (sqlite3_step(s.get()) != SQLITE_DONE) return SqliteError(db, what);
  return Status::Ok();
}

Result<std::string> SqliteQueryText(sqlite3* db, const std::string& sql) {
  Stmt s;
  if (s.Prepare(db, sql) != SQLITE_OK || sqlite3_step(s.get()) != SQLITE_ROW) {
    return SqliteError(db, sql);
  }
  return s.ColumnText(0);
}

}  // namespace stsync

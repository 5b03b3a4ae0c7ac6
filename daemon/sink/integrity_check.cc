#include "sink/integrity_check.h"

#include <sqlite3.h>
#include <unistd.h>

#include "sink/sqlite_statement.h"

namespace stsync {

Result<std::vector<std::string>> IntegrityCheck(const std::string& path,
                                                int max_problems) {
  if (::access(path.c_str(), F_OK) != 0) {
    return Status::NotFound("database " + path + " does not exist");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::Io("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::string> problems;
  Status status = Status::Ok();
  {
    Stmt check;
    int rc = check.Prepare(
        db, "PRAGMA integrity_check(" + std::to_string(max_problems) + ")");
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
      rc = sqlite3_step(check.get());
      if (rc != SQLITE_ROW) break;
      std::string line = check.ColumnText(0);
      if (line != "ok") problems.push_back(std::move(line));
    }
    if (rc != SQLITE_DONE) {
      status = SqliteError(db, "integrity_check");
      if (status.code() == Status::Code::kCorrupt) {
        problems.push_back(sqlite3_errmsg(db));
        status = Status::Ok();
      }
    }
  }
  sqlite3_close_v2(db);
  if (!status.ok()) return status;
  return problems;
}

}  // namespace stsync

// Small helpers over SQLite's C API, shared by the sink's files: a prepared
// statement that finalizes itself, and SQLite errors as Status values.
//
// Thread safety: as the sqlite3 connection they are used with (one thread at
// a time).
#ifndef STSYNC_SINK_SQLITE_STATEMENT_H_
#define STSYNC_SINK_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace stsync {

// Owns one prepared statement.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Returns SQLite's result code; on failure get() is null.
  int Prepare(sqlite3* db, const std::string& sql) {
    sqlite3_finalize(s_);
    s_ = nullptr;
    return sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                              &s_, nullptr);
  }
  sqlite3_stmt* get() const { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  // Binds a copy of `v`.
  void Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  // Binds `v` without copying: it must outlive the statement's next step.
  void TextNoCopy(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  void TextNoCopyOrNull(int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(s_, i);
    } else {
      TextNoCopy(i, v);
    }
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Null(int i) { sqlite3_bind_null(s_, i); }
  std::string ColumnText(int i) const {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// `ident` as an SQL identifier in double quotes (endpoint and column names
// have no quotes of their own).
inline std::string Quote(const std::string& ident) {
  return "\"" + ident + "\"";
}

// The connection's last error as a Status naming `what`: kBusy when another
// connection holds the lock, kCorrupt when the file is damaged (with
// DamagedMessage), kIo otherwise (a full disk says so).
Status SqliteError(sqlite3* db, const std::string& what);

// `what`, then that the database at `path` is damaged and how to check and
// recover it.
std::string DamagedMessage(const std::string& path, const std::string& what);

// Runs `sql` (one or more statements); an error names its first line.
Status SqliteExec(sqlite3* db, const std::string& sql);

}  // namespace stsync

#endif  // STSYNC_SINK_SQLITE_STATEMENT_H_

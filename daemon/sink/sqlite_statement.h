// Small helpers over SQLite's C API, shared by the sink's files: a prepared
// statement that finalizes itself, a write transaction that rolls itself
// back, one-shot statements and queries, and SQLite errors as Status values.
//
// Thread safety: as the sqlite3 connection they are used with (one thread at
// a time).
#ifndef STSYNC_SINK_SQLITE_STATEMENT_H_
#define STSYNC_SINK_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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

// A write transaction: Begin takes the write lock (BEGIN IMMEDIATE); the
// destructor rolls back unless Commit succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin();
  Status Commit();

 private:
  sqlite3* const db_;
  bool open_ = false;
};

// A value bound to a parameter: NULL, an integer or text (copied).
using SqlValue = std::variant<std::nullptr_t, int64_t, std::string_view>;

// Prepares `sql`, binds `args` to ?1, ?2, … and runs it to completion. An
// error names `what`.
Status SqliteRun(sqlite3* db, const std::string& sql,
                 std::initializer_list<SqlValue> args, const std::string& what);

// The first column of the first row of `sql` (a PRAGMA or a SELECT), as
// text; an error, or no row, names `sql`.
Result<std::string> SqliteQueryText(sqlite3* db, const std::string& sql);

// The rows `sql` returns, each made by `read`; `endpoint`, if given, is bound
// to ?1. An error names `what`.
template <typename Row>
Result<std::vector<Row>> QueryRows(sqlite3* db, const std::string& sql,
                                   const std::string* endpoint,
                                   Row (*read)(const Stmt&),
                                   const std::string& what);

// The one row of `endpoint` that `sql` (ending in `WHERE endpoint = ?1`)
// returns, if any.
template <typename Row>
Result<std::optional<Row>> QueryEndpointRow(sqlite3* db, const std::string& sql,
                                            const std::string& endpoint,
                                            Row (*read)(const Stmt&),
                                            const std::string& what);

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

template <typename Row>
Result<std::vector<Row>> QueryRows(sqlite3* db, const std::string& sql,
                                   const std::string* endpoint,
                                   Row (*read)(const Stmt&),
                                   const std::string& what) {
  Stmt s;
  if (s.Prepare(db, sql) != SQLITE_OK) return SqliteError(db, what);
  if (endpoint) s.Text(1, *endpoint);
  std::vector<Row> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read(s));
  if (rc != SQLITE_DONE) return SqliteError(db, what);
  return out;
}

template <typename Row>
Result<std::optional<Row>> QueryEndpointRow(sqlite3* db, const std::string& sql,
                                            const std::string& endpoint,
                                            Row (*read)(const Stmt&),
                                            const std::string& what) {
  auto rows = QueryRows(db, sql, &endpoint, read, what);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

}  // namespace stsync

#endif  // STSYNC_SINK_SQLITE_STATEMENT_H_

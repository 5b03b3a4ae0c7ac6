// PgConnection: one libpq connection to PostgreSQL, with statements run by
// parameters (never by splicing values into SQL) and errors as Status values.
//
// Errors: kBusy for what a later attempt may get past (a lost connection,
// the server starting or shutting down, a lock or serialization conflict,
// too many connections); kIo for everything else (a full disk, a constraint,
// a bad statement). A connection that was lost is re-established at the next
// call, once a second at most, so a daemon rides out a server restart.
// Messages never hold the connection URL or its password: the server's text
// has the password, if any, cut out.
//
// Thread safety: one thread at a time.
#ifndef STSYNC_SINK_PG_CONNECTION_H_
#define STSYNC_SINK_PG_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct pg_conn;
struct pg_result;

namespace stsync {

// A statement's parameter: text, or bytes in PostgreSQL's binary format (an
// array, say, with its type's OID), or NULL. A borrowed one points at bytes
// the caller keeps until the statement has run.
struct PgParam {
  std::optional<std::string> value;  // nullopt: NULL (unless borrowed)
  std::string_view borrowed;         // set by Borrowed: these, not value
  bool binary = false;
  PgParam() = default;
  PgParam(std::nullptr_t) {}
  PgParam(std::string v) : value(std::move(v)) {}
  PgParam(std::string_view v) : value(std::string(v)) {}
  PgParam(const char* v) : value(std::string(v)) {}
  PgParam(int64_t v) : value(std::to_string(v)) {}
  PgParam(int v) : value(std::to_string(v)) {}
  static PgParam Binary(std::string bytes) {
    PgParam p(std::move(bytes));
    p.binary = true;
    return p;
  }
  // Binary bytes, not copied.
  static PgParam Borrowed(std::string_view bytes) {
    PgParam p;
    p.borrowed = bytes;
    p.binary = true;
    return p;
  }
};

// A statement's result rows, read as text.
class PgRows {
 public:
  explicit PgRows(pg_result* r) : r_(r) {}
  ~PgRows();
  PgRows(PgRows&& other) noexcept : r_(other.r_) { other.r_ = nullptr; }
  PgRows& operator=(PgRows&&) = delete;
  PgRows(const PgRows&) = delete;

  int size() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;  // "" for NULL
  int64_t Int(int row, int col) const;       // 0 for NULL
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

 private:
  pg_result* r_;
};

class PgConnection {
 public:
  // Connects to `url` (any libpq connection string or URI) as
  // `application_name` (what pg_stat_activity shows, unless the URL says).
  // kBusy if the server cannot be reached (a later attempt may), kInvalid
  // if the URL does not parse.
  static Result<std::unique_ptr<PgConnection>> Connect(
      const std::string& url, const std::string& application_name = "stsync");
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` with `params` ($1, $2, ...); `what` names the step in
  // errors ("jobs: upserting a page").
  Result<PgRows> Run(const std::string& sql, const std::vector<PgParam>& params,
                     const std::string& what);
  // Runs one or more statements without parameters.
  Status Exec(const std::string& sql, const std::string& what);
  // The first column of the first row, or nullopt for no row or NULL.
  Result<std::optional<std::string>> QueryText(
      const std::string& sql, const std::vector<PgParam>& params,
      const std::string& what);

  // SET LOCAL statements that every PgTransaction sends with its BEGIN, in
  // the same round trip. Settings last one transaction: a session's would
  // not survive a reconnect, and behind PgBouncer's transaction pooling
  // they would stay on a server connection that other clients then get.
  void set_transaction_settings(std::string sql) {
    transaction_settings_ = std::move(sql);
  }
  const std::string& transaction_settings() const {
    return transaction_settings_;
  }

  // Whether a transaction is open on it.
  bool in_transaction() const;
  // Whether the connection is usable now (not lost).
  bool healthy() const;
  // The server's version, e.g. "15.18".
  std::string server_version() const;

 private:
  PgConnection(pg_conn* conn, std::string url)
      : conn_(conn), url_(std::move(url)) {}
  // Reconnects if the connection was lost; kBusy if it still is.
  Status Ready();
  Status Error(const std::string& what, pg_result* r) const;

  pg_conn* conn_;
  const std::string url_;
  std::string transaction_settings_;
  std::chrono::steady_clock::time_point last_reset_{};
};

// A transaction on a PgConnection that rolls back unless committed. Begin
// is kInvalid inside another (libpq would fold the two into one).
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection* c) : c_(c) {}
  ~PgTransaction();
  Status Begin();
  Status Commit();

 private:
  PgConnection* c_;
  bool open_ = false;
};

// `url` fit to show: user, host, port and database, never a password (from
// the URL, a `password=` option or anything else libpq takes). "" if it does
// not parse.
std::string DescribePgUrl(const std::string& url);

// `name` quoted as a PostgreSQL identifier: "na""me".
std::string PgQuote(std::string_view name);

}  // namespace stsync

#endif  // STSYNC_SINK_PG_CONNECTION_H_

// FeedStateTable: _stsync_cursors, one row per feed: its cursor, the rows
// and batches it stored, when it last caught up, and its last failure.
//
// The functions work on a connection the caller owns, inside the caller's
// transaction where they say so. Errors are SqliteError's (kBusy, kCorrupt,
// kIo); the caller notes damage (SqliteSink).
//
// Thread safety: as the connection's (one thread at a time).
#ifndef STSYNC_SINK_FEED_STATE_TABLE_H_
#define STSYNC_SINK_FEED_STATE_TABLE_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/cursor.h"
#include "model/sink.h"
#include "sink/sqlite_statement.h"

namespace stsync {

// An attempt succeeded: the failure columns every state table has
// (_stsync_cursors, _stsync_reconcile), cleared, as SQL SET assignments.
inline constexpr const char* kClearFailureSql =
    "last_error = NULL, last_error_at = NULL, consecutive_failures = 0";

// Notes a failed attempt of `endpoint` in `table` (a state table): the
// message (its first 1000 bytes), `now`, one more consecutive failure.
Status RecordFailureIn(sqlite3* db, const std::string& table,
                       const std::string& endpoint, const std::string& message,
                       const std::string& now);

// The statement every batch runs; prepared once.
class FeedStateTable {
 public:
  // Prepares the statement on `db`, which must outlive this.
  Status Prepare(sqlite3* db);
  // Inside the batch's transaction: `next` becomes the feed's cursor,
  // `inserted` is added to its rows and one to its batches, `now` is when
  // it moved (and caught up, if `caught_up`), and its failure is cleared.
  Status Advance(const std::string& endpoint, const Cursor& next,
                 bool caught_up, int64_t inserted, const std::string& now);

 private:
  sqlite3* db_ = nullptr;
  Stmt upsert_;
};

// Adds `inserted` to the feed's row count and `pages` to its batches (a
// feed never seen gets a state without a cursor), leaving its cursor alone.
Status CountRows(sqlite3* db, const std::string& endpoint, int64_t inserted,
                 int64_t pages = 0);

// The feed's state in a database at `schema_version` (an older file, opened
// read-only by `status`, is read under its old names), or nullopt.
Result<std::optional<FeedState>> LoadFeedState(sqlite3* db, int schema_version,
                                               const std::string& endpoint);
// Every feed's, by endpoint name.
Result<std::vector<FeedState>> LoadFeedStates(sqlite3* db, int schema_version);

// Moves the feed's cursor to `to` (nullopt: forgets it), clearing its
// caught-up time and failure.
Status ResetFeedCursor(sqlite3* db, const std::string& endpoint,
                       const std::optional<Cursor>& to, const std::string& now);

}  // namespace stsync

#endif  // STSYNC_SINK_FEED_STATE_TABLE_H_

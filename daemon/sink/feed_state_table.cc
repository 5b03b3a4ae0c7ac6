#include "sink/feed_state_table.h"

namespace stsync {
namespace {

// Quarantined records arrived in schema 6.
constexpr int kRejectsSchema = 6;

FeedState ReadFeedState(const Stmt& s) {
  FeedState c;
  c.endpoint = s.ColumnText(0);
  if (sqlite3_column_type(s.get(), 1) != SQLITE_NULL) {
    c.cursor = Cursor::FromStored(s.ColumnText(1));
  }
  c.cursor_updated_at = s.ColumnText(2);
  c.caught_up_at = s.ColumnText(3);
  c.row_count = sqlite3_column_int64(s.get(), 4);
  c.pages = sqlite3_column_int64(s.get(), 5);
  c.last_error = s.ColumnText(6);
  c.last_error_at = s.ColumnText(7);
  c.consecutive_failures = sqlite3_column_int64(s.get(), 8);
  c.rejected = sqlite3_column_int64(s.get(), 9);
  return c;
}

std::string FeedStateQuery(int schema_version) {
  if (schema_version == 1) {
    return "SELECT endpoint, continue_from, updated_at, caught_up_at, "
           "row_count, pages, last_error, last_error_at, "
           "consecutive_failures, 0 FROM _stsync_checkpoints";
  }
  const std::string rejected =
      schema_version >= kRejectsSchema
          ? "(SELECT count(*) FROM _stsync_rejects r WHERE r.endpoint = "
            "c.endpoint)"
          : "0";
  return "SELECT endpoint, cursor, cursor_updated_at, caught_up_at, "
         "row_count, pages, last_error, last_error_at, consecutive_failures, " +
         rejected + " FROM _stsync_cursors c";
}

SqlValue StoredOrNull(const std::optional<std::string>& stored) {
  if (!stored) return nullptr;
  return std::string_view(*stored);
}

}  // namespace

Status RecordFailureIn(sqlite3* db, const std::string& table,
                       const std::string& endpoint, const std::string& message,
                       const std::string& now) {
  const std::string first = message.substr(0, 1000);
  return SqliteRun(db,
                   "INSERT INTO " + table +
                       " (endpoint, last_error, last_error_at, "
                       "consecutive_failures) VALUES (?1, ?2, ?3, 1) "
                       "ON CONFLICT (endpoint) DO UPDATE SET last_error = "
                       "?2, last_error_at = ?3, "
                       "consecutive_failures = consecutive_failures + 1",
                   {endpoint, first, now},
                   "recording a failure of " + endpoint);
}

Status FeedStateTable::Prepare(sqlite3* db) {
  db_ = db;
  if (upsert_.Prepare(
          db, std::string("INSERT INTO _stsync_cursors (endpoint, cursor, "
                          "cursor_updated_at, caught_up_at, row_count, pages, "
                          "last_error, last_error_at, consecutive_failures) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, 1, NULL, NULL, 0) "
                          "ON CONFLICT (endpoint) DO UPDATE SET "
                          "cursor = ?2, cursor_updated_at = ?3, "
                          "caught_up_at = coalesce(?4, caught_up_at), "
                          "row_count = row_count + ?5, pages = pages + 1, ") +
                  kClearFailureSql) != SQLITE_OK) {
    return SqliteError(db, "preparing the feed state statement");
  }
  return Status::Ok();
}

Status FeedStateTable::Advance(const std::string& endpoint, const Cursor& next,
                               bool caught_up, int64_t inserted,
                               const std::string& now) {
  upsert_.Text(1, endpoint);
  if (auto stored = next.ToStored()) {
    upsert_.Text(2, *stored);
  } else {
    upsert_.Null(2);
  }
  upsert_.Text(3, now);
  if (caught_up) {
    upsert_.Text(4, now);
  } else {
    upsert_.Null(4);
  }
  upsert_.Int(5, inserted);
  const int rc = sqlite3_step(upsert_.get());
  Status s = rc == SQLITE_DONE
                 ? Status::Ok()
                 : SqliteError(db_, endpoint + ": writing cursor");
  upsert_.Reset();
  return s;
}

Status CountRows(sqlite3* db, const std::string& endpoint, int64_t inserted,
                 int64_t pages) {
  return SqliteRun(db,
                   "INSERT INTO _stsync_cursors (endpoint, row_count, pages) "
                   "VALUES (?1, ?2, ?3) ON CONFLICT (endpoint) DO UPDATE SET "
                   "row_count = row_count + ?2, pages = pages + ?3",
                   {endpoint, inserted, pages}, endpoint + ": counting rows");
}

Result<std::optional<FeedState>> LoadFeedState(sqlite3* db, int schema_version,
                                               const std::string& endpoint) {
  if (schema_version == 0) return std::optional<FeedState>();
  return QueryEndpointRow(
      db, FeedStateQuery(schema_version) + " WHERE endpoint = ?1", endpoint,
      ReadFeedState, "reading feed state");
}

Result<std::vector<FeedState>> LoadFeedStates(sqlite3* db, int schema_version) {
  if (schema_version == 0) return std::vector<FeedState>();
  return QueryRows(db, FeedStateQuery(schema_version) + " ORDER BY endpoint",
                   nullptr, ReadFeedState, "reading feed states");
}

Status ResetFeedCursor(sqlite3* db, const std::string& endpoint,
                       const std::optional<Cursor>& to,
                       const std::string& now) {
  const std::optional<std::string> stored = to ? to->ToStored() : std::nullopt;
  return SqliteRun(db,
                   std::string("INSERT INTO _stsync_cursors (endpoint, cursor, "
                               "cursor_updated_at) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (endpoint) DO UPDATE SET "
                               "cursor = ?2, cursor_updated_at = ?3, "
                               "caught_up_at = NULL, ") +
                       kClearFailureSql,
                   {endpoint, StoredOrNull(stored), now}, "resetting cursor");
}

}  // namespace stsync

#include "sink/reconcile_table.h"

#include "base/timestamp.h"
#include "sink/feed_state_table.h"
#include "sink/sqlite_statement.h"

namespace stsync {
namespace {

// Reconciliation state arrived in schema 5.
constexpr int kReconcileSchema = 5;

constexpr const char* kReconcileQuery =
    "SELECT endpoint, cursor, pass_started_at, seen, pages, last_started_at, "
    "last_finished_at, last_seen, last_live, last_marked, last_outcome, "
    "last_error, last_error_at, consecutive_failures FROM _stsync_reconcile";

ReconcileState ReadReconcileState(const Stmt& s) {
  ReconcileState r;
  r.endpoint = s.ColumnText(0);
  if (sqlite3_column_type(s.get(), 1) != SQLITE_NULL) {
    r.cursor = Cursor::FromStored(s.ColumnText(1));
  }
  r.pass_started_at = s.ColumnText(2);
  r.seen = sqlite3_column_int64(s.get(), 3);
  r.pages = sqlite3_column_int64(s.get(), 4);
  r.last_started_at = s.ColumnText(5);
  r.last_finished_at = s.ColumnText(6);
  r.last_seen = sqlite3_column_int64(s.get(), 7);
  r.last_live = sqlite3_column_int64(s.get(), 8);
  r.last_marked = sqlite3_column_int64(s.get(), 9);
  r.last_outcome = s.ColumnText(10);
  r.last_error = s.ColumnText(11);
  r.last_error_at = s.ColumnText(12);
  r.consecutive_failures = sqlite3_column_int64(s.get(), 13);
  return r;
}

constexpr const char* kDropSeenSql =
    "DELETE FROM _stsync_seen WHERE endpoint = ?1";

}  // namespace

Result<std::optional<ReconcileState>> LoadReconcileState(
    sqlite3* db, int schema_version, const std::string& endpoint) {
  if (schema_version < kReconcileSchema) {
    return std::optional<ReconcileState>();
  }
  return QueryEndpointRow(
      db, std::string(kReconcileQuery) + " WHERE endpoint = ?1", endpoint,
      ReadReconcileState, "reading reconciliation state");
}

Result<std::vector<ReconcileState>> LoadReconcileStates(sqlite3* db,
                                                        int schema_version) {
  if (schema_version < kReconcileSchema) {
    return std::vector<ReconcileState>();
  }
  return QueryRows(db, std::string(kReconcileQuery) + " ORDER BY endpoint",
                   nullptr, ReadReconcileState,
                   "reading reconciliation states");
}

Status SavePassInProgress(sqlite3* db, const std::string& endpoint,
                          const Cursor& next, const std::string& started,
                          int64_t seen, int64_t pages) {
  const std::optional<std::string> stored = next.ToStored();
  SqlValue cursor = nullptr;
  if (stored) cursor = std::string_view(*stored);
  return SqliteRun(
      db,
      std::string("INSERT INTO _stsync_reconcile (endpoint, cursor, "
                  "pass_started_at, seen, pages) VALUES (?1, ?2, ?3, ?4, ?5) "
                  "ON CONFLICT (endpoint) DO UPDATE SET cursor = ?2, "
                  "pass_started_at = ?3, seen = ?4, pages = ?5, ") +
          kClearFailureSql,
      {endpoint, cursor, started, seen, pages}, endpoint + ": saving the pass");
}

Status SaveFinishedPass(sqlite3* db, const std::string& endpoint,
                        const std::string& started, const ReconcileOutcome& o) {
  return SqliteRun(
      db,
      std::string(
          "INSERT INTO _stsync_reconcile (endpoint, last_started_at, "
          "last_finished_at, last_seen, last_live, last_marked, "
          "last_outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
          "ON CONFLICT (endpoint) DO UPDATE SET cursor = NULL, "
          "pass_started_at = NULL, seen = 0, pages = 0, "
          "last_started_at = ?2, last_finished_at = ?3, last_seen = ?4, "
          "last_live = ?5, last_marked = ?6, last_outcome = ?7, ") +
          kClearFailureSql,
      {endpoint, started, o.finished_at, o.seen, o.live, o.marked,
       o.suspicious ? "suspicious: saw too few keys, marked nothing"
                    : "marked"},
      endpoint + ": saving the pass");
}

std::string SeenKeyMatch(const Endpoint& e) {
  const std::vector<std::string> keys = e.KeyColumns();
  std::string match;
  for (size_t k = 0; k < kMaxKeyFields; ++k) {
    match += " AND s.k" + std::to_string(k + 1) + " = " +
             (k < keys.size() ? "r." + Quote(keys[k]) : "0");
  }
  return match;
}

Result<ReconcileOutcome> FinishPass(sqlite3* db, const Endpoint& e,
                                    const std::string& started, int64_t seen,
                                    const std::string& now,
                                    const ReconcilePolicy& policy) {
  const std::string table = Quote(e.TableName());
  ReconcileOutcome o;
  o.seen = seen;
  o.finished_at = now;
  // The key index and the partial index of deleted rows: no table scan.
  auto live = SqliteQueryText(db, "SELECT (SELECT count(*) FROM " + table +
                                      ") - (SELECT count(*) FROM " + table +
                                      " WHERE deleted_at IS NOT NULL)");
  if (!live.ok()) return live.status();
  o.live = std::stoll(*live);
  o.suspicious = policy.SawTooFew(seen, o.live);
  if (!o.suspicious) {
    auto cutoff = policy.MarkBefore(started);
    if (!cutoff.ok()) return cutoff.status().WithContext(e.name);
    // Keys not seen, found by scanning the key index alone; only their rows
    // are then read.
    Status s = SqliteRun(db,
                         "UPDATE " + table +
                             " SET deleted_at = ?1 WHERE rowid IN (SELECT "
                             "r.rowid FROM " +
                             table +
                             " AS r WHERE NOT EXISTS (SELECT 1 FROM "
                             "_stsync_seen AS s WHERE s.endpoint = ?2" +
                             SeenKeyMatch(e) +
                             ")) AND deleted_at IS NULL AND synced_at < ?3 "
                             "AND (modified_on IS NULL OR modified_on < ?4)",
                         {now, e.name, started, *cutoff},
                         e.name + ": marking deleted rows");
    if (!s.ok()) return s;
    o.marked = sqlite3_changes(db);
  }
  Status s = SqliteRun(db, kDropSeenSql, {e.name},
                       e.name + ": dropping the keys seen");
  if (!s.ok()) return s;
  return o;
}

Status RestartPass(sqlite3* db, const std::string& endpoint) {
  const std::string what = endpoint + ": restarting the reconciliation";
  Transaction tx(db);
  Status s = tx.Begin();
  if (s.ok()) s = SqliteRun(db, kDropSeenSql, {endpoint}, what);
  if (s.ok()) {
    s = SqliteRun(db,
                  "UPDATE _stsync_reconcile SET cursor = NULL, "
                  "pass_started_at = NULL, seen = 0, pages = 0 "
                  "WHERE endpoint = ?1",
                  {endpoint}, what);
  }
  if (s.ok()) s = tx.Commit();
  return s;
}

Result<std::optional<std::string>> FirstStoredAt(sqlite3* db,
                                                 const Endpoint& e) {
  Stmt s;
  const std::string what = "reading the first row of " + e.name;
  // Rows are stored in arrival order: the first rowid came first.
  if (s.Prepare(db, "SELECT first_seen_at FROM " + Quote(e.TableName()) +
                        " ORDER BY rowid LIMIT 1") != SQLITE_OK) {
    return SqliteError(db, what);
  }
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqliteError(db, what);
  return std::optional<std::string>(s.ColumnText(0));
}

}  // namespace stsync

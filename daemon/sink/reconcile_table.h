// ReconcileTable: what a reconciliation pass (engine/reconciler.h) keeps:
// _stsync_reconcile, one row per endpoint (the pass in progress: its cursor,
// start, keys seen and pages; the last finished pass; the last failure), and
// _stsync_seen, the keys the pass in progress has seen.
//
// The functions work on a connection the caller owns, inside the caller's
// transaction unless they say otherwise. Errors are SqliteError's (kBusy,
// kCorrupt, kIo); the caller notes damage (SqliteSink).
//
// Thread safety: as the connection's (one thread at a time).
#ifndef STSYNC_SINK_RECONCILE_TABLE_H_
#define STSYNC_SINK_RECONCILE_TABLE_H_

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/cursor.h"
#include "model/endpoint.h"
#include "model/side_feed_store.h"

namespace stsync {

// Notes a key as seen by the pass: ?1 endpoint, ?2..?5 the key fields (0
// past the endpoint's own). Changes one row if the key is new to the pass.
inline constexpr const char* kNoteSeenSql =
    "INSERT OR IGNORE INTO _stsync_seen (endpoint, k1, k2, k3, k4) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

// The endpoint's state in a database at `schema_version`, or nullopt (also
// for a file older than reconciliation).
Result<std::optional<ReconcileState>> LoadReconcileState(
    sqlite3* db, int schema_version, const std::string& endpoint);
// Every endpoint's, by name.
Result<std::vector<ReconcileState>> LoadReconcileStates(sqlite3* db,
                                                        int schema_version);

// Stores the pass in progress after a batch: its cursor `next`, when it
// `started`, the keys it has `seen` and its `pages`; clears its failure.
Status SavePassInProgress(sqlite3* db, const std::string& endpoint,
                          const Cursor& next, const std::string& started,
                          int64_t seen, int64_t pages);

// Ends the pass that began at `started` and saw `seen` keys, at `now`:
// unless it saw too few (`policy`), every row of `e`'s table it did not see,
// stored before it began and older than its start by the policy's margin,
// gets deleted_at = now; then its keys are dropped.
Result<ReconcileOutcome> FinishPass(sqlite3* db, const Endpoint& e,
                                    const std::string& started, int64_t seen,
                                    const std::string& now,
                                    const ReconcilePolicy& policy);
// SQL conditions matching a row `r` of e's table to a key `s` of
// _stsync_seen (" AND s.k1 = r.\"id\" AND s.k2 = 0 ..."), in SQLite's and
// PostgreSQL's dialect alike.
std::string SeenKeyMatch(const Endpoint& e);

// Stores the finished pass `outcome` as the last one; none is in progress.
Status SaveFinishedPass(sqlite3* db, const std::string& endpoint,
                        const std::string& started,
                        const ReconcileOutcome& outcome);

// In a transaction of its own: drops the pass in progress and its keys.
Status RestartPass(sqlite3* db, const std::string& endpoint);

// When `e`'s earliest stored row was stored, or nullopt for an empty table.
Result<std::optional<std::string>> FirstStoredAt(sqlite3* db,
                                                 const Endpoint& e);

}  // namespace stsync

#endif  // STSYNC_SINK_RECONCILE_TABLE_H_

// SplitRangeTable: _stsync_ranges, the date ranges a split first sync still
// owes (model/sink.h's SplitRange), one row per range.
//
// The functions work on a connection the caller owns, inside the caller's
// transaction where they say so. Errors are SqliteError's (kBusy, kCorrupt,
// kIo); the caller notes damage (SqliteSink).
//
// Thread safety: as the connection's (one thread at a time).
#ifndef STSYNC_SINK_SPLIT_RANGE_TABLE_H_
#define STSYNC_SINK_SPLIT_RANGE_TABLE_H_

#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "model/sink.h"

namespace stsync {

// Fills each state's `ranges` from a database at `schema_version` (older
// files have none).
Status AttachSplitRanges(sqlite3* db, int schema_version,
                         std::vector<FeedState>& states);

// Inside the batch's transaction: stores `change.put` and removes
// `change.done` for `endpoint` (change.cursor is the caller's).
Status StoreSplitChange(sqlite3* db, const std::string& endpoint,
                        const SplitChange& change);

// Inside the caller's transaction: forgets every range of `endpoint`.
Status ForgetSplitRanges(sqlite3* db, const std::string& endpoint);

}  // namespace stsync

#endif  // STSYNC_SINK_SPLIT_RANGE_TABLE_H_

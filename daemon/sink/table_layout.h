// The layout of an endpoint's table, and the conversion of the tables that
// stsync wrote before schema 3 into it.
//
// A table holds the key column(s), the parent column if the endpoint has
// one, modified_on, active, data, first_seen_at, synced_at and deleted_at
// (set when a reconciliation finds the record gone; engine/reconciler.h).
// Rows are
// stored in the order they arrive, under SQLite's implicit rowid, and found
// by their key through a unique index: a single key column is declared
// NOT NULL UNIQUE, a composite key is the table's PRIMARY KEY (which in a
// rowid table is a unique index too). A backfill therefore appends to the
// table whatever order the feed brings ids in; only the small index entries
// land at random. `WHERE id = ?` is an indexed lookup either way.
//
// Until schema 3, a single key column was the rowid itself (INTEGER PRIMARY
// KEY). A feed in modifiedOn order, whose ids are far from sorted, then
// rewrote table pages all over the file (issue 9 measured 6 times the time
// and 10 times the disk writes of the arrival-order layout).
//
// Errors are SQLite's, as Status values (see sqlite_statement.h).
// Thread safety: as the connection passed in.
#ifndef STSYNC_SINK_TABLE_LAYOUT_H_
#define STSYNC_SINK_TABLE_LAYOUT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/endpoint.h"

namespace stsync {

// The statements that create `e`'s table and its modified_on index, each
// only if missing (then EnsureDeletedAt).
std::string CreateTableSql(const Endpoint& e);

// Gives `e`'s table the deleted_at column if it was created before schema 5,
// and the partial index of its deleted rows, in a transaction of its own.
// No transaction may be open.
Status EnsureDeletedAt(sqlite3* db, const Endpoint& e);

// The tables of `db` still in the old layout: a single INTEGER PRIMARY KEY
// column beside all of stsync's columns (modified_on, active, data,
// first_seen_at, synced_at). Tables of any other shape (a user's own) are
// never listed.
Result<std::vector<std::string>> TablesKeyedByRowid(sqlite3* db);

// Rewrites `table` into the arrival-order layout in one transaction, so that
// a crash or kill at any instant leaves either the old table or the new one,
// with every row. Keeps every column (also one a user added, with its type,
// NOT NULL and default), every row (in rowid order, so in key order), and the
// table's own indexes and triggers; views name the table and need nothing.
// The old table's pages go to the file's free list and are reused by later
// writes. Returns the number of rows converted. No transaction may be open.
Result<int64_t> ConvertToArrivalOrder(sqlite3* db, const std::string& table);

}  // namespace stsync

#endif  // STSYNC_SINK_TABLE_LAYOUT_H_

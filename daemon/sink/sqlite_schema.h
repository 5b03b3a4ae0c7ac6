// SqliteSchema: the database's schema version, its migrations and its
// owner.
//
// The schema is versioned by PRAGMA user_version; each embedded migration
// (migrations/NNNN_name.sql, sink/migrations.h) runs in a transaction of its
// own with the version it reaches. Schema 3 also converts every endpoint
// table of the old layout (sink/table_layout.h), one table per transaction,
// so a kill in the middle leaves the rest to the next start. The owner row
// (_stsync_owner, schema 4) names the tenant and environment whose data the
// file holds.
//
// Errors: SqliteError's (kBusy, kCorrupt, kIo); kInvalid for another
// tenant's file. Thread safety: as the connection's.
#ifndef STSYNC_SINK_SQLITE_SCHEMA_H_
#define STSYNC_SINK_SQLITE_SCHEMA_H_

#include <sqlite3.h>

#include <functional>
#include <string>

#include "base/clock.h"
#include "base/status.h"

namespace stsync {

// The latest schema version this binary knows.
int LatestSchemaVersion();

// Runs the migrations newer than *version, updating it after each.
// `notice` (may be empty) is told about long steps; `clock` times them.
Status MigrateSchema(sqlite3* db, int* version, Clock* clock,
                     const std::function<void(const std::string&)>& notice);

// Refuses (kInvalid, naming `path`) a file recorded for another tenant or
// environment; with `record`, records them if the file has no owner yet
// (at `clock`'s time). An empty `tenant` checks nothing.
Status CheckOwner(sqlite3* db, const std::string& path,
                  const std::string& tenant, const std::string& environment,
                  bool record, Clock* clock);

}  // namespace stsync

#endif  // STSYNC_SINK_SQLITE_SCHEMA_H_

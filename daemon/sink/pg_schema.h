// The PostgreSQL sink's schema: one PostgreSQL schema per tenant (by
// default st_<tenant>) holding stsync's state tables, one table per
// endpoint and its typed <table>_v view.
//
// State tables (the same as the SQLite file's, see migrations/):
// _stsync_owner (whose data the schema holds), _stsync_cursors,
// _stsync_rejects, _stsync_ranges, _stsync_reconcile, _stsync_seen, and
// _stsync_migrations (the versions applied to this schema). Migrations run
// under a transaction-scoped advisory lock, so daemons starting together
// apply each once.
//
// An endpoint's table: its key column(s) (bigint) as the primary key, the
// parent column if any, modified_on (the normalised version as text,
// COLLATE "C": timestamptz would round the API's 7th fractional digit),
// active (boolean), data (json: the record's bytes exactly as received;
// jsonb would reorder keys and halve ingest speed), first_seen_at,
// synced_at and deleted_at (UTC text, as in SQLite).
//
// Errors are PgConnection's. Thread safety: as the connection's.
#ifndef STSYNC_SINK_PG_SCHEMA_H_
#define STSYNC_SINK_PG_SCHEMA_H_

#include <string>

#include "base/status.h"
#include "model/endpoint.h"
#include "sink/pg_connection.h"

namespace stsync {

// The newest schema version this binary writes.
int LatestPgSchemaVersion();

// Creates `schema` if missing and applies the migrations it lacks; sets
// *version to its version after. kIo if the schema is newer than this binary.
Status MigratePgSchema(PgConnection* c, const std::string& schema,
                       int* version);

// The schema's version (0 if it does not exist or has no stsync tables),
// without changing anything.
Result<int> PgSchemaVersion(PgConnection* c, const std::string& schema);

// Checks that `schema` holds `tenant`'s data of `environment` (kInvalid if
// another's); with `record`, a schema with no owner yet is recorded as
// theirs. A migrated schema only; an empty tenant checks nothing.
Status CheckPgOwner(PgConnection* c, const std::string& schema,
                    const std::string& tenant, const std::string& environment,
                    bool record, const std::string& now);

// Creates `e`'s table and its modified_on index if missing, and brings its
// typed view and configured field indexes in line (see table_views.h for
// the SQLite equivalent).
Status PreparePgTable(PgConnection* c, const std::string& schema,
                      const Endpoint& e);

// The view's SQL expression of a field of type `type` (a letter of the
// spec's: I integer, N number, B boolean, D date-time, S anything else):
// NULL where the value is missing or not of that type, never an error.
std::string PgFieldExpression(const std::string& field, char type);

}  // namespace stsync

#endif  // STSYNC_SINK_PG_SCHEMA_H_

// The query surface of an endpoint's table: its <table>_v view and the
// indexes on JSON fields the config asks for.
//
// The view exposes the top-level scalar fields of each row's JSON (per the
// spec: Endpoint::view_fields) as columns named exactly as the fields, e.g.
// `SELECT jobNumber, total FROM jobs_v WHERE active`, plus the parent key
// of an exploded row under its field name, and `deleted_at` (NULL while the
// record exists; see engine/reconciler.h). Nested objects and arrays stay
// in `data`. An index on a field (Endpoint::indexed_fields) is an index on
// the same expression the view uses, so a query on the view uses it.
//
// Both are brought in line with the endpoint at every start, each change in
// its own transaction: the view is replaced only if its SQL differs (a new
// catalog), indexes stsync made (named stsync_ix_<table>_<field>) that the
// config no longer lists are dropped, missing ones are created. Other
// objects are never touched; a table or index of the user's that holds the
// view's name is an error that names it.
//
// Errors are SQLite's, as Status values (see sqlite_statement.h).
// Thread safety: as the connection passed in.
#ifndef STSYNC_SINK_TABLE_VIEWS_H_
#define STSYNC_SINK_TABLE_VIEWS_H_

#include <sqlite3.h>

#include <functional>
#include <string>

#include "base/status.h"
#include "model/endpoint.h"

namespace stsync {

// The view's name: "<table>_v".
std::string ViewName(const Endpoint& e);

// The SQL expression of `field` of a row: json_extract(data, '$.field').
// `field` is letters, digits and '_' (the catalog's fields and the
// config's `index` are).
std::string FieldExpression(const std::string& field);

// Creates or replaces e's view (none if e has no view_fields).
Status SyncView(sqlite3* db, const Endpoint& e);

// Creates the indexes of e.indexed_fields that are missing and drops the
// ones stsync made that are no longer listed. `notice` hears of each index
// built or dropped (building one reads the whole table).
Status SyncFieldIndexes(sqlite3* db, const Endpoint& e,
                        const std::function<void(const std::string&)>& notice);

}  // namespace stsync

#endif  // STSYNC_SINK_TABLE_VIEWS_H_

// Endpoint: one feed of records and the table it fills: where it is
// fetched, how its records are keyed and versioned.
//
// A plain value, safe to copy and share between threads. The built-in ones
// are in config/catalog.h; a config file may describe custom ones.
#ifndef STSYNC_MODEL_ENDPOINT_H_
#define STSYNC_MODEL_ENDPOINT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stsync {

// How a feed is read: a Data Export endpoint (continuation tokens) or a
// regular list endpoint (page and pageSize; api/list_feed.h).
enum class EndpointKind { kExport, kList };

// How a list endpoint is asked for records in modification order.
enum class ListOrder {
  kDefault,    // no way documented: the server's own order
  kSortParam,  // sort=+ModifiedOn
  kOrderBy,    // orderBy=modifiedOn&orderByDirection=asc
};

struct Endpoint {
  // Lower-case, dash-separated; the config name. The table is the same with
  // '-' replaced by '_'.
  std::string name;
  // Path below the API host, with `{tenant}` where the tenant id goes.
  std::string path;
  // JSON fields (integers) that together identify a row.
  std::vector<std::string> key_fields = {"id"};
  // JSON field ordering versions of a row: newer text never loses to older.
  std::string version_field = "modifiedOn";
  // Extra query parameters sent on every call.
  std::vector<std::pair<std::string, std::string>> params;
  // If set, each record holds an array under this field and every element of
  // it is one row (keyed and versioned by the element's own fields).
  std::string explode_field;
  // With explode_field: a field of the outer record kept as a column.
  std::string parent_field;
  // If a key field is null, the row is keyed by a negative number derived
  // from these fields instead (api/record_reader.h, FallbackKey). The first
  // of them anchors the identity and must be present, or the record is
  // quarantined. Empty: a null key quarantines the record.
  std::vector<std::string> fallback_key_fields;
  // The (single) key field is a string, such as a GUID: a row is keyed by a
  // hash of it (a negative number, see FallbackKey); the JSON and the view
  // keep the string.
  bool string_key = false;
  EndpointKind kind = EndpointKind::kExport;
  // List endpoints: whether a pass can ask only for records modified on or
  // after a time (modifiedOnOrAfter, with version_field = modifiedOn);
  // otherwise every pass reads them all.
  bool modified_filter = false;
  ListOrder order = ListOrder::kDefault;
  // List endpoints: the largest pageSize the server takes.
  int max_page_size = 5000;
  // The top-level scalar fields of a row, per the spec: the columns of the
  // table's <table>_v view. Empty: no view (a custom endpoint).
  std::vector<std::string> view_fields;
  // One letter per view field, its type in the spec: I integer, N number,
  // B boolean, D date-time, S anything else. PostgreSQL's views cast by it.
  std::string view_types;
  // Fields to index (the config's `index`), as their view columns.
  std::vector<std::string> indexed_fields;

  std::string TableName() const;
  // `path` with every {tenant} replaced by `tenant`.
  std::string PathFor(const std::string& tenant) const;
  // Columns holding the key fields, in order (snake_case of the fields).
  std::vector<std::string> KeyColumns() const;
  // The column holding parent_field, or "".
  std::string ParentColumn() const;
};

// "technicianId" -> "technician_id".
std::string SnakeCase(std::string_view camel);

// Whether `name` is usable as an endpoint (and so table) name:
// [a-z][a-z0-9-]{0,62}.
bool IsValidEndpointName(std::string_view name);

}  // namespace stsync

#endif  // STSYNC_MODEL_ENDPOINT_H_

#include "sink/table_views.h"

#include <set>
#include <vector>

#include "sink/sqlite_statement.h"

namespace stsync {
namespace {

std::string IndexName(const Endpoint& e, const std::string& field) {
  return "stsync_ix_" + e.TableName() + "_" + field;
}

// Runs `sql` in a transaction of its own.
Status InTransaction(sqlite3* db, const std::string& sql) {
  Transaction tx(db);
  Status s = tx.Begin();
  if (s.ok()) s = SqliteExec(db, sql);
  if (s.ok()) s = tx.Commit();
  return s;
}

// The type and SQL of the schema object `name`, or "" for both.
Result<std::pair<std::string, std::string>> SchemaObject(
    sqlite3* db, const std::string& name) {
  Stmt s;
  if (s.Prepare(db,
                "SELECT type, coalesce(sql, '') FROM sqlite_master "
                "WHERE name = ?1") != SQLITE_OK) {
    return SqliteError(db, "reading the schema");
  }
  s.Text(1, name);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::pair<std::string, std::string>();
  if (rc != SQLITE_ROW) return SqliteError(db, "reading the schema");
  return std::pair<std::string, std::string>(s.ColumnText(0), s.ColumnText(1));
}

}  // namespace

std::string ViewName(const Endpoint& e) { return e.TableName() + "_v"; }

std::string FieldExpression(const std::string& field) {
  return "json_extract(data, '$." + field + "')";
}

Status SyncView(sqlite3* db, const Endpoint& e) {
  if (e.view_fields.empty()) return Status::Ok();
  const std::string view = ViewName(e);
  std::string sql = "CREATE VIEW " + Quote(view) + " AS SELECT ";
  std::set<std::string> named;
  for (const auto& f : e.view_fields) {
    sql += FieldExpression(f) + " AS " + Quote(f) + ", ";
    named.insert(f);
  }
  if (!e.parent_field.empty() && !named.count(e.parent_field)) {
    sql += Quote(e.ParentColumn()) + " AS " + Quote(e.parent_field) + ", ";
  }
  // NULL while the record exists; when a reconciliation found it gone.
  sql += "deleted_at FROM " + Quote(e.TableName());
  auto existing = SchemaObject(db, view);
  if (!existing.ok()) return existing.status();
  if (existing->first == "view" && existing->second == sql) {
    return Status::Ok();
  }
  if (!existing->first.empty() && existing->first != "view") {
    return Status::Invalid("cannot create the view " + view + ": a " +
                           existing->first + " of that name exists; rename it");
  }
  Status s = InTransaction(
      db, "DROP VIEW IF EXISTS " + Quote(view) + ";\n" + sql + ";");
  if (!s.ok()) return s.WithContext("creating the view " + view);
  return Status::Ok();
}

Status SyncFieldIndexes(sqlite3* db, const Endpoint& e,
                        const std::function<void(const std::string&)>& notice) {
  const std::string table = e.TableName();
  const std::string prefix = "stsync_ix_" + table + "_";
  std::set<std::string> wanted;
  for (const auto& f : e.indexed_fields) wanted.insert(IndexName(e, f));
  std::vector<std::string> existing;
  {
    Stmt s;
    if (s.Prepare(db,
                  "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                  "tbl_name = ?1 AND substr(name, 1, length(?2)) = ?2") !=
        SQLITE_OK) {
      return SqliteError(db, "reading the indexes of " + table);
    }
    s.Text(1, table);
    s.Text(2, prefix);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      existing.push_back(s.ColumnText(0));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db, "reading the indexes of " + table);
    }
  }
  for (const auto& name : existing) {
    if (wanted.erase(name)) continue;  // already there
    if (notice) notice("dropping index " + name + " (no longer configured)");
    Status s = InTransaction(db, "DROP INDEX " + Quote(name) + ";");
    if (!s.ok()) return s.WithContext("dropping index " + name);
  }
  for (const auto& f : e.indexed_fields) {
    const std::string name = IndexName(e, f);
    if (!wanted.count(name)) continue;
    if (notice) notice("indexing " + table + "." + f + " as " + name);
    Status s =
        InTransaction(db, "CREATE INDEX " + Quote(name) + " ON " +
                              Quote(table) + " (" + FieldExpression(f) + ");");
    if (!s.ok()) return s.WithContext("creating index " + name);
  }
  return Status::Ok();
}

}  // namespace stsync

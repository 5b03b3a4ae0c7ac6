#include "sink/table_layout.h"

#include "sink/sqlite_statement.h"

namespace stsync {

std::string CreateTableSql(const Endpoint& e) {
  const std::string table = Quote(e.TableName());
  const std::vector<std::string> keys = e.KeyColumns();
  const std::string parent = e.ParentColumn();

  std::string ddl = "CREATE TABLE IF NOT EXISTS " + table + " (\n";
  if (keys.size() == 1) {
    ddl += "  " + Quote(keys[0]) + " INTEGER NOT NULL UNIQUE,\n";
  } else {
    for (const auto& k : keys) ddl += "  " + Quote(k) + " INTEGER NOT NULL,\n";
  }
  if (!parent.empty()) ddl += "  " + Quote(parent) + " INTEGER,\n";
  ddl +=
      "  modified_on TEXT,\n  active INTEGER,\n  data TEXT NOT NULL,\n"
      "  first_seen_at TEXT NOT NULL,\n  synced_at TEXT NOT NULL,\n"
      "  deleted_at TEXT";
  if (keys.size() > 1) {
    ddl += ",\n  PRIMARY KEY (";
    for (size_t i = 0; i < keys.size(); ++i) {
      ddl += (i ? ", " : "") + Quote(keys[i]);
    }
    ddl += ")";
  }
  ddl += "\n);\nCREATE INDEX IF NOT EXISTS " +
         Quote(e.TableName() + "_modified_on") + " ON " + table +
         " (modified_on);";
  return ddl;
}

Result<std::vector<std::string>> TablesKeyedByRowid(sqlite3* db) {
  // A single primary-key column declared exactly INTEGER is the rowid.
  Stmt s;
  if (s.Prepare(db,
                "SELECT m.name FROM sqlite_master AS m WHERE m.type = 'table' "
                "AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                "AND m.name NOT LIKE '\\_stsync\\_%' ESCAPE '\\' "
                "AND (SELECT count(*) FROM pragma_table_info(m.name) "
                "     WHERE pk > 0) = 1 "
                "AND (SELECT count(*) FROM pragma_table_info(m.name) "
                "     WHERE pk = 1 AND upper(type) = 'INTEGER' OR name IN "
                "     ('modified_on', 'active', 'data', 'first_seen_at', "
                "      'synced_at')) = 6 "
                "ORDER BY m.name") != SQLITE_OK) {
    return SqliteError(db, "listing tables to convert");
  }
  std::vector<std::string> tables;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    tables.push_back(s.ColumnText(0));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, "listing tables to convert");
  return tables;
}

namespace {

// Runs `sql` with `table` bound to ?1 and returns the first column of each
// row.
Result<std::vector<std::string>> Column(sqlite3* db, const std::string& sql,
                                        const std::string& table) {
  Stmt s;
  if (s.Prepare(db, sql) != SQLITE_OK) return SqliteError(db, sql);
  s.Text(1, table);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back(s.ColumnText(0));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, sql);
  return out;
}

// The body of ConvertToArrivalOrder, inside its transaction.
Result<int64_t> Rewrite(sqlite3* db, const std::string& table) {
  // Each column as the new table declares it, and its name.
  auto columns = Column(db,
                        "SELECT '\"' || name || '\" ' || type || "
                        "CASE WHEN pk = 1 THEN ' NOT NULL UNIQUE' "
                        "     WHEN \"notnull\" THEN ' NOT NULL' ELSE '' END || "
                        "CASE WHEN dflt_value IS NULL THEN '' "
                        "     ELSE ' DEFAULT (' || dflt_value || ')' END "
                        "FROM pragma_table_info(?1) ORDER BY cid",
                        table);
  if (!columns.ok()) return columns.status();
  auto names = Column(
      db, "SELECT '\"' || name || '\"' FROM pragma_table_info(?1) ORDER BY cid",
      table);
  if (!names.ok()) return names.status();
  // The table's own indexes and triggers (not the automatic ones), which
  // DROP TABLE takes along.
  auto extras = Column(db,
                       "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 AND "
                       "type IN ('index', 'trigger') AND sql IS NOT NULL "
                       "ORDER BY type, name",
                       table);
  if (!extras.ok()) return extras.status();

  std::string create, list;
  for (size_t i = 0; i < columns->size(); ++i) {
    create += (i ? ",\n  " : "\n  ") + (*columns)[i];
    list += (i ? ", " : "") + (*names)[i];
  }
  const std::string next = Quote("_stsync_converting_" + table);
  Status s = SqliteExec(db, "CREATE TABLE " + next + " (" + create + "\n)");
  if (!s.ok()) return s;
  s = SqliteExec(db, "INSERT INTO " + next + " (" + list + ") SELECT " + list +
                         " FROM " + Quote(table) + " ORDER BY rowid");
  if (!s.ok()) return s;
  const int64_t rows = sqlite3_changes(db);
  s = SqliteExec(db, "DROP TABLE " + Quote(table));
  if (s.ok()) {
    s = SqliteExec(db, "ALTER TABLE " + next + " RENAME TO " + Quote(table));
  }
  for (size_t i = 0; s.ok() && i < extras->size(); ++i) {
    s = SqliteExec(db, (*extras)[i]);
  }
  if (!s.ok()) return s;
  return rows;
}

}  // namespace

Status EnsureDeletedAt(sqlite3* db, const Endpoint& e) {
  const std::string index = e.TableName() + "_deleted_at";
  auto has_column = Column(db,
                           "SELECT name FROM pragma_table_info(?1) "
                           "WHERE name = 'deleted_at'",
                           e.TableName());
  if (!has_column.ok()) return has_column.status();
  auto has_index =
      Column(db, "SELECT name FROM sqlite_master WHERE name = ?1", index);
  if (!has_index.ok()) return has_index.status();
  if (!has_column->empty() && !has_index->empty()) return Status::Ok();
  // Adding a nullable column rewrites nothing: old rows read it as NULL.
  // The index holds the deleted rows only, so it stays small.
  std::string sql;
  if (has_column->empty()) {
    sql += "ALTER TABLE " + Quote(e.TableName()) +
           " ADD COLUMN deleted_at TEXT;\n";
  }
  sql += "CREATE INDEX IF NOT EXISTS " + Quote(index) + " ON " +
         Quote(e.TableName()) + " (deleted_at) WHERE deleted_at IS NOT NULL;";
  Transaction tx(db);
  Status st = tx.Begin();
  if (st.ok()) st = SqliteExec(db, sql);
  if (st.ok()) st = tx.Commit();
  return st;
}

Result<int64_t> ConvertToArrivalOrder(sqlite3* db, const std::string& table) {
  // The legacy RENAME leaves views alone. The current one re-checks every
  // view of the schema, and a user's view of `table` would fail it while
  // the table is missing.
  int legacy = 0;
  sqlite3_db_config(db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, -1, &legacy);
  sqlite3_db_config(db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, 1, nullptr);
  Result<int64_t> rows = 0;
  Status s;
  {
    Transaction tx(db);
    s = tx.Begin();
    if (s.ok()) {
      rows = Rewrite(db, table);
      s = rows.ok() ? tx.Commit() : rows.status();
    }
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, legacy, nullptr);
  if (!s.ok()) return s.WithContext("converting table " + table);
  return rows;
}

}  // namespace stsync

#include "sink/sqlite_schema.h"

#include "base/timestamp.h"
#include "sink/migrations.h"
#include "sink/sqlite_statement.h"
#include "sink/table_layout.h"

namespace stsync {
namespace {

// Schema 3 stores rows in arrival order (table_layout.h). Endpoint tables are
// created on demand, so the migration finds them in the file rather than in
// its SQL script, and converts each in a transaction of its own: a kill in
// the middle leaves the tables not yet converted to the next start.
constexpr int kArrivalOrderSchema = 3;

Status ConvertTables(sqlite3* db, Clock* clock,
                     const std::function<void(const std::string&)>& notice) {
  auto tables = TablesKeyedByRowid(db);
  if (!tables.ok()) return tables.status();
  for (const std::string& table : *tables) {
    if (notice) {
      notice("converting table " + table +
             " to the arrival-order layout; this happens once and can take "
             "minutes for a large table");
    }
    const SteadyTime started = clock->Now();
    auto rows = ConvertToArrivalOrder(db, table);
    if (!rows.ok()) return rows.status();
    if (notice) {
      const auto ms =
          std::chrono::duration_cast<Millis>(clock->Now() - started);
      notice("converted table " + table + ": " + std::to_string(*rows) +
             " rows in " + std::to_string(ms.count()) + " ms");
    }
  }
  return Status::Ok();
}

}  // namespace

int LatestSchemaVersion() {
  return EmbeddedMigrations().empty() ? 0 : EmbeddedMigrations().back().version;
}

Status MigrateSchema(sqlite3* db, int* version, Clock* clock,
                     const std::function<void(const std::string&)>& notice) {
  for (const Migration& m : EmbeddedMigrations()) {
    if (m.version <= *version) continue;
    if (m.version == kArrivalOrderSchema) {
      Status s = ConvertTables(db, clock, notice);
      if (!s.ok()) return s.WithContext(std::string("migration ") + m.name);
    }
    Transaction tx(db);
    Status s = tx.Begin();
    if (s.ok()) s = SqliteExec(db, m.sql);
    if (s.ok()) {
      s = SqliteExec(db, "PRAGMA user_version=" + std::to_string(m.version));
    }
    if (s.ok()) s = tx.Commit();
    if (!s.ok()) return s.WithContext(std::string("migration ") + m.name);
    *version = m.version;
  }
  return Status::Ok();
}

Status CheckOwner(sqlite3* db, const std::string& path,
                  const std::string& tenant, const std::string& environment,
                  bool record, Clock* clock) {
  if (tenant.empty()) return Status::Ok();
  // A new file, or one older than schema 4, has no owner table yet.
  auto tables = SqliteQueryText(
      db, "SELECT count(*) FROM sqlite_master WHERE name = '_stsync_owner'");
  if (!tables.ok()) return tables.status();
  if (*tables == "0") return Status::Ok();
  Stmt read;
  if (read.Prepare(db, "SELECT tenant, environment FROM _stsync_owner") !=
      SQLITE_OK) {
    return SqliteError(db, "reading the database's tenant");
  }
  const int rc = sqlite3_step(read.get());
  if (rc == SQLITE_ROW) {
    const std::string owner = read.ColumnText(0);
    const std::string owner_environment = read.ColumnText(1);
    if (owner == tenant && owner_environment == environment) {
      return Status::Ok();
    }
    return Status::Invalid(
        "database " + path + " holds the data of tenant " + owner + " (" +
        owner_environment + "), not of tenant " + tenant + " (" + environment +
        ") as configured; point database.path at another file for this "
        "tenant, or correct servicetitan.tenant and environment");
  }
  if (rc != SQLITE_DONE)
    return SqliteError(db, "reading the database's tenant");
  if (!record) return Status::Ok();
  return SqliteRun(db,
                   "INSERT OR IGNORE INTO _stsync_owner (id, tenant, "
                   "environment, recorded_at) VALUES (1, ?1, ?2, ?3)",
                   {tenant, environment, FormatTimestamp(clock->WallNow())},
                   "recording the database's tenant");
}

}  // namespace stsync

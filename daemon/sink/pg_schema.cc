#include "sink/pg_schema.h"

#include <set>
#include <vector>

namespace stsync {
namespace {

// Each migration in one transaction; the index is its version - 1. Never
// edit one that has shipped: add another.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: the state tables, as the SQLite file's (migrations/000*.sql).
      R"sql(
CREATE TABLE _stsync_owner (
  id integer PRIMARY KEY CHECK (id = 1),
  tenant text NOT NULL,
  environment text NOT NULL,
  recorded_at text NOT NULL
);
CREATE TABLE _stsync_cursors (
  endpoint text PRIMARY KEY,
  cursor text,
  cursor_updated_at text,
  caught_up_at text,
  row_count bigint NOT NULL DEFAULT 0,
  pages bigint NOT NULL DEFAULT 0,
  last_error text,
  last_error_at text,
  consecutive_failures bigint NOT NULL DEFAULT 0
);
CREATE TABLE _stsync_rejects (
  id bigserial PRIMARY KEY,
  endpoint text NOT NULL,
  position text NOT NULL,
  record_index bigint NOT NULL,
  reason text NOT NULL,
  data bytea NOT NULL,
  record_hash bigint NOT NULL,
  rejected_at text NOT NULL,
  UNIQUE (endpoint, record_hash)
);
CREATE TABLE _stsync_ranges (
  endpoint text NOT NULL,
  id bigint NOT NULL,
  range_end text NOT NULL,
  position text NOT NULL,
  reached text NOT NULL,
  PRIMARY KEY (endpoint, id)
);
CREATE TABLE _stsync_reconcile (
  endpoint text PRIMARY KEY,
  cursor text,
  pass_started_at text,
  seen bigint NOT NULL DEFAULT 0,
  pages bigint NOT NULL DEFAULT 0,
  last_started_at text,
  last_finished_at text,
  last_seen bigint,
  last_live bigint,
  last_marked bigint,
  last_outcome text,
  last_error text,
  last_error_at text,
  consecutive_failures bigint NOT NULL DEFAULT 0
);
CREATE TABLE _stsync_seen (
  endpoint text NOT NULL,
  k1 bigint NOT NULL,
  k2 bigint NOT NULL DEFAULT 0,
  k3 bigint NOT NULL DEFAULT 0,
  k4 bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (endpoint, k1, k2, k3, k4)
);
)sql",
  };
  return kMigrations;
}

// For the migrations' DDL, which names no schema; for their transaction
// only.
std::string InSchema(const std::string& schema) {
  return "SET LOCAL search_path TO " + PgQuote(schema) + ", pg_catalog";
}

// Runs `sql` in a transaction of its own, holding the schema's advisory
// lock (transaction-scoped: it works behind PgBouncer's transaction
// pooling), so that daemons starting together do not race.
Status Locked(PgConnection* c, const std::string& schema,
              const std::string& sql, const std::string& what) {
  PgTransaction tx(c);
  Status s = tx.Begin();
  if (s.ok()) {
    auto locked = c->Run("SELECT pg_advisory_xact_lock(hashtext($1))",
                         {"stsync:" + schema}, what);
    if (!locked.ok()) s = locked.status();
  }
  if (s.ok()) s = c->Exec(sql, what);
  if (s.ok()) s = tx.Commit();
  return s;
}

}  // namespace

int LatestPgSchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<int> PgSchemaVersion(PgConnection* c, const std::string& schema) {
  auto exists = c->QueryText(
      "SELECT to_regclass(quote_ident($1) || '._stsync_migrations') IS NOT "
      "NULL",
      {schema}, "reading schema " + schema);
  if (!exists.ok()) return exists.status();
  if (exists->value_or("f") != "t") return 0;
  auto v = c->QueryText(
      "SELECT max(version) FROM " + PgQuote(schema) + "._stsync_migrations", {},
      "reading the version of schema " + schema);
  if (!v.ok()) return v.status();
  return *v ? std::stoi(**v) : 0;
}

Status MigratePgSchema(PgConnection* c, const std::string& schema,
                       int* version) {
  const std::string what = "migrating schema " + schema;
  Status s = Locked(c, schema,
                    "CREATE SCHEMA IF NOT EXISTS " + PgQuote(schema) + ";" +
                        InSchema(schema) +
                        ";CREATE TABLE IF NOT EXISTS _stsync_migrations ("
                        "version integer PRIMARY KEY, applied_at timestamptz "
                        "NOT NULL DEFAULT now())",
                    what);
  if (!s.ok()) return s;
  for (;;) {
    auto current = PgSchemaVersion(c, schema);
    if (!current.ok()) return current.status();
    *version = *current;
    if (*version > LatestPgSchemaVersion()) {
      return Status::Io(
          "schema " + schema + " has version " + std::to_string(*version) +
          ", newer than this stsync supports (" +
          std::to_string(LatestPgSchemaVersion()) + "); upgrade stsync");
    }
    if (*version == LatestPgSchemaVersion()) return Status::Ok();
    const int next = *version + 1;
    // Another daemon may have applied it meanwhile: the insert then fails
    // on the primary key and the loop reads the new version.
    s = Locked(c, schema,
               InSchema(schema) + ";" + Migrations()[next - 1] +
                   ";INSERT INTO _stsync_migrations (version) SELECT " +
                   std::to_string(next) +
                   " WHERE NOT EXISTS (SELECT 1 FROM _stsync_migrations "
                   "WHERE version >= " +
                   std::to_string(next) + ")",
               what + " to version " + std::to_string(next));
    if (!s.ok()) {
      auto after = PgSchemaVersion(c, schema);
      if (after.ok() && *after >= next) continue;
      return s;
    }
  }
}

Status CheckPgOwner(PgConnection* c, const std::string& schema,
                    const std::string& tenant, const std::string& environment,
                    bool record, const std::string& now) {
  if (tenant.empty()) return Status::Ok();
  const std::string table = PgQuote(schema) + "._stsync_owner";
  auto rows = c->Run("SELECT tenant, environment FROM " + table, {},
                     "reading the schema's tenant");
  if (!rows.ok()) return rows.status();
  if (rows->size() > 0) {
    const std::string owner = rows->Text(0, 0);
    const std::string owner_environment = rows->Text(0, 1);
    if (owner == tenant && owner_environment == environment) {
      return Status::Ok();
    }
    return Status::Invalid(
        "schema " + schema + " holds the data of tenant " + owner + " (" +
        owner_environment + "), not of tenant " + tenant + " (" + environment +
        ") as configured; set database.schema to another schema for this "
        "tenant (the default, st_{tenant}, gives each its own)");
  }
  if (!record) return Status::Ok();
  auto inserted =
      c->Run("INSERT INTO " + table +
                 " (id, tenant, environment, recorded_at) VALUES (1, $1, $2, "
                 "$3) ON CONFLICT DO NOTHING",
             {tenant, environment, now}, "recording the schema's tenant");
  if (!inserted.ok()) return inserted.status();
  if (inserted->affected() == 0) {
    // Another daemon recorded one first: check it.
    return CheckPgOwner(c, schema, tenant, environment, false, now);
  }
  return Status::Ok();
}

std::string PgFieldExpression(const std::string& field, char type) {
  const std::string value = "(data ->> '" + field + "')";
  const std::string kind = "json_typeof(data -> '" + field + "')";
  switch (type) {
    case 'I':
      return "CASE WHEN " + kind + " = 'number' THEN " + value +
             "::numeric::bigint END";
    case 'N':
      return "CASE WHEN " + kind + " = 'number' THEN " + value +
             "::numeric END";
    case 'B':
      return "CASE WHEN " + kind + " = 'boolean' THEN " + value +
             "::boolean END";
    case 'D':
      return "CASE WHEN " + value +
             " ~ '^\\d{4}-\\d\\d-\\d\\d([T ]\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?)?"
             "(Z|[+-]\\d\\d(:?\\d\\d)?)?$' THEN " +
             value + "::timestamptz END";
    default:
      return value;
  }
}

Status PreparePgTable(PgConnection* c, const std::string& schema,
                      const Endpoint& e) {
  const std::string table = PgQuote(schema) + "." + PgQuote(e.TableName());
  const std::vector<std::string> keys = e.KeyColumns();
  const std::string parent = e.ParentColumn();
  std::string cols, pk;
  for (size_t i = 0; i < keys.size(); ++i) {
    cols += PgQuote(keys[i]) + " bigint NOT NULL, ";
    pk += (i ? ", " : "") + PgQuote(keys[i]);
  }
  if (!parent.empty()) cols += PgQuote(parent) + " bigint, ";
  std::string sql =
      "CREATE TABLE IF NOT EXISTS " + table + " (" + cols +
      "modified_on text COLLATE \"C\", active boolean, data json NOT NULL, "
      "first_seen_at text NOT NULL, synced_at text NOT NULL, deleted_at text, "
      "PRIMARY KEY (" +
      pk + "));CREATE INDEX IF NOT EXISTS " +
      PgQuote(e.TableName() + "_modified_on") + " ON " + table +
      " (modified_on);CREATE INDEX IF NOT EXISTS " +
      PgQuote(e.TableName() + "_deleted") + " ON " + table +
      " (deleted_at) WHERE deleted_at IS NOT NULL;";
  Status s = c->Exec(sql, "creating the table of " + e.name);
  if (!s.ok()) return s;

  if (!e.view_fields.empty()) {
    const std::string view =
        PgQuote(schema) + "." + PgQuote(e.TableName() + "_v");
    std::string select = "SELECT ";
    std::set<std::string> named;
    for (size_t i = 0; i < e.view_fields.size(); ++i) {
      const char type = i < e.view_types.size() ? e.view_types[i] : 'S';
      select += PgFieldExpression(e.view_fields[i], type) + " AS " +
                PgQuote(e.view_fields[i]) + ", ";
      named.insert(e.view_fields[i]);
    }
    if (!e.parent_field.empty() && !named.count(e.parent_field)) {
      select += PgQuote(parent) + " AS " + PgQuote(e.parent_field) + ", ";
    }
    select += "deleted_at FROM " + table;
    // CREATE OR REPLACE keeps views of the user's built on this one; when
    // the columns changed (a new catalog) it cannot, and the view is
    // dropped and made again.
    s = c->Exec("CREATE OR REPLACE VIEW " + view + " AS " + select,
                "creating the view " + e.TableName() + "_v");
    if (!s.ok()) {
      PgTransaction tx(c);
      s = tx.Begin();
      if (s.ok()) {
        s = c->Exec("DROP VIEW IF EXISTS " + view + ";CREATE VIEW " + view +
                        " AS " + select,
                    "replacing the view " + e.TableName() + "_v");
      }
      if (s.ok()) s = tx.Commit();
      if (!s.ok()) return s;
    }
  }

  // Field indexes: on the view's expression (so a query on the view uses
  // it), except date-times, whose cast depends on the session's time zone
  // and cannot be indexed: those index the text.
  const std::string prefix = "stsync_ix_" + e.TableName() + "_";
  auto existing = c->Run(
      "SELECT indexname FROM pg_indexes WHERE schemaname = $3 AND tablename "
      "= $1 AND left(indexname, length($2)) = $2",
      {e.TableName(), prefix, schema}, "reading the indexes of " + e.name);
  if (!existing.ok()) return existing.status();
  std::set<std::string> wanted;
  for (const auto& f : e.indexed_fields) wanted.insert(prefix + f);
  for (int i = 0; i < existing->size(); ++i) {
    const std::string name = existing->Text(i, 0);
    if (wanted.erase(name)) continue;
    s = c->Exec("DROP INDEX " + PgQuote(schema) + "." + PgQuote(name),
                "dropping index " + name);
    if (!s.ok()) return s;
  }
  for (const auto& f : e.indexed_fields) {
    if (!wanted.count(prefix + f)) continue;
    char type = 'S';
    for (size_t i = 0; i < e.view_fields.size() && i < e.view_types.size();
         ++i) {
      if (e.view_fields[i] == f) type = e.view_types[i];
    }
    const std::string expr =
        type == 'D' ? "(data ->> '" + f + "')" : PgFieldExpression(f, type);
    s = c->Exec("CREATE INDEX IF NOT EXISTS " + PgQuote(prefix + f) + " ON " +
                    table + " ((" + expr + "))",
                "creating index " + prefix + f);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace stsync

#include "sink/pg_lease.h"

#include <unistd.h>

#include <random>

namespace stsync {
namespace {

// The lease as an interval literal parameter: "60000 milliseconds".
std::string Interval(Millis lease) {
  return std::to_string(lease.count()) + " milliseconds";
}

constexpr const char* kLeasesSql = R"sql(
CREATE SCHEMA IF NOT EXISTS stsync;
CREATE TABLE IF NOT EXISTS stsync.leases (
  tenant_schema text PRIMARY KEY,
  owner text,
  epoch bigint NOT NULL DEFAULT 0,
  acquired_at timestamptz,
  heartbeat_at timestamptz
);
CREATE TABLE IF NOT EXISTS stsync.daemons (
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  heartbeat_at timestamptz NOT NULL
);
)sql";

// Runs a statement whose rows are of no interest.
Status RunOnly(PgConnection* c, const std::string& sql,
               const std::vector<PgParam>& params, const std::string& what) {
  auto rows = c->Run(sql, params, what);
  return rows.ok() ? Status::Ok() : rows.status();
}

// A daemon's balanced share of the tenants, with `live` daemons.
int64_t Share(int64_t live, const LeaseTerms& terms) {
  live = std::max<int64_t>(1, live);
  int64_t share = (terms.tenants + live - 1) / live;
  if (terms.max_tenants > 0) {
    share = std::min<int64_t>(share, terms.max_tenants);
  }
  return share;
}

}  // namespace

Status NoteDaemon(PgConnection* c, const LeaseTerms& terms) {
  if (!terms.peer) return Status::Ok();
  return RunOnly(c,
                 "INSERT INTO stsync.daemons (id, heartbeat_at) VALUES ($1, "
                 "clock_timestamp()) ON CONFLICT (id) DO UPDATE SET "
                 "heartbeat_at = clock_timestamp()",
                 {terms.owner}, "noting this daemon as live");
}

Status ForgetDaemon(PgConnection* c, const LeaseTerms& terms) {
  return RunOnly(c, "DELETE FROM stsync.daemons WHERE id = $1", {terms.owner},
                 "taking this daemon out of the shares");
}

std::string NewDaemonId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device rd;
  const unsigned r = rd() & 0xffffff;
  char tail[16];
  std::snprintf(tail, sizeof(tail), "%06x", r);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + tail;
}

Status PrepareLeases(PgConnection* c) {
  PgTransaction tx(c);
  Status s = tx.Begin();
  if (s.ok()) {
    auto locked = c->Run("SELECT pg_advisory_xact_lock(hashtext($1))",
                         {"stsync:leases"}, "preparing the lease tables");
    if (!locked.ok()) s = locked.status();
  }
  if (s.ok()) s = c->Exec(kLeasesSql, "preparing the lease tables");
  if (s.ok()) s = tx.Commit();
  return s;
}

Result<std::optional<int64_t>> TryAcquireLease(PgConnection* c,
                                               const std::string& schema,
                                               const LeaseTerms& terms,
                                               LeaseHolder* holder) {
  const std::string what = "taking the lease of " + schema;
  const std::string lease = Interval(terms.lease);
  // Its own statement: no lock on this daemon's row is held while the
  // transaction below waits.
  Status s = NoteDaemon(c, terms);
  if (!s.ok()) return s;
  PgTransaction tx(c);
  s = tx.Begin();
  if (s.ok()) {
    // A peer paused inside its transaction must not stall this one for
    // long: give up after a quarter of a lease (kBusy) and try again later.
    s = c->Exec("SET LOCAL lock_timeout = " + std::to_string(std::max<int64_t>(
                                                  1, terms.lease.count() / 4)),
                what);
  }
  if (s.ok()) {
    // One takeover at a time in the cluster: each sees the others' shares.
    auto locked = c->Run("SELECT pg_advisory_xact_lock(hashtext($1))",
                         {"stsync:leases"}, what);
    if (!locked.ok()) s = locked.status();
  }
  if (!s.ok()) return s;
  auto counts = c->Run(
      "SELECT (SELECT count(*) FROM stsync.daemons WHERE heartbeat_at > "
      "clock_timestamp() - $2::interval), (SELECT count(*) FROM "
      "stsync.leases WHERE owner = $1 AND heartbeat_at > clock_timestamp() - "
      "$2::interval AND tenant_schema <> $3)",
      {terms.owner, lease, schema}, what);
  if (!counts.ok()) return counts.status();
  const int64_t mine = counts->Int(0, 1);
  std::optional<int64_t> epoch;
  if (mine < Share(counts->Int(0, 0), terms)) {
    auto taken = c->Run(
        "INSERT INTO stsync.leases AS l (tenant_schema, owner, epoch, "
        "acquired_at, heartbeat_at) VALUES ($1, $2, 1, clock_timestamp(), "
        "clock_timestamp()) ON CONFLICT (tenant_schema) DO UPDATE SET "
        "owner = $2, epoch = l.epoch + 1, acquired_at = clock_timestamp(), "
        "heartbeat_at = clock_timestamp() WHERE l.owner IS NULL OR "
        "l.heartbeat_at IS NULL OR l.heartbeat_at <= clock_timestamp() - "
        "$3::interval RETURNING epoch",
        {schema, terms.owner, lease}, what);
    if (!taken.ok()) return taken.status();
    if (taken->size() > 0) epoch = taken->Int(0, 0);
  }
  s = tx.Commit();
  if (!s.ok()) return s;
  if (!epoch && holder) {
    auto held = ReadLease(c, schema, terms.lease);
    if (held.ok() && *held) *holder = **held;
  }
  return epoch;
}

Status CheckLease(PgConnection* c, const std::string& schema,
                  const LeaseTerms& terms, int64_t epoch) {
  auto renewed = c->Run(
      "UPDATE stsync.leases SET heartbeat_at = clock_timestamp() WHERE "
      "tenant_schema = $1 AND owner = $2 AND epoch = $3 AND heartbeat_at > "
      "clock_timestamp() - $4::interval",
      {schema, terms.owner, epoch, Interval(terms.lease)},
      "checking the lease of " + schema);
  if (!renewed.ok()) return renewed.status();
  if (renewed->affected() == 0) {
    return Status::Fenced("lost the lease of schema " + schema + " (epoch " +
                          std::to_string(epoch) +
                          "): another daemon took it over, or it expired; "
                          "this daemon writes nothing more to it");
  }
  return Status::Ok();
}

Status RenewLease(PgConnection* c, const std::string& schema,
                  const LeaseTerms& terms, int64_t epoch) {
  Status s = NoteDaemon(c, terms);
  PgTransaction tx(c);
  if (s.ok()) s = tx.Begin();
  if (s.ok()) s = CheckLease(c, schema, terms, epoch);
  if (s.ok()) s = tx.Commit();
  return s;
}

Result<bool> OverShare(PgConnection* c, const std::string& schema,
                       const LeaseTerms& terms) {
  if (!terms.peer) return false;
  auto rows = c->Run(
      "WITH live AS (SELECT id FROM stsync.daemons WHERE heartbeat_at > "
      "clock_timestamp() - $2::interval), held AS (SELECT owner, "
      "tenant_schema, row_number() OVER (PARTITION BY owner ORDER BY "
      "acquired_at, tenant_schema) AS n FROM stsync.leases WHERE owner IS "
      "NOT NULL AND heartbeat_at > clock_timestamp() - $2::interval) "
      "SELECT (SELECT count(*) FROM live), (SELECT n FROM held WHERE owner = "
      "$1 AND tenant_schema = $3), (SELECT min(coalesce(h.n, 0)) FROM live l "
      "LEFT JOIN (SELECT owner, count(*) AS n FROM held GROUP BY owner) h ON "
      "h.owner = l.id WHERE l.id <> $1)",
      {terms.owner, Interval(terms.lease), schema},
      "weighing the share of " + schema);
  if (!rows.ok()) return rows.status();
  if (rows->IsNull(0, 1) || rows->IsNull(0, 2)) return false;
  const int64_t share = Share(rows->Int(0, 0), terms);
  return rows->Int(0, 1) > share && rows->Int(0, 2) < share;
}

Status ReleaseLease(PgConnection* c, const std::string& schema,
                    const LeaseTerms& terms, int64_t epoch) {
  return RunOnly(c,
                 "UPDATE stsync.leases SET owner = NULL, heartbeat_at = NULL "
                 "WHERE tenant_schema = $1 AND owner = $2 AND epoch = $3",
                 {schema, terms.owner, epoch},
                 "releasing the lease of " + schema);
}

Result<std::optional<LeaseHolder>> ReadLease(PgConnection* c,
                                             const std::string& schema,
                                             Millis lease) {
  auto exists = c->QueryText("SELECT to_regclass('stsync.leases') IS NOT NULL",
                             {}, "reading the lease of " + schema);
  if (!exists.ok()) return exists.status();
  if (exists->value_or("f") != "t") return std::optional<LeaseHolder>();
  auto rows = c->Run(
      "SELECT coalesce(owner, ''), epoch, coalesce(to_char(acquired_at AT "
      "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
      "coalesce(to_char(heartbeat_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(heartbeat_at > "
      "clock_timestamp() - $2::interval, false) FROM stsync.leases WHERE "
      "tenant_schema = $1",
      {schema, Interval(lease)}, "reading the lease of " + schema);
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<LeaseHolder>();
  LeaseHolder h;
  h.owner = rows->Text(0, 0);
  h.epoch = rows->Int(0, 1);
  h.acquired_at = rows->Text(0, 2);
  h.heartbeat_at = rows->Text(0, 3);
  h.live = rows->Text(0, 4) == "t";
  return std::optional<LeaseHolder>(h);
}

}  // namespace stsync

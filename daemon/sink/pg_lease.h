// PgLease: which daemon writes which tenant's schema, when several stsync
// daemons share one PostgreSQL cluster's tenants.
//
// The cluster-wide schema `stsync` holds two tables:
//   leases   one row per tenant schema: its owner (a daemon's id), an epoch
//            (bumped by every takeover), acquired_at and heartbeat_at;
//   daemons  one row per daemon: its id and heartbeat_at.
// A daemon takes a tenant when its row is free or its lease has expired
// (heartbeat_at older than the lease, by the server's clock), and while it
// holds fewer tenants than its balanced share: ceil(tenants / live daemons),
// or database.max_tenants if smaller. A daemon that holds more than its
// share while a peer holds less (one that started later, or came back)
// gives up the tenants it took last (OverShare). Takeovers are serialised
// by a transaction-scoped advisory lock, which works behind PgBouncer's
// transaction pooling (session locks do not).
//
// Correctness rests on Check, run first in every write transaction: it
// renews the lease only if this daemon still holds it at this epoch and it
// has not expired, and locks the row until the transaction ends, so a
// takeover waits for the page in progress and every later page of the old
// owner is refused (kFenced). A daemon paused past its lease (SIGSTOP, a
// partition) therefore writes nothing more once it wakes.
//
// Errors are PgConnection's, plus kFenced from Check.
// Thread safety: stateless functions on the caller's connection.
#ifndef STSYNC_SINK_PG_LEASE_H_
#define STSYNC_SINK_PG_LEASE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "sink/pg_connection.h"

namespace stsync {

struct LeaseTerms {
  std::string owner;  // this daemon's id: host, pid and a random part
  Millis lease{std::chrono::seconds(60)};
  int tenants = 1;      // how many tenants the daemons share
  int max_tenants = 0;  // at most this many per daemon; 0: no cap
  // Whether this process is a daemon sharing the tenants (`run`): noted in
  // stsync.daemons, so that peers count it in their shares. A one-off
  // command (once, reset, backfill) takes a free tenant but is not a peer.
  bool peer = true;
};

// Who holds a tenant's schema, for `status`.
struct LeaseHolder {
  std::string owner;  // "" if nobody ever did
  int64_t epoch = 0;
  std::string acquired_at;
  std::string heartbeat_at;
  bool live = false;  // its lease has not expired
};

// A daemon's id: "<host>:<pid>:<random>".
std::string NewDaemonId();

// Notes this daemon as live (its heartbeat), so that peers count it when
// they work out their shares; nothing if it is not a peer.
Status NoteDaemon(PgConnection* c, const LeaseTerms& terms);

// Takes this daemon out of stsync.daemons (it stops cleanly), so that
// peers count it out of their shares at once rather than after a lease.
Status ForgetDaemon(PgConnection* c, const LeaseTerms& terms);

// Creates the `stsync` schema and its tables if missing.
Status PrepareLeases(PgConnection* c);

// Notes this daemon as live, then takes `schema` if it is free or expired
// and this daemon has less than its share. The new epoch, or nullopt (not
// taken; *holder says who has it, if anyone).
Result<std::optional<int64_t>> TryAcquireLease(PgConnection* c,
                                               const std::string& schema,
                                               const LeaseTerms& terms,
                                               LeaseHolder* holder);

// Inside a write transaction: renews the lease of `schema` at `epoch`, or
// kFenced if this daemon no longer holds it (taken over, or expired).
Status CheckLease(PgConnection* c, const std::string& schema,
                  const LeaseTerms& terms, int64_t epoch);

// Renews the lease (as CheckLease, in a transaction of its own) and the
// daemon's heartbeat, while it has no page to write.
Status RenewLease(PgConnection* c, const std::string& schema,
                  const LeaseTerms& terms, int64_t epoch);

// Whether this daemon should give `schema` up so that the tenants spread
// evenly: it holds more live leases than its share, `schema` is not among
// the `share` it took first, and a live peer holds fewer than its share
// (that peer is waiting to take one). Reads only; the caller releases.
Result<bool> OverShare(PgConnection* c, const std::string& schema,
                       const LeaseTerms& terms);

// Gives the tenant up (a clean stop), so that another daemon takes it at
// once rather than after the lease.
Status ReleaseLease(PgConnection* c, const std::string& schema,
                    const LeaseTerms& terms, int64_t epoch);

// Who holds `schema` (nullopt if it has no lease row, as with one daemon
// that never shared). `lease` tells live from expired.
Result<std::optional<LeaseHolder>> ReadLease(PgConnection* c,
                                             const std::string& schema,
                                             Millis lease);

}  // namespace stsync

#endif  // STSYNC_SINK_PG_LEASE_H_

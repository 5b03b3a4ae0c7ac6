// Reconciler: hard deletes. An export feed never says that a record was
// deleted outright: the record simply stops appearing. With
// `reconcile_every` on an endpoint, a reconciliation pass re-reads the
// endpoint's feed from its start (its configured start_from, else the first
// record) and, once it has read to the end, marks every row it did not see.
//
// - The pass is a background feed of the same Scheduler (engine/scheduler.h):
//   it runs only while no live feed is due, takes at most three quarters of
//   the tenant's rate (api/rate_limiter.h), and is due `reconcile_every`
//   after the last pass finished. A table that never had one is first
//   reconciled `reconcile_every` after its first row was stored, or, if it
//   is empty when the daemon starts, `reconcile_every` after that: a table
//   synced from scratch is read in full anyway.
// - It has a cursor of its own (_stsync_reconcile); the live feed's never
//   moves for it. Each page's rows are upserted like the live feed's (newest
//   wins; a row marked deleted that comes back is cleared), and its keys
//   noted (_stsync_seen), in one transaction with the pass's cursor.
// - When the pass reads to the end, every row it did not see, stored before
//   it began and with a version older than its start by ReconcilePolicy's
//   margin (1 h), gets deleted_at = the pass's end, in the same transaction
//   as its last page. No row is ever removed.
// - Interrupted (a stop, a crash, a kill -9): the pass marks nothing and
//   resumes where it stopped at the next start, with the keys it had seen.
//   A key seen before the interruption and deleted since is marked by the
//   next pass. If the server rejects the pass's stored position, the pass
//   restarts from the beginning (once per run).
// - A pass that sees fewer keys than reconcile_min_seen_percent (50) of the
//   rows not marked deleted marks nothing, warns, and counts as done: an
//   API answering an empty feed by mistake never marks a table deleted.
//
// Thread safety: as the Scheduler's (one thread).
#ifndef STSYNC_ENGINE_RECONCILER_H_
#define STSYNC_ENGINE_RECONCILER_H_

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "config/config.h"
#include "engine/scheduler.h"
#include "model/feed.h"
#include "model/observer.h"
#include "model/side_feed_store.h"
#include "model/sink.h"

namespace stsync {

// The reconciliation passes of `config`'s endpoints that set
// reconcile_every, as background feeds. `live` is FeedsOf(config): each pass
// reads its endpoint's feed. The passes write through `store` (their rows,
// keys and cursor), prepare tables and go idle through `sink`, and report
// their outcome to `observers`; all are borrowed and must outlive the
// feeds, which borrow the returned `sinks`.
struct ReconcileFeeds {
  std::vector<ScheduledFeed> feeds;
  std::vector<std::unique_ptr<Sink>> sinks;  // one adapter per pass
};
ReconcileFeeds ReconcileFeedsOf(const Config& config,
                                const std::vector<ScheduledFeed>& live,
                                Sink* sink, SideFeedStore* store,
                                std::vector<Observer*> observers, Clock* clock);

// How a pass appears in logs and `status`: "jobs (reconcile)".
std::string ReconcileLabel(const std::string& endpoint);

}  // namespace stsync

#endif  // STSYNC_ENGINE_RECONCILER_H_

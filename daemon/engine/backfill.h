// Backfill: re-exports a range of one endpoint into its table without
// moving the endpoint's cursor (`stsync backfill`).
//
// The endpoint's feed runs from the range's start (records modified on or
// after it) until it catches up, or until a batch holds a record modified on
// or after the range's end; that batch is stored whole. Each batch is
// upserted in its own transaction with the usual newest-wins rule
// (SideFeedStore::ApplyRows), so a backfill never replaces a row with an older
// version. The feed's stored cursor, its page count and caught-up time are
// left alone: the live feed goes on where it was, and absorbs the records
// it meets again. Failures are retried and logged as for `once`, but not
// recorded in the feed's state (`status` keeps showing the live feed's).
// An export with split_first_sync is split by date as a first sync is
// (engine/scheduler.h), up to --to; its ranges are kept in memory only.
//
// It writes through the writer lock like `run` and `once`, so it is refused
// while a daemon holds the same database. Interrupted, it keeps the batches
// it stored; running it again redoes the range, and the repeats are
// absorbed.
#ifndef STSYNC_ENGINE_BACKFILL_H_
#define STSYNC_ENGINE_BACKFILL_H_

#include <memory>
#include <optional>
#include <string>

#include "engine/replicator.h"

namespace stsync {

struct BackfillRange {
  std::string endpoint;           // a configured endpoint
  std::string from;               // YYYY-MM-DD
  std::optional<std::string> to;  // YYYY-MM-DD, after `from`; none: to now
};

// Whether `range` is a valid backfill of `config`: kNotFound for an endpoint
// not in it, kInvalid for a bad date or an empty range (messages name the
// option).
Status CheckBackfillRange(const Config& config, const BackfillRange& range);

// A Replicator that runs the backfill when Run(kDrain) is called. Errors:
// kNotFound for an endpoint not in `config`, kInvalid for a bad range, and
// whatever opening the database returns (kBusy while a daemon holds it).
Result<std::unique_ptr<Replicator>> CreateBackfill(const Config& config,
                                                   const BackfillRange& range,
                                                   ReplicatorSeams seams = {});

}  // namespace stsync

#endif  // STSYNC_ENGINE_BACKFILL_H_

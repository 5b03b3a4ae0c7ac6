// Sink: where batches land. It applies a batch's rows and the feed's next
// Cursor atomically, and keeps per-feed state (cursor, counts, failures).
//
// The replication guarantee rests on Apply: after a crash at any instant,
// a feed's stored cursor never points past rows that are missing, and rows
// are never stored twice (they are upserted by key; an older version never
// replaces a newer one). The scheduler knows sinks only through this
// interface, so another database can be added without touching it.
//
// Errors are values: kBusy when another writer holds the destination past
// its timeout (retry later), kIo for everything else (disk full, a
// corrupt or too new file), kInvalid for misuse (Apply before Prepare). On
// any error of Apply nothing of the batch was stored and the cursor is
// unchanged.
//
// The feeds that run beside a live feed without moving its cursor (a
// backfill, a reconciliation pass) write through SideFeedStore
// (model/side_feed_store.h); their adapters are SinkDecorators
// (model/sink_decorator.h).
//
// Thread safety: a Sink is used by one thread at a time.
#ifndef STSYNC_MODEL_SINK_H_
#define STSYNC_MODEL_SINK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "model/batch.h"
#include "model/cursor.h"
#include "model/endpoint.h"

namespace stsync {

// One date range of a split first sync (engine/scheduler.h): a chain of
// pages that started at a date and is done once its records reach `end`,
// when the range after it takes over. The feed's own cursor is the last,
// open-ended range's; these are the ones before it still owed.
struct SplitRange {
  int64_t id = 0;       // unique within the feed, never reused
  std::string end;      // YYYY-MM-DD: the next range's start
  Cursor position;      // where it resumes: its start date, or a position
  std::string reached;  // the newest version it stored; "" before any
  bool operator==(const SplitRange& other) const = default;
};

// What a split first sync's batch changes of its feed's ranges, stored in
// the batch's transaction (Sink::ApplySplit).
struct SplitChange {
  std::vector<SplitRange> put;  // stored, replacing a range of the same id
  std::vector<int64_t> done;    // removed: met the range after them
  // The feed's own cursor after the batch, stored as Apply stores it: for
  // a batch of its own chain (batch.next, or the first batch's split: the
  // last range's start), or a cut of its chain by a range's batch.
  // Nullopt (a range's batch): it stays; its rows and pages still count.
  std::optional<Cursor> cursor;
};

// What the sink knows of one feed.
struct FeedState {
  std::string endpoint;
  // Where the feed resumes; nullopt: nothing stored, so the feed starts at
  // its configured start.
  std::optional<Cursor> cursor;
  std::string cursor_updated_at;  // "" if never
  std::string caught_up_at;       // "" if never
  int64_t row_count = 0;          // rows inserted by stsync
  int64_t pages = 0;              // batches applied
  std::string last_error;         // "" if the last attempt succeeded
  std::string last_error_at;
  int64_t consecutive_failures = 0;
  int64_t rejected = 0;  // records quarantined, in all
  // A split first sync's ranges still owed, by id; empty when none.
  std::vector<SplitRange> ranges;
};

struct ApplyStats {
  int64_t inserted = 0;  // new keys
  // Newer versions of known keys, and rows marked deleted that came back.
  int64_t updated = 0;
  int64_t unchanged = 0;  // same or older versions: skipped
  int64_t rejected = 0;   // records quarantined (Batch::rejects)
};

class Sink {
 public:
  virtual ~Sink() = default;

  // Makes the sink ready to take `endpoint`'s rows (creates its table).
  // Must precede Apply for that endpoint; calling it again is cheap.
  virtual Status Prepare(const Endpoint& endpoint) = 0;

  // Upserts every row of `batch` and stores batch.next (and, if
  // batch.caught_up, the time) as the feed's state, atomically.
  virtual Result<ApplyStats> Apply(const Endpoint& endpoint,
                                   const Batch& batch) = 0;

  // A batch of a split first sync: upserts its rows like Apply and stores
  // `change` (and, if change.cursor is set, moves the feed's cursor there
  // as Apply moves it to batch.next), atomically. Not called for feeds
  // that do not split.
  virtual Result<ApplyStats> ApplySplit(const Endpoint& endpoint,
                                        const Batch& batch,
                                        const SplitChange& change) = 0;

  // The feed's state, or nullopt if the sink has never seen it.
  virtual Result<std::optional<FeedState>> Load(
      const std::string& endpoint) = 0;
  // The largest version (modified_on, normalised) among the endpoint's
  // rows, or nullopt if it has none with a version.
  virtual Result<std::optional<std::string>> NewestVersion(
      const Endpoint& endpoint) = 0;
  // Every feed's state, by endpoint name.
  virtual Result<std::vector<FeedState>> LoadAll() = 0;

  // Notes a failed attempt (shown by `status`); the cursor is unchanged.
  virtual Status RecordFailure(const std::string& endpoint,
                               const std::string& message) = 0;

  // Every feed waits for a while: the sink may give back memory it can
  // rebuild (caches). Optional.
  virtual void Idle() {}
  // No batch waits to be applied: the writer would only wait now (for
  // fetches in flight, or for the next poll). The sink may do work it put
  // off, briefly (SQLite copies its WAL into the database). Optional.
  virtual void Quiet() {}

  // Moves the feed's cursor to `to`, or forgets it (nullopt: the next run
  // starts at the configured start), and forgets its split ranges. Rows are
  // kept.
  virtual Status ResetCursor(const std::string& endpoint,
                             const std::optional<Cursor>& to) = 0;
};

}  // namespace stsync

#endif  // STSYNC_MODEL_SINK_H_

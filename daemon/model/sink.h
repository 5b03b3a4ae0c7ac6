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
};

struct ApplyStats {
  int64_t inserted = 0;  // new keys
  // Newer versions of known keys, and rows marked deleted that came back.
  int64_t updated = 0;
  int64_t unchanged = 0;  // same or older versions: skipped
  int64_t rejected = 0;   // records quarantined (Batch::rejects)
};

// What the sink knows of an endpoint's reconciliation (hard deletes,
// engine/reconciler.h): the pass in progress, if any, and the last one.
struct ReconcileState {
  std::string endpoint;
  // Where the pass in progress resumes; nullopt: at the feed's start.
  std::optional<Cursor> cursor;
  std::string pass_started_at;  // "" if no pass is in progress
  int64_t seen = 0;             // distinct keys the pass has seen so far
  int64_t pages = 0;
  std::string last_started_at;   // the last pass that read to the end;
  std::string last_finished_at;  // "" if none did
  int64_t last_seen = 0;
  int64_t last_live = 0;     // rows not marked deleted when it ended
  int64_t last_marked = 0;   // rows it marked deleted
  std::string last_outcome;  // "marked", or why it marked nothing
  std::string last_error;    // "" if the last attempt succeeded
  std::string last_error_at;
  int64_t consecutive_failures = 0;
};

// When a finished pass may mark rows deleted.
struct ReconcilePolicy {
  // A pass that saw fewer keys than this fraction of the rows not marked
  // deleted marks nothing (an API answering an empty feed by mistake).
  double min_seen_fraction = 0.5;
  // A row is marked only if it was stored before the pass began and its
  // version is older than the pass's start by this much: records changed
  // shortly before it may be missing from the export (which lags by 15
  // minutes) and the local clock may differ from the server's.
  Millis margin{std::chrono::hours(1)};
};

// How a pass that read to the end came out.
struct ReconcileOutcome {
  int64_t seen = 0;
  int64_t live = 0;         // rows not marked deleted before marking
  int64_t marked = 0;       // rows marked deleted now
  bool suspicious = false;  // saw too few keys: marked nothing
  std::string finished_at;
};

struct ReconcileStats {
  ApplyStats applied;
  // Set when this batch ended the pass (Batch::caught_up).
  std::optional<ReconcileOutcome> finished;
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

  // Upserts every row of `batch` like Apply, in one transaction, but leaves
  // the feed's cursor where it is: a backfill of a range (engine/backfill.h).
  // The feed's row count includes the new keys.
  virtual Result<ApplyStats> ApplyRows(const Endpoint& endpoint,
                                       const Batch& batch) = 0;

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

  // Moves the feed's cursor to `to`, or forgets it (nullopt: the next run
  // starts at the configured start). Rows are kept.
  virtual Status ResetCursor(const std::string& endpoint,
                             const std::optional<Cursor>& to) = 0;

  // Reconciliation (engine/reconciler.h). A sink that cannot reconcile
  // answers kInvalid.
  //
  // The endpoint's reconciliation state, or nullopt if it never had one.
  virtual Result<std::optional<ReconcileState>> LoadReconcile(
      const std::string& endpoint);
  // Every endpoint's, by name.
  virtual Result<std::vector<ReconcileState>> LoadAllReconciles();
  // In one transaction: upserts the batch's rows like Apply (a row marked
  // deleted that comes back is cleared), notes their keys as seen by the
  // pass (starting one if none is in progress) and stores batch.next as
  // the pass's cursor; the live feed's state is untouched. If
  // batch.caught_up the pass has read everything: unless it saw too few
  // keys (`policy`), every row it did not see that is older than its start
  // (`policy`) gets deleted_at; then the pass ends (its keys are dropped,
  // the next one starts at the feed's start). An error stores nothing.
  virtual Result<ReconcileStats> ApplyReconcile(const Endpoint& endpoint,
                                                const Batch& batch,
                                                const ReconcilePolicy& policy);
  // Notes a failed attempt of the pass; its cursor and keys are unchanged.
  virtual Status RecordReconcileFailure(const std::string& endpoint,
                                        const std::string& message);
  // Abandons the pass in progress (its keys are dropped): the next batch
  // starts a new one at the feed's start.
  virtual Status RestartReconcile(const std::string& endpoint);
  // When the endpoint's earliest stored row was stored (its first_seen_at),
  // or nullopt for an empty table.
  virtual Result<std::optional<std::string>> FirstStoredAt(
      const Endpoint& endpoint);
};

}  // namespace stsync

#endif  // STSYNC_MODEL_SINK_H_

// SideFeedStore: what the feeds that run beside an endpoint's live feed
// write, without moving the live feed's cursor: a backfill's range
// (engine/backfill.h) and a reconciliation pass (engine/reconciler.h). A
// destination implements it beside Sink (model/sink.h); the engine's
// adapters (SinkDecorators) turn these calls into a Sink for the Scheduler.
//
// Errors are values, as Sink's: kBusy, kCorrupt, kIo, and kInvalid for
// misuse (a write before Sink::Prepare, a read-only store). On any error of
// a write nothing of it was stored.
//
// Thread safety: used by one thread at a time, the same as its Sink's.
#ifndef STSYNC_MODEL_SIDE_FEED_STORE_H_
#define STSYNC_MODEL_SIDE_FEED_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/timestamp.h"
#include "model/batch.h"
#include "model/cursor.h"
#include "model/endpoint.h"
#include "model/sink.h"

namespace stsync {

// What the store knows of an endpoint's reconciliation (hard deletes,
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

  // Whether a pass that saw `seen` keys, of `live` rows not marked deleted,
  // saw too few to mark any.
  bool SawTooFew(int64_t seen, int64_t live) const {
    return live > 0 && static_cast<double>(seen) <
                           min_seen_fraction * static_cast<double>(live);
  }
  // The version a row must be older than to be marked by a pass that began
  // at `started` (a normalised timestamp); kIo if it is not one.
  Result<std::string> MarkBefore(const std::string& started) const {
    auto start = ParseNormalizedTimestamp(started);
    if (!start) return Status::Io("bad reconciliation start " + started);
    return FormatTimestamp(*start - margin);
  }
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

class SideFeedStore {
 public:
  virtual ~SideFeedStore() = default;

  // A backfill's batch: upserts every row like Sink::Apply, in one
  // transaction, but leaves the feed's cursor where it is. The feed's row
  // count includes the new keys.
  virtual Result<ApplyStats> ApplyRows(const Endpoint& endpoint,
                                       const Batch& batch) = 0;

  // Reconciliation. The endpoint's state, or nullopt if it never had one.
  virtual Result<std::optional<ReconcileState>> LoadReconcile(
      const std::string& endpoint) = 0;
  // Every endpoint's, by name.
  virtual Result<std::vector<ReconcileState>> LoadAllReconciles() = 0;
  // In one transaction: upserts the batch's rows like Apply (a row marked
  // deleted that comes back is cleared), notes their keys as seen by the
  // pass (starting one if none is in progress) and stores batch.next as
  // the pass's cursor; the live feed's state is untouched. If
  // batch.caught_up the pass has read everything: unless it saw too few
  // keys (`policy`), every row it did not see that is older than its start
  // (`policy`) gets deleted_at; then the pass ends (its keys are dropped,
  // the next one starts at the feed's start).
  virtual Result<ReconcileStats> ApplyReconcile(
      const Endpoint& endpoint, const Batch& batch,
      const ReconcilePolicy& policy) = 0;
  // Notes a failed attempt of the pass; its cursor and keys are unchanged.
  virtual Status RecordReconcileFailure(const std::string& endpoint,
                                        const std::string& message) = 0;
  // Abandons the pass in progress (its keys are dropped): the next batch
  // starts a new one at the feed's start.
  virtual Status RestartReconcile(const std::string& endpoint) = 0;
  // When the endpoint's earliest stored row was stored (its first_seen_at),
  // or nullopt for an empty table.
  virtual Result<std::optional<std::string>> FirstStoredAt(
      const Endpoint& endpoint) = 0;
};

}  // namespace stsync

#endif  // STSYNC_MODEL_SIDE_FEED_STORE_H_

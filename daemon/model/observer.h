// Observer: what the scheduler reports as it runs. Log lines are one
// observer (engine/log_observer.h); metrics or a status line can be others,
// added without touching the scheduler's loop.
//
// Callbacks run on the scheduler's thread, between batches: they must be
// quick and must not call back into the scheduler. Every method has an
// empty default, so an observer overrides only what it needs.
#ifndef STSYNC_MODEL_OBSERVER_H_
#define STSYNC_MODEL_OBSERVER_H_

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "model/cursor.h"
#include "model/side_feed_store.h"
#include "model/sink.h"

namespace stsync {

// A feed is about to make its first request of this run.
struct FeedStartEvent {
  const std::string& endpoint;
  const Cursor& from;
  bool resumed;  // from a stored cursor, not the configured start
};

// A batch was applied and its cursor stored.
struct BatchEvent {
  const std::string& endpoint;
  size_t records;
  ApplyStats stats;
  bool caught_up;
  SteadyTime started;        // when its fetch began
  SteadyTime apply_started;  // when its transaction began
  SteadyTime finished;       // when it was committed
  Millis next_in;            // until the feed's next request
  // The oldest and newest version (modifiedOn) of its rows; "" if none.
  const std::string& oldest_version;
  const std::string& newest_version;
  // A split first sync: the days its feed's ranges still owe after this
  // batch (engine/scheduler.h); 0 when it has none.
  double owed_days = 0;
};

// An attempt failed; nothing was stored.
struct FailureEvent {
  const std::string& endpoint;
  const Status& status;
  int attempt;  // failures in a row, from 1
  // Until the next attempt, or nullopt when the feed gives up (`once`).
  std::optional<Millis> retry_in;
  // HTTP 403: the tenant lacks the endpoint's module (or the app its
  // access). Not a failure of `once`; retried after a long interval.
  bool forbidden = false;
};

// A reconciliation pass read its endpoint to the end (engine/reconciler.h).
struct ReconciledEvent {
  const std::string& endpoint;
  const ReconcileOutcome& outcome;
  const ReconcilePolicy& policy;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnFeedStart(const FeedStartEvent&) {}
  virtual void OnBatch(const BatchEvent&) {}
  virtual void OnFailure(const FailureEvent&) {}
  virtual void OnReconciled(const ReconciledEvent&) {}
  // The sink could not record a failure (the database is locked, say).
  virtual void OnSinkError(const std::string& /*endpoint*/,
                           const Status& /*status*/) {}
};

}  // namespace stsync

#endif  // STSYNC_MODEL_OBSERVER_H_

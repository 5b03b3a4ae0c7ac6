// Scheduler: one tenant's loop. It decides which feed to poll next, fetches
// its batch, hands it to the Sink, and schedules the next poll.
//
// - A batch not caught up (hasMore=true): the feed is due again at once
//   (after the feeds already waiting, so a long backfill does not starve
//   the others).
// - Caught up: due again after the feed's interval.
// - A batch that shows the server leading the feed in circles
//   (engine/progress_guard.h) is not applied: it fails like an invalid one.
// - A failure (HTTP, network, invalid batch, sink busy or full): the failure
//   is recorded, the cursor is untouched, and the feed is retried after a
//   capped exponential backoff (at least Retry-After). The one exception is
//   a rejected position with restart_rejected_cursor set: the cursor is
//   moved to a date before the newest stored version (at most once per run
//   to the same date, so a server that refuses every position cannot make
//   the feed loop), then the feed is retried the same way. In kDrain mode a
//   feed gives up after retry.max_attempts failures in a row, or at once on an
//   authentication failure or a rejected position it did not move.
// - A damaged database (kCorrupt, from the sink): the run ends at once, in
//   either mode, with RunReport::damaged set; nothing more is written.
//
// Batches are applied one at a time on the calling thread: one writer, one
// transaction per batch, in feed order. While a batch is applied, the batch
// due next (the same feed's following one during a backfill, or another
// feed already due) is fetched and read on a helper thread, so network and
// parsing overlap the write. A prefetched batch is used only if it was
// requested from the cursor its feed is still at; otherwise (the apply
// failed, say) it is dropped and fetched again. At most one batch is
// prefetched at a time.
//
// All waiting goes through the Clock, and all randomness (backoff jitter)
// comes from the caller, so a FakeClock makes the loop deterministic and
// sleep-free (tests/scheduler_test.cc). Stop() on the StopSignal ends Run
// promptly: waits are interrupted and in-flight requests are cancelled by
// the transport; a batch being applied is committed or rolled back whole.
//
// Thread safety: Run is called once, from one thread.
#ifndef STSYNC_ENGINE_SCHEDULER_H_
#define STSYNC_ENGINE_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "base/clock.h"
#include "base/stop_signal.h"
#include "config/config.h"
#include "model/cursor.h"
#include "model/feed.h"
#include "model/observer.h"
#include "model/sink.h"

namespace stsync {

// One feed as the scheduler runs it.
struct ScheduledFeed {
  std::shared_ptr<const Feed> feed;
  Millis interval{std::chrono::minutes(5)};  // pause once caught up
  Cursor start;  // the first cursor, when the sink has none stored
  // When the server rejects a stored position (engine/rejected_cursor.h),
  // move the cursor to RestartCursor() instead of failing until a reset.
  bool restart_rejected_cursor = false;
  // Where its batches go; null: the scheduler's sink. Borrowed: must
  // outlive Run. (A reconciliation pass has a sink of its own that stores
  // the pass's cursor, not the live feed's: engine/reconciler.h.)
  Sink* sink = nullptr;
  // A background feed (a reconciliation pass) runs only while no other feed
  // is due, takes the rate limiter's background share, and keeps its
  // schedule across restarts: once caught up, it is next due its interval
  // after its stored caught_up_at, read when Run starts. Under kDrain, one
  // not yet due is skipped.
  bool background = false;
  // Its name in logs and reports; "": the endpoint's.
  std::string label;
};

struct SchedulerOptions {
  RetryOptions retry;
  // Fetch the next batch while the current one is applied.
  bool prefetch = true;
  // Returns a number in [0, 1) for backoff jitter.
  std::function<double()> random;
  // Called from the loop itself at every turn, and at least every
  // `heartbeat_every` (waits are cut to that): proof that the loop is not
  // stuck, for the systemd watchdog (ops/watchdog.h). 0: no heartbeat.
  std::function<void()> heartbeat;
  Millis heartbeat_every{0};
};

struct FeedReport {
  std::string name;
  int64_t pages = 0;
  int64_t records = 0;
  bool drained = false;    // caught up at least once
  bool failed = false;     // gave up (kDrain only)
  bool forbidden = false;  // HTTP 403 at its last attempt: not licensed
  std::string last_error;
};

struct RunReport {
  std::vector<FeedReport> feeds;
  bool stopped = false;  // ended by the StopSignal
  // Why the run ended early: the database is damaged (kCorrupt). "" if not.
  std::string damaged;
  int Failed() const;
  int64_t Pages() const;
  int64_t Records() const;
};

class Scheduler {
 public:
  enum class Mode {
    kForever,  // `run`: poll until stopped
    kDrain,    // `once`: until every feed has caught up (or given up)
  };

  // Pointers are borrowed and must outlive Run; `observers` may be empty.
  Scheduler(std::vector<ScheduledFeed> feeds, SchedulerOptions options,
            ApiClient* client, Sink* sink, std::vector<Observer*> observers,
            StopSignal* stop, Clock* clock);

  RunReport Run(Mode mode);

 private:
  struct State;
  struct Prefetch {
    const State* state = nullptr;
    Cursor from;
    std::future<Result<Batch>> batch;
  };
  // The feed not done (other than `except`) to run first: a foreground one
  // due by `now`, else a background one due by `now`, else the one due
  // first; ties go to the one queued first. Null if there is none.
  static State* FirstDue(std::vector<State>& states, const State* except,
                         SteadyTime now);
  // Prepares the feed's table and loads its cursor, once. A background
  // feed's due time may move later (its stored schedule).
  Status Prepare(State& s);
  // One fetch-and-apply for `s`; updates its schedule.
  void Step(State& s, Mode mode, std::vector<State>& states);
  // Where `s`'s batches go.
  Sink* SinkOf(const State& s) const;
  // `s`'s batch at s.from: the prefetched one if it matches, else fetched.
  Result<Batch> TakeBatch(State& s);
  // Starts fetching the batch that will be due after `current` is applied
  // (current's next one from `current_next` if `more`), unless a prefetch is
  // in flight.
  void StartPrefetch(const State& current, const Cursor& current_next,
                     bool more, std::vector<State>& states);
  void Fail(State& s, Mode mode, const Status& status);
  // The error to report for a rejected position of `s`; moves its cursor if
  // its feed allows a restart.
  Status OnRejectedCursor(State& s, const Status& rejected);

  const std::vector<ScheduledFeed> feeds_;
  const SchedulerOptions options_;
  ApiClient* const client_;
  Sink* const sink_;
  const std::vector<Observer*> observers_;
  StopSignal* const stop_;
  Clock* const clock_;
  Mode mode_ = Mode::kForever;  // of the current Run
  uint64_t order_ = 0;          // tie-breaker: first due, first served
  std::unique_ptr<Prefetch> prefetch_;
  Status damage_;  // the kCorrupt error that ended the run, if any
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_SCHEDULER_H_

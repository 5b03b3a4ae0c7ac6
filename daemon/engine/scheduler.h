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
// Fetching is concurrent, applying is not. Up to `concurrency` requests are
// in flight at once (engine/fetch_pool.h), each for a different feed: a
// feed's pages follow from each other, so it has at most one. Batches are
// applied one at a time on the calling thread: one writer, one transaction
// per batch, each feed's in its order, whichever finishes first applied
// first; so a slow or hanging request holds back only its own feed. With
// prefetch (the default), while a batch is applied the feeds due are
// fetched, and so is the applied feed's next batch; one fetched from a
// cursor its feed has left (the apply failed, say) is dropped and fetched
// again. At most
// `concurrency` batches are held in the pool and one more is applied. A
// background feed is fetched only while no foreground feed is fetched,
// applied or due. The tenant's rate limiter and a 429's pause span every
// request in flight (api/api_client.h). Before each wait, with nothing to
// apply, the sink is told it is Quiet (Sink::Quiet); before a wait of a
// second or more, to Idle.
//
// A split first sync. A feed's pages follow each other, so one large export
// would bound a first sync however many requests may be in flight. An
// export feed with split_first_sync and no stored cursor (a first sync, or
// a backfill) is split after its first batch, by the newest modifiedOn in
// it: the days from there to today (or split_until) are cut into date
// ranges, as many as the first page's span of versions suggests pages left
// (at least 2, at most `concurrency`). The last one is the feed's own chain
// (its cursor moves to that range's start date); each one before it is a
// chain of its own (a SplitRange, asked from=<its date>), fetched beside
// the others, that is met once its records reach a day past the next
// range's start (the API may read the date in the tenant's time zone), or
// the export has nothing more; the overlap is absorbed by the upsert. The
// first range, which goes on from the first batch, takes the feed's place
// in line (the page an unsplit feed would fetch next). A range whose first
// answer holds nothing (on or after its start date) ends the ranges not
// answered yet that start later: where records crowd into a few days, most
// ranges would be empty. While fewer than `concurrency` chains run, each
// batch of the feed cuts the chain with the most pages left (at the pace of
// its last batch, after the page on its way if one is: more than a page and
// at least two days; the range of the batch included, the feed's own chain
// but on its own batches) in half by date,
// the later half a new range, so the chains follow the data's skew and no
// range is left to end alone. Each range's position, and every change to the
// ranges, is stored in the transaction of the batch that made it
// (Sink::ApplySplit); a run resumes the stored ranges. Once every range is
// met the feed simply goes on from its own chain's position.
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
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "base/clock.h"
#include "base/stop_signal.h"
#include "config/config.h"
#include "engine/fetch_pool.h"
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
  // Split a first sync into date ranges fetched side by side (above). Only
  // for an export feed whose records come in order of the version field.
  bool split_first_sync = false;
  // The day (YYYY-MM-DD) the ranges end before, for a feed that ends there
  // (a backfill's --to); "": tomorrow (UTC), the feed goes on to now.
  std::string split_until;
};

struct SchedulerOptions {
  RetryOptions retry;
  // Requests in flight at most (http.concurrency), >= 1.
  int concurrency = 1;
  // Fetch while a batch is applied: the feeds due, and the applied feed's
  // next batch. Off: nothing is fetched during an apply (tests of order).
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
  // Why the run ended early: the database is damaged (kCorrupt), or another
  // daemon took the tenant over (kFenced: `fenced`). "" if not.
  std::string damaged;
  bool fenced = false;
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
  // The feed to fetch next: one not done and not fetched or applied now, a
  // foreground one due by `now` first, else a background one due by `now`
  // (only while no foreground feed is fetched or applied), else the one due
  // first; ties go to the one queued first. Null if there is none.
  State* FirstLaunchable(std::deque<State>& states, SteadyTime now) const;
  // Starts fetching every feed due, while the pool has room.
  void LaunchDue(std::deque<State>& states, Mode mode);
  // Starts fetching `s` from `from`; false if no thread could be started.
  bool StartFetch(State& s, const Cursor& from);
  // Prepares the feed's table and loads its cursor, once. A background
  // feed's due time may move later (its stored schedule).
  Status Prepare(State& s);
  // Applies (or fails) a finished fetch; updates its feed's schedule.
  void Finish(FetchPool::Done done, Mode mode, std::deque<State>& states);
  // Waits until a fetch finishes, the first feed not in flight falls due
  // (if the pool has room), or a stop; false when the run should end
  // (kDrain with nothing left).
  bool WaitForWork(std::deque<State>& states);
  // Where `s`'s batches go.
  Sink* SinkOf(const State& s) const;
  // A split first sync (above). The day a split of `live`'s feed ends
  // before (split_until, or tomorrow), as days since 1970-01-01.
  int64_t SplitEndDay(const State& live) const;
  // A range of `live`, as a State of its own.
  State& AddRange(State& live, const SplitRange& range);
  // The ranges `s`'s first batch (versions `oldest` to `newest`) splits
  // its feed into, in *change; false if it is not split.
  bool PlanSplit(const State& s, const Batch& first_batch,
                 const std::string& oldest, const std::string& newest,
                 SplitChange* change) const;
  // What applying `batch` (newest version `newest`) changes of the range
  // `s`; sets *met when the range is done.
  SplitChange RangeChange(const State& s, const Batch& batch,
                          const std::string& newest, bool* met) const;
  // Adds to *change the cut in half of `live`'s largest range left (its
  // own chain's included, unless `except` is it: its batch is being
  // applied), as the ranges stand after *change; false if none is worth
  // cutting.
  bool CutLargest(const State& live, const State* except,
                  SplitChange* change) const;
  // Makes the states follow `change`, stored for `live`'s feed.
  void Follow(State& live, const SplitChange& change);
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
  Mode mode_ = Mode::kForever;           // of the current Run
  uint64_t order_ = 0;                   // tie-breaker: first due, first served
  FetchPool* pool_ = nullptr;            // of the current Run
  std::deque<State>* states_ = nullptr;  // of the current Run
  Status damage_;  // the kCorrupt or kFenced error that ended the run, if any
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_SCHEDULER_H_

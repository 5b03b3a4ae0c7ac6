#include "engine/scheduler.h"

#include <algorithm>
#include <optional>

#include "base/timestamp.h"
#include "engine/backoff.h"
#include "engine/progress_guard.h"
#include "engine/rejected_cursor.h"

namespace stsync {

int RunReport::Failed() const {
  return static_cast<int>(
      std::count_if(feeds.begin(), feeds.end(),
                    [](const FeedReport& f) { return f.failed; }));
}

int64_t RunReport::Pages() const {
  int64_t n = 0;
  for (const auto& f : feeds) n += f.pages;
  return n;
}

int64_t RunReport::Records() const {
  int64_t n = 0;
  for (const auto& f : feeds) n += f.records;
  return n;
}

struct Scheduler::State {
  const ScheduledFeed* feed = nullptr;
  FeedReport report;
  Cursor from;  // next request's cursor
  SteadyTime due{};
  uint64_t order = 0;
  int failures = 0;        // in a row
  bool done = false;       // kDrain: caught up or gave up
  bool ready = false;      // prepared and cursor loaded
  bool resumed = false;    // from a stored cursor (set by Prepare)
  bool announced = false;  // OnFeedStart sent
  bool applying = false;   // its batch is being applied
  // Where a rejected position last restarted the feed in this run.
  std::optional<Cursor> restarted_to;
  ProgressGuard guard;  // of the drain in progress

  const std::string& name() const {
    return feed->label.empty() ? feed->feed->endpoint().name : feed->label;
  }
};

Scheduler::Scheduler(std::vector<ScheduledFeed> feeds, SchedulerOptions options,
                     ApiClient* client, Sink* sink,
                     std::vector<Observer*> observers, StopSignal* stop,
                     Clock* clock)
    : feeds_(std::move(feeds)),
      options_(std::move(options)),
      client_(client),
      sink_(sink),
      observers_(std::move(observers)),
      stop_(stop),
      clock_(clock) {}

RunReport Scheduler::Run(Mode mode) {
  mode_ = mode;
  std::vector<State> states(feeds_.size());
  for (size_t i = 0; i < states.size(); ++i) {
    states[i].feed = &feeds_[i];
    states[i].report.name = states[i].name();
    states[i].due = clock_->Now();
    states[i].order = order_++;
  }
  // A background feed's schedule is read before any batch is written: a
  // reconciliation of a table that this run fills from scratch is not due.
  // An error here is reported when the feed is first due.
  for (State& s : states) {
    if (s.feed->background) (void)Prepare(s);
  }

  RunReport report;
  {
    FetchPool pool(client_, stop_, clock_, options_.concurrency);
    pool_ = &pool;
    while (!stop_->stopped() && damage_.ok()) {
      if (options_.heartbeat) options_.heartbeat();
      LaunchDue(states, mode);
      if (auto done = pool.TakeDone()) {
        Finish(std::move(*done), mode, states);
        continue;
      }
      if (!WaitForWork(states)) break;
    }
    // The pool waits for the fetches in flight (cancelled if stopping).
  }
  pool_ = nullptr;
  report.stopped = stop_->stopped();
  report.damaged = damage_.message();
  for (State& s : states) report.feeds.push_back(s.report);
  return report;
}

Scheduler::State* Scheduler::FirstLaunchable(std::vector<State>& states,
                                             SteadyTime now) const {
  bool foreground_busy = false;
  bool background_busy = false;
  for (const State& s : states) {
    if (s.applying || pool_->Has(&s)) {
      (s.feed->background ? background_busy : foreground_busy) = true;
    }
  }
  // 0: a foreground feed due now, 1: a background one, 2: not due yet.
  auto rank = [now](const State& s) {
    if (s.due > now) return 2;
    return s.feed->background ? 1 : 0;
  };
  State* first = nullptr;
  for (State& s : states) {
    if (s.done || s.applying || pool_->Has(&s)) continue;
    if (s.feed->background && (foreground_busy || background_busy)) continue;
    if (!first) {
      first = &s;
      continue;
    }
    const int a = rank(s), b = rank(*first);
    if (a != b ? a < b
               : (s.due < first->due ||
                  (s.due == first->due && s.order < first->order))) {
      first = &s;
    }
  }
  return first;
}

void Scheduler::LaunchDue(std::vector<State>& states, Mode mode) {
  while (!pool_->full() && !stop_->stopped() && damage_.ok()) {
    const SteadyTime now = clock_->Now();
    State* s = FirstLaunchable(states, now);
    if (!s || s->due > now) return;
    Status prepared = Prepare(*s);
    if (!prepared.ok()) {
      Fail(*s, mode, prepared);
      if (prepared.code() == Status::Code::kCancelled) return;
      continue;
    }
    // A background feed whose stored schedule says later.
    if (s->done || s->due > now) continue;
    if (!s->announced) {
      s->announced = true;
      for (Observer* o : observers_) {
        o->OnFeedStart({s->name(), s->from, s->resumed});
      }
    }
    if (!StartFetch(*s, s->from)) {
      if (pool_->size() > 0) return;  // no thread to spare: wait for one
      // Not even one: fetch on this thread.
      FetchPool::Done done;
      done.owner = s;
      done.from = s->from;
      done.started = now;
      done.batch = client_->Fetch(*s->feed->feed, s->from, s->feed->background);
      Finish(std::move(done), mode, states);
    }
  }
}

bool Scheduler::StartFetch(State& s, const Cursor& from) {
  return pool_->Start(&s, *s.feed->feed, from, s.feed->background);
}

bool Scheduler::WaitForWork(std::vector<State>& states) {
  const SteadyTime now = clock_->Now();
  State* next = pool_->full() ? nullptr : FirstLaunchable(states, now);
  // Due but not started (no thread to spare): wait for a fetch to end.
  if (next && next->due <= now && pool_->size() > 0) next = nullptr;
  if (pool_->size() == 0) {
    if (!next) return false;  // kDrain: every feed caught up or gave up
    // Nothing to do for a while (every feed caught up or backing off):
    // with many tenants, idle caches add up.
    if (next->due - now >= std::chrono::seconds(1)) sink_->Idle();
  }
  std::optional<SteadyTime> until;
  if (next) until = next->due;
  if (options_.heartbeat_every > Millis(0)) {
    const SteadyTime beat = now + options_.heartbeat_every;
    until = until ? std::min(*until, beat) : beat;
  }
  // Only a finished fetch (or a stop) can end a wait without a deadline.
  if (until) {
    clock_->WaitUntil(*until, pool_->signal());
  } else {
    pool_->signal().WaitUntil(SteadyTime::max());
  }
  return true;
}

Status Scheduler::Prepare(State& s) {
  if (s.ready) return Status::Ok();
  Sink* sink = SinkOf(s);
  Status st = sink->Prepare(s.feed->feed->endpoint());
  if (!st.ok()) return st;
  auto state = sink->Load(s.name());
  if (!state.ok()) return state.status();
  const bool resumed = state->has_value() && (*state)->cursor.has_value();
  s.from = resumed ? *(*state)->cursor : s.feed->start;
  s.ready = true;
  if (s.feed->background && !resumed && state->has_value()) {
    // Between two runs of a background feed: due its interval after the
    // last one caught up.
    if (auto last = ParseNormalizedTimestamp((*state)->caught_up_at)) {
      const auto left = *last + s.feed->interval - clock_->WallNow();
      if (left > Millis(0)) {
        s.due = clock_->Now() + std::chrono::ceil<Millis>(left);
        if (mode_ == Mode::kDrain) s.done = true;  // `once` does not wait
      }
    }
  }
  s.resumed = resumed;
  return Status::Ok();
}

Sink* Scheduler::SinkOf(const State& s) const {
  return s.feed->sink ? s.feed->sink : sink_;
}

void Scheduler::Finish(FetchPool::Done done, Mode mode,
                       std::vector<State>& states) {
  State& s = *static_cast<State*>(done.owner);
  // Requested from a cursor the feed has left (an apply failed): dropped.
  if (done.from != s.from || s.done) return;
  if (!done.batch.ok()) return Fail(s, mode, done.batch.status());
  const Batch& batch = *done.batch;
  Status progress = s.guard.Check(batch);
  if (!progress.ok()) return Fail(s, mode, progress);
  s.applying = true;
  if (options_.prefetch) {
    LaunchDue(states, mode);
    if (!batch.caught_up && !pool_->full()) (void)StartFetch(s, batch.next);
  }
  const SteadyTime apply_started = clock_->Now();
  auto applied = SinkOf(s)->Apply(s.feed->feed->endpoint(), batch);
  s.applying = false;
  if (!applied.ok()) return Fail(s, mode, applied.status());

  const SteadyTime finished = clock_->Now();
  s.guard.Applied(batch);
  s.from = batch.next;
  s.failures = 0;
  s.report.pages++;
  s.report.records += static_cast<int64_t>(batch.records);
  s.report.last_error.clear();
  s.report.forbidden = false;
  Millis next_in(0);
  if (batch.caught_up) {
    s.report.drained = true;
    if (mode == Mode::kDrain) s.done = true;
    next_in = s.feed->interval;
  }
  s.due = finished + next_in;
  s.order = order_++;
  std::string oldest, newest;
  for (const Row& row : batch.rows) {
    if (row.version.empty()) continue;
    if (oldest.empty() || row.version < oldest) oldest = row.version;
    if (row.version > newest) newest = row.version;
  }
  for (Observer* o : observers_) {
    o->OnBatch({s.name(), batch.records, *applied, batch.caught_up,
                done.started, apply_started, finished, next_in, oldest,
                newest});
  }
}

Status Scheduler::OnRejectedCursor(State& s, const Status& rejected) {
  const ScheduledFeed& f = *s.feed;
  if (!f.restart_rejected_cursor) {
    return RejectedCursorError(rejected, s.name(), "");
  }
  auto newest = SinkOf(s)->NewestVersion(f.feed->endpoint());
  if (!newest.ok()) {
    return RejectedCursorError(rejected, s.name(),
                               "no restart: " + newest.status().message());
  }
  const Cursor to = RestartCursor(*newest, f.start);
  if (s.restarted_to == to) {
    return RejectedCursorError(
        rejected, s.name(),
        "a restart from " + to.Describe() +
            " was already tried in this run and its positions are rejected "
            "too");
  }
  Status moved = SinkOf(s)->ResetCursor(s.name(), to);
  if (!moved.ok()) {
    return RejectedCursorError(rejected, s.name(),
                               "no restart: " + moved.message());
  }
  s.from = to;
  s.restarted_to = to;
  return RestartedCursorNote(rejected, to);
}

void Scheduler::Fail(State& s, Mode mode, const Status& failure) {
  if (failure.code() == Status::Code::kCancelled) return;
  if (failure.code() == Status::Code::kCorrupt) {
    // The file is damaged: no feed writes to it again, not even a failure.
    damage_ = failure;
    s.report.failed = true;
    s.report.last_error = failure.message();
    for (Observer* o : observers_) {
      o->OnFailure({s.name(), failure, ++s.failures, std::nullopt, false});
    }
    return;
  }
  Status status = failure;
  // A rejected position that was not moved fails the same way every time.
  bool hopeless = false;
  if (IsRejectedCursor(failure, s.from, s.feed->feed->endpoint())) {
    const Cursor rejected = s.from;
    status = OnRejectedCursor(s, failure);
    hopeless = s.from == rejected;
  }
  s.failures++;
  s.report.last_error = status.message();
  Status recorded = SinkOf(s)->RecordFailure(s.name(), status.message());
  if (!recorded.ok()) {
    for (Observer* o : observers_) o->OnSinkError(s.name(), recorded);
  }
  // A 403 says the tenant lacks the endpoint's module: neither a failure
  // nor worth a retry soon.
  const bool forbidden = status.http_status() == 403;
  s.report.forbidden = forbidden;
  const bool give_up =
      mode == Mode::kDrain &&
      (forbidden || hopeless || s.failures >= options_.retry.max_attempts ||
       status.code() == Status::Code::kAuth);
  std::optional<Millis> retry_in;
  if (give_up) {
    s.report.failed = !forbidden;
    s.done = true;
  } else if (forbidden) {
    retry_in = options_.retry.forbidden_interval;
    s.due = clock_->Now() + *retry_in;
    s.order = order_++;
  } else {
    retry_in = BackoffDelay(options_.retry, s.failures, options_.random(),
                            status.retry_after());
    s.due = clock_->Now() + *retry_in;
    s.order = order_++;
  }
  for (Observer* o : observers_) {
    o->OnFailure({s.name(), status, s.failures, retry_in, forbidden});
  }
}

}  // namespace stsync

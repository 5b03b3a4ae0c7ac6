#include "engine/scheduler.h"

#include <algorithm>
#include <system_error>

#include "base/background_priority.h"
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
  // An error here is reported by the feed's first Step.
  for (State& s : states) {
    if (s.feed->background) (void)Prepare(s);
  }

  RunReport report;
  while (!stop_->stopped() && damage_.ok()) {
    if (options_.heartbeat) options_.heartbeat();
    State* next = FirstDue(states, nullptr, clock_->Now());
    if (!next) break;  // kDrain: every feed caught up or gave up
    if (next->due > clock_->Now()) {
      // Nothing to do for a while (every feed caught up or backing off):
      // with many tenants, idle caches add up.
      if (next->due - clock_->Now() >= std::chrono::seconds(1)) sink_->Idle();
      SteadyTime until = next->due;
      if (options_.heartbeat_every > Millis(0)) {
        until = std::min(until, clock_->Now() + options_.heartbeat_every);
      }
      if (!clock_->WaitUntil(until, *stop_)) break;
      continue;
    }
    Step(*next, mode, states);
  }
  prefetch_.reset();  // waits for a fetch in flight (cancelled if stopping)
  report.stopped = stop_->stopped();
  report.damaged = damage_.message();
  for (State& s : states) report.feeds.push_back(s.report);
  return report;
}

Scheduler::State* Scheduler::FirstDue(std::vector<State>& states,
                                      const State* except, SteadyTime now) {
  // 0: a foreground feed due now, 1: a background one, 2: not due yet.
  auto rank = [now](const State& s) {
    if (s.due > now) return 2;
    return s.feed->background ? 1 : 0;
  };
  State* first = nullptr;
  for (State& s : states) {
    if (s.done || &s == except) continue;
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

Result<Batch> Scheduler::TakeBatch(State& s) {
  if (prefetch_ && prefetch_->state == &s) {
    std::unique_ptr<Prefetch> p = std::move(prefetch_);
    Result<Batch> batch = p->batch.get();
    if (p->from == s.from) return batch;
    // Requested from a cursor the feed is no longer at: drop it.
  }
  return client_->Fetch(*s.feed->feed, s.from, s.feed->background);
}

void Scheduler::StartPrefetch(const State& current, const Cursor& current_next,
                              bool more, std::vector<State>& states) {
  if (!options_.prefetch || prefetch_) return;
  // Feeds already due run before `current` comes round again, except that
  // a background feed never runs before a foreground one.
  const SteadyTime now = clock_->Now();
  State* next = FirstDue(states, &current, now);
  if (next && (next->due > now ||
               (next->feed->background && more && !current.feed->background))) {
    next = nullptr;
  }
  Cursor from;
  if (next) {
    if (!Prepare(*next).ok()) return;  // its own Step reports the error
    // A background feed's stored schedule says later.
    if (next->done || next->due > now) return;
    from = next->from;
  } else if (more) {
    from = current_next;
  } else {
    return;
  }
  const State* target = next ? next : &current;
  auto p = std::make_unique<Prefetch>();
  p->state = target;
  p->from = from;
  try {
    p->batch = std::async(std::launch::async, [this, target, from] {
      LowerThreadPriority();
      return client_->Fetch(*target->feed->feed, from,
                            target->feed->background);
    });
  } catch (const std::system_error&) {
    // No thread to spare: the batch is fetched when it is due instead.
    return;
  }
  prefetch_ = std::move(p);
}

void Scheduler::Step(State& s, Mode mode, std::vector<State>& states) {
  Status prepared = Prepare(s);
  if (!prepared.ok()) return Fail(s, mode, prepared);
  // A background feed whose stored schedule says later.
  if (s.done || s.due > clock_->Now()) return;
  if (!s.announced) {
    s.announced = true;
    for (Observer* o : observers_) {
      o->OnFeedStart({s.name(), s.from, s.resumed});
    }
  }

  const SteadyTime started = clock_->Now();
  auto batch = TakeBatch(s);
  if (!batch.ok()) return Fail(s, mode, batch.status());
  Status progress = s.guard.Check(*batch);
  if (!progress.ok()) return Fail(s, mode, progress);
  StartPrefetch(s, batch->next, !batch->caught_up, states);
  const SteadyTime apply_started = clock_->Now();
  auto applied = SinkOf(s)->Apply(s.feed->feed->endpoint(), *batch);
  if (!applied.ok()) return Fail(s, mode, applied.status());

  const SteadyTime finished = clock_->Now();
  s.guard.Applied(*batch);
  s.from = batch->next;
  s.failures = 0;
  s.report.pages++;
  s.report.records += static_cast<int64_t>(batch->records);
  s.report.last_error.clear();
  s.report.forbidden = false;
  Millis next_in(0);
  if (batch->caught_up) {
    s.report.drained = true;
    if (mode == Mode::kDrain) s.done = true;
    next_in = s.feed->interval;
  }
  s.due = finished + next_in;
  s.order = order_++;
  for (Observer* o : observers_) {
    o->OnBatch({s.name(), batch->records, *applied, batch->caught_up, started,
                apply_started, finished, next_in});
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

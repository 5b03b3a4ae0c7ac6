#include "engine/scheduler.h"

#include <algorithm>
#include <optional>

#include "base/timestamp.h"
#include "engine/backoff.h"
#include "engine/progress_guard.h"
#include "engine/rejected_cursor.h"
#include "engine/split_days.h"

namespace stsync {
namespace {

// Whether `batch`, asked from a date, found nothing on or after it.
bool NothingFromDate(const Batch& batch, const Cursor& from) {
  return batch.records == 0 && batch.caught_up &&
         from.kind() == Cursor::Kind::kDate;
}

}  // namespace

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
  bool behind = false;  // its last batch applied said hasMore=true
  // Days between the oldest and newest version of its last batch applied;
  // -1 before one (a split first sync cuts only chains of known pace).
  double days_per_page = -1;

  // A split first sync. On a range's State: its feed's State, and the
  // range as stored. On a feed's: whether its next batch may split it (no
  // cursor was stored), its ranges not met yet, and the newest version its
  // own chain stored since it last moved.
  State* live = nullptr;
  SplitRange range;
  bool may_split = false;
  int open_ranges = 0;
  int64_t next_range_id = 1;
  std::string reached;
  // A chain of its split found nothing on or after its start date: its
  // records crowd into fewer days than the cuts assume, so none is cut
  // again (halving the chain that has them would only ask empty days).
  bool crowded = false;

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
  damage_ = Status::Ok();  // a run that ended so is followed by a fresh one
  std::deque<State> states(feeds_.size());
  states_ = &states;
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
      // Nothing to apply: the writer would only wait now.
      sink_->Quiet();
      if (!WaitForWork(states)) break;
    }
    // The pool waits for the fetches in flight (cancelled if stopping).
  }
  pool_ = nullptr;
  report.stopped = stop_->stopped();
  report.damaged = damage_.message();
  report.fenced = damage_.code() == Status::Code::kFenced;
  // A range's pages count as its feed's.
  for (State& s : states) {
    if (!s.live) continue;
    FeedReport& f = s.live->report;
    f.pages += s.report.pages;
    f.records += s.report.records;
    if (s.report.failed) {
      f.failed = true;
      f.last_error = s.report.last_error;
    }
  }
  for (State& s : states) {
    if (!s.live) report.feeds.push_back(s.report);
  }
  states_ = nullptr;
  return report;
}

Scheduler::State* Scheduler::FirstLaunchable(std::deque<State>& states,
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

void Scheduler::LaunchDue(std::deque<State>& states, Mode mode) {
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

bool Scheduler::WaitForWork(std::deque<State>& states) {
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
  s.may_split = s.feed->split_first_sync && !resumed;
  // Ranges still owed are resumed even if splitting was turned off since.
  if (state->has_value() && !s.feed->background) {
    for (const SplitRange& r : (*state)->ranges) AddRange(s, r);
  }
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

int64_t Scheduler::SplitEndDay(const State& live) const {
  const int64_t tomorrow = DayOf(clock_->WallNow()) + 1;
  const std::optional<int64_t> until = DayOf(live.feed->split_until);
  return until ? std::min(*until, tomorrow) : tomorrow;
}

Scheduler::State& Scheduler::AddRange(State& live, const SplitRange& range) {
  State& s = states_->emplace_back();
  s.feed = live.feed;
  s.live = &live;
  s.range = range;
  s.from = range.position;
  s.report.name = live.report.name;
  s.due = clock_->Now();
  s.order = order_++;
  s.ready = true;
  s.resumed = true;
  s.announced = true;  // its feed was
  live.open_ranges++;
  live.next_range_id = std::max(live.next_range_id, range.id + 1);
  return s;
}

bool Scheduler::PlanSplit(const State& s, const Batch& first_batch,
                          const std::string& oldest, const std::string& newest,
                          SplitChange* change) const {
  const std::optional<int64_t> first = DayOf(newest);
  const auto from = ParseNormalizedTimestamp(oldest);
  const auto to = ParseNormalizedTimestamp(newest);
  if (!first || !from || !to) return false;
  // As many chains as the first page's pace says there are pages left (at
  // least two; more come as the ranges' batches show data), up to
  // `concurrency`. Records grow denser towards today, so the pace of the
  // first page says too few rather than too many.
  const int64_t end_day = SplitEndDay(s);
  const WallTime end =
      std::min(clock_->WallNow(),
               WallTime(std::chrono::duration_cast<WallTime::duration>(
                   std::chrono::days(end_day))));
  int64_t chains = options_.concurrency;
  if (*to > *from && end > *to) {
    // Records per day growing in step with time since the first: the
    // records up to a time grow with its square.
    const double ratio = std::chrono::duration<double>(end - *from) /
                         std::chrono::duration<double>(*to - *from);
    chains = std::max<int64_t>(2, static_cast<int64_t>(ratio * ratio));
  }
  chains = std::min<int64_t>(chains, options_.concurrency);
  if (chains < 2) return false;
  const std::vector<int64_t> cuts =
      CutDays(*first, end_day, static_cast<int>(chains));
  if (cuts.empty()) return false;
  // Range k ends where range k+1 starts; the first goes on after this
  // batch, and the feed's own chain takes the last, open-ended one.
  for (size_t k = 0; k < cuts.size(); ++k) {
    SplitRange r;
    r.id = s.next_range_id + static_cast<int64_t>(k);
    r.end = DateOfDay(cuts[k]);
    if (k == 0) {
      r.position = first_batch.next;
      r.reached = newest;
    } else {
      r.position = Cursor::Date(DateOfDay(cuts[k - 1]));
    }
    change->put.push_back(std::move(r));
  }
  change->cursor = Cursor::Date(DateOfDay(cuts.back()));
  return true;
}

SplitChange Scheduler::RangeChange(const State& s, const Batch& batch,
                                   const std::string& newest, bool* met) const {
  SplitChange change;
  // Met a day past the next range's start: the API may read `from=<date>`
  // in the tenant's time zone (UTC-12 to +14), so the next range may start
  // up to half a day later than midnight UTC. (The upsert absorbs the day.)
  const std::optional<int64_t> end = DayOf(s.range.end);
  const std::string met_at = end ? DateOfDay(*end + 1) : s.range.end;
  *met = batch.caught_up || (!newest.empty() && newest >= met_at);
  if (*met) {
    change.done.push_back(s.range.id);
    // Nothing modified on or after its start date: the ranges not answered
    // yet that start later hold nothing either (what is modified from now
    // on comes to the feed's own, open-ended chain). Where records crowd
    // into a few days, this spares most of the empty ranges' requests.
    if (NothingFromDate(batch, s.from)) {
      for (const State& r : *states_) {
        if (r.live == s.live && &r != &s && !r.done &&
            r.from.kind() == Cursor::Kind::kDate &&
            r.from.value() >= s.from.value()) {
          change.done.push_back(r.range.id);
        }
      }
    }
  } else {
    SplitRange r = s.range;
    r.position = batch.next;
    r.reached = std::max(r.reached, newest);
    change.put.push_back(std::move(r));
  }
  // While the export has more, a chain free (this one, met) or a chain
  // short of `concurrency` takes half of the largest range left.
  int chains = 1 + s.live->open_ranges - (*met ? 1 : 0);
  while (!batch.caught_up && chains < options_.concurrency &&
         CutLargest(*s.live, &s, &change)) {
    ++chains;
  }
  return change;
}

bool Scheduler::CutLargest(const State& live, const State* except,
                           SplitChange* change) const {
  if (live.crowded) return false;
  // A chain worth cutting: the days [first, last) it has left, and how many
  // pages that is at the pace of its last batch.
  struct Left {
    const State* chain = nullptr;
    int64_t first = 0, last = 0;
    double pages = 0;
  };
  auto left = [&](const State& c, const std::string& reached,
                  std::optional<int64_t> last) -> std::optional<Left> {
    std::optional<int64_t> first = DayOf(reached);
    if (!first || !last || c.days_per_page < 0) return std::nullopt;
    // Its next page on the way (in flight, or the chain applied now, which
    // goes on at once) will have its next days: the cut shares the rest.
    if (c.live && (&c == except || pool_->Has(&c))) {
      *first += static_cast<int64_t>(c.days_per_page);
    }
    const double days = static_cast<double>(*last - *first);
    return Left{&c, *first, *last,
                c.days_per_page > 0 ? days / c.days_per_page : 1e9};
  };
  // A range as *change leaves it (its batch moved it, or a cut did).
  auto after = [&](const State& r) {
    SplitRange range = r.range;
    for (const SplitRange& put : change->put) {
      if (put.id == range.id) range = put;
    }
    return range;
  };
  Left best;
  auto consider = [&](std::optional<Left> l) {
    if (l && l->pages > best.pages) best = *l;
  };
  for (const State& r : *states_) {
    if (r.live != &live || r.done) continue;
    if (std::count(change->done.begin(), change->done.end(), r.range.id)) {
      continue;
    }
    const SplitRange range = after(r);
    consider(left(r, range.reached, DayOf(range.end)));
  }
  // The feed's own chain, unless its batch is the one applied: its cursor
  // is that batch's, and the cut would fetch the batch's days twice.
  if (live.behind && !change->cursor && &live != except) {
    consider(left(live, live.reached, SplitEndDay(live)));
  }
  // Each half at least a day, and more than a page (at the pace so far) to
  // share after the one on its way: a chain cut while others are free ends
  // sooner even by one round trip.
  if (!best.chain || best.last - best.first < 2 || best.pages <= 1) {
    return false;
  }
  const int64_t cut = best.first + (best.last - best.first) / 2;
  SplitRange later;
  later.id = live.next_range_id;
  for (const SplitRange& put : change->put) {
    later.id = std::max(later.id, put.id + 1);
  }
  if (best.chain == &live) {
    // The feed's own chain jumps to the cut; a new range takes its place.
    later.end = DateOfDay(cut);
    later.position = live.from;
    later.reached = live.reached;
    change->cursor = Cursor::Date(DateOfDay(cut));
  } else {
    SplitRange earlier = after(*best.chain);
    later.end = DateOfDay(best.last);
    earlier.end = DateOfDay(cut);
    later.position = Cursor::Date(DateOfDay(cut));
    std::erase_if(change->put,
                  [&](const SplitRange& r) { return r.id == earlier.id; });
    change->put.push_back(std::move(earlier));
  }
  change->put.push_back(std::move(later));
  return true;
}

void Scheduler::Follow(State& live, const SplitChange& change) {
  for (State& r : *states_) {
    if (r.live != &live || r.done) continue;
    if (std::count(change.done.begin(), change.done.end(), r.range.id)) {
      r.done = true;
      live.open_ranges--;
      continue;
    }
    for (const SplitRange& put : change.put) {
      if (put.id == r.range.id) r.range = put;
    }
  }
  for (const SplitRange& put : change.put) {
    if (put.id >= live.next_range_id) AddRange(live, put);
  }
  // The feed's own chain jumps to a date (its first batch's plan, or a
  // cut of it): what it reached and its pace are of the old place.
  if (change.cursor && *change.cursor == live.from &&
      change.cursor->kind() == Cursor::Kind::kDate) {
    live.reached.clear();
    live.behind = true;
    live.days_per_page = -1;
  }
}

void Scheduler::Finish(FetchPool::Done done, Mode mode,
                       std::deque<State>& states) {
  State& s = *static_cast<State*>(done.owner);
  // Requested from a cursor the feed has left (an apply failed): dropped.
  if (done.from != s.from || s.done) return;
  if (!done.batch.ok()) return Fail(s, mode, done.batch.status());
  const Batch& batch = *done.batch;
  Status progress = s.guard.Check(batch);
  if (!progress.ok()) return Fail(s, mode, progress);
  std::string oldest, newest;
  for (const Row& row : batch.rows) {
    if (row.version.empty()) continue;
    if (oldest.empty() || row.version < oldest) oldest = row.version;
    if (row.version > newest) newest = row.version;
  }
  // A split first sync: what this batch changes of the ranges.
  std::optional<SplitChange> split;
  bool met = false;
  bool planned = false;  // split now by its first batch
  if (s.live) {
    split = RangeChange(s, batch, newest, &met);
  } else if (s.may_split && !batch.caught_up) {
    SplitChange plan;
    planned = PlanSplit(s, batch, oldest, newest, &plan);
    if (planned) split = std::move(plan);
  } else if (s.open_ranges > 0 && !batch.caught_up &&
             1 + s.open_ranges < options_.concurrency) {
    // The feed's own chain, with room for another: a range may be cut.
    SplitChange cut;
    for (int chains = 1 + s.open_ranges;
         chains < options_.concurrency && CutLargest(s, &s, &cut); ++chains) {
    }
    if (!cut.put.empty()) {
      cut.cursor = batch.next;
      split = std::move(cut);
    }
  }
  // The plan moves the feed's own chain to the last range's start.
  const Cursor next =
      split && split->cursor && !s.live ? *split->cursor : batch.next;
  s.applying = true;
  if (options_.prefetch) {
    LaunchDue(states, mode);
    // (A feed just split goes on with its first range, below.)
    if (!batch.caught_up && !met && !planned && !pool_->full()) {
      (void)StartFetch(s, next);
    }
  }
  const SteadyTime apply_started = clock_->Now();
  auto applied =
      split ? SinkOf(s)->ApplySplit(s.feed->feed->endpoint(), batch, *split)
            : SinkOf(s)->Apply(s.feed->feed->endpoint(), batch);
  s.applying = false;
  if (!applied.ok()) return Fail(s, mode, applied.status());

  const SteadyTime finished = clock_->Now();
  s.guard.Applied(batch);
  s.from = next;
  s.may_split = false;
  s.behind = !batch.caught_up;
  if (auto days = DaysBetween(oldest, newest)) s.days_per_page = *days;
  if (!s.live) s.reached = std::max(s.reached, newest);
  if (split) {
    State& live = s.live ? *s.live : s;
    // A cut of the feed's own chain by a range's batch moves it.
    if (s.live && split->cursor) live.from = *split->cursor;
    Follow(live, *split);
    if (planned) {
      // The first range goes on from this batch, in the feed's place in
      // line (its due time and order): the next page an unsplit feed would
      // have fetched at once.
      for (State& r : *states_) {
        if (r.live == &live && r.range.id == split->put.front().id) {
          r.due = s.due;
          r.order = s.order;
        }
      }
    }
  }
  if (NothingFromDate(batch, done.from) && (s.live || s.open_ranges)) {
    (s.live ? *s.live : s).crowded = true;
  }
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
  double owed_days = 0;
  const State& live = s.live ? *s.live : s;
  for (const State& r : *states_) {
    if (r.live == &live && !r.done) owed_days += OwedDays(r.range);
  }
  for (Observer* o : observers_) {
    o->OnBatch({s.name(), batch.records, *applied, batch.caught_up,
                done.started, apply_started, finished, next_in, oldest, newest,
                owed_days});
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
  if (failure.code() == Status::Code::kCorrupt ||
      failure.code() == Status::Code::kFenced) {
    // The file is damaged, or another daemon took the tenant over: no feed
    // writes to it again, not even a failure.
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
  // (A range's position is not the feed's cursor: it is only retried.)
  if (!s.live && IsRejectedCursor(failure, s.from, s.feed->feed->endpoint())) {
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

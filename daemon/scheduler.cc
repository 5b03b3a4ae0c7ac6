#include "scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "background_priority.h"
#include "backoff.h"
#include "duration.h"

namespace stsync {

int RunReport::Failed() const {
  return static_cast<int>(
      std::count_if(endpoints.begin(), endpoints.end(),
                    [](const EndpointReport& e) { return e.failed; }));
}

int64_t RunReport::Pages() const {
  int64_t n = 0;
  for (const auto& e : endpoints) n += e.pages;
  return n;
}

int64_t RunReport::Records() const {
  int64_t n = 0;
  for (const auto& e : endpoints) n += e.records;
  return n;
}

struct Scheduler::State {
  const EndpointConfig* config = nullptr;
  EndpointReport report;
  std::optional<std::string> from;  // next request's `from`
  SteadyTime due{};
  uint64_t order = 0;
  int failures = 0;    // in a row
  bool done = false;   // once mode: drained or failed
  bool ready = false;  // table created and checkpoint loaded
  // Progress of the current run of hasMore=true pages.
  SteadyTime chain_started{};
  SteadyTime last_progress{};
  int64_t chain_records = 0;
};

namespace {
constexpr auto kProgressEvery = std::chrono::seconds(15);

long long Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<Millis>(d).count();
}
}  // namespace

Scheduler::Scheduler(const Config& config, ExportClient* client, Store* store,
                     StopSignal* stop, Clock* clock)
    : config_(config),
      client_(client),
      store_(store),
      stop_(stop),
      clock_(clock),
      rng_(std::random_device{}()) {}

RunReport Scheduler::Run(Mode mode) {
  std::vector<State> states(config_.endpoints.size());
  for (size_t i = 0; i < states.size(); ++i) {
    states[i].config = &config_.endpoints[i];
    states[i].report.name = config_.endpoints[i].endpoint.name;
    states[i].due = clock_->Now();
    states[i].order = order_++;
  }

  RunReport report;
  while (!stop_->stopped()) {
    State* next = FirstDue(states, nullptr);
    if (!next) break;  // once mode: everything drained or failed
    SteadyTime now = clock_->Now();
    if (next->due > now) {
      if (!stop_->WaitFor(next->due - now)) break;
      continue;
    }
    Step(*next, mode, states);
  }
  prefetch_.reset();  // waits for a fetch in flight (cancelled if stopping)
  report.stopped = stop_->stopped();
  for (State& s : states) report.endpoints.push_back(s.report);
  return report;
}

Scheduler::State* Scheduler::FirstDue(std::vector<State>& states,
                                      const State* except) {
  State* first = nullptr;
  for (State& s : states) {
    if (s.done || &s == except) continue;
    if (!first || s.due < first->due ||
        (s.due == first->due && s.order < first->order)) {
      first = &s;
    }
  }
  return first;
}

Status Scheduler::Prepare(State& s) {
  if (s.ready) return Status::Ok();
  const EndpointConfig& ec = *s.config;
  const std::string& name = ec.endpoint.name;
  Status st = store_->EnsureTable(ec.endpoint);
  if (!st.ok()) return st;
  auto cp = store_->GetCheckpoint(name);
  if (!cp.ok()) return cp.status();
  if (cp->has_value() && (*cp)->continue_from) {
    s.from = (*cp)->continue_from;
    spdlog::info("{}: resuming from checkpoint", name);
  } else {
    s.from = ec.start_from;
    spdlog::info("{}: no checkpoint, starting {}", name,
                 ec.start_from ? "from " + *ec.start_from
                               : std::string("at the first record"));
  }
  s.ready = true;
  return Status::Ok();
}

Result<Page> Scheduler::TakePage(State& s) {
  if (prefetch_ && prefetch_->state == &s) {
    std::unique_ptr<Prefetch> p = std::move(prefetch_);
    Result<Page> page = p->page.get();
    if (p->from == s.from) return page;
    // Requested from a token the endpoint is no longer at: drop it.
  }
  return client_->FetchPage(*s.config, s.from);
}

void Scheduler::StartPrefetch(const State& current,
                              const std::optional<std::string>& current_next,
                              bool more, std::vector<State>& states) {
  if (prefetch_) return;
  // Endpoints already due run before `current` comes round again.
  const SteadyTime now = clock_->Now();
  State* next = FirstDue(states, &current);
  if (next && next->due > now) next = nullptr;
  std::optional<std::string> from;
  if (next) {
    if (!Prepare(*next).ok()) return;  // its own Step reports the error
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
    p->page = std::async(std::launch::async, [this, target, from] {
      LowerThreadPriority();
      return client_->FetchPage(*target->config, from);
    });
  } catch (const std::system_error& e) {
    // No thread to spare: the page is fetched when it is due instead.
    spdlog::debug("no prefetch: {}", e.what());
    return;
  }
  prefetch_ = std::move(p);
}

void Scheduler::Step(State& s, Mode mode, std::vector<State>& states) {
  const EndpointConfig& ec = *s.config;
  const std::string& name = ec.endpoint.name;
  Status prepared = Prepare(s);
  if (!prepared.ok()) return Fail(s, mode, prepared);

  SteadyTime started = clock_->Now();
  auto page = TakePage(s);
  if (!page.ok()) return Fail(s, mode, page.status());
  // hasMore=true with the token we sent would fetch the same page forever.
  if (page->has_more && s.from && page->continue_from == *s.from) {
    return Fail(s, mode,
                Status::BadResponse("the server answered hasMore=true without "
                                    "advancing continueFrom"));
  }
  StartPrefetch(s, page->continue_from, page->has_more, states);
  auto applied = store_->ApplyPage(ec.endpoint, *page);
  if (!applied.ok()) return Fail(s, mode, applied.status());

  SteadyTime finished = clock_->Now();
  s.from = page->continue_from;
  s.failures = 0;
  s.report.pages++;
  s.report.records += static_cast<int64_t>(page->records);
  s.report.last_error.clear();
  spdlog::info(
      "{}: {} records ({} new, {} updated, {} unchanged), hasMore={}, "
      "{} ms",
      name, page->records, applied->inserted, applied->updated,
      applied->unchanged, page->has_more, Ms(finished - started));

  if (s.chain_records == 0) {
    s.chain_started = started;
    s.last_progress = started;
  }
  s.chain_records += static_cast<int64_t>(page->records);
  if (page->has_more) {
    if (finished - s.last_progress >= kProgressEvery) {
      double secs = std::max(1e-3, Ms(finished - s.chain_started) / 1000.0);
      spdlog::info(
          "{}: backfill in progress: {} records in {:.0f} s "
          "({:.0f} records/s)",
          name, s.chain_records, secs, s.chain_records / secs);
      s.last_progress = finished;
    }
    s.due = finished;
  } else {
    s.chain_records = 0;
    s.report.drained = true;
    if (mode == Mode::kDrain) s.done = true;
    s.due = finished + ec.interval;
    spdlog::debug("{}: caught up; next poll in {}", name,
                  FormatDuration(ec.interval));
  }
  s.order = order_++;
}

void Scheduler::Fail(State& s, Mode mode, const Status& status) {
  if (status.code() == Status::Code::kCancelled) return;
  const std::string& name = s.config->endpoint.name;
  s.failures++;
  s.report.last_error = status.message();
  Status recorded = store_->RecordFailure(name, status.message());
  if (!recorded.ok()) {
    spdlog::warn("{}: could not record the failure: {}", name,
                 recorded.message());
  }
  bool give_up =
      mode == Mode::kDrain && (s.failures >= config_.retry.max_attempts ||
                               status.code() == Status::Code::kAuth);
  if (give_up) {
    spdlog::error("{}: giving up after {} failed attempt(s): {}", name,
                  s.failures, status.message());
    s.report.failed = true;
    s.done = true;
    return;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Millis delay =
      BackoffDelay(config_.retry, s.failures, unit(rng_), status.retry_after());
  spdlog::warn("{}: attempt {} failed: {}; retrying in {}", name, s.failures,
               status.message(), FormatDuration(delay));
  s.due = clock_->Now() + delay;
  s.order = order_++;
}

}  // namespace stsync

// The scheduler's loop on a FakeClock: every wait moves the clock at once,
// so these tests never sleep, and the backoff jitter is a fixed number.
// The API client, token source and rate limiter are the real ones; the
// server is a function of the URL, and the sink lives in memory.
#include "engine/scheduler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "api/export_feed.h"
#include "base/timestamp.h"
#include "config/catalog.h"
#include "fake_clock.h"

namespace stsync {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// One API request as the server saw it.
struct Call {
  std::string url;
  SteadyTime at;
  std::string token;
};

// Answers export GETs through `handler` and token POSTs with tokens that
// live `token_lifetime`; a GET with an expired token gets a 401, as the
// real API answers. Records every GET with the fake time it was made.
class ClockedTransport : public Transport {
 public:
  using Handler = std::function<HttpResponse(const std::string& url)>;
  ClockedTransport(Clock* clock, Handler handler)
      : clock_(clock), handler_(std::move(handler)) {}

  Result<HttpResponse> Get(const std::string& url,
                           const HttpHeaders& headers) override {
    std::string token = headers.at(0).second.substr(7);  // "Bearer ..."
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back({url, clock_->Now(), token});
      auto it = expiry_.find(token);
      if (it == expiry_.end() || clock_->Now() >= it->second) {
        ++rejected_;
        return HttpResponse{401, {}, ""};
      }
    }
    cv_.notify_all();
    return handler_(url);
  }
  Result<HttpResponse> PostForm(const std::string&, const HttpHeaders&,
                                const HttpHeaders&) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string token = "tok-" + std::to_string(expiry_.size() + 1);
    expiry_[token] = clock_->Now() + token_lifetime;
    return HttpResponse{
        200,
        {},
        R"({"access_token":")" + token + R"(","expires_in":)" +
            std::to_string(
                std::chrono::duration_cast<seconds>(token_lifetime).count()) +
            "}"};
  }
  void Cancel() override {}

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int tokens_issued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(expiry_.size());
  }
  int rejected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rejected_;
  }
  // Blocks (at most 10 s) until `n` GETs were made.
  bool WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return calls_.size() >= n; });
  }

  Millis token_lifetime = minutes(15);

 private:
  Clock* const clock_;
  const Handler handler_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::map<std::string, SteadyTime> expiry_;
  int rejected_ = 0;
};

// A Sink in memory: the batches it applied, by endpoint, and failures.
class MemorySink : public Sink {
 public:
  Status Prepare(const Endpoint&) override { return Status::Ok(); }
  Result<ApplyStats> Apply(const Endpoint& e, const Batch& batch) override {
    if (before_apply) before_apply(e.name, batch);
    if (fail_applies > 0) {
      --fail_applies;
      return Status::Busy("the database is locked (test)");
    }
    if (fail_once) {
      Status failure = *fail_once;
      fail_once.reset();
      return failure;
    }
    FeedState& s = states_[e.name];
    s.endpoint = e.name;
    s.cursor = batch.next;
    s.pages++;
    for (const Row& row : batch.rows) keys[e.name].insert(row.key[0]);
    applied.push_back(e.name + "@" + batch.next.value());
    return ApplyStats{static_cast<int64_t>(batch.rows.size()), 0, 0};
  }
  Result<ApplyStats> ApplySplit(const Endpoint& e, const Batch& batch,
                                const SplitChange& change) override {
    if (before_apply) before_apply(e.name, batch);
    FeedState& s = states_[e.name];
    s.endpoint = e.name;
    if (change.cursor) {
      s.cursor = change.cursor;
      s.pages++;
    }
    auto& ranges = s.ranges;
    for (int64_t id : change.done) {
      std::erase_if(ranges, [id](const SplitRange& r) { return r.id == id; });
    }
    for (const SplitRange& put : change.put) {
      std::erase_if(ranges,
                    [&put](const SplitRange& r) { return r.id == put.id; });
      ranges.push_back(put);
    }
    std::sort(
        ranges.begin(), ranges.end(),
        [](const SplitRange& a, const SplitRange& b) { return a.id < b.id; });
    for (const Row& row : batch.rows) keys[e.name].insert(row.key[0]);
    applied.push_back(e.name + "@" + batch.next.value());
    return ApplyStats{static_cast<int64_t>(batch.rows.size()), 0, 0};
  }
  Result<std::optional<FeedState>> Load(const std::string& endpoint) override {
    auto it = states_.find(endpoint);
    if (it == states_.end()) return std::optional<FeedState>();
    return std::optional<FeedState>(it->second);
  }
  Result<std::vector<FeedState>> LoadAll() override {
    std::vector<FeedState> out;
    for (auto& [name, s] : states_) out.push_back(s);
    return out;
  }
  Status RecordFailure(const std::string& endpoint,
                       const std::string& message) override {
    failures.push_back(endpoint + ": " + message);
    return Status::Ok();
  }
  Status ResetCursor(const std::string& endpoint,
                     const std::optional<Cursor>& to) override {
    states_[endpoint].cursor = to;
    states_[endpoint].ranges.clear();
    return Status::Ok();
  }
  Result<std::optional<std::string>> NewestVersion(const Endpoint&) override {
    return newest_version;
  }
  void Idle() override { ++idles; }
  void Quiet() override { ++quiets; }

  std::vector<std::string> applied;  // "endpoint@next cursor", in order
  std::map<std::string, std::set<int64_t>> keys;  // ids stored, by endpoint
  std::vector<std::string> failures;              // "endpoint: message"
  int fail_applies = 0;                       // the next N applies fail as busy
  std::optional<Status> fail_once;            // the next apply fails so
  std::optional<std::string> newest_version;  // what NewestVersion says
  int idles = 0;                              // Idle() calls
  int quiets = 0;                             // Quiet() calls
  std::function<void(const std::string&, const Batch&)> before_apply;

 private:
  std::map<std::string, FeedState> states_;
};

// Records what the scheduler reports.
struct RecordingObserver : public Observer {
  void OnFeedStart(const FeedStartEvent& e) override {
    starts.push_back(e.endpoint + (e.resumed ? " resumed at " : " starts at ") +
                     e.from.Describe());
  }
  void OnBatch(const BatchEvent& e) override {
    batches.push_back(e.endpoint + (e.caught_up ? " caught up" : " more"));
  }
  void OnFailure(const FailureEvent& e) override {
    failures.push_back(e);
    retry_in.push_back(e.retry_in);
  }
  std::vector<std::string> starts, batches;
  std::vector<FailureEvent> failures;
  std::vector<std::optional<Millis>> retry_in;
};

// An export page of one record with id `id`, resuming at `next`.
HttpResponse Page(int id, const std::string& next, bool more) {
  return HttpResponse{200,
                      {},
                      R"({"hasMore":)" + std::string(more ? "true" : "false") +
                          R"(,"continueFrom":")" + next +
                          R"(","data":[{"id":)" + std::to_string(id) +
                          R"(,"modifiedOn":"2024-01-01T00:00:00Z"}]})"};
}

// The `from` of a request URL ("" if none).
std::string From(const std::string& url) {
  size_t at = url.find("from=");
  if (at == std::string::npos) return "";
  size_t end = url.find('&', at);
  return url.substr(at + 5, end == std::string::npos ? end : end - at - 5);
}

// "jobs" or "customers" from a request URL.
std::string FeedOf(const std::string& url) {
  size_t at = url.find("/export/") + 8;
  return url.substr(at, url.find('?', at) - at);
}

// A feed of `pages` pages ("<feed>-1" ... ), the last one caught up; after
// that, every poll answers the last page again.
HttpResponse Paged(const std::string& url, int pages) {
  std::string from = From(url);
  int n = from.empty() ? 1 : std::stoi(from.substr(from.find('-') + 1)) + 1;
  n = std::min(n, pages);
  return Page(n, FeedOf(url) + "-" + std::to_string(n), n < pages);
}

// An export of `count` records (ids 1..count), one every `step` up to the
// FakeClock's wall time at its start (less `before_now`), in pages of
// `size`. A position is "r<records passed>"; a date starts at the first
// record on or after it.
HttpResponse Dated(const std::string& url, int count, Millis step, int size,
                   Millis before_now = Millis(0)) {
  const WallTime end = FakeClock().WallNow() - before_now;
  auto stamp = [&](int i) { return FormatTimestamp(end - (count - i) * step); };
  const std::string from = From(url);
  int i = 0;
  if (!from.empty() && from[0] == 'r') {
    i = std::stoi(from.substr(1));
  } else if (!from.empty()) {
    const std::string day = *NormalizeTimestamp(from);
    while (i < count && stamp(i + 1) < day) ++i;
  }
  std::string data;
  const int last = std::min(count, i + size);
  for (int k = i + 1; k <= last; ++k) {
    data += (data.empty() ? "" : ",") + std::string(R"({"id":)") +
            std::to_string(k) + R"(,"modifiedOn":")" + stamp(k) + R"("})";
  }
  return HttpResponse{200,
                      {},
                      R"({"hasMore":)" +
                          std::string(last < count ? "true" : "false") +
                          R"(,"continueFrom":"r)" + std::to_string(last) +
                          R"(","data":[)" + data + "]}"};
}

// Everything one scheduler run needs.
struct Harness {
  FakeClock clock;
  StopSignal stop;
  ClockedTransport transport;
  TokenSource tokens;
  RateLimiter limiter;
  ApiClient client;
  MemorySink sink;
  RecordingObserver observer;
  SchedulerOptions options;
  std::vector<ScheduledFeed> feeds;

  explicit Harness(ClockedTransport::Handler handler, double rate = 1000)
      : transport(&clock, std::move(handler)),
        tokens({"https://auth.test/connect/token", "id", "secret"}, &transport,
               &clock),
        limiter(rate, &clock),
        client("https://api.test", "app", &transport, &tokens, &limiter, &stop,
               &clock) {
    options.retry.initial_backoff = seconds(1);
    options.retry.max_backoff = minutes(5);
    options.retry.max_attempts = 3;
    options.prefetch = false;
    options.random = [] { return 0.5; };
  }

  ScheduledFeed& AddFeed(const std::string& name,
                         Millis interval = minutes(5)) {
    ScheduledFeed f;
    f.feed = std::make_shared<ExportFeed>(*FindEndpoint(name), "1", false);
    f.interval = interval;
    feeds.push_back(f);
    return feeds.back();
  }

  RunReport Run(Scheduler::Mode mode) {
    Scheduler scheduler(feeds, options, &client, &sink, {&observer}, &stop,
                        &clock);
    return scheduler.Run(mode);
  }

  // "feed from" of every GET, in order.
  std::vector<std::string> Requests() const {
    std::vector<std::string> out;
    for (const Call& c : transport.calls()) {
      std::string from = From(c.url);
      out.push_back(FeedOf(c.url) + " " + (from.empty() ? "start" : from));
    }
    return out;
  }
  // Fake time of GET `i` since the clock's start.
  Millis At(size_t i) const {
    return std::chrono::duration_cast<Millis>(transport.calls().at(i).at -
                                              start_time);
  }

  const SteadyTime start_time = clock.Now();
};

}  // namespace

TEST_CASE(
    "feeds are served in due order: a backfill yields to feeds already "
    "waiting") {
  Harness h([](const std::string& url) {
    return Paged(url, FeedOf(url) == "jobs" ? 3 : 1);
  });
  h.AddFeed("jobs");
  h.AddFeed("customers");
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  CHECK_FALSE(report.stopped);
  CHECK(h.Requests() == std::vector<std::string>{"jobs start",
                                                 "customers start",
                                                 "jobs jobs-1", "jobs jobs-2"});
  CHECK(h.sink.applied ==
        std::vector<std::string>{"jobs@jobs-1", "customers@customers-1",
                                 "jobs@jobs-2", "jobs@jobs-3"});
  CHECK(h.observer.starts ==
        std::vector<std::string>{"jobs starts at the first record",
                                 "customers starts at the first record"});
  CHECK(report.Pages() == 4);
  // Nothing waited: every page was due at once.
  CHECK(h.At(3) == Millis(0));
}

TEST_CASE(
    "a caught-up feed is polled again after its interval, from its cursor") {
  Harness h([](const std::string& url) { return Paged(url, 2); });
  h.AddFeed("jobs", minutes(5));
  h.AddFeed("customers", minutes(7));
  // Stop at the first wait past 15 minutes of fake time.
  h.clock.set_on_wait([&](Millis) {
    if (h.clock.Now() - h.start_time >= minutes(15)) h.stop.Stop();
  });
  RunReport report = h.Run(Scheduler::Mode::kForever);
  CHECK(report.stopped);
  std::vector<std::string> polls;
  for (size_t i = 0; i < h.transport.calls().size(); ++i) {
    auto at = std::chrono::duration_cast<std::chrono::minutes>(h.At(i));
    polls.push_back(h.Requests()[i] + " at " + std::to_string(at.count()));
  }
  CHECK(polls == std::vector<std::string>{
                     "jobs start at 0", "customers start at 0",
                     "jobs jobs-1 at 0", "customers customers-1 at 0",
                     "jobs jobs-2 at 5", "customers customers-2 at 7",
                     "jobs jobs-2 at 10", "customers customers-2 at 14",
                     "jobs jobs-2 at 15"});
}

TEST_CASE(
    "a run that lost the tenant to another daemon ends writing nothing and "
    "the next run of the same scheduler starts afresh") {
  Harness h([](const std::string& url) { return Paged(url, 2); });
  h.AddFeed("jobs");
  h.sink.fail_once = Status::Fenced("lost the lease (test)");
  Scheduler scheduler(h.feeds, h.options, &h.client, &h.sink, {&h.observer},
                      &h.stop, &h.clock);
  RunReport lost = scheduler.Run(Scheduler::Mode::kForever);
  CHECK(lost.fenced);
  CHECK_FALSE(lost.stopped);
  CHECK(lost.damaged == "lost the lease (test)");
  CHECK(h.sink.applied.empty());
  CHECK(h.sink.failures.empty());  // not even a failure is written
  RunReport again = scheduler.Run(Scheduler::Mode::kDrain);
  CHECK_FALSE(again.fenced);
  CHECK(again.damaged.empty());
  CHECK(h.sink.applied ==
        std::vector<std::string>{"jobs@jobs-1", "jobs@jobs-2"});
}

TEST_CASE("a feed resumes from the sink's cursor, else from its start") {
  Harness h([](const std::string& url) { return Paged(url, 3); });
  h.AddFeed("jobs");
  h.AddFeed("customers");
  h.feeds[1].start = Cursor::Date("2024-02-03");
  REQUIRE(h.sink.ResetCursor("jobs", Cursor::Position("jobs-2")).ok());
  REQUIRE(h.Run(Scheduler::Mode::kDrain).Failed() == 0);
  auto requests = h.Requests();
  REQUIRE(requests.size() >= 2);
  CHECK(requests[0] == "jobs jobs-2");
  CHECK(requests[1] == "customers 2024-02-03");
  CHECK(h.observer.starts ==
        std::vector<std::string>{"jobs resumed at the stored position",
                                 "customers starts at 2024-02-03"});
}

TEST_CASE(
    "failures back off exponentially with the caller's jitter, and once "
    "gives up") {
  int served = 0;
  Harness h([&](const std::string& url) {
    if (FeedOf(url) == "jobs" && served++ < 2) {
      return HttpResponse{503, {}, "<html><h1>Service Unavailable</h1></html>"};
    }
    return Paged(url, 1);
  });
  h.AddFeed("jobs");
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  REQUIRE(h.transport.calls().size() == 3);
  // initial 1 s: attempt 1 waits 0.5 s + 0.5 * 0.5 s, attempt 2 twice that.
  CHECK(h.At(0) == Millis(0));
  CHECK(h.At(1) == Millis(750));
  CHECK(h.At(2) == Millis(750 + 1500));
  REQUIRE(h.observer.failures.size() == 2);
  CHECK(h.observer.retry_in[0] == Millis(750));
  CHECK(h.observer.retry_in[1] == Millis(1500));
  CHECK(h.sink.failures.size() == 2);
  CHECK(h.sink.failures[0].find("Service Unavailable") != std::string::npos);
  CHECK(h.sink.applied == std::vector<std::string>{"jobs@jobs-1"});

  // A feed that keeps failing is given up after max_attempts in kDrain,
  // while the other feed completes.
  Harness down([](const std::string& url) {
    if (FeedOf(url) == "jobs") return HttpResponse{500, {}, "oops"};
    return Paged(url, 1);
  });
  down.AddFeed("jobs");
  down.AddFeed("customers");
  RunReport gave_up = down.Run(Scheduler::Mode::kDrain);
  CHECK(gave_up.Failed() == 1);
  CHECK(gave_up.feeds[0].failed);
  CHECK(gave_up.feeds[0].last_error == "HTTP 500: oops");
  CHECK(gave_up.feeds[1].drained);
  REQUIRE(down.observer.retry_in.size() == 3);
  CHECK_FALSE(down.observer.retry_in[2].has_value());  // gave up
  // In kForever nothing gives up: the backoff is capped at max_backoff.
  Harness forever([](const std::string&) {
    return HttpResponse{500, {}, "oops"};
  });
  forever.AddFeed("jobs");
  forever.clock.set_on_wait([&](Millis) {
    if (forever.transport.calls().size() >= 12) forever.stop.Stop();
  });
  RunReport stopped = forever.Run(Scheduler::Mode::kForever);
  CHECK(stopped.stopped);
  CHECK(stopped.Failed() == 0);
  CHECK(forever.observer.retry_in.back() ==
        Millis(150'000 + 75'000));  // 5 min cap, jittered at 0.5
}

TEST_CASE(
    "a 403 is not a failure: once skips the feed, run tries it again after "
    "retry.forbidden_interval") {
  auto forbid_jobs = [](const std::string& url) {
    if (FeedOf(url) == "jobs") return HttpResponse{403, {}, ""};
    return Paged(url, 1);
  };
  Harness once(forbid_jobs);
  once.AddFeed("jobs");
  once.AddFeed("customers");
  RunReport report = once.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  REQUIRE(report.feeds.size() == 2);
  CHECK(report.feeds[0].forbidden);
  CHECK_FALSE(report.feeds[0].failed);
  CHECK(report.feeds[1].drained);
  size_t jobs_calls = 0;
  for (const auto& c : once.transport.calls()) {
    if (FeedOf(c.url) == "jobs") ++jobs_calls;
  }
  CHECK(jobs_calls == 1);  // no retries
  REQUIRE(once.observer.failures.size() == 1);
  CHECK(once.sink.failures[0].find("HTTP 403 forbidden") != std::string::npos);

  Harness run(forbid_jobs);
  run.AddFeed("jobs");
  run.clock.set_on_wait([&](Millis) {
    if (run.transport.calls().size() >= 3) run.stop.Stop();
  });
  run.Run(Scheduler::Mode::kForever);
  REQUIRE(run.transport.calls().size() >= 2);
  CHECK(run.At(1) - run.At(0) == std::chrono::hours(24));
  CHECK(run.observer.retry_in[0] == std::chrono::hours(24));
}

TEST_CASE("a 429 pauses the whole tenant for its Retry-After") {
  bool throttled = false;
  Harness h([&](const std::string& url) {
    if (!throttled) {
      throttled = true;
      return HttpResponse{429, {{"retry-after", "30"}}, "slow down"};
    }
    return Paged(url, 1);
  });
  h.AddFeed("jobs");
  h.AddFeed("customers");
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  CHECK(h.Requests() == std::vector<std::string>{
                            "jobs start", "customers start", "jobs start"});
  // customers was due at once, but the tenant was paused: its call waited.
  CHECK(h.At(1) >= seconds(30));
  CHECK(h.At(1) < seconds(31));
  // jobs' own retry honours Retry-After as the floor of its backoff.
  CHECK(h.At(2) >= seconds(30));
  REQUIRE(h.observer.retry_in.size() == 1);
  CHECK(h.observer.retry_in[0] == seconds(30));
}

// Rejects the positions in `rejected` with a 400, as a server would an
// expired continuation token; answers a date with page 1 of 2 and every
// other `from` as Paged(url, 2).
ClockedTransport::Handler Rejecting(std::set<std::string> rejected) {
  return [rejected](const std::string& url) {
    const std::string from = From(url);
    if (rejected.count(from)) {
      return HttpResponse{400, {}, R"({"title":"Invalid continuation token"})"};
    }
    if (Cursor::FromStored(from).kind() == Cursor::Kind::kDate) {
      return Page(1, FeedOf(url) + "-1", true);
    }
    return Paged(url, 2);
  };
}

TEST_CASE(
    "a rejected position fails with the reset to run, and the cursor stays") {
  Harness h(Rejecting({"expired"}));
  h.AddFeed("jobs");
  h.sink.newest_version = "2024-03-10T05:00:00.0000000Z";
  REQUIRE(h.sink.ResetCursor("jobs", Cursor::Position("expired")).ok());
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  // Asking again cannot help: `once` gives up at once.
  CHECK(report.Failed() == 1);
  CHECK(h.Requests() == std::vector<std::string>{"jobs expired"});
  REQUIRE(h.sink.failures.size() == 1);
  const std::string& m = h.sink.failures[0];
  CHECK(m.find("the server rejected the stored cursor (HTTP 400: "
               R"({"title":"Invalid continuation token"}))") !=
        std::string::npos);
  CHECK(m.find("stsync reset -c CONFIG jobs --from YYYY-MM-DD") !=
        std::string::npos);
  CHECK(m.find("on_rejected_cursor: restart_from_last_seen") !=
        std::string::npos);
  CHECK(h.sink.Load("jobs").value()->cursor == Cursor::Position("expired"));
  // `run` keeps asking, with the usual backoff (the server may change its
  // mind; the error stays visible in `status`).
  Harness forever(Rejecting({"expired"}));
  forever.AddFeed("jobs");
  REQUIRE(forever.sink.ResetCursor("jobs", Cursor::Position("expired")).ok());
  forever.clock.set_on_wait([&](Millis) {
    if (forever.transport.calls().size() >= 3) forever.stop.Stop();
  });
  CHECK(forever.Run(Scheduler::Mode::kForever).stopped);
  CHECK(forever.Requests() == std::vector<std::string>(3, "jobs expired"));
  REQUIRE(forever.observer.retry_in.size() == 3);
  CHECK(forever.observer.retry_in[1] > forever.observer.retry_in[0]);
}

TEST_CASE(
    "with restart_from_last_seen, a rejected position restarts the feed a "
    "day before the newest stored version") {
  Harness h(Rejecting({"expired"}));
  h.AddFeed("jobs").restart_rejected_cursor = true;
  h.sink.newest_version = "2024-03-10T05:00:00.0000000Z";
  REQUIRE(h.sink.ResetCursor("jobs", Cursor::Position("expired")).ok());
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  CHECK(report.feeds[0].drained);
  CHECK(h.Requests() == std::vector<std::string>{
                            "jobs expired", "jobs 2024-03-09", "jobs jobs-1"});
  REQUIRE(h.sink.failures.size() == 1);
  CHECK(h.sink.failures[0].find("restarted the feed from 2024-03-09 "
                                "(on_rejected_cursor: "
                                "restart_from_last_seen)") !=
        std::string::npos);
  CHECK(h.sink.applied ==
        std::vector<std::string>{"jobs@jobs-1", "jobs@jobs-2"});
  // The restart waited for the usual backoff: no tight loop.
  CHECK(h.At(1) >= Millis(500));
}

TEST_CASE(
    "a restart to the same date is not repeated in one run, so a server "
    "that rejects every position cannot make the feed loop") {
  Harness h(Rejecting({"expired", "jobs-1"}));
  h.AddFeed("jobs").restart_rejected_cursor = true;
  h.sink.newest_version = "2024-03-10T05:00:00.0000000Z";
  REQUIRE(h.sink.ResetCursor("jobs", Cursor::Position("expired")).ok());
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 1);
  // Restarted once; page 1's position was rejected too, and `once` gave
  // up on it.
  CHECK(h.Requests() == std::vector<std::string>{
                            "jobs expired", "jobs 2024-03-09", "jobs jobs-1"});
  REQUIRE(h.sink.failures.size() == 2);
  CHECK(h.sink.failures[1].find("a restart from 2024-03-09 was already tried "
                                "in this run") != std::string::npos);
  CHECK(h.sink.Load("jobs").value()->cursor == Cursor::Position("jobs-1"));
}

TEST_CASE(
    "with prefetch, the next page is fetched while one is applied, and used") {
  Harness h([](const std::string& url) { return Paged(url, 3); });
  h.options.prefetch = true;
  h.AddFeed("jobs");
  size_t calls_at_first_apply = 0;
  h.sink.before_apply = [&](const std::string&, const Batch& b) {
    if (b.next.value() != "jobs-1") return;
    // The scheduler starts fetching page 2 before it applies page 1; wait
    // (bounded) until that request was made.
    h.transport.WaitForCalls(2);
    calls_at_first_apply = h.transport.calls().size();
  };
  REQUIRE(h.Run(Scheduler::Mode::kDrain).Failed() == 0);
  CHECK(calls_at_first_apply == 2);
  // Every page was requested exactly once, and applied in order.
  CHECK(h.Requests() ==
        std::vector<std::string>{"jobs start", "jobs jobs-1", "jobs jobs-2"});
  CHECK(h.sink.applied ==
        std::vector<std::string>{"jobs@jobs-1", "jobs@jobs-2", "jobs@jobs-3"});
}

TEST_CASE(
    "with prefetch, a page fetched ahead of a failed apply is dropped and "
    "fetched again") {
  Harness h([](const std::string& url) { return Paged(url, 2); });
  h.options.prefetch = true;
  h.AddFeed("jobs");
  h.sink.fail_applies = 1;
  h.sink.before_apply = [&](const std::string&, const Batch&) {
    // Let the prefetch of page 2 be in flight or done before failing.
    h.transport.WaitForCalls(2);
  };
  REQUIRE(h.Run(Scheduler::Mode::kDrain).Failed() == 0);
  // Page 1 failed to apply, so the prefetched page 2 (from jobs-1) no
  // longer matched the feed's cursor: page 1 was fetched again, then 2.
  CHECK(h.Requests() == std::vector<std::string>{"jobs start", "jobs jobs-1",
                                                 "jobs start", "jobs jobs-1"});
  CHECK(h.sink.applied ==
        std::vector<std::string>{"jobs@jobs-1", "jobs@jobs-2"});
  REQUIRE(h.sink.failures.size() == 1);
  CHECK(h.sink.failures[0].find("locked") != std::string::npos);
}

TEST_CASE(
    "the sink is told it is quiet before every wait and to idle before a long "
    "one only") {
  Harness h([](const std::string& url) { return Paged(url, 2); });
  h.AddFeed("jobs", minutes(5));
  h.clock.set_on_wait([&](Millis) {
    if (h.transport.calls().size() >= 4) h.stop.Stop();
  });
  // Paged: page 1 (no wait), page 2 caught up, then 5-minute waits.
  REQUIRE(h.Run(Scheduler::Mode::kForever).stopped);
  CHECK(h.sink.idles == h.clock.waits());
  CHECK(h.sink.idles >= 2);
  CHECK(h.sink.quiets >= h.clock.waits());
  // Backoff waits under a second do not idle.
  Harness quick([](const std::string&) {
    return HttpResponse{500, {}, "oops"};
  });
  quick.options.retry.initial_backoff = Millis(100);
  quick.options.retry.max_backoff = Millis(200);
  quick.AddFeed("jobs");
  REQUIRE(quick.Run(Scheduler::Mode::kDrain).Failed() == 1);
  CHECK(quick.clock.waits() > 0);
  CHECK(quick.sink.idles == 0);
  CHECK(quick.sink.quiets >= quick.clock.waits());
}

TEST_CASE("stop during a wait ends the run at once, with nothing lost") {
  Harness h([](const std::string& url) { return Paged(url, 1); });
  h.AddFeed("jobs", minutes(10));
  std::vector<Millis> waits;
  h.clock.set_on_wait([&](Millis d) {
    waits.push_back(d);
    h.stop.Stop();
  });
  RunReport report = h.Run(Scheduler::Mode::kForever);
  CHECK(report.stopped);
  CHECK(waits == std::vector<Millis>{minutes(10)});  // the poll interval
  CHECK(h.transport.calls().size() == 1);
  CHECK(h.sink.applied == std::vector<std::string>{"jobs@jobs-1"});
  // The clock did not move: the wait was cut short.
  CHECK(h.clock.Now() == h.start_time);
}

TEST_CASE(
    "tokens that expire while the daemon runs are renewed before the API "
    "rejects them") {
  Harness h([](const std::string& url) { return Paged(url, 1); });
  h.transport.token_lifetime = minutes(2);
  h.AddFeed("jobs", seconds(20));
  h.clock.set_on_wait([&](Millis) {
    if (h.clock.Now() - h.start_time >= minutes(10)) h.stop.Stop();
  });
  RunReport report = h.Run(Scheduler::Mode::kForever);
  CHECK(report.stopped);
  CHECK(h.transport.calls().size() == 31);  // every 20 s for 10 minutes
  CHECK(h.transport.rejected() == 0);
  // Renewed a quarter of the lifetime early: every 90 s.
  CHECK(h.transport.tokens_issued() == 7);
}

// Counts the requests in flight at once: in total and per feed.
struct InFlight {
  std::mutex mu;
  std::condition_variable cv;
  int now = 0, most = 0;
  std::map<std::string, int> per_feed_now, per_feed_most;

  void Enter(const std::string& feed) {
    std::lock_guard<std::mutex> lock(mu);
    most = std::max(most, ++now);
    int& f = per_feed_now[feed];
    per_feed_most[feed] = std::max(per_feed_most[feed], ++f);
    cv.notify_all();
  }
  void Leave(const std::string& feed) {
    std::lock_guard<std::mutex> lock(mu);
    --now;
    --per_feed_now[feed];
  }
  // Blocks (at most 10 s) until `n` requests are in flight at once.
  bool AwaitConcurrent(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, seconds(10), [&] { return most >= n; });
  }
};

TEST_CASE(
    "with concurrency, several feeds are fetched at once, one request each, "
    "and each feed's batches are applied in its order") {
  InFlight flight;
  Harness h([&](const std::string& url) {
    const std::string feed = FeedOf(url);
    flight.Enter(feed);
    // Each first request waits (bounded) until three are in flight.
    if (From(url).empty()) flight.AwaitConcurrent(3);
    HttpResponse page = Paged(url, 4);
    flight.Leave(feed);
    return page;
  });
  h.options.concurrency = 3;
  h.options.prefetch = true;
  for (const char* name : {"jobs", "customers", "invoices", "estimates"}) {
    h.AddFeed(name);
  }
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  REQUIRE(report.Failed() == 0);
  CHECK(flight.most == 3);  // never more than concurrency
  for (const auto& [feed, most] : flight.per_feed_most) {
    INFO(feed);
    CHECK(most == 1);
  }
  // Every page once, each feed's in order.
  CHECK(h.transport.calls().size() == 16);
  std::map<std::string, std::vector<std::string>> by_feed;
  for (const std::string& a : h.sink.applied) {
    by_feed[a.substr(0, a.find('@'))].push_back(a.substr(a.find('@') + 1));
  }
  REQUIRE(by_feed.size() == 4);
  for (const auto& [feed, nexts] : by_feed) {
    CHECK(nexts == std::vector<std::string>{feed + "-1", feed + "-2",
                                            feed + "-3", feed + "-4"});
  }
}

TEST_CASE("a slow request holds back only its own feed") {
  StopSignal released;  // ends the slow request
  Harness h([&](const std::string& url) {
    if (FeedOf(url) == "jobs" && From(url).empty()) {
      released.WaitUntil(std::chrono::steady_clock::now() + seconds(10));
    }
    return Paged(url, 5);
  });
  h.options.concurrency = 2;
  h.AddFeed("jobs");
  h.AddFeed("customers");
  h.sink.before_apply = [&](const std::string& feed, const Batch& b) {
    if (feed == "customers" && b.caught_up) released.Stop();
  };
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  REQUIRE(report.Failed() == 0);
  // customers drained while jobs' first request hung.
  REQUIRE(h.sink.applied.size() == 10);
  for (int i = 0; i < 5; ++i) {
    CHECK(h.sink.applied[i] == "customers@customers-" + std::to_string(i + 1));
  }
  CHECK(h.sink.applied[5] == "jobs@jobs-1");
}

TEST_CASE("with requests in flight, a 429 pauses the tenant's next requests") {
  std::atomic<bool> throttled{false};
  Harness h([&](const std::string& url) {
    if (FeedOf(url) == "jobs" && !throttled.exchange(true)) {
      return HttpResponse{429, {{"retry-after", "30"}}, "slow down"};
    }
    return Paged(url, 3);
  });
  h.options.concurrency = 4;
  h.AddFeed("jobs");
  h.AddFeed("customers");
  h.AddFeed("invoices");
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  REQUIRE(report.Failed() == 0);
  const std::vector<Call> calls = h.transport.calls();
  size_t throttled_at = 0;
  while (FeedOf(calls[throttled_at].url) != "jobs") ++throttled_at;
  // Requests already sent when the 429 came could not be held back (one per
  // other feed at most); every later one waited out the pause.
  int early = 0;
  for (size_t i = throttled_at + 1; i < calls.size(); ++i) {
    if (calls[i].at - calls[throttled_at].at < seconds(30)) ++early;
  }
  CHECK(early <= 2);
  CHECK(calls.size() == 10);  // 3 pages each, and jobs' first again
}

TEST_CASE(
    "a stop with requests in flight ends the run and stores nothing more") {
  Harness h([&](const std::string& url) {
    // jobs and invoices hang until the stop.
    if (FeedOf(url) != "customers") {
      h.stop.WaitUntil(std::chrono::steady_clock::now() + seconds(10));
    }
    return Paged(url, 3);
  });
  h.options.concurrency = 3;
  h.AddFeed("jobs");
  h.AddFeed("invoices");
  h.AddFeed("customers");
  h.sink.before_apply = [&](const std::string& feed, const Batch&) {
    if (feed == "customers") h.stop.Stop();
  };
  const auto started = std::chrono::steady_clock::now();
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.stopped);
  CHECK(std::chrono::steady_clock::now() - started < seconds(5));
  // The batch being applied at the stop is committed whole; the others,
  // answered after it, are not applied.
  CHECK(h.sink.applied == std::vector<std::string>{"customers@customers-1"});
}

}  // namespace stsync

namespace stsync {
namespace {

// The ids 1..n.
std::set<int64_t> Ids(int n) {
  std::set<int64_t> ids;
  for (int64_t i = 1; i <= n; ++i) ids.insert(i);
  return ids;
}

// A range of jobs' split as a stopped run left it stored.
SplitRange Range(int64_t id, const std::string& end, Cursor position,
                 const std::string& reached = "") {
  SplitRange r;
  r.id = id;
  r.end = end;
  r.position = std::move(position);
  r.reached = reached;
  return r;
}

// Stores jobs' split as a stopped run left it: its own chain at `cursor`,
// and `ranges`.
void StoreSplit(MemorySink& sink, const Cursor& cursor,
                std::vector<SplitRange> ranges) {
  SplitChange left;
  left.cursor = cursor;
  left.put = std::move(ranges);
  REQUIRE(sink.ApplySplit(*FindEndpoint("jobs"), Batch(), left).ok());
}

}  // namespace

TEST_CASE(
    "a split first sync fetches date ranges side by side until each meets "
    "the next, then goes on from the feed's own position") {
  // 400 records, one every 2 hours over 33 days, in 40 pages of 10.
  Harness h([](const std::string& url) {
    return Dated(url, 400, std::chrono::hours(2), 10);
  });
  h.options.concurrency = 4;
  h.options.prefetch = true;
  h.AddFeed("jobs").split_first_sync = true;
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  CHECK(h.sink.keys["jobs"] == Ids(400));
  CHECK(report.feeds.size() == 1);
  CHECK(report.Records() >= 400);
  // Ranges were asked for by date, and every one of them met the next.
  std::vector<std::string> dates;
  for (const std::string& r : h.Requests()) {
    if (r.size() == std::string("jobs YYYY-MM-DD").size()) dates.push_back(r);
  }
  INFO(h.Requests().size(), " requests");
  CHECK(dates.size() >= 3);
  auto state = h.sink.Load("jobs");
  REQUIRE(state.ok());
  REQUIRE(state->has_value());
  CHECK((*state)->ranges.empty());
  CHECK((*state)->cursor == Cursor::Position("r400"));
  // The overlaps, empty ranges and cuts cost a few requests, not a second
  // sync. (How many depends on which chain's batch comes first: 45 to 57
  // in 200 runs.)
  CHECK(h.Requests().size() < 40 + 30);
  // A second run is a caught-up poll: one request.
  const size_t before = h.Requests().size();
  h.Run(Scheduler::Mode::kDrain);
  CHECK(h.Requests().size() == before + 1);
}

TEST_CASE(
    "a split range that finds nothing on or after its start ends the ranges "
    "after it unasked, and the feed's first range goes on at once") {
  // 200 records an hour apart, all 500 days back: a split by date finds
  // the days after them empty.
  StopSignal released;  // ends the other feeds' first requests
  Harness h([&](const std::string& url) {
    if (FeedOf(url) == "estimates") return Paged(url, 2);
    if (FeedOf(url) != "jobs") {
      released.WaitUntil(std::chrono::steady_clock::now() + seconds(10));
      return Paged(url, 1);
    }
    return Dated(url, 200, std::chrono::hours(1), 10,
                 std::chrono::hours(24 * 500));
  });
  // Three of the four requests hang: jobs' chains take turns in the last,
  // with estimates, waiting since the start.
  h.options.concurrency = 4;
  h.options.prefetch = false;
  h.AddFeed("jobs").split_first_sync = true;
  h.AddFeed("customers");
  h.AddFeed("invoices");
  h.AddFeed("payments");
  h.AddFeed("estimates");
  h.sink.before_apply = [&](const std::string& feed, const Batch& b) {
    if (feed == "jobs" && b.caught_up && b.records > 0) released.Stop();
  };
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  CHECK(h.sink.keys["jobs"] == Ids(200));
  std::vector<std::string> jobs;
  for (const std::string& r : h.Requests()) {
    if (r.starts_with("jobs ")) jobs.push_back(r);
  }
  std::string all;
  for (const std::string& r : h.Requests()) all += r + "; ";
  INFO(all);
  // Split in 4: the first range went on from the first page at once; the
  // second was asked for its date and found nothing, so the third never
  // was; the feed's own chain asked for the last.
  REQUIRE(jobs.size() >= 4);
  CHECK(jobs[0] == "jobs start");
  CHECK(jobs[1] == "jobs r10");
  const std::vector<std::string> requests = h.Requests();
  const auto at = [&](const std::string& r) {
    return std::find(requests.begin(), requests.end(), r) - requests.begin();
  };
  CHECK(at("jobs r10") < at("estimates start"));
  int dated = 0;
  for (const std::string& r : jobs) dated += r.starts_with("jobs 20") ? 1 : 0;
  CHECK(dated == 2);
  CHECK(jobs.size() == 20 + 2);
  auto state = h.sink.Load("jobs");
  REQUIRE(state.ok());
  CHECK((*state)->ranges.empty());
}

TEST_CASE(
    "a split first sync left by a stop resumes its stored ranges from their "
    "positions") {
  Harness h([](const std::string& url) {
    return Dated(url, 100, std::chrono::hours(12), 10);
  });
  h.options.concurrency = 4;
  h.AddFeed("jobs").split_first_sync = true;
  // As a run killed mid-sync left it: the feed's own chain at a position,
  // one range at its start date, one at a position, the rest stored.
  StoreSplit(h.sink, Cursor::Position("r90"),
             {Range(3, "2023-10-15", Cursor::Position("r20"), "2023-10-07"),
              Range(5, "2023-11-05", Cursor::Date("2023-10-25"))});
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  std::set<std::string> requests;
  for (const std::string& r : h.Requests()) requests.insert(r);
  CHECK(requests.count("jobs start") == 0);
  CHECK(requests.count("jobs r90") == 1);
  CHECK(requests.count("jobs r20") == 1);
  CHECK(requests.count("jobs 2023-10-25") == 1);
  auto state = h.sink.Load("jobs");
  REQUIRE(state.ok());
  CHECK((*state)->ranges.empty());
  // What the ranges and the feed's chain owed was stored, and nothing of
  // what they had passed was fetched again.
  const std::set<int64_t>& got = h.sink.keys["jobs"];
  CHECK(got.count(21) == 1);
  CHECK(got.count(20) == 0);
  CHECK(got.count(91) == 1);
  CHECK(got.count(90) == 0);
}

TEST_CASE(
    "a split range left alone is cut in half by its own batches while a "
    "chain is free") {
  // 200 records 6 hours apart, up to the fake clock's 2023-11-14T22:13Z.
  Harness h([](const std::string& url) {
    return Dated(url, 200, std::chrono::hours(6), 10);
  });
  h.options.concurrency = 3;
  h.AddFeed("jobs").split_first_sync = true;
  // As a run stopped late in a split left it: the feed's own chain has a
  // page left; one range has 90 records left, to 2023-11-12.
  StoreSplit(h.sink, Cursor::Position("r195"),
             {Range(1, "2023-11-12", Cursor::Position("r100"), "2023-10-20")});
  RunReport report = h.Run(Scheduler::Mode::kDrain);
  CHECK(report.Failed() == 0);
  std::string all;
  for (const std::string& r : h.Requests()) all += r + "; ";
  INFO(all);
  // At its second batch (its pace known, at 2023-10-25), 18 days left, of
  // which its next page (on its way at once) has 2: its later half is asked
  // from the middle day of the other 16.
  CHECK(all.find("jobs 2023-11-04") != std::string::npos);
  const std::set<int64_t>& got = h.sink.keys["jobs"];
  CHECK(got.count(101) == 1);
  CHECK(got.count(200) == 1);
  CHECK(got.size() == 100);
}

TEST_CASE(
    "a split range is met only a day past the next range's start, which the "
    "API may read in the tenant's time zone") {
  // 100 records an hour apart, up to the fake clock's 2023-11-14T22:13Z.
  Harness h([](const std::string& url) {
    return Dated(url, 100, std::chrono::hours(1), 10);
  });
  h.options.concurrency = 2;  // the feed's chain and the range: no cuts
  h.AddFeed("jobs").split_first_sync = true;
  StoreSplit(h.sink, Cursor::Position("r95"),
             {Range(1, "2023-11-11", Cursor::Position("r0"))});
  CHECK(h.Run(Scheduler::Mode::kDrain).Failed() == 0);
  // r0 ends at 2023-11-11T08:13Z, r10 at 18:13Z: both past the next
  // range's start, not a day past it. r20 reaches 2023-11-12T04:13Z.
  std::set<std::string> requests;
  for (const std::string& r : h.Requests()) requests.insert(r);
  CHECK(requests.count("jobs r0") == 1);
  CHECK(requests.count("jobs r10") == 1);
  CHECK(requests.count("jobs r20") == 1);
  CHECK(requests.count("jobs r30") == 0);
  CHECK((*h.sink.Load("jobs"))->ranges.empty());
}

}  // namespace stsync

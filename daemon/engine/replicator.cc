#include "engine/replicator.h"

#include <spdlog/spdlog.h>

#include <random>

#include "api/export_feed.h"
#include "api/httplib_transport.h"
#include "api/list_feed.h"
#include "engine/reconciler.h"
#include "sink/open_destination.h"

namespace stsync {

std::vector<ScheduledFeed> FeedsOf(const Config& config, Clock* clock) {
  std::vector<ScheduledFeed> feeds;
  for (const EndpointConfig& ec : config.endpoints) {
    ScheduledFeed f;
    if (ec.endpoint.kind == EndpointKind::kList) {
      f.feed = std::make_shared<ListFeed>(ec.endpoint, config.tenant,
                                          ec.list_overlap, ec.page_size, clock);
    } else {
      f.feed = std::make_shared<ExportFeed>(ec.endpoint, config.tenant,
                                            ec.include_recent_changes);
    }
    f.interval = ec.interval;
    if (ec.start_from) f.start = Cursor::Date(*ec.start_from);
    f.restart_rejected_cursor = ec.restart_rejected_cursor;
    // Ranges end by version, so the records must come in version order;
    // an exploded record's rows carry versions of their own.
    f.split_first_sync = ec.split_first_sync &&
                         ec.endpoint.kind == EndpointKind::kExport &&
                         ec.endpoint.version_field == "modifiedOn" &&
                         ec.endpoint.explode_field.empty();
    feeds.push_back(std::move(f));
  }
  return feeds;
}

Result<std::unique_ptr<Replicator>> Replicator::Create(const Config& config,
                                                       ReplicatorSeams seams) {
  std::unique_ptr<Replicator> r(
      new Replicator(config.tenant, seams.log_prefix));
  Clock* clock = seams.clock ? seams.clock : RealClock::Get();
  DestinationOptions sink_options;
  sink_options.stop = &r->stop_;
  const std::string prefix = seams.log_prefix;
  sink_options.notice = [prefix](const std::string& m) {
    spdlog::info("{}{}", prefix, m);
  };
  sink_options.wait_for_lease = seams.wait_for_lease;
  sink_options.while_waiting = seams.heartbeat;
  auto opened = OpenDestination(config, sink_options, clock);
  if (!opened.ok()) return opened.status();
  r->database_ = std::move(*opened);
  Sink* sink = r->database_.get();
  if (seams.wrap_sink) {
    r->wrapped_sink_ = seams.wrap_sink(sink, r->database_.get());
    sink = r->wrapped_sink_.get();
  }
  r->transport_ = seams.transport
                      ? std::move(seams.transport)
                      : std::make_unique<HttplibTransport>(config.http);
  r->tokens_ = std::make_unique<TokenSource>(
      Credentials{config.auth_url, config.client_id, config.client_secret},
      r->transport_.get(), clock);
  r->limiter_ = std::make_unique<RateLimiter>(config.rate_limit, clock);
  r->client_ = std::make_unique<ApiClient>(
      config.api_url, config.app_key, r->transport_.get(), r->tokens_.get(),
      r->limiter_.get(), &r->stop_, clock);

  SchedulerOptions options;
  options.retry = config.retry;
  options.concurrency = config.http.concurrency;
  options.random = seams.random;
  options.heartbeat = seams.heartbeat;
  options.heartbeat_every = seams.heartbeat_every;
  auto beat_at_least_every = [&options](Millis every) {
    if (options.heartbeat_every <= Millis(0) ||
        options.heartbeat_every > every) {
      options.heartbeat_every = every;
    }
  };
  Destination* database = r->database_.get();
  // What the destination holds (a lease) is renewed from the loop's
  // heartbeat while no page is written; pages renew it themselves.
  if (const Millis every = database->keep_alive_every(); every > Millis(0)) {
    options.heartbeat = [database, user = std::move(options.heartbeat)] {
      if (user) user();
      (void)database->KeepAlive();  // a loss fails the next page
    };
    beat_at_least_every(every);
  }
  // The size the metrics cannot read from a file, sampled between pages.
  if (seams.database_size) {
    options.heartbeat = [database, clock, report = seams.database_size,
                         user = std::move(options.heartbeat),
                         next = SteadyTime{}]() mutable {
      if (user) user();
      if (clock->Now() < next) return;
      next = clock->Now() + kSampleSizeEvery;
      if (auto bytes = database->SizeBytes()) report(*bytes);
    };
    beat_at_least_every(kSampleSizeEvery);
  }
  if (!options.random) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    options.random = [rng] {
      return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
    };
  }
  r->progress_ = std::make_unique<ProgressObserver>(
      clock, seams.log_prefix, std::chrono::minutes(1),
      [](const std::string& line) { spdlog::info("{}", line); });
  std::vector<Observer*> observers = {&r->log_, r->progress_.get()};
  observers.insert(observers.end(), seams.observers.begin(),
                   seams.observers.end());
  std::vector<ScheduledFeed> feeds = FeedsOf(config, clock);
  if (seams.adjust_feed) {
    for (ScheduledFeed& f : feeds) seams.adjust_feed(f);
  }
  ReconcileFeeds passes = ReconcileFeedsOf(
      config, feeds, r->database_.get(), r->database_.get(), observers, clock);
  r->reconcile_sinks_ = std::move(passes.sinks);
  for (ScheduledFeed& f : passes.feeds) feeds.push_back(std::move(f));
  r->scheduler_ = std::make_unique<Scheduler>(
      std::move(feeds), std::move(options), r->client_.get(), sink,
      std::move(observers), &r->stop_, clock);
  Transport* t = r->transport_.get();
  r->stop_.OnStop([t] { t->Cancel(); });
  return r;
}

RunReport Replicator::Run(Scheduler::Mode mode) {
  for (;;) {
    RunReport report = scheduler_->Run(mode);
    if (!report.fenced || mode != Scheduler::Mode::kForever ||
        stop_.stopped()) {
      return report;
    }
    spdlog::warn("{}{}; waiting to take it back", log_prefix_, report.damaged);
    // Never a spin, whatever the next run meets first.
    if (!stop_.WaitUntil(std::chrono::steady_clock::now() +
                         std::chrono::seconds(1))) {
      return report;
    }
  }
}

}  // namespace stsync

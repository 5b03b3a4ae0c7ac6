// Replicator: one tenant's sync job, wired together: its transport, token
// source, rate limiter (60 calls/s per tenant), API client, sink, feeds and
// scheduler. Nothing is shared between two Replicators, so one tenant's
// failures, throttling or hung server never stall another.
//
// `run` and `once` build them through a Supervisor; tests build one with
// their own seams (ReplicatorSeams). Stop() may be called from any thread
// (a signal watcher) and cancels an in-flight request.
#ifndef STSYNC_ENGINE_REPLICATOR_H_
#define STSYNC_ENGINE_REPLICATOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "api/rate_limiter.h"
#include "api/token_source.h"
#include "api/transport.h"
#include "base/clock.h"
#include "base/stop_signal.h"
#include "config/config.h"
#include "engine/log_observer.h"
#include "engine/progress_observer.h"
#include "engine/scheduler.h"
#include "model/destination.h"
#include "model/observer.h"
#include "model/sink.h"

namespace stsync {

// What a Replicator talks to. Each null member means the real one.
struct ReplicatorSeams {
  std::unique_ptr<Transport> transport;  // null: HTTPS (cpp-httplib)
  Clock* clock = nullptr;          // null: the real clock; must outlive it
  std::function<double()> random;  // null: seeded from std::random_device
  // Told of every batch and failure, besides the log; must outlive it.
  std::vector<Observer*> observers;
  // Before each endpoint's name in log lines ("1111111/" for a tenant when
  // the daemon serves several).
  std::string log_prefix;
  // If set, called from the scheduler's loop at every turn and at least
  // every `heartbeat_every` (SchedulerOptions::heartbeat).
  std::function<void()> heartbeat;
  Millis heartbeat_every{0};
  // If set, told the destination's size (Destination::SizeBytes) from the
  // loop, every kSampleSizeEvery at most.
  std::function<void(int64_t bytes)> database_size;
  // If set, changes each feed FeedsOf builds (a backfill bounds them).
  std::function<void(ScheduledFeed&)> adjust_feed;
  // PostgreSQL: wait for a tenant another daemon holds (`run`), rather
  // than fail (sink/open_destination.h).
  bool wait_for_lease = false;
  // If set, wraps the database as the live feeds' Sink (a backfill writes
  // rows only); the wrapper borrows both views of the database.
  std::function<std::unique_ptr<Sink>(Sink*, SideFeedStore*)> wrap_sink;
};

class Replicator {
 public:
  static constexpr Millis kSampleSizeEvery = std::chrono::seconds(10);

  // Opens the sink and builds the parts for `config`'s tenant.
  static Result<std::unique_ptr<Replicator>> Create(const Config& config,
                                                    ReplicatorSeams seams = {});

  // Runs the scheduler. In kForever, a run that lost the tenant to another
  // daemon (RunReport::fenced) starts again, waiting to take it back.
  RunReport Run(Scheduler::Mode mode);
  void Stop() { stop_.Stop(); }
  // Re-issues the cancel of in-flight requests (closes the small window in
  // which a request starting just as Stop() ran could miss it).
  void CancelAgain() { transport_->Cancel(); }
  const std::string& tenant() const { return tenant_; }

 private:
  Replicator(std::string tenant, std::string log_prefix)
      : tenant_(std::move(tenant)), log_prefix_(log_prefix), log_(log_prefix) {}

  const std::string tenant_;
  const std::string log_prefix_;
  StopSignal stop_;
  LogObserver log_;
  std::unique_ptr<ProgressObserver> progress_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<TokenSource> tokens_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<Destination> database_;
  std::unique_ptr<Sink> wrapped_sink_;  // ReplicatorSeams::wrap_sink's
  // Reconciliation passes' views of database_ (engine/reconciler.h).
  std::vector<std::unique_ptr<Sink>> reconcile_sinks_;
  std::unique_ptr<Scheduler> scheduler_;
};

// The feeds `config` selects, each as an ExportFeed or a ListFeed (dating
// its passes by `clock`) for its tenant, in config order.
std::vector<ScheduledFeed> FeedsOf(const Config& config, Clock* clock);

}  // namespace stsync

#endif  // STSYNC_ENGINE_REPLICATOR_H_

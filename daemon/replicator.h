// Replicator: one configured sync job, wired together: transport, token
// source, rate limiter, export client, store and scheduler.
//
// `run` and `once` build one and call Run; tests build one with a scripted
// Transport. Stop() may be called from any thread (a signal watcher) and
// cancels an in-flight request.
#ifndef STSYNC_REPLICATOR_H_
#define STSYNC_REPLICATOR_H_

#include <memory>

#include "config.h"
#include "export_client.h"
#include "rate_limiter.h"
#include "scheduler.h"
#include "stop_signal.h"
#include "store.h"
#include "token_source.h"
#include "transport.h"

namespace stsync {

class Replicator {
 public:
  // Opens the database and builds the parts. `transport` null means the real
  // HTTPS transport. `clock` must outlive the Replicator.
  static Result<std::unique_ptr<Replicator>> Create(
      const Config& config, std::unique_ptr<Transport> transport = nullptr,
      Clock* clock = RealClock::Get());

  RunReport Run(Scheduler::Mode mode) { return scheduler_->Run(mode); }
  void Stop() { stop_.Stop(); }
  // Re-issues the cancel of in-flight requests (closes the small window in
  // which a request starting just as Stop() ran could miss it).
  void CancelAgain() { transport_->Cancel(); }

 private:
  explicit Replicator(const Config& config) : config_(config) {}

  const Config config_;
  StopSignal stop_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<TokenSource> tokens_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<ExportClient> client_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace stsync

#endif  // STSYNC_REPLICATOR_H_

// Supervisor: owns the Replicators of a daemon, one per tenant, runs each
// on its own thread and stops them together.
//
// A config may name many tenants (`tenants:`), one Replicator each; they
// share nothing, so one tenant's failures, throttling or hung server never
// stall another. The shape also lets a config reload (stop, rebuild, start
// the changed ones) come in later without touching the scheduler's loop.
//
// Thread safety: Run is called once, from one thread; Stop and CancelAgain
// may be called from any thread at any time, also before Run.
#ifndef STSYNC_ENGINE_SUPERVISOR_H_
#define STSYNC_ENGINE_SUPERVISOR_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/replicator.h"

namespace stsync {

struct TenantReport {
  std::string tenant;
  RunReport run;
};

class Supervisor {
 public:
  // Takes ownership of `replicators` (at least one).
  explicit Supervisor(std::vector<std::unique_ptr<Replicator>> replicators);

  // Runs every Replicator in `mode` until each returns; one report each, in
  // the order given.
  std::vector<TenantReport> Run(Scheduler::Mode mode);

  void Stop();
  void CancelAgain();

 private:
  std::vector<std::unique_ptr<Replicator>> replicators_;
  std::mutex mu_;
  bool stopped_ = false;
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_SUPERVISOR_H_

// Scheduler: the daemon's only loop. It decides which endpoint to poll next,
// fetches its page, hands it to the Store, and schedules the next poll.
//
// - hasMore=true: the endpoint is due again at once (after the endpoints
//   already waiting, so a long backfill does not starve the others).
// - hasMore=false: due again after its interval.
// - A failure (HTTP, network, invalid page, database busy or full): the
//   failure is recorded, the checkpoint is untouched, and the endpoint is
//   retried after a capped exponential backoff (at least Retry-After).
//
// Fetches run one at a time on the calling thread, so there is at most one
// fetch per endpoint and one writer. Stop() via the StopSignal ends Run
// promptly: waits are interrupted and an in-flight request is cancelled by
// the transport; a page already being applied is committed or rolled back as
// a whole.
//
// Thread safety: Run is called once, from one thread.
#ifndef STSYNC_SCHEDULER_H_
#define STSYNC_SCHEDULER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "config.h"
#include "export_client.h"
#include "stop_signal.h"
#include "store.h"

namespace stsync {

struct EndpointReport {
  std::string name;
  int64_t pages = 0;
  int64_t records = 0;
  bool drained = false;  // reached hasMore=false at least once
  bool failed = false;   // gave up (once mode only)
  std::string last_error;
};

struct RunReport {
  std::vector<EndpointReport> endpoints;
  bool stopped = false;  // ended by the StopSignal
  int Failed() const;
  int64_t Pages() const;
  int64_t Records() const;
};

class Scheduler {
 public:
  enum class Mode {
    kForever,  // `run`: poll until stopped
    kDrain,    // `once`: until every endpoint reached hasMore=false
  };

  // Pointers are borrowed and must outlive Run.
  Scheduler(const Config& config, ExportClient* client, Store* store,
            StopSignal* stop, Clock* clock);

  RunReport Run(Mode mode);

 private:
  struct State;
  // One fetch-and-apply for `s`; updates its schedule.
  void Step(State& s, Mode mode);
  void Fail(State& s, Mode mode, const Status& status);

  const Config& config_;
  ExportClient* const client_;
  Store* const store_;
  StopSignal* const stop_;
  Clock* const clock_;
  std::mt19937_64 rng_;
  uint64_t order_ = 0;  // tie-breaker: first due, first served
};

}  // namespace stsync

#endif  // STSYNC_SCHEDULER_H_

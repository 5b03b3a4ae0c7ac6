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
// Pages are applied one at a time on the calling thread: one writer, one
// transaction per page, in feed order. While a page is applied, the page due
// next (the same endpoint's following page during a backfill, or another
// endpoint already due) is fetched and parsed on a helper thread, so network
// and parsing overlap the write. A prefetched page is used only if it was
// requested from the token its endpoint is still at; otherwise (the apply
// failed, say) it is dropped and fetched again. At most one page is
// prefetched at a time.
//
// Stop() via the StopSignal ends Run promptly: waits are interrupted and
// in-flight requests are cancelled by the transport; a page already being
// applied is committed or rolled back as a whole.
//
// Thread safety: Run is called once, from one thread.
#ifndef STSYNC_SCHEDULER_H_
#define STSYNC_SCHEDULER_H_

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
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
  struct Prefetch {
    const State* state = nullptr;
    std::optional<std::string> from;
    std::future<Result<Page>> page;
  };
  // The endpoint not done (other than `except`) due first; ties go to the
  // one queued first. Null if there is none.
  static State* FirstDue(std::vector<State>& states, const State* except);
  // Creates the endpoint's table and loads its checkpoint, once.
  Status Prepare(State& s);
  // One fetch-and-apply for `s`; updates its schedule.
  void Step(State& s, Mode mode, std::vector<State>& states);
  // `s`'s page at s.from: the prefetched one if it matches, else fetched now.
  Result<Page> TakePage(State& s);
  // Starts fetching the page that will be due after `current` is applied
  // (current's next page if `more`), unless a prefetch is in flight.
  void StartPrefetch(const State& current,
                     const std::optional<std::string>& current_next, bool more,
                     std::vector<State>& states);
  void Fail(State& s, Mode mode, const Status& status);

  const Config& config_;
  ExportClient* const client_;
  Store* const store_;
  StopSignal* const stop_;
  Clock* const clock_;
  std::mt19937_64 rng_;
  uint64_t order_ = 0;  // tie-breaker: first due, first served
  std::unique_ptr<Prefetch> prefetch_;
};

}  // namespace stsync

#endif  // STSYNC_SCHEDULER_H_

// FetchPool: one tenant's page requests in flight, each on a thread of its
// own, at most `limit` at a time.
//
// The scheduler starts a fetch for a feed's next batch and carries on (it
// applies another batch, or starts more fetches); a finished fetch waits in
// the pool until the scheduler takes it, first finished first taken. A
// fetch that has finished but is not yet taken still holds its slot, so at
// most `limit` batches are held here, whatever the speed of the writer.
// Which feed a fetch is for is the caller's business: the pool keys it by
// an opaque owner pointer and never dereferences it.
//
// Waiting: signal() fires when a finished fetch is waiting or a stop is
// requested, so the scheduler waits for "a batch, or the next feed due" in
// one Clock wait (base/wait_signal.h).
//
// Errors: a fetch's own errors are its Done::batch (kCancelled once a stop
// is requested: the transport cancels requests in flight). Start fails only
// when no thread can be started.
//
// Thread safety: every method is called from the one thread that owns the
// pool (the scheduler's); the fetch threads touch only the ApiClient and the
// pool's internal queue. The destructor waits for the fetches in flight.
#ifndef STSYNC_ENGINE_FETCH_POOL_H_
#define STSYNC_ENGINE_FETCH_POOL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "api/api_client.h"
#include "base/clock.h"
#include "base/stop_signal.h"
#include "base/wait_signal.h"
#include "model/batch.h"
#include "model/cursor.h"
#include "model/feed.h"

namespace stsync {

class FetchPool {
 public:
  struct Done {
    void* owner = nullptr;  // as given to Start
    Cursor from;            // the batch was requested from here
    SteadyTime started{};   // when Start was called
    Result<Batch> batch = Status::Cancelled();
  };

  // Pointers are borrowed and must outlive the pool. `limit` >= 1.
  FetchPool(ApiClient* client, StopSignal* stop, Clock* clock, int limit);
  ~FetchPool();
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  // Fetches started and not yet taken, finished or not.
  int size() const { return static_cast<int>(fetches_.size()); }
  bool full() const { return size() >= limit_; }
  // Whether a fetch for `owner` was started and not yet taken.
  bool Has(const void* owner) const;

  // Starts fetching the batch of `feed` (borrowed; it must outlive the
  // fetch) that follows `from`. False if no thread could be started (or the
  // pool is full): nothing was started.
  bool Start(void* owner, const Feed& feed, const Cursor& from,
             bool background);
  // The fetch that finished first among those not yet taken; nullopt if
  // none has finished.
  std::optional<Done> TakeDone();
  // Fires while a finished fetch waits to be taken, or once stopped.
  WaitSignal& signal();

 private:
  struct Queue;  // shared with the fetch threads and the stop callback

  ApiClient* const client_;
  StopSignal* const stop_;
  Clock* const clock_;
  const int limit_;
  std::shared_ptr<Queue> queue_;
  struct Fetch {
    void* owner = nullptr;
    std::thread thread;
  };
  uint64_t next_id_ = 0;
  std::map<uint64_t, Fetch> fetches_;  // started, not yet taken, by id
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_FETCH_POOL_H_

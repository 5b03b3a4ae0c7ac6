// RateLimiter: keeps all API calls of one tenant at or under a rate.
//
// No window of one second holds more than `per_second` calls (a sliding
// window: after an idle spell up to that many go at once, then each waits
// for the call a second before it). Rates below one per second allow one
// call per 1/per_second seconds. After a 429 the whole tenant pauses:
// PauseUntil delays every later call, since ServiceTitan's limit is per app
// and tenant, not per endpoint. Background calls (reconciliation passes)
// get at most three quarters of the rate: they wait while the window holds
// that many calls, so a quarter is always left to the live feeds.
//
// Thread safety: all methods are thread-safe.
#ifndef STSYNC_API_RATE_LIMITER_H_
#define STSYNC_API_RATE_LIMITER_H_

#include <deque>
#include <mutex>

#include "base/clock.h"

namespace stsync {

class RateLimiter {
 public:
  // `clock` must outlive this object. `per_second` > 0.
  RateLimiter(double per_second, Clock* clock);

  // Books the next call slot and returns how long the caller must wait
  // before making it (zero if it may go now).
  Millis Reserve(bool background = false);

  // No call may start before `t`.
  void PauseUntil(SteadyTime t);

 private:
  Clock* const clock_;
  const size_t calls_;                     // per window
  const size_t background_calls_;          // per window, background ones
  const std::chrono::nanoseconds window_;  // calls_ / per_second
  std::mutex mu_;
  std::deque<SteadyTime> slots_;  // the last calls_ booked, in order
  SteadyTime paused_until_{};
};

}  // namespace stsync

#endif  // STSYNC_API_RATE_LIMITER_H_

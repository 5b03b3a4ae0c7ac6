// RateLimiter: keeps all API calls of one tenant at or under a rate.
//
// Calls are spaced evenly (a token bucket with a burst of one second's
// worth). After a 429 the whole tenant pauses: PauseUntil delays every later
// call, since ServiceTitan's limit is per app and tenant, not per endpoint.
//
// Thread safety: all methods are thread-safe.
#ifndef STSYNC_API_RATE_LIMITER_H_
#define STSYNC_API_RATE_LIMITER_H_

#include <mutex>

#include "base/clock.h"

namespace stsync {

class RateLimiter {
 public:
  // `clock` must outlive this object. `per_second` > 0.
  RateLimiter(double per_second, Clock* clock);

  // Books the next call slot and returns how long the caller must wait
  // before making it (zero if it may go now).
  Millis Reserve();

  // No call may start before `t`.
  void PauseUntil(SteadyTime t);

 private:
  Clock* const clock_;
  const std::chrono::nanoseconds spacing_;
  const std::chrono::nanoseconds burst_;
  std::mutex mu_;
  SteadyTime next_{};
  SteadyTime paused_until_{};
};

}  // namespace stsync

#endif  // STSYNC_API_RATE_LIMITER_H_

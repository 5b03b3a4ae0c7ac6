#include "api/rate_limiter.h"

#include <algorithm>

namespace stsync {

RateLimiter::RateLimiter(double per_second, Clock* clock)
    : clock_(clock),
      spacing_(static_cast<long long>(1e9 / per_second)),
      burst_(std::chrono::seconds(1) - spacing_) {}

Millis RateLimiter::Reserve() {
  std::lock_guard<std::mutex> lock(mu_);
  SteadyTime now = clock_->Now();
  // Unused capacity accumulates up to one second's worth of calls.
  SteadyTime earliest = std::max(now - burst_, paused_until_);
  SteadyTime slot = std::max(next_, earliest);
  next_ = slot + spacing_;
  if (slot <= now) return Millis(0);
  return std::chrono::ceil<Millis>(slot - now);
}

void RateLimiter::PauseUntil(SteadyTime t) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_until_ = std::max(paused_until_, t);
}

}  // namespace stsync

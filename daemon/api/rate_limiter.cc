#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace stsync {

RateLimiter::RateLimiter(double per_second, Clock* clock)
    : clock_(clock),
      calls_(static_cast<size_t>(std::max(1.0, std::floor(per_second)))),
      window_(static_cast<long long>(1e9 * static_cast<double>(calls_) /
                                     per_second)) {}

Millis RateLimiter::Reserve() {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_->Now();
  SteadyTime slot = std::max(now, paused_until_);
  if (!slots_.empty()) slot = std::max(slot, slots_.back());
  // The call calls_ back must be a whole window earlier.
  if (slots_.size() == calls_) {
    slot = std::max(slot, slots_.front() + window_);
    slots_.pop_front();
  }
  slots_.push_back(slot);
  if (slot <= now) return Millis(0);
  return std::chrono::ceil<Millis>(slot - now);
}

void RateLimiter::PauseUntil(SteadyTime t) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_until_ = std::max(paused_until_, t);
}

}  // namespace stsync

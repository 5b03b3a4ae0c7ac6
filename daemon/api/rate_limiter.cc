#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace stsync {

RateLimiter::RateLimiter(double per_second, Clock* clock)
    : clock_(clock),
      calls_(static_cast<size_t>(std::max(1.0, std::floor(per_second)))),
      background_calls_(std::max<size_t>(1, calls_ - calls_ / 4)),
      window_(static_cast<long long>(1e9 * static_cast<double>(calls_) /
                                     per_second)) {}

Millis RateLimiter::Reserve(bool background) {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_->Now();
  SteadyTime slot = std::max(now, paused_until_);
  if (!slots_.empty()) slot = std::max(slot, slots_.back());
  // The call `limit` back must be a whole window earlier.
  const size_t limit = background ? background_calls_ : calls_;
  if (slots_.size() >= limit) {
    slot = std::max(slot, slots_[slots_.size() - limit] + window_);
  }
  slots_.push_back(slot);
  if (slots_.size() > calls_) slots_.pop_front();
  if (slot <= now) return Millis(0);
  return std::chrono::ceil<Millis>(slot - now);
}

void RateLimiter::PauseUntil(SteadyTime t) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_until_ = std::max(paused_until_, t);
}

}  // namespace stsync

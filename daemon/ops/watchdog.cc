#include "ops/watchdog.h"

namespace stsync {

Watchdog::Watchdog(size_t loops, Millis interval, std::function<void()> ping,
                   Clock* clock)
    : interval_(interval),
      ping_(std::move(ping)),
      clock_(clock),
      beats_(loops, SteadyTime::min()) {}

void Watchdog::Beat(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_->Now();
  beats_[i] = now;
  if (pinged_ && now - last_ping_ < interval_ / 4) return;
  for (SteadyTime beat : beats_) {
    if (beat == SteadyTime::min() || now - beat > interval_ / 2) return;
  }
  last_ping_ = now;
  pinged_ = true;
  ping_();
}

}  // namespace stsync

// Watchdog: systemd's WATCHDOG=1, sent only while every scheduler loop of
// the process is alive.
//
// Each tenant's scheduler loop calls Beat(i) at every turn (and wakes at
// least every beat_every() to do so). A ping goes out from the beating
// thread when every loop has beaten within half of the watchdog interval
// and the last ping is a quarter interval old: one stuck loop (a hung
// tenant whose requests never time out, a deadlock) stops the pings, and
// systemd restarts the service after the interval. Nothing pings on a
// timer of its own, which would hide exactly that.
//
// Thread safety: Beat may be called from any thread.
#ifndef STSYNC_OPS_WATCHDOG_H_
#define STSYNC_OPS_WATCHDOG_H_

#include <functional>
#include <mutex>
#include <vector>

#include "base/clock.h"

namespace stsync {

class Watchdog {
 public:
  // `loops` loops, systemd's `interval` (WATCHDOG_USEC), `ping` sends
  // WATCHDOG=1. `clock` must outlive it.
  Watchdog(size_t loops, Millis interval, std::function<void()> ping,
           Clock* clock);

  // Loop `i` (< loops) is alive now.
  void Beat(size_t i);
  // How often each loop must beat at least: a quarter of the interval.
  Millis beat_every() const { return interval_ / 4; }

 private:
  const Millis interval_;
  const std::function<void()> ping_;
  Clock* const clock_;
  std::mutex mu_;
  std::vector<SteadyTime> beats_;  // each loop's last beat; {} before one
  SteadyTime last_ping_{};
  bool pinged_ = false;
};

}  // namespace stsync

#endif  // STSYNC_OPS_WATCHDOG_H_

// Clock: the time seam. Production code asks a Clock for "now", and waits
// through it, so that tests can drive token expiry, pacing, backoff and the
// scheduler without sleeping (tests/fake_clock.h).
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef STSYNC_BASE_CLOCK_H_
#define STSYNC_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <functional>

#include "base/stop_signal.h"

namespace stsync {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for deadlines and intervals.
  virtual SteadyTime Now() const = 0;
  // Calendar time, for timestamps written to the database.
  virtual WallTime WallNow() const = 0;
  // Blocks until Now() >= deadline or `signal` fires (a stop is requested),
  // whichever comes first. Returns false if it fired.
  virtual bool WaitUntil(SteadyTime deadline, WaitSignal& signal) = 0;
  bool WaitFor(Millis d, WaitSignal& signal) {
    return WaitUntil(Now() + d, signal);
  }
};

class RealClock : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  bool WaitUntil(SteadyTime deadline, WaitSignal& signal) override {
    return signal.WaitUntil(deadline);
  }
  // A process-wide instance; never destroyed.
  static RealClock* Get() {
    static RealClock* clock = new RealClock();
    return clock;
  }
};

}  // namespace stsync

#endif  // STSYNC_BASE_CLOCK_H_

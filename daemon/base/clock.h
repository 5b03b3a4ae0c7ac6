// Clock: the time seam. Production code asks a Clock for "now", and waits
// through it, so that tests can drive token expiry, pacing, backoff and the
// scheduler without sleeping.
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
  // Blocks until Now() >= deadline or `stop` is requested, whichever comes
  // first. Returns false if stopped.
  virtual bool WaitUntil(SteadyTime deadline, StopSignal& stop) = 0;
  bool WaitFor(Millis d, StopSignal& stop) {
    return WaitUntil(Now() + d, stop);
  }
};

class RealClock : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  bool WaitUntil(SteadyTime deadline, StopSignal& stop) override {
    return stop.WaitUntil(deadline);
  }
  // A process-wide instance; never destroyed.
  static RealClock* Get() {
    static RealClock* clock = new RealClock();
    return clock;
  }
};

// A clock that moves only when told to, or when someone waits on it: a wait
// moves it to the deadline at once, so code under test never sleeps. For
// tests.
class FakeClock : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(Millis(now_ms_.load())); }
  WallTime WallNow() const override {
    return WallTime(
        std::chrono::milliseconds(1'700'000'000'000LL + now_ms_.load()));
  }
  bool WaitUntil(SteadyTime deadline, StopSignal& stop) override {
    ++waits_;
    if (on_wait_) on_wait_(std::chrono::ceil<Millis>(deadline - Now()));
    if (stop.stopped()) return false;
    long long target =
        std::chrono::ceil<Millis>(deadline.time_since_epoch()).count();
    long long now = now_ms_.load();
    while (now < target && !now_ms_.compare_exchange_weak(now, target)) {
    }
    return !stop.stopped();
  }
  void Advance(Millis d) { now_ms_ += d.count(); }
  // Called at the start of every wait with its length (before the clock
  // moves); a test can Stop() the signal there. Set it before use.
  void set_on_wait(std::function<void(Millis)> f) { on_wait_ = std::move(f); }
  // Waits so far.
  int waits() const { return waits_.load(); }

 private:
  std::atomic<long long> now_ms_{1'000'000};
  std::atomic<int> waits_{0};
  std::function<void(Millis)> on_wait_;
};

}  // namespace stsync

#endif  // STSYNC_BASE_CLOCK_H_

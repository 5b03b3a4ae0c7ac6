// Clock: the time seam. Production code asks a Clock for "now" so that tests
// can drive token expiry and pacing without sleeping.
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef STSYNC_CLOCK_H_
#define STSYNC_CLOCK_H_

#include <atomic>
#include <chrono>

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
};

class RealClock : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance; never destroyed.
  static RealClock* Get() {
    static RealClock* clock = new RealClock();
    return clock;
  }
};

// A clock that moves only when told to. For tests.
class FakeClock : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(Millis(now_ms_.load())); }
  WallTime WallNow() const override {
    return WallTime(
        std::chrono::milliseconds(1'700'000'000'000LL + now_ms_.load()));
  }
  void Advance(Millis d) { now_ms_ += d.count(); }

 private:
  std::atomic<long long> now_ms_{1'000'000};
};

}  // namespace stsync

#endif  // STSYNC_CLOCK_H_

// FakeClock: a test double of Clock (base/clock.h).
//
// Thread safety: Now, WallNow, WaitUntil and Advance may be called from any
// thread; set_on_wait before the clock is shared.
#ifndef STSYNC_TESTS_FAKE_CLOCK_H_
#define STSYNC_TESTS_FAKE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <functional>

#include "base/clock.h"

namespace stsync {

// A clock that moves only when told to, or when someone waits on it: a wait
// moves it to the deadline at once, so code under test never sleeps.
class FakeClock : public Clock {
 public:
  SteadyTime Now() const override {
    return SteadyTime(
        Millis(now_ms_.fetch_add(step_ms_.load()) + step_ms_.load()));
  }
  WallTime WallNow() const override {
    return WallTime(
        std::chrono::milliseconds(1'700'000'000'000LL + now_ms_.load()));
  }
  bool WaitUntil(SteadyTime deadline, WaitSignal& signal) override {
    // Work in flight that will end the wait (a fetch) ends it first: time
    // moves only when nothing else can happen before the deadline.
    signal.Settle();
    if (signal.fired()) return false;
    ++waits_;
    if (on_wait_) on_wait_(std::chrono::ceil<Millis>(deadline - Now()));
    if (signal.fired()) return false;
    long long target =
        std::chrono::ceil<Millis>(deadline.time_since_epoch()).count();
    long long now = now_ms_.load();
    while (now < target && !now_ms_.compare_exchange_weak(now, target)) {
    }
    return !signal.fired();
  }
  void Advance(Millis d) { now_ms_ += d.count(); }
  // While not zero, every Now() first moves the clock by `d`: work between
  // two readings takes that long.
  void set_step_per_reading(Millis d) { step_ms_ = d.count(); }
  // Called at the start of every wait with its length (before the clock
  // moves); a test can Stop() the signal there. Set it before use.
  void set_on_wait(std::function<void(Millis)> f) { on_wait_ = std::move(f); }
  // Waits so far.
  int waits() const { return waits_.load(); }

 private:
  mutable std::atomic<long long> now_ms_{1'000'000};
  std::atomic<long long> step_ms_{0};
  std::atomic<int> waits_{0};
  std::function<void(Millis)> on_wait_;
};

}  // namespace stsync

#endif  // STSYNC_TESTS_FAKE_CLOCK_H_

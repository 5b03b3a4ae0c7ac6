// WaitSignal: what can cut a Clock wait short (base/clock.h).
//
// A StopSignal is one: SIGTERM ends every wait. The scheduler's fetch pool
// is another: a fetch finishing ends the loop's wait for work, so that it
// applies the batch at once (engine/fetch_pool.h).
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef STSYNC_BASE_WAIT_SIGNAL_H_
#define STSYNC_BASE_WAIT_SIGNAL_H_

#include <chrono>

namespace stsync {

class WaitSignal {
 public:
  virtual ~WaitSignal() = default;
  // True once a wait should end early.
  virtual bool fired() const = 0;
  // Sleeps until `deadline` or until fired(). Returns !fired().
  virtual bool WaitUntil(std::chrono::steady_clock::time_point deadline) = 0;
  // Blocks, in real time, while work is under way that will make it fire
  // (a fetch in flight) and it has not fired. For a clock whose time does
  // not pass by itself (tests/fake_clock.h): it moves only once the work
  // it would otherwise race has settled. None by default.
  virtual void Settle() {}
};

}  // namespace stsync

#endif  // STSYNC_BASE_WAIT_SIGNAL_H_

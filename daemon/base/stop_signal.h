// StopSignal: a one-way "please stop" flag that sleepers can wait on.
//
// Every wait in the daemon (between polls, for backoff, for the rate limiter)
// goes through a Clock (base/clock.h), whose real implementation waits here,
// so that SIGTERM ends it at once. Callbacks registered
// with OnStop run on the thread that calls Stop(), once; they are how an
// in-flight HTTP request is cancelled.
//
// Thread safety: all methods are safe to call from any thread.
#ifndef STSYNC_BASE_STOP_SIGNAL_H_
#define STSYNC_BASE_STOP_SIGNAL_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "base/wait_signal.h"

namespace stsync {

class StopSignal : public WaitSignal {
 public:
  void Stop() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      callbacks = on_stop_;
    }
    cv_.notify_all();
    for (auto& cb : callbacks) cb();
  }

  bool stopped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  bool fired() const override { return stopped(); }

  // Sleeps until `deadline` or until Stop(). Returns false if stopped.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return stopped_; });
    return !stopped_;
  }

  // Runs `cb` on Stop(), or now if already stopped.
  void OnStop(std::function<void()> cb) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopped_) {
        on_stop_.push_back(std::move(cb));
        return;
      }
    }
    cb();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::vector<std::function<void()>> on_stop_;
};

}  // namespace stsync

#endif  // STSYNC_BASE_STOP_SIGNAL_H_

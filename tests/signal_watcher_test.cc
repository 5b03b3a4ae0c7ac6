// SignalWatcher (cli/cli.h): a signal to the process reaches on_signal once;
// its own wake-up on destruction does not.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cli/cli.h"

namespace stsync {
namespace {

// Restores the calling thread's signal mask (the watcher blocks SIGTERM and
// SIGINT in it) when the test ends.
class MaskGuard {
 public:
  MaskGuard() { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  ~MaskGuard() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

TEST_CASE("a SignalWatcher destroyed without a signal never calls on_signal") {
  MaskGuard mask;
  std::atomic<int> signals{0};
  {
    SignalWatcher watcher([&] { signals++; }, [] {});
    // Time for its thread to reach its wait, where the destructor's
    // wake-up finds it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(signals == 0);
}

TEST_CASE("a SIGTERM to the process calls on_signal once") {
  MaskGuard mask;
  std::atomic<int> signals{0};
  {
    SignalWatcher watcher([&] { signals++; }, [] {});
    REQUIRE(kill(getpid(), SIGTERM) == 0);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (signals == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  CHECK(signals == 1);
}

}  // namespace
}  // namespace stsync

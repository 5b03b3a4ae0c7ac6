// Built and run only in a ThreadSanitizer build (STSYNC_TSAN): two threads
// write one int with nothing ordering them. ctest `tsan_reports_races`
// passes only if TSan reports it, so the TSan stage is known to be live, and
// its suppressions (cmake/tsan_suppressions.cc) are known not to hide a race
// in this project's own code.
#include <cstdio>
#include <thread>

namespace {
int shared_counter = 0;
}

int main() {
  std::thread first([] { shared_counter = 1; });
  std::thread second([] { shared_counter = 2; });
  first.join();
  second.join();
  std::printf("no report: shared_counter = %d\n", shared_counter);
  return 0;
}

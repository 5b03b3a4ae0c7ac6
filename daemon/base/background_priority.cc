#include "base/background_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace stsync {

void LowerThreadPriority(int steps) {
#ifdef __linux__
  // On Linux the nice value belongs to the thread (its tid), not the process.
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, tid);
  if (nice == -1 && errno != 0) return;
  setpriority(PRIO_PROCESS, tid, nice + steps > 19 ? 19 : nice + steps);
#else
  (void)steps;
#endif
}

}  // namespace stsync

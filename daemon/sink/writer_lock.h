// WriterLock: at most one process writes a given stsync database.
//
// `run`, `once` and `reset` hold it while they have the database open for
// writing; a second one is refused at once with a message naming the
// holder's pid, instead of two writers moving the same cursors. It is an
// flock(2) on `<database>-lock`, so the kernel releases it when the holder
// exits in any way, kill -9 included. Readers (`status`, sqlite3, BI tools)
// never take it. The lock file is left in place: deleting it would race.
//
// Errors: kBusy when another process holds it, kIo when the lock file cannot
// be created.
//
// Thread safety: a WriterLock is owned by one object; it has no methods.
#ifndef STSYNC_SINK_WRITER_LOCK_H_
#define STSYNC_SINK_WRITER_LOCK_H_

#include <memory>
#include <string>

#include "base/status.h"

namespace stsync {

class WriterLock {
 public:
  // Takes the lock of the database at `database_path`, or fails at once.
  static Result<std::unique_ptr<WriterLock>> Acquire(
      const std::string& database_path);
  // Whether some process holds the lock of `database_path` now (a daemon
  // writes it). Probes with a shared lock taken and dropped at once, so a
  // writer starting at that very instant may be refused once.
  static bool IsHeld(const std::string& database_path);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace stsync

#endif  // STSYNC_SINK_WRITER_LOCK_H_

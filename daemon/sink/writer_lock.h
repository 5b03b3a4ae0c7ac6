// WriterLock: at most one process writes a given stsync database.
//
// `run`, `once`, `reset` and `backfill` hold it while they have the database
// open for writing; a second one is refused at once with a message naming
// the holder's pid, instead of two writers moving the same cursors. Readers
// (`status`, sqlite3, BI tools) never take it.
//
// Two flock(2) locks, both released by the kernel when the holder exits in
// any way, kill -9 included:
//  - on `<database>-lock`, which also holds the holder's pid for the
//    message. It is opened with O_NOFOLLOW and must be a regular file with a
//    single link, so a symlink or hard link planted in the database's folder
//    never makes stsync truncate another file.
//  - on the database file itself, so that deleting `<database>-lock` does
//    not let a second writer start beside the first. flock and SQLite's
//    fcntl locks do not interact on a local file system; the database must
//    not be on NFS (SQLite's WAL mode rules that out anyway). Because
//    closing any descriptor of a file drops the process's fcntl locks on it,
//    a WriterLock must be destroyed only after every SQLite connection of
//    this process to the database is closed.
//
// Errors: kBusy when another process holds it, kIo when a lock file cannot
// be opened or is not a plain file.
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
  // Takes the lock of the database at `database_path` (creating the
  // database file, mode 0640, if it does not exist), or fails at once.
  static Result<std::unique_ptr<WriterLock>> Acquire(
      const std::string& database_path);
  // Whether some process holds the lock of `database_path` now (a daemon
  // writes it). Probes `<database>-lock` with a shared lock taken and
  // dropped at once, so a writer starting at that very instant may be
  // refused once. Never opens the database file itself (see above).
  static bool IsHeld(const std::string& database_path);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  WriterLock(int lock_fd, int database_fd)
      : lock_fd_(lock_fd), database_fd_(database_fd) {}
  const int lock_fd_;
  const int database_fd_;
};

}  // namespace stsync

#endif  // STSYNC_SINK_WRITER_LOCK_H_

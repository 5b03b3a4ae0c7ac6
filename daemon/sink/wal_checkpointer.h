// WalCheckpointer: copies the WAL into the database on a background thread,
// so that the writer does not wait for the copy and its fsyncs.
//
// SQLite's own automatic checkpoint runs inside the committing thread: after
// every few MiB the writer copies the WAL into the database and waits for two
// fsyncs, which during a backfill is a third of the time. Instead the Store
// disables it and, after each commit, asks this class for a PASSIVE
// checkpoint through its own connection; that copies what is committed while
// the writer goes on. The WAL can only start over from its beginning when
// everything in it has been copied as the next write transaction begins, so
// past its size limit the writer finishes the job itself (CatchUp) at a
// moment when this thread is idle, and so little is left to copy (see
// Store::OnWalCommit for the thresholds).
//
// Use it only where SafeBesideWriter() is true.
//
// Checkpoints never change what readers see and never lose a commit: they
// copy committed pages only. A failed checkpoint (disk full, say) leaves the
// WAL longer, and the next request tries again.
//
// Thread safety: Request and CatchUp are called by the one writer thread.
#ifndef STSYNC_SINK_WAL_CHECKPOINTER_H_
#define STSYNC_SINK_WAL_CHECKPOINTER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

struct sqlite3;

namespace stsync {

class WalCheckpointer {
 public:
  // Whether the linked SQLite (checked at run time) may checkpoint on one
  // connection while another commits: 3.51.3 and newer. Older versions have
  // the WAL-reset bug (fixed in 3.51.3, 2026-03-13): a checkpoint racing a
  // commit that restarts the WAL can make a later checkpoint skip frames
  // and silently corrupt the file. Debian 12 ships 3.40.1.
  static bool SafeBesideWriter();

  // Opens a second connection to the database at `path` (already in WAL
  // mode) and starts the thread.
  static Result<std::unique_ptr<WalCheckpointer>> Start(
      const std::string& path);
  // Stops the thread (after a checkpoint in progress) and closes.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Asks for a checkpoint soon; returns at once. Requests made while one
  // runs are merged into one more run.
  void Request();
  // Waits for a checkpoint in progress, then checkpoints through `writer`
  // (the caller's connection, outside any transaction) on this thread, so
  // that the WAL is fully copied and the next transaction restarts it.
  void CatchUp(sqlite3* writer);

  // Whether no checkpoint runs or is requested.
  bool Idle() const;

  // Background checkpoints that copied frames (for tests).
  int background_runs() const;

 private:
  explicit WalCheckpointer(sqlite3* db);
  void Loop();

  sqlite3* const db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  int background_runs_ = 0;
  std::thread thread_;
};

}  // namespace stsync

#endif  // STSYNC_SINK_WAL_CHECKPOINTER_H_

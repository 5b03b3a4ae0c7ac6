// SqliteSink: the SQLite file stsync keeps in sync; the Sink (and
// SideFeedStore) stsync ships.
//
// One table per endpoint (see Endpoint::TableName) with the key column(s),
// modified_on (normalised version), active, data (the record's JSON exactly
// as received), first_seen_at and synced_at, its rows stored in arrival
// order (table_layout.h); plus _stsync_cursors, one row per endpoint with
// its cursor, counts and last error; and _stsync_rejects, the records a
// batch could not make rows of (Batch::rejects), kept in the same
// transaction as the batch. Opening a file of an older schema
// migrates it, which may rewrite whole tables (see SqliteSinkOptions::notice).
//
// Apply is the heart of the replication guarantee: a batch's rows and its
// next cursor are committed in one transaction, so after a crash at any
// instant the cursor never points past data that is missing. An upsert
// never lets an older version (by modified_on) replace a newer one; a record
// of the same version replaces the row only if its bytes differ (the later
// position in the feed wins), so repeated records write nothing.
//
// The database runs in WAL mode with synchronous=NORMAL: readers in other
// processes never block the writer, and a power loss may drop the last
// committed batches but never corrupts the file or separates rows from
// their cursor. New files use 16 KiB pages. SQLite's automatic checkpoint
// is replaced: with SQLite 3.51.3 or newer a WalCheckpointer copies the WAL
// into the database on its own thread and connection, so the writer rarely
// waits for an fsync; older versions have the WAL-reset bug, so there the
// writer checkpoints on its own connection once the WAL reaches wal_size,
// and sooner (from a sixteenth of it) when told the writer is Quiet and it
// has been busy less than half of the last second measured: the copy is
// then done while the writer would wait for the network anyway, rather
// than at the limit or at close.
// Only one process at a time opens a database for writing (WriterLock).
//
// Errors: kBusy when another process holds the write lock past the busy
// timeout, or (from Open) when another stsync process writes the file;
// kInvalid (from Open) when the file holds another tenant's data; kCorrupt
// when SQLite finds the file damaged (a DamageNote is left beside it: stop
// writing); kIo for everything else (disk full, not a database, a schema
// newer than this binary).
// On any error of Apply nothing was written.
//
// Thread safety: a SqliteSink is used by one thread at a time.
#ifndef STSYNC_SINK_SQLITE_SINK_H_
#define STSYNC_SINK_SQLITE_SINK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/stop_signal.h"
#include "model/destination.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stsync {

class FeedStateTable;
class Stmt;
class WalCheckpointer;
class WriterLock;

struct SqliteSinkOptions {
  Millis busy_timeout{std::chrono::seconds(5)};
  bool read_only = false;  // for status: never creates or migrates
  // Writes that would grow the file past this fail like a full disk.
  int64_t max_size = 0;  // 0: no cap
  // The WAL is copied into the database by a background thread from a
  // quarter of this size on, and restarted (then truncated back to this
  // size) once it reaches it; see WalCheckpointer.
  int64_t wal_size = 64 << 20;
  // The writer's page cache. A page of rows whose keys land all over the
  // key's index dirties many index pages; when they do not fit, SQLite
  // spills them to the WAL mid-transaction and writes some twice.
  int64_t cache_size = 16 << 20;
  // The tenant and environment whose data a writable file holds: recorded
  // on first use; a file recorded for another tenant or environment is
  // refused (kInvalid) before anything is written to it. Empty: not checked.
  std::string tenant;
  std::string environment;
  // Told about long steps of Open (converting a table to a new layout), on
  // the opening thread. May be empty.
  std::function<void(const std::string&)> notice;
  // Ends a wait for another process's write lock at once when stopped, so
  // that SIGTERM is honoured whatever busy_timeout is: the statement then
  // fails as kBusy and writes nothing. Borrowed; must outlive the sink.
  // Null: the wait lasts busy_timeout.
  StopSignal* stop = nullptr;
};

class SqliteSink : public Destination {
 public:
  // Opens (creating with mode 0640 if missing, unless read_only) and
  // migrates the database at `path`. `clock` must outlive the sink.
  static Result<std::unique_ptr<SqliteSink>> Open(
      const std::string& path, const SqliteSinkOptions& options, Clock* clock);
  ~SqliteSink() override;
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  // Sink. Prepare creates the endpoint's table and index if missing.
  Status Prepare(const Endpoint& endpoint) override;
  Result<ApplyStats> Apply(const Endpoint& endpoint,
                           const Batch& batch) override;
  Result<ApplyStats> ApplySplit(const Endpoint& endpoint, const Batch& batch,
                                const SplitChange& change) override;
  Result<std::optional<FeedState>> Load(const std::string& endpoint) override;
  Result<std::vector<FeedState>> LoadAll() override;
  Result<std::optional<std::string>> NewestVersion(
      const Endpoint& endpoint) override;
  Status RecordFailure(const std::string& endpoint,
                       const std::string& message) override;
  Status ResetCursor(const std::string& endpoint,
                     const std::optional<Cursor>& to) override;
  // Frees the connection's unused page cache (sqlite3_db_release_memory).
  void Idle() override;
  // Copies the WAL into the database if the rule above says so.
  void Quiet() override;

  // SideFeedStore.
  Result<ApplyStats> ApplyRows(const Endpoint& endpoint,
                               const Batch& batch) override;
  Result<std::optional<ReconcileState>> LoadReconcile(
      const std::string& endpoint) override;
  Result<std::vector<ReconcileState>> LoadAllReconciles() override;
  Result<ReconcileStats> ApplyReconcile(const Endpoint& endpoint,
                                        const Batch& batch,
                                        const ReconcilePolicy& policy) override;
  Status RecordReconcileFailure(const std::string& endpoint,
                                const std::string& message) override;
  Status RestartReconcile(const std::string& endpoint) override;
  Result<std::optional<std::string>> FirstStoredAt(
      const Endpoint& endpoint) override;

  // Destination.
  Result<std::optional<std::string>> OldestVersion(
      const Endpoint& endpoint) override;

  int schema_version() const { return schema_version_; }
  // Whether WAL checkpoints run on a thread of their own (SQLite 3.51.3 or
  // newer) rather than on the writer's (see WalCheckpointer).
  bool checkpoints_in_background() const { return checkpointer_ != nullptr; }
  // Background WAL checkpoints that copied frames so far (for tests).
  int background_checkpoints() const;
  // The version of the SQLite library linked, e.g. "3.40.1".
  static std::string LibraryVersion();

 private:
  struct Statements;
  SqliteSink(sqlite3* db, Clock* clock);
  Status Exec(const std::string& sql);
  // `bound` ("min" or "max") of the endpoint's versions.
  Result<std::optional<std::string>> VersionBound(const Endpoint& endpoint,
                                                  const char* bound);
  // Page size (new files), WAL mode, synchronous, the WAL, cache and size
  // limits of `options`: what a writer sets before migrating.
  Status ConfigureWriter(const SqliteSinkOptions& options);
  // Apply, ApplySplit and ApplyRows: the batch's rows; `cursor` as the
  // feed's (or, if null, only its row count); `split`'s ranges, if given.
  Result<ApplyStats> ApplyBatch(const Endpoint& e, const Batch& batch,
                                const Cursor* cursor, const SplitChange* split);
  // `e`'s statements, or kInvalid before Prepare or when read-only.
  Result<Statements*> Writable(const Endpoint& e);
  // Inside a transaction: upserts `batch`'s rows, counting into `stats`.
  // With `seen` (an insert into _stsync_seen), notes each key and adds the
  // keys not noted before to *new_keys.
  Status UpsertRows(const Endpoint& e, Statements& st, const Batch& batch,
                    const std::string& now, ApplyStats& stats, Stmt* seen,
                    int64_t* new_keys);
  // Keeps `batch`'s rejects in _stsync_rejects (a record already kept once
  // is not kept again). Within the caller's transaction.
  Status StoreRejects(const Endpoint& e, const Batch& batch,
                      const std::string& now);
  // sqlite3_busy_handler: waits for another process's lock in short steps
  // until busy_timeout_ has passed or stop_ is set.
  static int OnBusy(void* store, int count);
  // sqlite3_wal_hook: after each commit, with the WAL's length in pages.
  static int OnWalCommit(void* store, sqlite3* db, const char* name,
                         int frames);
  Status Error(const std::string& what) const;
  // `error`; if it says the file is damaged, also leaves a DamageNote.
  Status Noted(const Status& error) const;
  // Asks the kernel to start writing the WAL to disk, without waiting.
  void StartWalWriteback();

  sqlite3* db_;
  Clock* const clock_;
  int schema_version_ = 0;
  std::map<std::string, std::unique_ptr<Statements>> statements_;
  std::unique_ptr<FeedStateTable> feed_states_;  // null if read-only
  // Null if read-only, or when the writer checkpoints (SQLite < 3.51.3).
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<WriterLock> lock_;  // null if read-only
  Millis busy_timeout_{0};
  StopSignal* stop_ = nullptr;  // SqliteSinkOptions'
  std::chrono::steady_clock::time_point busy_since_{};
  int64_t wal_pages_ = 0;
  int64_t wal_frames_ = 0;  // in the WAL at the last commit
  int64_t wal_copied_ = 0;  // of them, copied (or tried) by the last Quiet
  // Quiet's measure of the writer's load: the time spent applying batches
  // since load_since_ (LoadTimer), and its share of the last second (or
  // more) measured; 1 until one has been.
  struct LoadTimer;
  SteadyTime load_since_{};
  SteadyTime::duration load_{};
  double load_share_ = 1;
  std::string path_;
  int wal_fd_ = -1;  // the WAL, for StartWalWriteback; -1 until opened
  std::function<void(const std::string&)> notice_;  // SqliteSinkOptions'
};

}  // namespace stsync

#endif  // STSYNC_SINK_SQLITE_SINK_H_

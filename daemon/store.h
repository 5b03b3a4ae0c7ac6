// Store: the SQLite file stsync keeps in sync.
//
// One table per endpoint (see Endpoint::TableName) with the key column(s),
// modified_on (normalised version), active, data (the record's JSON exactly
// as received), first_seen_at and synced_at; plus _stsync_checkpoints, one
// row per endpoint.
//
// ApplyPage is the heart of the replication guarantee: a page's rows and its
// continueFrom are committed in one transaction, so after a crash at any
// instant the checkpoint never points past data that is missing. An upsert
// never lets an older version (by modified_on) replace a newer one.
//
// The database runs in WAL mode with synchronous=NORMAL: readers in other
// processes never block the writer, and a power loss may drop the last
// committed pages but never corrupts the file or separates rows from their
// checkpoint. New files use 16 KiB pages. A WalCheckpointer copies the WAL
// into the database on its own thread and connection, so the writer rarely
// waits for an fsync.
//
// Errors: kBusy when another process holds the write lock past the busy
// timeout; kIo for everything else (disk full, not a database, a schema
// newer than this binary). On any error of ApplyPage nothing was written.
//
// Thread safety: a Store is used by one thread at a time.
#ifndef STSYNC_STORE_H_
#define STSYNC_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog.h"
#include "clock.h"
#include "page.h"
#include "status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stsync {

class WalCheckpointer;

struct Checkpoint {
  std::string endpoint;
  std::optional<std::string> continue_from;
  std::string updated_at;    // "" if never
  std::string caught_up_at;  // "" if never
  int64_t row_count = 0;
  int64_t pages = 0;
  std::string last_error;  // "" if the last attempt succeeded
  std::string last_error_at;
  int64_t consecutive_failures = 0;
};

struct ApplyStats {
  int64_t inserted = 0;   // new keys
  int64_t updated = 0;    // newer versions of known keys
  int64_t unchanged = 0;  // same or older versions: skipped
};

struct StoreOptions {
  Millis busy_timeout{std::chrono::seconds(5)};
  bool read_only = false;  // for status: never creates or migrates
  // Writes that would grow the file past this fail like a full disk.
  int64_t max_bytes = 0;  // 0: no cap
  // The WAL is copied into the database by a background thread from a
  // quarter of this size on, and restarted (then truncated back to this
  // size) once it reaches it; see WalCheckpointer.
  int64_t wal_bytes = 64 << 20;
};

class Store {
 public:
  // Opens (creating with mode 0640 if missing, unless read_only) and
  // migrates the database at `path`. `clock` must outlive the Store.
  static Result<std::unique_ptr<Store>> Open(const std::string& path,
                                             const StoreOptions& options,
                                             Clock* clock);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates the endpoint's table and index if missing and prepares its
  // statements. Must precede ApplyPage for that endpoint.
  Status EnsureTable(const Endpoint& endpoint);

  // Upserts every row of `page` and stores page.continue_from as the
  // endpoint's checkpoint, in one transaction.
  Result<ApplyStats> ApplyPage(const Endpoint& endpoint, const Page& page);

  // The endpoint's checkpoint, or nullopt if it has none.
  Result<std::optional<Checkpoint>> GetCheckpoint(const std::string& endpoint);
  Result<std::vector<Checkpoint>> Checkpoints();

  // Notes a failed attempt (message shown by `status`); the checkpoint is
  // unchanged.
  Status RecordFailure(const std::string& endpoint, const std::string& message);

  // Makes the next request of `endpoint` start at `from` (a date), or at the
  // configured start if nullopt. Rows are kept.
  Status ResetCheckpoint(const std::string& endpoint,
                         const std::optional<std::string>& from);

  int schema_version() const { return schema_version_; }
  // Background WAL checkpoints that copied frames so far (for tests).
  int background_checkpoints() const;
  // The latest schema version this binary knows.
  static int LatestSchemaVersion();

 private:
  struct Statements;
  struct CheckpointStatement;
  Store(sqlite3* db, Clock* clock);
  Status Exec(const std::string& sql);
  // The first column of the first row of a PRAGMA, as text.
  Result<std::string> Pragma(const std::string& sql);
  Status Migrate();
  // sqlite3_wal_hook: after each commit, with the WAL's length in pages.
  static int OnWalCommit(void* store, sqlite3* db, const char* name,
                         int frames);
  Status Error(const std::string& what) const;

  sqlite3* db_;
  Clock* const clock_;
  int schema_version_ = 0;
  std::map<std::string, std::unique_ptr<Statements>> statements_;
  std::unique_ptr<CheckpointStatement> checkpoint_;  // null if read-only
  std::unique_ptr<WalCheckpointer> checkpointer_;    // null if read-only
  int64_t wal_pages_ = 0;
};

}  // namespace stsync

#endif  // STSYNC_STORE_H_

#include "sink/sqlite_sink.h"

#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/timestamp.h"
#include "sink/damage_note.h"
#include "sink/feed_state_table.h"
#include "sink/reconcile_table.h"
#include "sink/split_range_table.h"
#include "sink/sqlite_schema.h"
#include "sink/sqlite_statement.h"
#include "sink/table_layout.h"
#include "sink/table_views.h"
#include "sink/wal_checkpointer.h"
#include "sink/writer_lock.h"

namespace stsync {
namespace {

// Parameter numbers shared by the insert and update statements.
constexpr int kParentParam = 10;
constexpr int kVersionParam = 11;
constexpr int kActiveParam = 12;
constexpr int kDataParam = 13;
constexpr int kNowParam = 14;

}  // namespace

struct SqliteSink::Statements {
  Stmt insert;  // INSERT ... ON CONFLICT DO NOTHING
  Stmt update;  // UPDATE ... WHERE key AND newer
  Stmt revive;  // UPDATE ... SET deleted_at = NULL WHERE key
  size_t key_count = 0;
  bool has_parent = false;
  // Whether the table may hold rows marked deleted: only then does a row
  // that the update left alone need the revive statement.
  bool has_deleted = false;
};

// Adds the time from its construction to its destruction to the load.
struct SqliteSink::LoadTimer {
  explicit LoadTimer(SqliteSink* s) : sink(s), started(s->clock_->Now()) {}
  ~LoadTimer() { sink->load_ += sink->clock_->Now() - started; }
  SqliteSink* const sink;
  const SteadyTime started;
};

SqliteSink::SqliteSink(sqlite3* db, Clock* clock)
    : db_(db), clock_(clock), load_since_(clock->Now()) {}

SqliteSink::~SqliteSink() {
  statements_.clear();
  feed_states_.reset();
  sqlite3_wal_hook(db_, nullptr, nullptr);
  checkpointer_.reset();
  sqlite3_close_v2(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
  // lock_ goes last, once the file is closed.
}

Status SqliteSink::Error(const std::string& what) const {
  return Noted(SqliteError(db_, what));
}

Status SqliteSink::Noted(const Status& error) const {
  if (error.code() == Status::Code::kCorrupt && !path_.empty()) {
    WriteDamageNote(path_, error.message());
  }
  return error;
}

Status SqliteSink::Exec(const std::string& sql) { return SqliteExec(db_, sql); }

Result<std::unique_ptr<SqliteSink>> SqliteSink::Open(
    const std::string& path, const SqliteSinkOptions& options, Clock* clock) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
    if (access(path.c_str(), F_OK) != 0) {
      return Status::NotFound("database " + path +
                              " does not exist yet (run stsync first)");
    }
  } else {
    flags |= SQLITE_OPEN_READWRITE;
  }
  if (!options.read_only) {
    if (auto note = ReadDamageNote(path)) {
      return Status::Corrupt("database " + path +
                             " was found damaged and is not written until "
                             "`stsync verify` passes (" +
                             path + "-damaged): " + *note);
    }
  }
  std::unique_ptr<WriterLock> lock;
  if (!options.read_only) {
    // Also creates the file, with mode 0640 rather than SQLite's 0644.
    auto acquired = WriterLock::Acquire(path);
    if (!acquired.ok()) return acquired.status();
    lock = std::move(*acquired);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::Io("cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteSink> store(new SqliteSink(db, clock));
  store->notice_ = options.notice;
  store->lock_ = std::move(lock);
  store->busy_timeout_ = options.busy_timeout;
  store->stop_ = options.stop;
  sqlite3_busy_handler(db, &SqliteSink::OnBusy, store.get());
  sqlite3_extended_result_codes(db, 1);

  // The first read tells whether this is an SQLite database at all; nothing
  // is written before it.
  auto version = SqliteQueryText(db, "PRAGMA user_version");
  if (!version.ok()) {
    if (version.status().code() != Status::Code::kCorrupt) {
      return version.status().WithContext("cannot read database " + path);
    }
    // Not an SQLite file at all (or its header is gone): refused, untouched.
    return Status::Io("cannot read database " + path + ": " +
                      sqlite3_errmsg(db));
  }
  store->path_ = path;  // from here on, damage is noted beside the file
  store->schema_version_ = std::stoi(*version);
  if (store->schema_version_ > LatestSchemaVersion()) {
    return Status::Io("database " + path + " has schema version " +
                      std::to_string(store->schema_version_) +
                      ", newer than this stsync supports (" +
                      std::to_string(LatestSchemaVersion()) +
                      "); upgrade stsync");
  }
  if (options.read_only) {
    // A reader is told whose data it reads, if options name a tenant.
    Status owner = CheckOwner(db, path, options.tenant, options.environment,
                              /*record=*/false, clock);
    if (!owner.ok()) return owner;
    return store;
  }
  // Before the first write: another tenant's file is left as it is.
  Status owner = CheckOwner(db, path, options.tenant, options.environment,
                            /*record=*/false, clock);
  if (!owner.ok()) return owner;

  Status s = store->ConfigureWriter(options);
  if (!s.ok()) return s;
  s = MigrateSchema(db, &store->schema_version_, clock, options.notice);
  if (!s.ok()) return store->Noted(s.WithContext("migrating " + path));
  s = CheckOwner(db, path, options.tenant, options.environment,
                 /*record=*/true, clock);
  if (!s.ok()) return store->Noted(s);
  store->feed_states_ = std::make_unique<FeedStateTable>();
  s = store->feed_states_->Prepare(db);
  if (!s.ok()) return store->Noted(s.WithContext(path));
  // SQLite before 3.51.3 can corrupt the file when one connection
  // checkpoints while another commits (the WAL-reset bug). There, only the
  // writer's own connection checkpoints, on its thread (OnWalCommit).
  if (WalCheckpointer::SafeBesideWriter()) {
    auto checkpointer = WalCheckpointer::Start(path);
    if (!checkpointer.ok()) return checkpointer.status();
    store->checkpointer_ = std::move(*checkpointer);
  }
  // Replaces SQLite's automatic checkpoint in the committing thread.
  sqlite3_wal_hook(store->db_, &SqliteSink::OnWalCommit, store.get());
  return store;
}

Status SqliteSink::ConfigureWriter(const SqliteSinkOptions& options) {
  // New files get 16 KiB pages: records of about 1 KB pack better, and a
  // backfill makes a quarter of the write calls (25% faster at 1M records).
  // This takes effect only in a new, empty file; others keep theirs.
  Status ps = Exec("PRAGMA page_size=16384");
  if (!ps.ok()) return ps.WithContext("setting the page size of " + path_);
  auto mode = SqliteQueryText(db_, "PRAGMA journal_mode=WAL");
  if (!mode.ok()) {
    return mode.status().WithContext("cannot enable WAL on " + path_);
  }
  if (*mode != "wal") {
    return Status::Io("database " + path_ +
                      " cannot use WAL mode (journal mode " + *mode + ")");
  }
  // wal_pages_ and max_page_count count pages of the file's size.
  auto page_size = SqliteQueryText(db_, "PRAGMA page_size");
  if (!page_size.ok()) {
    return page_size.status().WithContext("reading the page size of " + path_);
  }
  const int64_t page_bytes = std::stoll(*page_size);
  wal_pages_ = std::max<int64_t>(4, options.wal_size / page_bytes);
  std::string pragmas =
      "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=" +
      std::to_string(options.wal_size) + "; PRAGMA cache_size=-" +
      std::to_string(std::max<int64_t>(1, options.cache_size >> 10)) + ";";
  if (options.max_size > 0) {
    pragmas += "PRAGMA max_page_count=" +
               std::to_string(options.max_size / page_bytes) + ";";
  }
  return Exec(pragmas);
}

int SqliteSink::OnBusy(void* store, int count) {
  SqliteSink* s = static_cast<SqliteSink*>(store);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) s->busy_since_ = now;
  const auto until = s->busy_since_ + s->busy_timeout_;
  if (now >= until || (s->stop_ && s->stop_->stopped())) return 0;
  // Short steps at first (the lock is usually let go within milliseconds),
  // then 50 ms; a stop ends the step at once.
  const auto step = std::min<std::chrono::steady_clock::duration>(
      std::chrono::milliseconds(std::min(1 << std::min(count, 6), 50)),
      until - now);
  if (s->stop_) return s->stop_->WaitUntil(now + step) ? 1 : 0;
  std::this_thread::sleep_for(step);
  return 1;
}

int SqliteSink::OnWalCommit(void* store, sqlite3* db, const char*, int frames) {
  SqliteSink* s = static_cast<SqliteSink*>(store);
  s->wal_frames_ = frames;
  if (frames < s->wal_copied_) s->wal_copied_ = 0;  // the WAL started over
  if (!s->checkpointer_) {
    // The writer copies the WAL itself once it reaches the limit, so that
    // the next transaction restarts it; the fetches in flight go on
    // meanwhile. A checkpoint first fsyncs the WAL: after
    // every other commit the kernel is asked to start writing the WAL out
    // (without waiting), so that fsync finds little left to do. In the
    // benchmark this took a 300k-record backfill from 2.6 s to about 2 s.
    if (frames >= s->wal_pages_) {
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    } else {
      s->StartWalWriteback();
    }
    return SQLITE_OK;
  }
  // From a quarter of the limit on, the background thread copies. Past the
  // limit, the writer copies the rest itself (so that the next transaction
  // restarts the WAL) when the background thread has just finished, and so
  // little is left; past four times the limit, it waits for it.
  if (frames >= s->wal_pages_ * 4 ||
      (frames >= s->wal_pages_ && s->checkpointer_->Idle())) {
    s->checkpointer_->CatchUp(db);
  } else if (frames >= s->wal_pages_ / 4) {
    s->checkpointer_->Request();
  }
  return SQLITE_OK;
}

void SqliteSink::StartWalWriteback() {
  // Our own descriptor of the WAL, not SQLite's: it only asks the kernel to
  // flush the file's pages, which changes nothing SQLite sees. SQLite keeps
  // no POSIX locks on the WAL, so closing it later releases none.
  if (wal_fd_ < 0) {
    wal_fd_ = ::open((path_ + "-wal").c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return;  // only a speed-up: try again next commit
  }
  ::sync_file_range(wal_fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
}

std::string SqliteSink::LibraryVersion() { return sqlite3_libversion(); }

int SqliteSink::background_checkpoints() const {
  return checkpointer_ ? checkpointer_->background_runs() : 0;
}

Status SqliteSink::Prepare(const Endpoint& e) {
  if (statements_.count(e.name)) return Status::Ok();
  if (e.key_fields.empty() || e.key_fields.size() > kMaxKeyFields) {
    return Status::Invalid(e.name + ": an endpoint needs 1 to 4 key fields");
  }
  const std::string table = Quote(e.TableName());
  const std::vector<std::string> keys = e.KeyColumns();
  const std::string parent = e.ParentColumn();
  Status s = Exec(CreateTableSql(e));
  if (s.ok()) s = EnsureDeletedAt(db_, e);
  if (!s.ok()) return s.WithContext("creating table for " + e.name);
  s = SyncView(db_, e);
  if (s.ok()) s = SyncFieldIndexes(db_, e, notice_);
  if (!s.ok()) return s;

  auto st = std::make_unique<Statements>();
  st->key_count = keys.size();
  st->has_parent = !parent.empty();
  std::string cols, vals, where, sets;
  for (size_t i = 0; i < keys.size(); ++i) {
    cols += Quote(keys[i]) + ", ";
    vals += "?" + std::to_string(i + 1) + ", ";
    where +=
        (i ? " AND " : "") + Quote(keys[i]) + " = ?" + std::to_string(i + 1);
  }
  if (st->has_parent) {
    cols += Quote(parent) + ", ";
    vals += "?10, ";
    sets += Quote(parent) + " = ?10, ";
  }
  std::string insert = "INSERT INTO " + table + " (" + cols +
                       "modified_on, active, data, first_seen_at, synced_at) "
                       "VALUES (" +
                       vals + "?11, ?12, ?13, ?14, ?14) ON CONFLICT DO NOTHING";
  // A newer version replaces a row (any version is newer than none), and so
  // does the same version (or none on both sides) with different bytes: the
  // later position in the feed wins, since some feeds re-send a changed
  // record without a newer version (job-canceled-logs is versioned by
  // createdOn). The same bytes write nothing; an older version, or none,
  // never replaces a newer one.
  // A row marked deleted that comes back is cleared, whatever its version.
  std::string update = "UPDATE " + table + " SET " + sets +
                       "modified_on = ?11, active = ?12, data = ?13, "
                       "synced_at = ?14, deleted_at = NULL WHERE " +
                       where +
                       " AND (coalesce(?11 > modified_on, ?11 IS NOT NULL) OR "
                       "(?11 IS modified_on AND data IS NOT ?13))";
  std::string revive = "UPDATE " + table + " SET deleted_at = NULL WHERE " +
                       where + " AND deleted_at IS NOT NULL";
  if (st->insert.Prepare(db_, insert) != SQLITE_OK) {
    return Error("preparing insert for " + e.name);
  }
  if (st->update.Prepare(db_, update) != SQLITE_OK) {
    return Error("preparing update for " + e.name);
  }
  if (st->revive.Prepare(db_, revive) != SQLITE_OK) {
    return Error("preparing revive for " + e.name);
  }
  // One seek in the partial index of deleted rows.
  auto deleted = SqliteQueryText(db_, "SELECT EXISTS (SELECT 1 FROM " + table +
                                          " WHERE deleted_at IS NOT NULL)");
  if (!deleted.ok()) return Noted(deleted.status());
  st->has_deleted = *deleted != "0";
  statements_[e.name] = std::move(st);
  return Status::Ok();
}

Result<ApplyStats> SqliteSink::Apply(const Endpoint& e, const Batch& batch) {
  return ApplyBatch(e, batch, &batch.next, nullptr);
}

Result<ApplyStats> SqliteSink::ApplySplit(const Endpoint& e, const Batch& batch,
                                          const SplitChange& change) {
  return ApplyBatch(e, batch, change.cursor ? &*change.cursor : nullptr,
                    &change);
}

Result<ApplyStats> SqliteSink::ApplyRows(const Endpoint& e,
                                         const Batch& batch) {
  return ApplyBatch(e, batch, nullptr, nullptr);
}

Status SqliteSink::StoreRejects(const Endpoint& e, const Batch& batch,
                                const std::string& now) {
  if (batch.rejects.empty()) return Status::Ok();
  Stmt insert;
  if (insert.Prepare(db_,
                     "INSERT OR IGNORE INTO _stsync_rejects (endpoint, "
                     "position, record_index, reason, data, record_hash, "
                     "rejected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") !=
      SQLITE_OK) {
    return Error(e.name + ": quarantining records");
  }
  for (const Reject& r : batch.rejects) {
    const std::string_view data = batch.Data(r);
    insert.Text(1, e.name);
    insert.Text(2, r.position);
    insert.Int(3, static_cast<int64_t>(r.index));
    insert.Text(4, r.reason);
    sqlite3_bind_blob(insert.get(), 5, data.data(),
                      static_cast<int>(data.size()), SQLITE_STATIC);
    insert.Int(6, static_cast<int64_t>(std::hash<std::string_view>()(data)));
    insert.Text(7, now);
    if (sqlite3_step(insert.get()) != SQLITE_DONE) {
      return Error(e.name + ": quarantining records");
    }
    insert.Reset();
  }
  return Status::Ok();
}

Status SqliteSink::UpsertRows(const Endpoint& e, Statements& st,
                              const Batch& batch, const std::string& now,
                              ApplyStats& stats, Stmt* seen,
                              int64_t* new_keys) {
  Status quarantined = StoreRejects(e, batch, now);
  if (!quarantined.ok()) return quarantined;
  stats.rejected += static_cast<int64_t>(batch.rejects.size());
  // The statements keep pointers into `batch` and `now` until reset.
  auto bind = [&](Stmt& stmt, const Row& row) {
    for (size_t k = 0; k < st.key_count; ++k) {
      stmt.Int(static_cast<int>(k + 1), row.key[k]);
    }
    if (st.has_parent) {
      if (row.has_parent) {
        stmt.Int(kParentParam, row.parent);
      } else {
        stmt.Null(kParentParam);
      }
    }
    stmt.TextNoCopyOrNull(kVersionParam, row.version);
    if (row.active < 0) {
      stmt.Null(kActiveParam);
    } else {
      stmt.Int(kActiveParam, row.active);
    }
    stmt.TextNoCopy(kDataParam, batch.Data(row));
    stmt.TextNoCopy(kNowParam, now);
  };
  auto step = [&](Stmt& stmt, const char* what) -> Status {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) {
      stmt.Reset();
      return Status::Ok();
    }
    Status err = Error(e.name + ": " + what);
    stmt.Reset();
    return err;
  };
  for (const Row& row : batch.rows) {
    if (seen) {
      seen->Text(1, e.name);
      for (size_t k = 0; k < kMaxKeyFields; ++k) {
        seen->Int(static_cast<int>(k + 2), k < st.key_count ? row.key[k] : 0);
      }
      Status s = step(*seen, "noting a key seen");
      if (!s.ok()) return s;
      *new_keys += sqlite3_changes(db_);
    }
    bind(st.insert, row);
    Status s = step(st.insert, "insert");
    if (!s.ok()) return s;
    if (sqlite3_changes(db_) > 0) {
      ++stats.inserted;
      continue;
    }
    // A known key: replace it only with a newer version.
    bind(st.update, row);
    s = step(st.update, "update");
    if (!s.ok()) return s;
    if (sqlite3_changes(db_) == 0 && st.has_deleted) {
      // The same version as stored: still, a row marked deleted is back.
      for (size_t k = 0; k < st.key_count; ++k) {
        st.revive.Int(static_cast<int>(k + 1), row.key[k]);
      }
      s = step(st.revive, "clearing deleted_at");
      if (!s.ok()) return s;
    }
    if (sqlite3_changes(db_) > 0) {
      ++stats.updated;
    } else {
      ++stats.unchanged;
    }
  }
  return Status::Ok();
}

Result<SqliteSink::Statements*> SqliteSink::Writable(const Endpoint& e) {
  auto it = statements_.find(e.name);
  if (it == statements_.end()) {
    return Status::Invalid(e.name + ": Prepare was not called");
  }
  if (!feed_states_) return Status::Invalid("the database is open read-only");
  return it->second.get();
}

Result<ApplyStats> SqliteSink::ApplyBatch(const Endpoint& e, const Batch& batch,
                                          const Cursor* cursor,
                                          const SplitChange* split) {
  LoadTimer timer(this);
  auto writable = Writable(e);
  if (!writable.ok()) return writable.status();
  Statements& st = **writable;
  const std::string now = FormatTimestamp(clock_->WallNow());
  ApplyStats stats;

  Transaction tx(db_);
  Status s = tx.Begin();
  if (!s.ok()) return Noted(s.WithContext(e.name + ": starting transaction"));
  s = UpsertRows(e, st, batch, now, stats, nullptr, nullptr);
  if (s.ok() && cursor) {
    s = feed_states_->Advance(e.name, *cursor, batch.caught_up, stats.inserted,
                              now);
  } else if (s.ok()) {
    // A split first sync's range counts its pages as its feed's.
    s = CountRows(db_, e.name, stats.inserted, split ? 1 : 0);
  }
  if (s.ok() && split) s = StoreSplitChange(db_, e.name, *split);
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) return Noted(s);
  return stats;
}

Result<ReconcileStats> SqliteSink::ApplyReconcile(
    const Endpoint& e, const Batch& batch, const ReconcilePolicy& policy) {
  auto writable = Writable(e);
  if (!writable.ok()) return writable.status();
  Statements& st = **writable;
  const std::string now = FormatTimestamp(clock_->WallNow());
  ReconcileStats stats;

  Transaction tx(db_);
  Status s = tx.Begin();
  if (!s.ok()) return Noted(s.WithContext(e.name + ": starting transaction"));
  auto state = LoadReconcileState(db_, schema_version_, e.name);
  if (!state.ok()) return Noted(state.status());
  // The pass in progress, or one that starts with this batch.
  const bool in_pass = *state && !(*state)->pass_started_at.empty();
  const std::string started = in_pass ? (*state)->pass_started_at : now;
  int64_t seen = in_pass ? (*state)->seen : 0;
  const int64_t pages = (in_pass ? (*state)->pages : 0) + 1;

  Stmt note;
  if (note.Prepare(db_, kNoteSeenSql) != SQLITE_OK) {
    return Error(e.name + ": noting keys seen");
  }
  s = UpsertRows(e, st, batch, now, stats.applied, &note, &seen);
  if (s.ok()) s = CountRows(db_, e.name, stats.applied.inserted);
  if (s.ok() && batch.caught_up) {
    auto outcome = FinishPass(db_, e, started, seen, now, policy);
    if (outcome.ok()) {
      stats.finished = *outcome;
      s = SaveFinishedPass(db_, e.name, started, *outcome);
    } else {
      s = outcome.status();
    }
  } else if (s.ok()) {
    s = SavePassInProgress(db_, e.name, batch.next, started, seen, pages);
  }
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) return Noted(s);
  if (stats.finished && stats.finished->marked > 0) st.has_deleted = true;
  return stats;
}

Result<std::optional<FeedState>> SqliteSink::Load(const std::string& endpoint) {
  auto state = LoadFeedState(db_, schema_version_, endpoint);
  if (!state.ok()) return Noted(state.status());
  if (!state->has_value()) return state;
  std::vector<FeedState> one{std::move(**state)};
  Status ranges = AttachSplitRanges(db_, schema_version_, one);
  if (!ranges.ok()) return Noted(ranges);
  return std::optional<FeedState>(std::move(one[0]));
}

Result<std::vector<FeedState>> SqliteSink::LoadAll() {
  auto states = LoadFeedStates(db_, schema_version_);
  if (!states.ok()) return Noted(states.status());
  Status ranges = AttachSplitRanges(db_, schema_version_, *states);
  if (!ranges.ok()) return Noted(ranges);
  return states;
}

Result<std::optional<std::string>> SqliteSink::NewestVersion(
    const Endpoint& endpoint) {
  return VersionBound(endpoint, "max");
}

Result<std::optional<std::string>> SqliteSink::OldestVersion(
    const Endpoint& endpoint) {
  return VersionBound(endpoint, "min");
}

Result<std::optional<std::string>> SqliteSink::VersionBound(
    const Endpoint& endpoint, const char* bound) {
  Stmt s;
  // max() or min() over the modified_on index: one seek.
  if (s.Prepare(db_, std::string("SELECT ") + bound + "(modified_on) FROM " +
                         Quote(endpoint.TableName())) != SQLITE_OK ||
      sqlite3_step(s.get()) != SQLITE_ROW) {
    return Error("reading the " + std::string(bound) + " version of " +
                 endpoint.name);
  }
  if (sqlite3_column_type(s.get(), 0) == SQLITE_NULL) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(s.ColumnText(0));
}

Result<std::optional<ReconcileState>> SqliteSink::LoadReconcile(
    const std::string& endpoint) {
  auto state = LoadReconcileState(db_, schema_version_, endpoint);
  if (!state.ok()) return Noted(state.status());
  return state;
}

Result<std::vector<ReconcileState>> SqliteSink::LoadAllReconciles() {
  auto states = LoadReconcileStates(db_, schema_version_);
  if (!states.ok()) return Noted(states.status());
  return states;
}

Status SqliteSink::RecordReconcileFailure(const std::string& endpoint,
                                          const std::string& message) {
  return Noted(RecordFailureIn(db_, "_stsync_reconcile", endpoint, message,
                               FormatTimestamp(clock_->WallNow())));
}

Status SqliteSink::RestartReconcile(const std::string& endpoint) {
  return Noted(RestartPass(db_, endpoint));
}

Result<std::optional<std::string>> SqliteSink::FirstStoredAt(
    const Endpoint& endpoint) {
  auto first = stsync::FirstStoredAt(db_, endpoint);
  if (!first.ok()) return Noted(first.status());
  return first;
}

void SqliteSink::Quiet() {
  const SteadyTime now = clock_->Now();
  if (now - load_since_ >= std::chrono::seconds(1)) {
    load_share_ = std::chrono::duration<double>(load_) /
                  std::chrono::duration<double>(now - load_since_);
    load_since_ = now;
    load_ = {};
  }
  // The background thread copies already; or the writer is busy (a
  // backfill bound by the disk), and the copy waits for the limit, where
  // each page that many commits changed (the key index's) is written once.
  if (checkpointer_ || load_share_ >= 0.5) return;
  if (wal_frames_ - wal_copied_ < std::max<int64_t>(1, wal_pages_ / 16)) {
    return;
  }
  // A failure (a full disk) leaves the WAL longer; the copy is tried again
  // after as many frames more, or at the limit.
  int frames = 0, copied = 0;
  wal_copied_ = wal_frames_;
  if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                &frames, &copied) == SQLITE_OK) {
    wal_copied_ = copied;
  }
}

void SqliteSink::Idle() {
  sqlite3_db_release_memory(db_);
#ifdef __GLIBC__
  malloc_trim(0);  // and hand the freed pages back to the system
#endif
}

Status SqliteSink::RecordFailure(const std::string& endpoint,
                                 const std::string& message) {
  return Noted(RecordFailureIn(db_, "_stsync_cursors", endpoint, message,
                               FormatTimestamp(clock_->WallNow())));
}

Status SqliteSink::ResetCursor(const std::string& endpoint,
                               const std::optional<Cursor>& to) {
  Transaction tx(db_);
  Status s = tx.Begin();
  if (s.ok()) {
    s = ResetFeedCursor(db_, endpoint, to, FormatTimestamp(clock_->WallNow()));
  }
  if (s.ok()) s = ForgetSplitRanges(db_, endpoint);
  if (s.ok()) s = tx.Commit();
  return Noted(s);
}

}  // namespace stsync

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
#include "sink/migrations.h"
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

struct SqliteSink::CursorStatement {
  Stmt stmt;  // upserts a feed's state after a batch
};

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

SqliteSink::SqliteSink(sqlite3* db, Clock* clock) : db_(db), clock_(clock) {}

SqliteSink::~SqliteSink() {
  statements_.clear();
  cursor_.reset();
  sqlite3_wal_hook(db_, nullptr, nullptr);
  checkpointer_.reset();
  sqlite3_close_v2(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
  // lock_ goes last, once the file is closed.
}

int SqliteSink::LatestSchemaVersion() {
  return EmbeddedMigrations().empty() ? 0 : EmbeddedMigrations().back().version;
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
  auto version = store->Pragma("PRAGMA user_version");
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
    Status owner = store->CheckOwner(options, /*record=*/false);
    if (!owner.ok()) return owner;
    return store;
  }
  // Before the first write: another tenant's file is left as it is.
  Status owner = store->CheckOwner(options, /*record=*/false);
  if (!owner.ok()) return owner;

  // New files get 16 KiB pages: records of about 1 KB pack better, and a
  // backfill makes a quarter of the write calls (25% faster at 1M records).
  // This takes effect only in a new, empty file; others keep theirs.
  Status ps = store->Exec("PRAGMA page_size=16384");
  if (!ps.ok()) return ps.WithContext("setting the page size of " + path);
  auto mode = store->Pragma("PRAGMA journal_mode=WAL");
  if (!mode.ok()) {
    return mode.status().WithContext("cannot enable WAL on " + path);
  }
  if (*mode != "wal") {
    return Status::Io("database " + path +
                      " cannot use WAL mode (journal mode " + *mode + ")");
  }
  // wal_pages_ and max_page_count count pages of the file's size.
  auto page_size = store->Pragma("PRAGMA page_size");
  if (!page_size.ok()) {
    return page_size.status().WithContext("reading the page size of " + path);
  }
  const int64_t page_bytes = std::stoll(*page_size);
  store->wal_pages_ = std::max<int64_t>(4, options.wal_bytes / page_bytes);
  std::string pragmas =
      "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=" +
      std::to_string(options.wal_bytes) + "; PRAGMA cache_size=-" +
      std::to_string(std::max<int64_t>(1, options.cache_bytes >> 10)) + ";";
  if (options.max_bytes > 0) {
    pragmas += "PRAGMA max_page_count=" +
               std::to_string(options.max_bytes / page_bytes) + ";";
  }
  Status s = store->Exec(pragmas);
  if (!s.ok()) return s;
  s = store->Migrate(options);
  if (!s.ok()) return s.WithContext("migrating " + path);
  s = store->CheckOwner(options, /*record=*/true);
  if (!s.ok()) return s;
  store->cursor_ = std::make_unique<CursorStatement>();
  if (store->cursor_->stmt.Prepare(
          store->db_,
          "INSERT INTO _stsync_cursors (endpoint, cursor, "
          "cursor_updated_at, caught_up_at, row_count, pages, last_error, "
          "last_error_at, consecutive_failures) "
          "VALUES (?1, ?2, ?3, ?4, ?5, 1, NULL, NULL, 0) "
          "ON CONFLICT (endpoint) DO UPDATE SET "
          "cursor = ?2, cursor_updated_at = ?3, "
          "caught_up_at = coalesce(?4, caught_up_at), "
          "row_count = row_count + ?5, pages = pages + 1, "
          "last_error = NULL, last_error_at = NULL, "
          "consecutive_failures = 0") != SQLITE_OK) {
    return store->Error("preparing the cursor statement of " + path);
  }
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
  if (!s->checkpointer_) {
    // The writer copies the WAL itself once it reaches the limit, so that
    // the next transaction restarts it; with prefetch on, the next batch is
    // being fetched meanwhile. A checkpoint first fsyncs the WAL: after
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

Result<std::string> SqliteSink::Pragma(const std::string& sql) {
  Stmt s;
  if (s.Prepare(db_, sql) != SQLITE_OK || sqlite3_step(s.get()) != SQLITE_ROW) {
    return Error(sql);
  }
  return s.ColumnText(0);
}

namespace {

// Schema 3 stores rows in arrival order (table_layout.h). Endpoint tables are
// created on demand, so the migration finds them in the file rather than in
// its SQL script, and converts each in a transaction of its own: a kill in
// the middle leaves the tables not yet converted to the next start.
constexpr int kArrivalOrderSchema = 3;

}  // namespace

Status SqliteSink::CheckOwner(const SqliteSinkOptions& options, bool record) {
  if (options.tenant.empty()) return Status::Ok();
  // A new file, or one older than schema 4, has no owner table yet.
  auto tables =
      Pragma("SELECT count(*) FROM sqlite_master WHERE name = '_stsync_owner'");
  if (!tables.ok()) return tables.status();
  if (*tables == "0") return Status::Ok();
  Stmt read;
  if (read.Prepare(db_, "SELECT tenant, environment FROM _stsync_owner") !=
      SQLITE_OK) {
    return Error("reading the database's tenant");
  }
  int rc = sqlite3_step(read.get());
  if (rc == SQLITE_ROW) {
    const std::string tenant = read.ColumnText(0);
    const std::string environment = read.ColumnText(1);
    if (tenant == options.tenant && environment == options.environment) {
      return Status::Ok();
    }
    return Status::Invalid(
        "database " + path_ + " holds the data of tenant " + tenant + " (" +
        environment + "), not of tenant " + options.tenant + " (" +
        options.environment +
        ") as configured; point database.path at another file for this "
        "tenant, or correct servicetitan.tenant and environment");
  }
  if (rc != SQLITE_DONE) return Error("reading the database's tenant");
  if (!record) return Status::Ok();
  Stmt insert;
  if (insert.Prepare(db_,
                     "INSERT OR IGNORE INTO _stsync_owner (id, tenant, "
                     "environment, recorded_at) VALUES (1, ?1, ?2, ?3)") !=
      SQLITE_OK) {
    return Error("recording the database's tenant");
  }
  insert.Text(1, options.tenant);
  insert.Text(2, options.environment);
  insert.Text(3, FormatTimestamp(clock_->WallNow()));
  if (sqlite3_step(insert.get()) != SQLITE_DONE) {
    return Error("recording the database's tenant");
  }
  return Status::Ok();
}

Status SqliteSink::ConvertTables(const SqliteSinkOptions& options) {
  auto tables = TablesKeyedByRowid(db_);
  if (!tables.ok()) return tables.status();
  for (const std::string& table : *tables) {
    if (options.notice) {
      options.notice("converting table " + table +
                     " to the arrival-order layout; this happens once and "
                     "can take minutes for a large table");
    }
    const SteadyTime started = clock_->Now();
    auto rows = ConvertToArrivalOrder(db_, table);
    if (!rows.ok()) return rows.status();
    if (options.notice) {
      const auto ms =
          std::chrono::duration_cast<Millis>(clock_->Now() - started);
      options.notice("converted table " + table + ": " + std::to_string(*rows) +
                     " rows in " + std::to_string(ms.count()) + " ms");
    }
  }
  return Status::Ok();
}

Status SqliteSink::Migrate(const SqliteSinkOptions& options) {
  for (const Migration& m : EmbeddedMigrations()) {
    if (m.version <= schema_version_) continue;
    if (m.version == kArrivalOrderSchema) {
      Status s = ConvertTables(options);
      if (!s.ok()) return s.WithContext(std::string("migration ") + m.name);
    }
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = Exec(m.sql);
    if (s.ok()) s = Exec("PRAGMA user_version=" + std::to_string(m.version));
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) {
      Exec("ROLLBACK");
      return s.WithContext(std::string("migration ") + m.name);
    }
    schema_version_ = m.version;
  }
  return Status::Ok();
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
  auto deleted = Pragma("SELECT EXISTS (SELECT 1 FROM " + table +
                        " WHERE deleted_at IS NOT NULL)");
  if (!deleted.ok()) return deleted.status();
  st->has_deleted = *deleted != "0";
  statements_[e.name] = std::move(st);
  return Status::Ok();
}

Result<ApplyStats> SqliteSink::Apply(const Endpoint& e, const Batch& page) {
  return ApplyBatch(e, page, /*store_cursor=*/true);
}

Result<ApplyStats> SqliteSink::ApplyRows(const Endpoint& e, const Batch& page) {
  return ApplyBatch(e, page, /*store_cursor=*/false);
}

Status SqliteSink::StoreRejects(const Endpoint& e, const Batch& page,
                                const std::string& now) {
  if (page.rejects.empty()) return Status::Ok();
  Stmt insert;
  if (insert.Prepare(db_,
                     "INSERT OR IGNORE INTO _stsync_rejects (endpoint, "
                     "position, record_index, reason, data, record_hash, "
                     "rejected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") !=
      SQLITE_OK) {
    return Error(e.name + ": quarantining records");
  }
  for (const Reject& r : page.rejects) {
    const std::string_view data = page.Data(r);
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
                              const Batch& page, const std::string& now,
                              ApplyStats& stats, Stmt* seen,
                              int64_t* new_keys) {
  Status quarantined = StoreRejects(e, page, now);
  if (!quarantined.ok()) return quarantined;
  stats.rejected += static_cast<int64_t>(page.rejects.size());
  // The statements keep pointers into `page` and `now` until reset.
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
    stmt.TextNoCopy(kDataParam, page.Data(row));
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
  for (const Row& row : page.rows) {
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
  if (!cursor_) return Status::Invalid("the database is open read-only");
  return it->second.get();
}

Status SqliteSink::Rollback(const Status& error) {
  Exec("ROLLBACK");
  return Noted(error);
}

Result<ApplyStats> SqliteSink::ApplyBatch(const Endpoint& e, const Batch& page,
                                          bool store_cursor) {
  auto writable = Writable(e);
  if (!writable.ok()) return writable.status();
  Statements& st = **writable;
  const std::string now = FormatTimestamp(clock_->WallNow());
  ApplyStats stats;

  Status s = Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s.WithContext(e.name + ": starting transaction");
  s = UpsertRows(e, st, page, now, stats, nullptr, nullptr);
  if (!s.ok()) return Rollback(s);

  if (store_cursor) {
    Stmt& cp = cursor_->stmt;
    cp.Text(1, e.name);
    if (auto stored = page.next.ToStored()) {
      cp.Text(2, *stored);
    } else {
      cp.Null(2);
    }
    cp.Text(3, now);
    if (!page.caught_up) {
      cp.Null(4);
    } else {
      cp.Text(4, now);
    }
    cp.Int(5, stats.inserted);
    const int rc = sqlite3_step(cp.get());
    if (rc != SQLITE_DONE) {
      Status err = Error(e.name + ": writing cursor");
      cp.Reset();
      return Rollback(err);
    }
    cp.Reset();
  } else {
    // Only the row count: a feed never seen gets a state without a cursor.
    s = CountRows(e.name, stats.inserted);
    if (!s.ok()) return Rollback(s);
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Rollback(Error(e.name + ": commit"));
  }
  return stats;
}

Status SqliteSink::CountRows(const std::string& endpoint, int64_t inserted) {
  Stmt count;
  if (count.Prepare(db_,
                    "INSERT INTO _stsync_cursors (endpoint, row_count) "
                    "VALUES (?1, ?2) ON CONFLICT (endpoint) DO UPDATE SET "
                    "row_count = row_count + ?2") != SQLITE_OK) {
    return Error(endpoint + ": counting rows");
  }
  count.Text(1, endpoint);
  count.Int(2, inserted);
  if (sqlite3_step(count.get()) != SQLITE_DONE) {
    return Error(endpoint + ": counting rows");
  }
  return Status::Ok();
}

Result<ReconcileStats> SqliteSink::ApplyReconcile(
    const Endpoint& e, const Batch& page, const ReconcilePolicy& policy) {
  auto writable = Writable(e);
  if (!writable.ok()) return writable.status();
  Statements& st = **writable;
  const std::string now = FormatTimestamp(clock_->WallNow());
  ReconcileStats stats;

  Status s = Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s.WithContext(e.name + ": starting transaction");
  auto state = LoadReconcile(e.name);
  if (!state.ok()) return Rollback(state.status());
  // The pass in progress, or one that starts with this batch.
  const bool in_pass = *state && !(*state)->pass_started_at.empty();
  const std::string started = in_pass ? (*state)->pass_started_at : now;
  int64_t seen = in_pass ? (*state)->seen : 0;
  const int64_t pages = (in_pass ? (*state)->pages : 0) + 1;

  Stmt note;
  if (note.Prepare(db_,
                   "INSERT OR IGNORE INTO _stsync_seen (endpoint, k1, k2, k3, "
                   "k4) VALUES (?1, ?2, ?3, ?4, ?5)") != SQLITE_OK) {
    return Rollback(Error(e.name + ": noting keys seen"));
  }
  s = UpsertRows(e, st, page, now, stats.applied, &note, &seen);
  if (s.ok()) s = CountRows(e.name, stats.applied.inserted);
  if (s.ok() && page.caught_up) {
    auto outcome = FinishReconcile(e, started, seen, now, policy);
    if (outcome.ok()) {
      stats.finished = *outcome;
    } else {
      s = outcome.status();
    }
  }
  if (!s.ok()) return Rollback(s);

  Stmt save;
  if (!stats.finished) {
    if (save.Prepare(db_,
                     "INSERT INTO _stsync_reconcile (endpoint, cursor, "
                     "pass_started_at, seen, pages) VALUES (?1, ?2, ?3, ?4, "
                     "?5) ON CONFLICT (endpoint) DO UPDATE SET cursor = ?2, "
                     "pass_started_at = ?3, seen = ?4, pages = ?5, "
                     "last_error = NULL, last_error_at = NULL, "
                     "consecutive_failures = 0") != SQLITE_OK) {
      return Rollback(Error(e.name + ": saving the pass"));
    }
    if (auto stored = page.next.ToStored()) {
      save.Text(2, *stored);
    } else {
      save.Null(2);
    }
    save.Text(3, started);
    save.Int(4, seen);
    save.Int(5, pages);
  } else {
    const ReconcileOutcome& o = *stats.finished;
    if (save.Prepare(
            db_,
            "INSERT INTO _stsync_reconcile (endpoint, last_started_at, "
            "last_finished_at, last_seen, last_live, last_marked, "
            "last_outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT (endpoint) DO UPDATE SET cursor = NULL, "
            "pass_started_at = NULL, seen = 0, pages = 0, "
            "last_started_at = ?2, last_finished_at = ?3, last_seen = ?4, "
            "last_live = ?5, last_marked = ?6, last_outcome = ?7, "
            "last_error = NULL, last_error_at = NULL, "
            "consecutive_failures = 0") != SQLITE_OK) {
      return Rollback(Error(e.name + ": saving the pass"));
    }
    save.Text(2, started);
    save.Text(3, o.finished_at);
    save.Int(4, o.seen);
    save.Int(5, o.live);
    save.Int(6, o.marked);
    save.Text(7, o.suspicious ? "suspicious: saw too few keys, marked nothing"
                              : "marked");
  }
  save.Text(1, e.name);
  if (sqlite3_step(save.get()) != SQLITE_DONE) {
    return Rollback(Error(e.name + ": saving the pass"));
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Rollback(Error(e.name + ": commit"));
  }
  if (stats.finished && stats.finished->marked > 0) st.has_deleted = true;
  return stats;
}

Result<ReconcileOutcome> SqliteSink::FinishReconcile(
    const Endpoint& e, const std::string& started, int64_t seen,
    const std::string& now, const ReconcilePolicy& policy) {
  const std::string table = Quote(e.TableName());
  ReconcileOutcome o;
  o.seen = seen;
  o.finished_at = now;
  // The key index and the partial index of deleted rows: no table scan.
  auto live = Pragma("SELECT (SELECT count(*) FROM " + table +
                     ") - (SELECT count(*) FROM " + table +
                     " WHERE deleted_at IS NOT NULL)");
  if (!live.ok()) return live.status();
  o.live = std::stoll(*live);
  o.suspicious =
      o.live > 0 && static_cast<double>(seen) <
                        policy.min_seen_fraction * static_cast<double>(o.live);
  if (!o.suspicious) {
    auto start = ParseNormalizedTimestamp(started);
    if (!start) return Status::Io(e.name + ": bad pass start " + started);
    const std::string cutoff = FormatTimestamp(*start - policy.margin);
    // Keys not seen, found by scanning the key index alone; only their rows
    // are then read.
    const std::vector<std::string> keys = e.KeyColumns();
    std::string match;
    for (size_t k = 0; k < kMaxKeyFields; ++k) {
      match += " AND s.k" + std::to_string(k + 1) + " = " +
               (k < keys.size() ? "r." + Quote(keys[k]) : "0");
    }
    Stmt mark;
    if (mark.Prepare(db_,
                     "UPDATE " + table +
                         " SET deleted_at = ?1 WHERE rowid IN (SELECT "
                         "r.rowid FROM " +
                         table +
                         " AS r WHERE NOT EXISTS (SELECT 1 FROM "
                         "_stsync_seen AS s WHERE s.endpoint = ?2" +
                         match +
                         ")) AND deleted_at IS NULL AND synced_at < ?3 "
                         "AND (modified_on IS NULL OR modified_on < ?4)") !=
        SQLITE_OK) {
      return Error(e.name + ": marking deleted rows");
    }
    mark.Text(1, now);
    mark.Text(2, e.name);
    mark.Text(3, started);
    mark.Text(4, cutoff);
    if (sqlite3_step(mark.get()) != SQLITE_DONE) {
      return Error(e.name + ": marking deleted rows");
    }
    o.marked = sqlite3_changes(db_);
  }
  Stmt drop;
  if (drop.Prepare(db_, "DELETE FROM _stsync_seen WHERE endpoint = ?1") !=
      SQLITE_OK) {
    return Error(e.name + ": dropping the keys seen");
  }
  drop.Text(1, e.name);
  if (sqlite3_step(drop.get()) != SQLITE_DONE) {
    return Error(e.name + ": dropping the keys seen");
  }
  return o;
}

namespace {

// The rows `sql` returns, each made by `read`; `endpoint`, if given, is bound
// to ?1. An error names `what`.
template <typename Row>
Result<std::vector<Row>> QueryRows(sqlite3* db, const std::string& sql,
                                   const std::string* endpoint,
                                   Row (*read)(const Stmt&),
                                   const std::string& what) {
  Stmt s;
  if (s.Prepare(db, sql) != SQLITE_OK) return SqliteError(db, what);
  if (endpoint) s.Text(1, *endpoint);
  std::vector<Row> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read(s));
  if (rc != SQLITE_DONE) return SqliteError(db, what);
  return out;
}

// The one row of `endpoint` that `sql` (ending in `WHERE endpoint = ?1`)
// returns, if any.
template <typename Row>
Result<std::optional<Row>> QueryEndpointRow(sqlite3* db, const std::string& sql,
                                            const std::string& endpoint,
                                            Row (*read)(const Stmt&),
                                            const std::string& what) {
  auto rows = QueryRows(db, sql, &endpoint, read, what);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

FeedState ReadFeedState(const Stmt& s) {
  FeedState c;
  c.endpoint = s.ColumnText(0);
  if (sqlite3_column_type(s.get(), 1) != SQLITE_NULL) {
    c.cursor = Cursor::FromStored(s.ColumnText(1));
  }
  c.cursor_updated_at = s.ColumnText(2);
  c.caught_up_at = s.ColumnText(3);
  c.row_count = sqlite3_column_int64(s.get(), 4);
  c.pages = sqlite3_column_int64(s.get(), 5);
  c.last_error = s.ColumnText(6);
  c.last_error_at = s.ColumnText(7);
  c.consecutive_failures = sqlite3_column_int64(s.get(), 8);
  c.rejected = sqlite3_column_int64(s.get(), 9);
  return c;
}

// Quarantined records arrived in schema 6.
constexpr int kRejectsSchema = 6;

// The feed states of a database at `schema_version`. A read-only open (for
// `status`) never migrates, so an older file is read under its old names.
std::string FeedStateQuery(int schema_version) {
  if (schema_version == 1) {
    return "SELECT endpoint, continue_from, updated_at, caught_up_at, "
           "row_count, pages, last_error, last_error_at, "
           "consecutive_failures, 0 FROM _stsync_checkpoints";
  }
  const std::string rejected =
      schema_version >= kRejectsSchema
          ? "(SELECT count(*) FROM _stsync_rejects r WHERE r.endpoint = "
            "c.endpoint)"
          : "0";
  return "SELECT endpoint, cursor, cursor_updated_at, caught_up_at, "
         "row_count, pages, last_error, last_error_at, consecutive_failures, " +
         rejected + " FROM _stsync_cursors c";
}

}  // namespace

Result<std::optional<FeedState>> SqliteSink::Load(const std::string& endpoint) {
  if (schema_version_ == 0) return std::optional<FeedState>();
  return QueryEndpointRow(
      db_, FeedStateQuery(schema_version_) + " WHERE endpoint = ?1", endpoint,
      ReadFeedState, "reading feed state");
}

Result<std::vector<FeedState>> SqliteSink::LoadAll() {
  if (schema_version_ == 0) return std::vector<FeedState>();
  return QueryRows(db_, FeedStateQuery(schema_version_) + " ORDER BY endpoint",
                   nullptr, ReadFeedState, "reading feed states");
}

Result<std::optional<std::string>> SqliteSink::NewestVersion(
    const Endpoint& endpoint) {
  Stmt s;
  // max() over the modified_on index: one seek.
  if (s.Prepare(db_, "SELECT max(modified_on) FROM " +
                         Quote(endpoint.TableName())) != SQLITE_OK ||
      sqlite3_step(s.get()) != SQLITE_ROW) {
    return Error("reading the newest version of " + endpoint.name);
  }
  if (sqlite3_column_type(s.get(), 0) == SQLITE_NULL) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(s.ColumnText(0));
}

namespace {

// Reconciliation state arrived in schema 5.
constexpr int kReconcileSchema = 5;

constexpr const char* kReconcileQuery =
    "SELECT endpoint, cursor, pass_started_at, seen, pages, last_started_at, "
    "last_finished_at, last_seen, last_live, last_marked, last_outcome, "
    "last_error, last_error_at, consecutive_failures FROM _stsync_reconcile";

ReconcileState ReadReconcileState(const Stmt& s) {
  ReconcileState r;
  r.endpoint = s.ColumnText(0);
  if (sqlite3_column_type(s.get(), 1) != SQLITE_NULL) {
    r.cursor = Cursor::FromStored(s.ColumnText(1));
  }
  r.pass_started_at = s.ColumnText(2);
  r.seen = sqlite3_column_int64(s.get(), 3);
  r.pages = sqlite3_column_int64(s.get(), 4);
  r.last_started_at = s.ColumnText(5);
  r.last_finished_at = s.ColumnText(6);
  r.last_seen = sqlite3_column_int64(s.get(), 7);
  r.last_live = sqlite3_column_int64(s.get(), 8);
  r.last_marked = sqlite3_column_int64(s.get(), 9);
  r.last_outcome = s.ColumnText(10);
  r.last_error = s.ColumnText(11);
  r.last_error_at = s.ColumnText(12);
  r.consecutive_failures = sqlite3_column_int64(s.get(), 13);
  return r;
}

}  // namespace

Result<std::optional<ReconcileState>> SqliteSink::LoadReconcile(
    const std::string& endpoint) {
  if (schema_version_ < kReconcileSchema) {
    return std::optional<ReconcileState>();
  }
  return QueryEndpointRow(
      db_, std::string(kReconcileQuery) + " WHERE endpoint = ?1", endpoint,
      ReadReconcileState, "reading reconciliation state");
}

Result<std::vector<ReconcileState>> SqliteSink::LoadAllReconciles() {
  if (schema_version_ < kReconcileSchema) {
    return std::vector<ReconcileState>();
  }
  return QueryRows(db_, std::string(kReconcileQuery) + " ORDER BY endpoint",
                   nullptr, ReadReconcileState,
                   "reading reconciliation states");
}

Status SqliteSink::RecordReconcileFailure(const std::string& endpoint,
                                          const std::string& message) {
  return RecordFailureIn("_stsync_reconcile", endpoint, message);
}

Status SqliteSink::RestartReconcile(const std::string& endpoint) {
  Stmt drop, reset;
  if (drop.Prepare(db_, "DELETE FROM _stsync_seen WHERE endpoint = ?1") !=
          SQLITE_OK ||
      reset.Prepare(db_,
                    "UPDATE _stsync_reconcile SET cursor = NULL, "
                    "pass_started_at = NULL, seen = 0, pages = 0 "
                    "WHERE endpoint = ?1") != SQLITE_OK) {
    return Error(endpoint + ": restarting the reconciliation");
  }
  drop.Text(1, endpoint);
  reset.Text(1, endpoint);
  Status s = Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  if (sqlite3_step(drop.get()) != SQLITE_DONE ||
      sqlite3_step(reset.get()) != SQLITE_DONE) {
    return Rollback(Error(endpoint + ": restarting the reconciliation"));
  }
  s = Exec("COMMIT");
  return s.ok() ? s : Rollback(s);
}

Result<std::optional<std::string>> SqliteSink::FirstStoredAt(
    const Endpoint& endpoint) {
  Stmt s;
  // Rows are stored in arrival order: the first rowid came first.
  if (s.Prepare(db_, "SELECT first_seen_at FROM " +
                         Quote(endpoint.TableName()) +
                         " ORDER BY rowid LIMIT 1") != SQLITE_OK) {
    return Error("reading the first row of " + endpoint.name);
  }
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW)
    return Error("reading the first row of " + endpoint.name);
  return std::optional<std::string>(s.ColumnText(0));
}

void SqliteSink::Idle() {
  sqlite3_db_release_memory(db_);
#ifdef __GLIBC__
  malloc_trim(0);  // and hand the freed pages back to the system
#endif
}

Status SqliteSink::RecordFailure(const std::string& endpoint,
                                 const std::string& message) {
  return RecordFailureIn("_stsync_cursors", endpoint, message);
}

Status SqliteSink::RecordFailureIn(const std::string& table,
                                   const std::string& endpoint,
                                   const std::string& message) {
  Stmt s;
  if (s.Prepare(db_, "INSERT INTO " + table +
                         " (endpoint, last_error, last_error_at, "
                         "consecutive_failures) VALUES (?1, ?2, ?3, 1) "
                         "ON CONFLICT (endpoint) DO UPDATE SET last_error = "
                         "?2, last_error_at = ?3, "
                         "consecutive_failures = consecutive_failures + 1") !=
      SQLITE_OK) {
    return Error("recording a failure of " + endpoint);
  }
  s.Text(1, endpoint);
  s.Text(2, message.substr(0, 1000));
  s.Text(3, FormatTimestamp(clock_->WallNow()));
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return Error("recording a failure of " + endpoint);
  }
  return Status::Ok();
}

Status SqliteSink::ResetCursor(const std::string& endpoint,
                               const std::optional<Cursor>& to) {
  Stmt s;
  if (s.Prepare(
          db_,
          "INSERT INTO _stsync_cursors (endpoint, cursor, "
          "cursor_updated_at) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (endpoint) DO UPDATE SET cursor = ?2, "
          "cursor_updated_at = ?3, caught_up_at = NULL, last_error = NULL, "
          "last_error_at = NULL, consecutive_failures = 0") != SQLITE_OK) {
    return Error("resetting cursor");
  }
  s.Text(1, endpoint);
  if (auto stored = to ? to->ToStored() : std::nullopt) {
    s.Text(2, *stored);
  } else {
    s.Null(2);
  }
  s.Text(3, FormatTimestamp(clock_->WallNow()));
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return Error("resetting cursor");
  }
  return Status::Ok();
}

}  // namespace stsync

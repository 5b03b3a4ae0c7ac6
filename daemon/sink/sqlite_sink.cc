#include "sink/sqlite_sink.h"

#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/timestamp.h"
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
  size_t key_count = 0;
  bool has_parent = false;
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
  return SqliteError(db_, what);
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
    // Create the file ourselves so that it gets mode 0640, not 0644.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      return Status::Io("cannot open database " + path + ": " +
                        std::strerror(errno));
    }
    ::close(fd);
  }
  std::unique_ptr<WriterLock> lock;
  if (!options.read_only) {
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
  store->path_ = path;
  store->notice_ = options.notice;
  store->lock_ = std::move(lock);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  sqlite3_extended_result_codes(db, 1);

  // The first read tells whether this is an SQLite database at all; nothing
  // is written before it.
  auto version = store->Pragma("PRAGMA user_version");
  if (!version.ok()) {
    return version.status().WithContext("cannot read database " + path);
  }
  store->schema_version_ = std::stoi(*version);
  if (store->schema_version_ > LatestSchemaVersion()) {
    return Status::Io("database " + path + " has schema version " +
                      std::to_string(store->schema_version_) +
                      ", newer than this stsync supports (" +
                      std::to_string(LatestSchemaVersion()) +
                      "); upgrade stsync");
  }
  if (options.read_only) return store;
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
  std::string update = "UPDATE " + table + " SET " + sets +
                       "modified_on = ?11, active = ?12, data = ?13, "
                       "synced_at = ?14 WHERE " +
                       where +
                       " AND (coalesce(?11 > modified_on, ?11 IS NOT NULL) OR "
                       "(?11 IS modified_on AND data IS NOT ?13))";
  if (st->insert.Prepare(db_, insert) != SQLITE_OK) {
    return Error("preparing insert for " + e.name);
  }
  if (st->update.Prepare(db_, update) != SQLITE_OK) {
    return Error("preparing update for " + e.name);
  }
  statements_[e.name] = std::move(st);
  return Status::Ok();
}

Result<ApplyStats> SqliteSink::Apply(const Endpoint& e, const Batch& page) {
  return ApplyBatch(e, page, /*store_cursor=*/true);
}

Result<ApplyStats> SqliteSink::ApplyRows(const Endpoint& e, const Batch& page) {
  return ApplyBatch(e, page, /*store_cursor=*/false);
}

Result<ApplyStats> SqliteSink::ApplyBatch(const Endpoint& e, const Batch& page,
                                          bool store_cursor) {
  auto it = statements_.find(e.name);
  if (it == statements_.end()) {
    return Status::Invalid(e.name + ": Prepare was not called");
  }
  if (!cursor_) return Status::Invalid("the database is open read-only");
  Statements& st = *it->second;
  const std::string now = FormatTimestamp(clock_->WallNow());
  ApplyStats stats;

  Status s = Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s.WithContext(e.name + ": starting transaction");

  auto fail = [&](const std::string& what) -> Status {
    Status err = Error(e.name + ": " + what);
    st.insert.Reset();
    st.update.Reset();
    cursor_->stmt.Reset();
    Exec("ROLLBACK");
    return err;
  };

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
  for (const Row& row : page.rows) {
    bind(st.insert, row);
    if (sqlite3_step(st.insert.get()) != SQLITE_DONE) return fail("insert");
    st.insert.Reset();
    if (sqlite3_changes(db_) > 0) {
      ++stats.inserted;
      continue;
    }
    // A known key: replace it only with a newer version.
    bind(st.update, row);
    if (sqlite3_step(st.update.get()) != SQLITE_DONE) return fail("update");
    st.update.Reset();
    if (sqlite3_changes(db_) > 0) {
      ++stats.updated;
    } else {
      ++stats.unchanged;
    }
  }

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
    if (sqlite3_step(cp.get()) != SQLITE_DONE) return fail("writing cursor");
    cp.Reset();
  } else {
    // Only the row count: a feed never seen gets a state without a cursor.
    Stmt count;
    if (count.Prepare(db_,
                      "INSERT INTO _stsync_cursors (endpoint, row_count) "
                      "VALUES (?1, ?2) ON CONFLICT (endpoint) DO UPDATE SET "
                      "row_count = row_count + ?2") != SQLITE_OK) {
      return fail("counting rows");
    }
    count.Text(1, e.name);
    count.Int(2, stats.inserted);
    if (sqlite3_step(count.get()) != SQLITE_DONE) return fail("counting rows");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail("commit");
  }
  return stats;
}

namespace {

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
  return c;
}

// The feed states of a database at `schema_version`. A read-only open (for
// `status`) never migrates, so an older file is read under its old names.
std::string FeedStateQuery(int schema_version) {
  if (schema_version == 1) {
    return "SELECT endpoint, continue_from, updated_at, caught_up_at, "
           "row_count, pages, last_error, last_error_at, "
           "consecutive_failures FROM _stsync_checkpoints";
  }
  return "SELECT endpoint, cursor, cursor_updated_at, caught_up_at, "
         "row_count, pages, last_error, last_error_at, consecutive_failures "
         "FROM _stsync_cursors";
}

}  // namespace

Result<std::optional<FeedState>> SqliteSink::Load(const std::string& endpoint) {
  if (schema_version_ == 0) return std::optional<FeedState>();
  Stmt s;
  if (s.Prepare(db_, FeedStateQuery(schema_version_) +
                         " WHERE endpoint = ?1") != SQLITE_OK) {
    return Error("reading feed state");
  }
  s.Text(1, endpoint);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<FeedState>(ReadFeedState(s));
  if (rc == SQLITE_DONE) return std::optional<FeedState>();
  return Error("reading feed state");
}

Result<std::vector<FeedState>> SqliteSink::LoadAll() {
  std::vector<FeedState> out;
  if (schema_version_ == 0) return out;
  Stmt s;
  if (s.Prepare(db_, FeedStateQuery(schema_version_) + " ORDER BY endpoint") !=
      SQLITE_OK) {
    return Error("reading feed states");
  }
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back(ReadFeedState(s));
  }
  if (rc != SQLITE_DONE) return Error("reading feed states");
  return out;
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

void SqliteSink::Idle() {
  sqlite3_db_release_memory(db_);
#ifdef __GLIBC__
  malloc_trim(0);  // and hand the freed pages back to the system
#endif
}

Status SqliteSink::RecordFailure(const std::string& endpoint,
                                 const std::string& message) {
  Stmt s;
  if (s.Prepare(db_,
                "INSERT INTO _stsync_cursors (endpoint, last_error, "
                "last_error_at, consecutive_failures) VALUES (?1, ?2, ?3, 1) "
                "ON CONFLICT (endpoint) DO UPDATE SET last_error = ?2, "
                "last_error_at = ?3, "
                "consecutive_failures = consecutive_failures + 1") !=
      SQLITE_OK) {
    return Error("recording failure");
  }
  s.Text(1, endpoint);
  s.Text(2, message.substr(0, 1000));
  s.Text(3, FormatTimestamp(clock_->WallNow()));
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Error("recording failure");
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

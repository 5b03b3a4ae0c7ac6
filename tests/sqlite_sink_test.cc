#include "sink/sqlite_sink.h"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "api/page_parser.h"
#include "base/timestamp.h"
#include "config/catalog.h"
#include "fake_clock.h"
#include "sink/migrations.h"
#include "sink/sqlite_schema.h"
#include "test_util.h"

namespace stsync {
namespace {

const Endpoint& Jobs() { return *FindEndpoint("jobs"); }

using test::MakePage;
using test::RecordsPage;

std::unique_ptr<SqliteSink> MustOpen(const std::string& path,
                                     Millis busy = Millis(5000)) {
  SqliteSinkOptions o;
  o.busy_timeout = busy;
  auto s = SqliteSink::Open(path, o, RealClock::Get());
  INFO(s.status().message());
  REQUIRE(s.ok());
  REQUIRE((*s)->Prepare(Jobs()).ok());
  return std::move(s).value();
}

// A second connection, as a user's sqlite3 shell or BI tool would hold.
struct Conn {
  sqlite3* db = nullptr;
  explicit Conn(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  }
  ~Conn() { sqlite3_close(db); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql, ": ", err ? err : "");
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
};

}  // namespace

TEST_CASE(
    "the WAL is checkpointed (in the background only where SQLite is safe) "
    "and stays within four times database.wal_size") {
  test::TempDir dir;
  const std::string path = dir.File("wal.db");
  SqliteSinkOptions o;
  o.wal_size = 1 << 20;  // 256 pages of 4 KiB
  auto opened = SqliteSink::Open(path, o, RealClock::Get());
  REQUIRE(opened.ok());
  SqliteSink& store = **opened;
  REQUIRE(store.Prepare(Jobs()).ok());
  // 40 pages of 100 records of ~2 KiB: about 8 MiB in all.
  const std::string filler = R"(,"notes":")" + std::string(2000, 'x') + R"(")";
  uintmax_t largest_wal = 0;
  for (int p = 0; p < 40; ++p) {
    std::vector<int> ids;
    for (int i = 0; i < 100; ++i) ids.push_back(p * 100 + i + 1);
    auto applied =
        store.Apply(Jobs(), MakePage(ids, "2024-01-01T00:00:00Z",
                                     "t" + std::to_string(p), true, filler));
    REQUIRE(applied.ok());
    largest_wal =
        std::max(largest_wal, std::filesystem::file_size(path + "-wal"));
  }
  INFO("largest WAL ", largest_wal, " bytes");
  // Before 3.51.3 (the WAL-reset bug) only the writer checkpoints.
  const bool safe = sqlite3_libversion_number() >= 3051003;
  CHECK(store.checkpoints_in_background() == safe);
  CHECK((store.background_checkpoints() > 0) == safe);
  // At most 4 x 1 MiB, plus the page that crossed it.
  CHECK(largest_wal < (4 << 20) + (1 << 20));
  Conn reader(path);
  CHECK(reader.Int("SELECT count(*) FROM jobs") == 4000);
  CHECK(test::QueryText(path, "PRAGMA integrity_check") == "ok");
}

TEST_CASE(
    "Quiet copies the WAL into the database when the writer was mostly idle "
    "and not when it was busy") {
  test::TempDir dir;
  const std::string path = dir.File("quiet.db");
  FakeClock clock;
  SqliteSinkOptions o;
  o.wal_size = 4 << 20;  // Quiet copies from 256 KiB on
  auto opened = SqliteSink::Open(path, o, &clock);
  REQUIRE(opened.ok());
  SqliteSink& store = **opened;
  if (store.checkpoints_in_background()) {
    MESSAGE("skipped: SQLite 3.51.3 or newer copies on its own thread");
    return;
  }
  REQUIRE(store.Prepare(Jobs()).ok());
  const std::string filler = R"(,"notes":")" + std::string(2000, 'x') + R"(")";
  int page = 0;
  auto apply = [&](int records) {
    std::vector<int> ids;
    for (int i = 0; i < records; ++i) ids.push_back(page * 1000 + i + 1);
    ++page;
    REQUIRE(
        store
            .Apply(Jobs(), MakePage(ids, "2024-01-01T00:00:00Z",
                                    "t" + std::to_string(page), true, filler))
            .ok());
  };
  auto copied = [&] { return std::filesystem::file_size(path) > 300'000; };
  // 400 KiB in the WAL, applied in no time, but the writer's load is not
  // measured yet (under a second since the open): taken as busy.
  apply(200);
  store.Quiet();
  CHECK_FALSE(copied());
  // The next second spent applying: busy.
  clock.set_step_per_reading(Millis(1000));
  apply(1);
  clock.set_step_per_reading(Millis(0));
  store.Quiet();
  CHECK_FALSE(copied());
  // Then two seconds without a batch: idle.
  clock.Advance(Millis(2000));
  store.Quiet();
  CHECK(copied());
  // Under a sixteenth of the limit since: nothing to copy yet.
  const uintmax_t size = std::filesystem::file_size(path);
  apply(10);
  clock.Advance(Millis(2000));
  store.Quiet();
  CHECK(std::filesystem::file_size(path) == size);
  Conn reader(path);
  CHECK(reader.Int("SELECT count(*) FROM jobs") == 211);
}

TEST_CASE("a new database gets 16 KiB pages, an existing one keeps its own") {
  test::TempDir dir;
  { auto fresh = MustOpen(dir.File("new.db")); }
  CHECK(test::QueryInt(dir.File("new.db"), "PRAGMA page_size") == 16384);
  {
    Conn old(dir.File("old.db"));
    old.Exec("PRAGMA page_size=4096; CREATE TABLE t (x); DROP TABLE t;");
  }
  auto store = MustOpen(dir.File("old.db"));
  REQUIRE(
      store->Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:00Z", "t1")).ok());
  CHECK(test::QueryInt(dir.File("old.db"), "PRAGMA page_size") == 4096);
}

TEST_CASE(
    "another writer holding the lock makes Apply fail as busy, writing "
    "nothing") {
  test::TempDir dir;
  std::string db = dir.File("s.db");
  auto store = MustOpen(db, Millis(100));
  Conn other(db);
  other.Exec("BEGIN IMMEDIATE");
  auto r = store->Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:00Z", "t1"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kBusy);
  other.Exec("COMMIT");
  REQUIRE(
      store->Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:00Z", "t1")).ok());
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1);
}

TEST_CASE(
    "a reader's open transaction neither blocks the writer nor sees half a "
    "page") {
  test::TempDir dir;
  std::string db = dir.File("s.db");
  auto store = MustOpen(db, Millis(100));
  REQUIRE(store->Apply(Jobs(), MakePage({1, 2}, "2024-01-01T00:00:00Z", "t1"))
              .ok());
  Conn reader(db);
  reader.Exec("BEGIN");
  CHECK(reader.Int("SELECT count(*) FROM jobs") == 2);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(store
                ->Apply(Jobs(), MakePage({10 + i}, "2024-01-02T00:00:00Z",
                                         "t" + std::to_string(i + 2)))
                .ok());
  }
  CHECK(reader.Int("SELECT count(*) FROM jobs") == 2);  // its snapshot
  reader.Exec("COMMIT");
  CHECK(reader.Int("SELECT count(*) FROM jobs") == 7);
}

TEST_CASE(
    "the database is created 0640, in WAL mode, at the latest schema version") {
  test::TempDir dir;
  std::string db = dir.File("new.db");
  auto store = MustOpen(db);
  struct stat st;
  REQUIRE(stat(db.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(test::QueryText(db, "PRAGMA journal_mode") == "wal");
  CHECK(test::QueryInt(db, "PRAGMA user_version") == LatestSchemaVersion());
  CHECK(store->schema_version() == LatestSchemaVersion());
  // Reopening does not migrate again.
  store.reset();
  CHECK(MustOpen(db)->schema_version() == LatestSchemaVersion());
}

TEST_CASE(
    "a schema-1 database is read as it is by status, and migrated keeping its "
    "cursors") {
  test::TempDir dir;
  std::string db = dir.File("v1.db");
  {
    // What stsync 0.1 left behind: migration 0001 and one feed's state.
    Conn c(db);
    c.Exec("PRAGMA journal_mode=WAL");
    c.Exec(EmbeddedMigrations().at(0).sql);
    c.Exec(
        "INSERT INTO _stsync_checkpoints (endpoint, continue_from, "
        "updated_at, row_count, pages) VALUES "
        "('jobs', 'tok-7', '2024-01-01T00:00:00.0000000Z', 12, 3), "
        "('customers', '2023-06-01', NULL, 0, 0); PRAGMA user_version = 1");
  }
  SqliteSinkOptions ro;
  ro.read_only = true;
  {
    auto old = SqliteSink::Open(db, ro, RealClock::Get());
    REQUIRE(old.ok());
    CHECK((*old)->schema_version() == 1);
    auto all = (*old)->LoadAll();
    REQUIRE(all.ok());
    REQUIRE(all->size() == 2);
    CHECK((*all)[0].endpoint == "customers");
    CHECK((*all)[0].cursor == Cursor::Date("2023-06-01"));
    CHECK((*all)[1].cursor == Cursor::Position("tok-7"));
    CHECK((*all)[1].row_count == 12);
  }
  CHECK(test::QueryInt(db, "PRAGMA user_version") ==
        1);  // status wrote nothing

  auto store = MustOpen(db);
  CHECK(store->schema_version() == LatestSchemaVersion());
  auto jobs = store->Load("jobs");
  REQUIRE(jobs.ok());
  REQUIRE(jobs->has_value());
  CHECK((*jobs)->cursor == Cursor::Position("tok-7"));
  CHECK((*jobs)->cursor_updated_at == "2024-01-01T00:00:00.0000000Z");
  CHECK((*jobs)->pages == 3);
  CHECK(test::QueryText(db,
                        "SELECT cursor FROM _stsync_cursors WHERE "
                        "endpoint = 'jobs'") == "tok-7");
  // Queries written for 0.1 still read the same through a view.
  CHECK(test::QueryText(db,
                        "SELECT continue_from FROM _stsync_checkpoints "
                        "WHERE endpoint = 'jobs'") == "tok-7");
  CHECK(test::QueryText(db,
                        "SELECT type FROM sqlite_master WHERE name = "
                        "'_stsync_checkpoints'") == "view");
}

TEST_CASE(
    "one process at a time opens a database for writing, readers always") {
  test::TempDir dir;
  std::string db = dir.File("locked.db");
  auto first = MustOpen(db);
  auto second = SqliteSink::Open(db, {}, RealClock::Get());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Status::Code::kBusy);
  CHECK(second.status().message().find(
            "is in use by another stsync process (pid " +
            std::to_string(getpid()) + ")") != std::string::npos);
  SqliteSinkOptions ro;
  ro.read_only = true;
  CHECK(SqliteSink::Open(db, ro, RealClock::Get()).ok());
  first.reset();  // released with the sink
  CHECK(SqliteSink::Open(db, {}, RealClock::Get()).ok());
}

TEST_CASE(
    "deleting the -lock file does not let a second writer in, and a planted "
    "link is refused without touching its target") {
  test::TempDir dir;
  std::string db = dir.File("locked.db");
  {
    auto first = MustOpen(db);
    REQUIRE(::unlink((db + "-lock").c_str()) == 0);
    auto second = SqliteSink::Open(db, {}, RealClock::Get());
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == Status::Code::kBusy);
    CHECK(second.status().message().find("in use by another stsync process") !=
          std::string::npos);
  }
  const std::string victim = dir.File("victim.txt");
  test::WriteFile(victim, "precious\n");
  std::string linked = dir.File("linked.db");
  REQUIRE(::symlink(victim.c_str(), (linked + "-lock").c_str()) == 0);
  auto by_symlink = SqliteSink::Open(linked, {}, RealClock::Get());
  REQUIRE_FALSE(by_symlink.ok());
  CHECK(by_symlink.status().message().find("is a symbolic link") !=
        std::string::npos);
  std::string hard = dir.File("hard.db");
  REQUIRE(::link(victim.c_str(), (hard + "-lock").c_str()) == 0);
  auto by_hard_link = SqliteSink::Open(hard, {}, RealClock::Get());
  REQUIRE_FALSE(by_hard_link.ok());
  CHECK(by_hard_link.status().message().find("single link") !=
        std::string::npos);
  CHECK(test::ReadFile(victim) == "precious\n");
}

TEST_CASE(
    "a newer schema or a file that is not SQLite is refused and left "
    "untouched") {
  test::TempDir dir;
  std::string newer = dir.File("newer.db");
  {
    Conn c(newer);
    c.Exec("PRAGMA user_version = 999; CREATE TABLE t(x)");
  }
  std::string before = test::ReadFile(newer);
  auto s = SqliteSink::Open(newer, {}, RealClock::Get());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find(
            "schema version 999, newer than this stsync") != std::string::npos);
  CHECK(test::ReadFile(newer) == before);

  std::string junk = dir.File("junk.db");
  std::string text(8192, 'x');
  test::WriteFile(junk, text);
  s = SqliteSink::Open(junk, {}, RealClock::Get());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("not a database") != std::string::npos);
  CHECK(test::ReadFile(junk) == text);

  SqliteSinkOptions ro;
  ro.read_only = true;
  s = SqliteSink::Open(dir.File("missing.db"), ro, RealClock::Get());
  CHECK(s.status().code() == Status::Code::kNotFound);
}

// Reconciliation (hard deletes): SqliteSink's part of engine/reconciler.h.

// A sink on `clock`, with jobs prepared.
std::unique_ptr<SqliteSink> OpenWithClock(const std::string& path,
                                          FakeClock* clock) {
  auto s = SqliteSink::Open(path, SqliteSinkOptions(), clock);
  INFO(s.status().message());
  REQUIRE(s.ok());
  REQUIRE((*s)->Prepare(Jobs()).ok());
  return std::move(s).value();
}
TEST_CASE(
    "a finished reconciliation marks the rows it did not see that are older "
    "than its start, and nothing else") {
  test::TempDir dir;
  FakeClock clock;
  const std::string db = dir.File("rec.db");
  auto opened = OpenWithClock(db, &clock);
  SqliteSink& sink = *opened;
  const std::string old = "2023-01-01T00:00:00Z";
  REQUIRE(sink.Apply(Jobs(), MakePage({1, 2, 3, 4, 5, 6}, old, "t1")).ok());
  // Changed ten minutes before the pass: maybe not in the export yet.
  const std::string recent =
      FormatTimestamp(clock.WallNow() - std::chrono::minutes(10));
  REQUIRE(sink.Apply(Jobs(), MakePage({7}, recent, "t2")).ok());
  clock.Advance(std::chrono::minutes(1));

  ReconcilePolicy policy;
  auto first =
      sink.ApplyReconcile(Jobs(), MakePage({1, 2, 3}, old, "r1"), policy);
  REQUIRE(first.ok());
  CHECK_FALSE(first->finished);
  CHECK(first->applied.unchanged == 3);
  auto state = sink.LoadReconcile("jobs");
  REQUIRE(state.ok());
  REQUIRE(state->has_value());
  CHECK((*state)->seen == 3);
  CHECK((*state)->cursor == Cursor::Position("r1"));
  CHECK_FALSE((*state)->pass_started_at.empty());
  // The live feed's cursor is its own.
  CHECK(test::QueryText(db, "SELECT cursor FROM _stsync_cursors") == "t2");

  // Stored by the live feed after the pass began: not marked.
  clock.Advance(std::chrono::minutes(1));
  REQUIRE(sink.Apply(Jobs(), MakePage({8}, old, "t3")).ok());
  clock.Advance(std::chrono::minutes(1));
  auto last = sink.ApplyReconcile(
      Jobs(), MakePage({4, 3}, old, "r2", /*has_more=*/false), policy);
  REQUIRE(last.ok());
  REQUIRE(last->finished);
  CHECK(last->finished->seen == 4);
  CHECK(last->finished->live == 8);
  CHECK(last->finished->marked == 2);
  CHECK_FALSE(last->finished->suspicious);
  const std::string end = FormatTimestamp(clock.WallNow());
  CHECK(test::QueryRows(db,
                        "SELECT id, deleted_at FROM jobs WHERE deleted_at IS "
                        "NOT NULL ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"5", end}, {"6", end}});
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 8);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_seen") == 0);
  state = sink.LoadReconcile("jobs");
  REQUIRE(state.ok());
  CHECK((*state)->pass_started_at.empty());
  CHECK_FALSE((*state)->cursor);
  CHECK((*state)->last_finished_at == end);
  CHECK((*state)->last_marked == 2);
  CHECK((*state)->last_outcome == "marked");
  CHECK(test::QueryText(db, "SELECT cursor FROM _stsync_cursors") == "t3");

  // A row that comes back, even unchanged, is cleared.
  auto back = sink.Apply(Jobs(), MakePage({5}, old, "t4"));
  REQUIRE(back.ok());
  CHECK(back->updated == 1);
  CHECK(test::QueryText(
            db, "SELECT deleted_at IS NULL FROM jobs WHERE id = 5") == "1");
  CHECK(test::QueryText(db, "SELECT deleted_at FROM jobs WHERE id = 6") == end);
}

TEST_CASE(
    "a reconciliation that sees too few keys marks nothing, and a restarted "
    "one forgets its keys") {
  test::TempDir dir;
  FakeClock clock;
  clock.Advance(std::chrono::hours(24 * 365 * 3));
  const std::string db = dir.File("few.db");
  auto opened = OpenWithClock(db, &clock);
  SqliteSink& sink = *opened;
  const std::string old = "2023-01-01T00:00:00Z";
  REQUIRE(sink.Apply(Jobs(), MakePage({1, 2, 3, 4, 5}, old, "t1")).ok());
  clock.Advance(std::chrono::hours(2));

  ReconcilePolicy policy;  // at least half
  auto few = sink.ApplyReconcile(
      Jobs(), MakePage({1, 2}, old, "r1", /*has_more=*/false), policy);
  REQUIRE(few.ok());
  REQUIRE(few->finished);
  CHECK(few->finished->suspicious);
  CHECK(few->finished->marked == 0);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM jobs WHERE deleted_at IS "
                       "NOT NULL") == 0);
  CHECK(test::QueryText(db, "SELECT last_outcome FROM _stsync_reconcile")
            .find("suspicious") == 0);

  policy.min_seen_fraction = 0.4;
  auto enough = sink.ApplyReconcile(
      Jobs(), MakePage({1, 2}, old, "r1", /*has_more=*/false), policy);
  REQUIRE(enough.ok());
  CHECK(enough->finished->marked == 3);

  // An abandoned pass: its keys go, and the next batch starts a new one.
  REQUIRE(
      sink.ApplyReconcile(Jobs(), MakePage({1, 2}, old, "r1"), policy).ok());
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_seen") == 2);
  REQUIRE(sink.RestartReconcile("jobs").ok());
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_seen") == 0);
  auto state = sink.LoadReconcile("jobs");
  REQUIRE(state.ok());
  CHECK((*state)->pass_started_at.empty());
  CHECK((*state)->last_marked == 3);  // the last finished pass is kept
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "a split first sync's ranges are stored with their page's rows, never "
    "without them, and a reset forgets them") {
  test::TempDir dir;
  std::string db = dir.File("s.db");
  auto store = MustOpen(db, Millis(50));
  // The first page splits the feed: its own cursor moves to the last
  // range's start, two ranges before it.
  SplitChange plan;
  plan.cursor = Cursor::Date("2024-06-01");
  SplitRange first{1, "2024-03-01", Cursor::Position("t1"),
                   "2024-01-01T00:00:00.0000000Z"};
  SplitRange second{2, "2024-06-01", Cursor::Date("2024-03-01"), ""};
  plan.put = {first, second};
  REQUIRE(store
              ->ApplySplit(Jobs(),
                           MakePage({1, 2}, "2024-01-01T00:00:00Z", "t1"), plan)
              .ok());
  auto cp = store->Load("jobs");
  REQUIRE(cp.ok());
  CHECK((*cp)->cursor == Cursor::Date("2024-06-01"));
  CHECK((*cp)->row_count == 2);
  CHECK((*cp)->ranges == std::vector<SplitRange>{first, second});

  // A range's page that cannot be written (another writer holds the file)
  // stores neither its rows nor its range's move.
  SplitChange moved;
  SplitRange second_on{2, "2024-06-01", Cursor::Position("t9"),
                       "2024-04-01T00:00:00.0000000Z"};
  moved.put = {second_on};
  moved.done = {1};
  {
    Conn other(db);
    other.Exec("BEGIN IMMEDIATE");
    auto busy = store->ApplySplit(
        Jobs(), MakePage({7}, "2024-04-01T00:00:00Z", "t9"), moved);
    CHECK(busy.status().code() == Status::Code::kBusy);
    other.Exec("ROLLBACK");
  }
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 2);
  CHECK((*store->Load("jobs"))->ranges ==
        std::vector<SplitRange>{first, second});

  // Written: the range moves, the met one is gone, the feed's own cursor
  // stays where it was, and its row count grows.
  REQUIRE(store
              ->ApplySplit(Jobs(), MakePage({7}, "2024-04-01T00:00:00Z", "t9"),
                           moved)
              .ok());
  cp = store->Load("jobs");
  CHECK((*cp)->cursor == Cursor::Date("2024-06-01"));
  CHECK((*cp)->row_count == 3);
  CHECK((*cp)->pages == 2);
  CHECK((*cp)->ranges == std::vector<SplitRange>{second_on});
  auto all = store->LoadAll();
  REQUIRE(all.ok());
  CHECK(all->at(0).ranges == std::vector<SplitRange>{second_on});

  REQUIRE(store->ResetCursor("jobs", std::nullopt).ok());
  CHECK((*store->Load("jobs"))->ranges.empty());
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_ranges") == 0);
}

}  // namespace stsync

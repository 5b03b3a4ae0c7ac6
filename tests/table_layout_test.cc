// The arrival-order table layout (sink/table_layout.h) and the conversion of
// tables written by stsync 0.2 into it.
#include "sink/table_layout.h"

#include <doctest/doctest.h>

#include "api/page_parser.h"
#include "config/catalog.h"
#include "sink/sqlite_schema.h"
#include "sink/sqlite_sink.h"
#include "test_util.h"

namespace stsync {
namespace {

const Endpoint& Jobs() { return *FindEndpoint("jobs"); }

Batch JobsPage(const std::vector<int64_t>& ids, const std::string& token) {
  std::string data;
  for (int64_t id : ids) {
    if (!data.empty()) data += ",";
    data += R"({"id":)" + std::to_string(id) +
            R"(,"modifiedOn":"2025-01-01T00:00:00Z","active":true})";
  }
  auto p = ParseExportPage(R"({"hasMore":true,"continueFrom":")" + token +
                               R"(","data":[)" + data + "]}",
                           Jobs());
  REQUIRE(p.ok());
  return std::move(p).value();
}

std::unique_ptr<SqliteSink> Open(const std::string& path,
                                 std::vector<std::string>* notices = nullptr) {
  SqliteSinkOptions o;
  if (notices) {
    o.notice = [notices](const std::string& m) { notices->push_back(m); };
  }
  auto s = SqliteSink::Open(path, o, RealClock::Get());
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(s).value();
}

// Columns of `table` that are part of its primary key; 0 in the new layout
// for a single key (the rowid is SQLite's own).
int64_t PrimaryKeyColumns(const std::string& db, const std::string& table) {
  return test::QueryInt(
      db, "SELECT count(*) FROM pragma_table_info('" + table + "') WHERE pk");
}

std::string QueryPlan(const std::string& db, const std::string& sql) {
  std::string plan;
  for (const auto& row : test::QueryRows(db, "EXPLAIN QUERY PLAN " + sql)) {
    plan += row.back() + "\n";
  }
  return plan;
}

}  // namespace

TEST_CASE(
    "rows are stored in arrival order and found by key through an index") {
  test::TempDir dir;
  const std::string db = dir.File("layout.db");
  auto sink = Open(db);
  REQUIRE(sink->Prepare(Jobs()).ok());
  REQUIRE(sink->Apply(Jobs(), JobsPage({900, 300, 700}, "t1")).ok());
  REQUIRE(sink->Apply(Jobs(), JobsPage({100, 300}, "t2")).ok());

  CHECK(test::QueryRows(db, "SELECT id FROM jobs ORDER BY rowid") ==
        std::vector<std::vector<std::string>>{
            {"900"}, {"300"}, {"700"}, {"100"}});
  CHECK(PrimaryKeyColumns(db, "jobs") == 0);
  CHECK(QueryPlan(db, "SELECT data FROM jobs WHERE id = 300")
            .find("USING INDEX sqlite_autoindex_jobs_1 (id=?)") !=
        std::string::npos);
  // The key stays unique and required.
  sqlite3* c = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &c) == SQLITE_OK);
  CHECK(sqlite3_exec(c,
                     "INSERT INTO jobs (id, data, first_seen_at, synced_at) "
                     "VALUES (300, '{}', 'x', 'x')",
                     nullptr, nullptr, nullptr) == SQLITE_CONSTRAINT);
  CHECK(sqlite3_exec(c,
                     "INSERT INTO jobs (id, data, first_seen_at, synced_at) "
                     "VALUES (NULL, '{}', 'x', 'x')",
                     nullptr, nullptr, nullptr) == SQLITE_CONSTRAINT);
  sqlite3_close(c);

  // Composite keys were a unique index beside the rowid already.
  const Endpoint& ratings = *FindEndpoint("technician-ratings");
  REQUIRE(sink->Prepare(ratings).ok());
  CHECK(PrimaryKeyColumns(db, ratings.TableName()) == 2);
}

TEST_CASE(
    "a table of the old layout is converted once, keeping its rows, columns, "
    "indexes, triggers, views and cursor") {
  test::TempDir dir;
  const std::string db = dir.File("v2.db");
  test::WriteSchema2Database(db, 1000, 64);
  {
    sqlite3* c = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &c) == SQLITE_OK);
    // What a user may have added, and a table of their own.
    REQUIRE(sqlite3_exec(
                c,
                "ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT 'n/a';"
                "UPDATE jobs SET note = 'checked' WHERE id % 3 = 0;"
                "CREATE INDEX jobs_pad ON jobs (json_extract(data, '$.pad'));"
                "CREATE VIEW active_jobs AS SELECT id, note FROM jobs "
                "  WHERE active;"
                "CREATE TABLE audit (job INTEGER);"
                "CREATE TRIGGER jobs_audit AFTER INSERT ON jobs "
                "  BEGIN INSERT INTO audit VALUES (new.id); END;"
                "CREATE TABLE mine (id INTEGER PRIMARY KEY, data TEXT, "
                "  synced_at TEXT);"
                "INSERT INTO mine VALUES (1, 'x', 'y');"
                "INSERT INTO _stsync_cursors (endpoint, cursor, row_count, "
                "  pages) VALUES ('jobs', 'tok-9', 1000, 5);",
                nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(c);
  }
  const std::string rows_sql =
      "SELECT id, modified_on, active, data, first_seen_at, synced_at, note "
      "FROM jobs ORDER BY id";
  const auto before = test::QueryRows(db, rows_sql);
  REQUIRE(before.size() == 1000);

  {
    // A read-only open (status) leaves the file as it is.
    SqliteSinkOptions ro;
    ro.read_only = true;
    auto old = SqliteSink::Open(db, ro, RealClock::Get());
    REQUIRE(old.ok());
    CHECK((*old)->schema_version() == 2);
  }
  CHECK(PrimaryKeyColumns(db, "jobs") == 1);

  std::vector<std::string> notices;
  auto sink = Open(db, &notices);
  CHECK(sink->schema_version() == LatestSchemaVersion());
  REQUIRE(notices.size() == 2);
  CHECK(notices[0].find("converting table jobs") != std::string::npos);
  CHECK(notices[1].find("converted table jobs: 1000 rows") !=
        std::string::npos);

  CHECK(PrimaryKeyColumns(db, "jobs") == 0);
  CHECK(PrimaryKeyColumns(db, "mine") == 1);  // not stsync's: untouched
  CHECK(test::QueryRows(db, rows_sql) == before);
  CHECK(test::QueryText(db, "PRAGMA integrity_check") == "ok");
  CHECK(test::QueryInt(db, "SELECT count(*) FROM active_jobs") == 500);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM audit") == 0);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM sqlite_master WHERE name IN "
                       "('jobs_pad', 'jobs_modified_on', 'jobs_audit', "
                       "'sqlite_autoindex_jobs_1')") == 4);
  CHECK(QueryPlan(db, "SELECT data FROM jobs WHERE id = 1000000007")
            .find("USING INDEX sqlite_autoindex_jobs_1") != std::string::npos);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM sqlite_master WHERE name "
                       "LIKE '%converting%'") == 0);

  // The feed resumes where it was, and new rows go after the old ones.
  REQUIRE(sink->Prepare(Jobs()).ok());
  auto state = sink->Load("jobs");
  REQUIRE(state.ok());
  REQUIRE(state->has_value());
  CHECK((*state)->cursor == Cursor::Position("tok-9"));
  REQUIRE(sink->Apply(Jobs(), JobsPage({5, 1000000002}, "tok-10")).ok());
  CHECK(test::QueryInt(db, "SELECT id FROM jobs ORDER BY rowid DESC LIMIT 1") ==
        5);
  CHECK(test::QueryText(db, "SELECT note FROM jobs WHERE id = 5") == "n/a");
  CHECK(test::QueryInt(db, "SELECT count(*) FROM audit") == 1);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1001);

  // Opened again, nothing is left to convert.
  sink.reset();
  notices.clear();
  Open(db, &notices);
  CHECK(notices.empty());
}

}  // namespace stsync

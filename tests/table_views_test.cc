// The <table>_v views and the config's field indexes (sink/table_views.h).
#include "sink/table_views.h"

#include <doctest/doctest.h>

#include "config/catalog.h"
#include "sink/sqlite_sink.h"
#include "test_util.h"

namespace stsync {
namespace {

// Opens `path` as the daemon would and prepares `e`; the sink is closed on
// return.
Status PrepareOnce(const std::string& path, const Endpoint& e,
                   std::vector<std::string>* notices = nullptr) {
  SqliteSinkOptions o;
  o.notice = [notices](const std::string& m) {
    if (notices) notices->push_back(m);
  };
  auto sink = SqliteSink::Open(path, o, RealClock::Get());
  if (!sink.ok()) return sink.status();
  return (*sink)->Prepare(e);
}

std::vector<std::string> Columns(const std::string& db,
                                 const std::string& table) {
  std::vector<std::string> out;
  for (const auto& row : test::QueryRows(
           db, "SELECT name FROM pragma_table_info('" + table + "')")) {
    out.push_back(row[0]);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "every table has a view whose columns are its records' scalar fields, "
    "named as in the JSON") {
  fake::FakeServer server(
      test::SmallFake({"jobs", "job-history", "job-types"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("views.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[jobs, job-history, job-types]"));
  REQUIRE(test::SyncOnce(config).Failed() == 0);

  const Endpoint& jobs = *FindEndpoint("jobs");
  // The record's fields, then deleted_at (hard deletes, reconciler.h).
  std::vector<std::string> columns = jobs.view_fields;
  columns.push_back("deleted_at");
  CHECK(Columns(db, "jobs_v") == columns);
  CHECK(jobs.view_fields.size() > 20);
  // Each column is the field of the row's JSON; nested objects stay out.
  CHECK(
      test::QueryInt(db,
                     "SELECT count(*) FROM jobs_v v JOIN jobs t ON t.id = v.id "
                     "WHERE v.jobNumber IS json_extract(t.data, '$.jobNumber') "
                     "AND v.customerId = json_extract(t.data, '$.customerId') "
                     "AND v.active = t.active") == 30);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM pragma_table_info('jobs_v') "
                       "WHERE name = 'customFields'") == 0);
  // An exploded row: its entry's fields, and the parent under its name.
  auto history = Columns(db, "job_history_v");
  REQUIRE(history.size() > 2);
  CHECK(history[history.size() - 2] == "jobId");
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM job_history_v v JOIN job_history "
                       "h ON h.id = v.id AND h.job_id = v.jobId") ==
        test::QueryInt(db, "SELECT count(*) FROM job_history"));
  // A list endpoint's view, and a join the demo data can answer.
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM jobs_v j JOIN job_types_v t ON "
                       "t.id = j.jobTypeId WHERE t.name IS NOT NULL") > 0);
}

TEST_CASE(
    "a view is replaced when the catalog's fields change, and only then") {
  test::TempDir dir;
  const std::string db = dir.File("replace.db");
  Endpoint e = *FindEndpoint("zones");
  e.view_fields = {"id", "name"};
  REQUIRE(PrepareOnce(db, e).ok());
  CHECK(Columns(db, "zones_v") ==
        std::vector<std::string>{"id", "name", "deleted_at"});
  const int64_t cookie = test::QueryInt(db, "PRAGMA schema_version");
  REQUIRE(PrepareOnce(db, e).ok());
  CHECK(test::QueryInt(db, "PRAGMA schema_version") == cookie);
  e.view_fields = {"id", "name", "active"};
  REQUIRE(PrepareOnce(db, e).ok());
  CHECK(Columns(db, "zones_v") ==
        std::vector<std::string>{"id", "name", "active", "deleted_at"});
  // A custom endpoint (no spec) gets no view.
  Endpoint custom;
  custom.name = "widgets";
  custom.path = "/w/v2/tenant/{tenant}/export/widgets";
  REQUIRE(PrepareOnce(db, custom).ok());
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM sqlite_master WHERE name = "
                       "'widgets_v'") == 0);
}

TEST_CASE("a user's table with the view's name is an error that names it") {
  test::TempDir dir;
  const std::string db = dir.File("clash.db");
  test::Exec(db, "CREATE TABLE zones_v (x)");
  Status s = PrepareOnce(db, *FindEndpoint("zones"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() ==
        "cannot create the view zones_v: a table of that name exists; "
        "rename it");
}

TEST_CASE(
    "field indexes are added and removed without a resync, and a query on "
    "the view uses them") {
  test::TempDir dir;
  const std::string db = dir.File("index.db");
  Endpoint jobs = *FindEndpoint("jobs");
  REQUIRE(PrepareOnce(db, jobs).ok());
  test::Exec(db,
             "INSERT INTO jobs (id, modified_on, active, data, "
             "first_seen_at, synced_at) VALUES (1, 'x', 1, "
             "'{\"id\":1,\"customerId\":77}', 'x', 'x'); "
             "CREATE INDEX mine ON jobs (synced_at)");
  const std::string plan =
      "EXPLAIN QUERY PLAN SELECT id FROM jobs_v WHERE customerId = 77";
  CHECK(test::QueryRows(db, plan)[0][3].find("stsync_ix_jobs_customerId") ==
        std::string::npos);

  jobs.indexed_fields = {"customerId", "jobTypeId"};
  std::vector<std::string> notices;
  REQUIRE(PrepareOnce(db, jobs, &notices).ok());
  CHECK(notices == std::vector<std::string>{
                       "indexing jobs.customerId as stsync_ix_jobs_customerId",
                       "indexing jobs.jobTypeId as stsync_ix_jobs_jobTypeId"});
  CHECK(test::QueryRows(db, plan)[0][3] ==
        "SEARCH jobs USING INDEX stsync_ix_jobs_customerId (<expr>=?)");
  CHECK(test::QueryInt(db, "SELECT id FROM jobs_v WHERE customerId = 77") == 1);

  jobs.indexed_fields = {"jobTypeId"};
  notices.clear();
  REQUIRE(PrepareOnce(db, jobs, &notices).ok());
  CHECK(notices == std::vector<std::string>{
                       "dropping index stsync_ix_jobs_customerId (no longer "
                       "configured)"});
  CHECK(test::QueryRows(db,
                        "SELECT name FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = 'jobs' AND sql IS NOT NULL ORDER BY "
                        "name") ==
        std::vector<std::vector<std::string>>{{"jobs_deleted_at"},
                                              {"jobs_modified_on"},
                                              {"mine"},
                                              {"stsync_ix_jobs_jobTypeId"}});
  // The rows were never touched.
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1);
}

}  // namespace stsync

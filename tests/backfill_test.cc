// stsync backfill (engine/backfill.h): a range re-exported into the table,
// the live cursor untouched.
#include "engine/backfill.h"

#include <doctest/doctest.h>
#include <signal.h>

#include "base/timestamp.h"
#include "engine/split_days.h"
#include "test_util.h"

namespace stsync {
namespace {

// The live feed's state, as status shows it.
std::vector<std::vector<std::string>> StoredFeedState(const std::string& db) {
  return test::QueryRows(db,
                         "SELECT endpoint, cursor, pages, caught_up_at, "
                         "cursor_updated_at FROM _stsync_cursors ORDER BY "
                         "endpoint");
}

// An export page of jobs with these versions, continuing at `next`.
std::string JobsPage(const std::vector<std::string>& versions, int first_id,
                     const std::string& next, bool more) {
  std::string data;
  for (size_t i = 0; i < versions.size(); ++i) {
    data += (i ? "," : "") + std::string(R"({"id":)") +
            std::to_string(first_id + static_cast<int>(i)) +
            R"(,"modifiedOn":")" + versions[i] + R"("})";
  }
  return R"({"hasMore":)" + std::string(more ? "true" : "false") +
         R"(,"continueFrom":")" + next + R"(","data":[)" + data + "]}";
}

}  // namespace

TEST_CASE(
    "a backfill re-exports a range into the table and leaves the live "
    "cursor alone") {
  fake::FakeServer server(test::SmallFake({"jobs", "zones"}, 60, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("backfill.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[jobs, {name: zones, page_size: 10}]"));
  REQUIRE(test::SyncOnce(config).Failed() == 0);
  const auto state = StoredFeedState(db);
  // A bug lost rows and mangled others.
  test::Exec(db,
             "DELETE FROM jobs WHERE id % 7 = 0; DELETE FROM zones WHERE id "
             "% 5 = 0; UPDATE jobs SET data = '{}', modified_on = "
             "'2000-01-01T00:00:00.0000000Z' WHERE id % 7 = 1");
  REQUIRE(test::TableData(db, "jobs") != server.TruthRows("jobs"));
  const size_t before = server.Requests().size();
  for (const char* e : {"jobs", "zones"}) {
    auto r = CreateBackfill(config, {e, "2024-01-01", std::nullopt});
    REQUIRE(r.ok());
    CHECK((*r)->Run(Scheduler::Mode::kDrain).Failed() == 0);
  }
  CHECK(test::TableData(db, "jobs") == server.TruthRows("jobs"));
  CHECK(test::TableData(db, "zones") == server.TruthRows("zones"));
  CHECK(StoredFeedState(db) == state);
  // It started at the date, and went through the whole feed.
  auto requests = server.Requests();
  REQUIRE(requests.size() > before);
  CHECK(requests[before].from == "2024-01-01");
  // jobs: 6 pages of 10; zones: 7, as each keyed page after the first
  // starts with the record the one before ended on.
  CHECK(requests.size() - before == 6 + 7);
}

TEST_CASE("a backfill ends at the page that reaches --to") {
  test::TempDir dir;
  const std::string db = dir.File("bounded.db");
  Config config = test::MustParseConfig(
      "servicetitan:\n  tenant: 1\n  client_id: c\n  client_secret: s\n"
      "  app_key: k\n  api_url: http://127.0.0.1:9\n"
      "  auth_url: http://127.0.0.1:9/connect/token\n"
      "database:\n  path: " +
      db + "\ndefaults:\n  split_first_sync: false\nendpoints: [jobs]\n");
  auto transport = std::make_unique<test::ScriptedTransport>();
  test::ScriptedTransport* t = transport.get();
  t->Push(200, JobsPage({"2024-03-01T00:00:00Z", "2024-03-15T00:00:00Z"}, 1,
                        "p1", true));
  t->Push(200, JobsPage({"2024-03-20T00:00:00Z", "2024-04-02T00:00:00Z"}, 3,
                        "p2", true));
  t->Push(200, JobsPage({"2024-05-01T00:00:00Z"}, 5, "p3", false));
  ReplicatorSeams seams;
  seams.transport = std::move(transport);
  auto r = CreateBackfill(config, {"jobs", "2024-03-01", "2024-04-01"},
                          std::move(seams));
  REQUIRE(r.ok());
  CHECK((*r)->Run(Scheduler::Mode::kDrain).Failed() == 0);
  // The second page holds a record of April: the range is done there, and
  // that page is stored whole.
  int gets = 0;
  for (const auto& c : t->calls()) gets += c.method == "GET";
  CHECK(gets == 2);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 4);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM _stsync_cursors WHERE "
                       "cursor IS NOT NULL") == 0);
  CHECK(test::QueryInt(db, "SELECT row_count FROM _stsync_cursors") == 4);
}

TEST_CASE(
    "a backfill of an export with years of history is split by date up to "
    "--to, stores no ranges and leaves the live cursor alone") {
  fake::FakeOptions options = test::SmallFake({"jobs"}, 3000, 50);
  options.history_days = 1000;
  fake::FakeServer server(options);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("split.db");
  Config config = test::MustParseConfig(
      test::Replace(test::FakeConfigYaml(server, db, "[jobs]"),
                    "split_first_sync: false", "split_first_sync: true"));
  REQUIRE(test::SyncOnce(config).Failed() == 0);
  const auto state = StoredFeedState(db);
  test::Exec(db, "CREATE TABLE saved AS SELECT * FROM jobs; DELETE FROM jobs");
  const size_t before = server.Requests().size();
  // Up to 400 days ago: a third of the records, the older ones.
  const std::string to = DateOfDay(DayOf(RealClock::Get()->WallNow()) - 400);
  auto r = CreateBackfill(config, {"jobs", "2000-01-01", to});
  REQUIRE(r.ok());
  CHECK((*r)->Run(Scheduler::Mode::kDrain).Failed() == 0);
  // Every record before --to is back, as it was.
  const std::string below = " WHERE modified_on < '" + to + "'";
  CHECK(test::QueryInt(db, "SELECT count(*) FROM saved" + below) > 1000);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM (SELECT id, data FROM saved" +
                               below + " EXCEPT SELECT id, data FROM jobs)") ==
        0);
  // Asked for by date ranges, each starting before --to.
  const auto requests = server.Requests();
  int dated = 0;
  for (size_t i = before + 1; i < requests.size(); ++i) {
    if (!IsCalendarDate(requests[i].from)) continue;
    ++dated;
    CHECK(requests[i].from < to);
  }
  CHECK(dated >= 3);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_ranges") == 0);
  CHECK(StoredFeedState(db) == state);
}

TEST_CASE("backfill checks its range and is refused while a daemon writes") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 20, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("refused.db");
  const std::string cfg = dir.File("refused.yaml");
  test::WriteFile(cfg, test::FakeConfigYaml(server, db, "[jobs]"));
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"jobs"}, "--from DATE is required"},
           {{"zones", "--from", "2024-01-01"}, "endpoint 'zones' is not in"},
           {{"jobs", "--from", "2024-13-01"}, "--from '2024-13-01' is not a"},
           {{"jobs", "--from", "2024-01-01", "--to", "2024-02-01T00:00"},
            "--to '2024-02-01T00:00' is not a date"},
           {{"jobs", "--from", "2024-02-01", "--to", "2024-01-01"},
            "--to 2024-01-01 is not after --from 2024-02-01"}}) {
    std::vector<std::string> argv = {STSYNC_BIN, "backfill", "-c", cfg};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = test::Run(argv);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(message) != std::string::npos);
  }
  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  REQUIRE(test::WaitForPages(db, 2, std::chrono::seconds(20)));
  auto refused = test::Run(
      {STSYNC_BIN, "backfill", "-c", cfg, "jobs", "--from", "2024-01-01"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("is in use by another stsync process") !=
        std::string::npos);
  run.Signal(SIGTERM);
  CHECK(run.Wait(std::chrono::seconds(10)).exit_code == 0);
  auto ok = test::Run(
      {STSYNC_BIN, "backfill", "-c", cfg, "jobs", "--from", "2024-01-01"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.err.find("the endpoint's cursor was not moved") !=
        std::string::npos);
}

}  // namespace stsync

// Hard deletes end to end: the real Replicator and SqliteSink against the
// fake server, whose records can be deleted outright (engine/reconciler.h).
// The scheduler runs on a FakeClock, so a pass falls due without sleeping.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "config/catalog.h"
#include "engine/reconciler.h"
#include "engine/replicator.h"
#include "fake/fake_server.h"
#include "fake_clock.h"
#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;

constexpr auto kDay = std::chrono::hours(24);

// A clock in 2026, two years after the fake's records: every record is far
// older than any pass's start.
std::unique_ptr<FakeClock> ClockAfterRecords() {
  auto clock = std::make_unique<FakeClock>();
  clock->Advance(kDay * 365 * 3);
  return clock;
}

RunReport Drain(const Config& config, FakeClock* clock) {
  ReplicatorSeams seams;
  seams.clock = clock;
  auto r = Replicator::Create(config, std::move(seams));
  INFO(r.status().message());
  REQUIRE(r.ok());
  return (*r)->Run(Scheduler::Mode::kDrain);
}

// The data of `table`'s rows, sorted, by whether they are marked deleted.
std::vector<std::string> Data(const std::string& db, const std::string& table,
                              bool deleted) {
  std::vector<std::string> out;
  for (const auto& row : test::QueryRows(
           db, "SELECT data FROM " + table + " WHERE deleted_at IS " +
                   (deleted ? "NOT NULL" : "NULL"))) {
    out.push_back(row[0]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Data(const std::string& db, bool deleted) {
  return Data(db, "jobs", deleted);
}

std::vector<std::string> Minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

// Export requests answered for jobs since `since` requests.
int JobsRequestsSince(const FakeServer& server, size_t since) {
  auto all = server.Requests();
  int n = 0;
  for (size_t i = since; i < all.size(); ++i) {
    n += all[i].path.find("/export/jobs") != std::string::npos;
  }
  return n;
}

// A fake serving `served` (300 records each, pages of 50), a clock after
// their records, and a config of the endpoint `entries` (YAML flow list
// items).
struct Setup {
  Setup(std::vector<std::string> served, const std::string& entries)
      : server(test::SmallFake(std::move(served), 300, 50)),
        clock(ClockAfterRecords()) {
    REQUIRE(server.Start().ok());
    db = dir.File("deletes.db");
    yaml = test::FakeConfigYaml(server, db, "[" + entries + "]");
  }
  Config config() const { return test::MustParseConfig(yaml); }

  FakeServer server;
  std::unique_ptr<FakeClock> clock;
  test::TempDir dir;
  std::string db;
  std::string yaml;
};

}  // namespace

TEST_CASE(
    "a reconciliation marks exactly the records deleted outright, never "
    "removes a row, and clears one that comes back") {
  Setup s({"jobs"}, "{name: jobs, reconcile_every: 1d}");
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(test::QueryInt(s.db, "SELECT count(*) FROM jobs") == 300);
  // A table synced from scratch was just read in full: no pass yet.
  CHECK(test::QueryInt(s.db, "SELECT count(*) FROM _stsync_reconcile") == 0);
  const std::string live_cursor =
      test::QueryText(s.db, "SELECT cursor FROM _stsync_cursors");

  const std::vector<std::string> before = s.server.TruthRows("jobs");
  const std::vector<int64_t> deleted = s.server.Delete("jobs", 7);
  REQUIRE(deleted.size() == 7);
  const std::vector<std::string> gone =
      Minus(before, s.server.TruthRows("jobs"));
  REQUIRE(gone.size() == 7);

  // Not due yet: nothing happens.
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(Data(s.db, true).empty());

  s.clock->Advance(kDay);
  const size_t requests = s.server.Requests().size();
  RunReport report = Drain(s.config(), s.clock.get());
  CHECK(report.Failed() == 0);
  // One live poll, then the pass: 293 records in pages of 50.
  CHECK(JobsRequestsSince(s.server, requests) == 1 + 6);
  CHECK(s.server.Requests()[requests].from == live_cursor);
  CHECK(test::QueryInt(s.db, "SELECT count(*) FROM jobs") == 300);
  CHECK(Data(s.db, true) == gone);
  CHECK(Data(s.db, false) == s.server.TruthRows("jobs"));
  CHECK(test::QueryInt(s.db,
                       "SELECT count(*) FROM jobs_v WHERE deleted_at IS NOT "
                       "NULL") == 7);
  CHECK(test::QueryRows(s.db,
                        "SELECT last_seen, last_live, last_marked, "
                        "last_outcome, pass_started_at IS NULL FROM "
                        "_stsync_reconcile") ==
        std::vector<std::vector<std::string>>{
            {"293", "300", "7", "marked", "1"}});
  CHECK(test::QueryText(s.db, "SELECT cursor FROM _stsync_cursors") ==
        live_cursor);

  // One comes back (restored, a new version): the live feed clears it.
  s.server.Update("jobs", deleted[0], true);
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(Data(s.db, true).size() == 6);
  CHECK(Data(s.db, false) == s.server.TruthRows("jobs"));

  // The next pass marks nothing new, and keeps the earlier marks.
  const std::string marked_at = test::QueryText(
      s.db, "SELECT max(deleted_at) FROM jobs WHERE deleted_at IS NOT NULL");
  s.clock->Advance(kDay);
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(test::QueryInt(s.db, "SELECT last_marked FROM _stsync_reconcile") == 0);
  CHECK(Data(s.db, true).size() == 6);
  CHECK(test::QueryText(s.db,
                        "SELECT max(deleted_at) FROM jobs WHERE deleted_at "
                        "IS NOT NULL") == marked_at);
}

TEST_CASE(
    "an interrupted reconciliation marks nothing, and the next run resumes "
    "it where it stopped") {
  Setup s({"jobs"}, "{name: jobs, reconcile_every: 1d}");
  s.yaml = test::Replace(s.yaml, "  max_attempts: 5\n", "  max_attempts: 1\n");
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  const std::vector<std::string> before = s.server.TruthRows("jobs");
  s.server.Delete("jobs", 5);
  const std::vector<std::string> gone =
      Minus(before, s.server.TruthRows("jobs"));
  s.clock->Advance(kDay);

  // The live poll and two pages of the pass go through; the third fails.
  fake::Fault fault;
  fault.path_contains = "/export/jobs";
  fault.skip = 3;
  s.server.AddFault(fault);
  RunReport broken = Drain(s.config(), s.clock.get());
  CHECK(broken.Failed() == 1);
  CHECK(Data(s.db, true).empty());
  CHECK(test::QueryRows(s.db,
                        "SELECT pages, seen, pass_started_at IS NOT NULL, "
                        "last_error IS NOT NULL FROM _stsync_reconcile") ==
        std::vector<std::vector<std::string>>{{"2", "100", "1", "1"}});

  // Resumed, not restarted: the live poll and the four pages left.
  const size_t requests = s.server.Requests().size();
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(JobsRequestsSince(s.server, requests) == 1 + 4);
  CHECK(Data(s.db, true) == gone);
  CHECK(test::QueryInt(s.db, "SELECT last_seen FROM _stsync_reconcile") == 295);
}

TEST_CASE(
    "a reconciliation that sees under half of the live rows marks nothing "
    "and warns, unless reconcile_min_seen_percent allows it") {
  Setup s({"jobs"}, "{name: jobs, reconcile_every: 1d}");
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  s.server.Delete("jobs", 200);
  s.clock->Advance(kDay);
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(Data(s.db, true).empty());
  CHECK(test::QueryText(s.db, "SELECT last_outcome FROM _stsync_reconcile")
            .find("suspicious") == 0);
  CHECK(test::QueryInt(s.db, "SELECT last_seen FROM _stsync_reconcile") == 100);

  s.yaml = test::Replace(s.yaml, "reconcile_every: 1d",
                         "reconcile_every: 1d, reconcile_min_seen_percent: 30");
  s.clock->Advance(kDay);
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(Data(s.db, true).size() == 200);
  CHECK(Data(s.db, false) == s.server.TruthRows("jobs"));
}

TEST_CASE("a reconciliation pass waits while a live feed has pages to fetch") {
  Setup s({"jobs", "customers"},
          "{name: jobs, reconcile_every: 1d}, customers");
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  s.server.Mutate("customers", 0, 200);  // four pages for the live feed
  s.clock->Advance(kDay);
  const size_t requests = s.server.Requests().size();
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  std::vector<std::string> order;
  auto all = s.server.Requests();
  for (size_t i = requests; i < all.size(); ++i) {
    order.push_back(all[i].path.find("customers") != std::string::npos
                        ? "customers"
                        : "jobs");
  }
  // The live jobs poll and the live customers pages, then the pass. The
  // live poll and the customers pages are fetched concurrently, so the poll
  // may come anywhere among them; every request of the pass comes after.
  REQUIRE(order.size() == 11);
  std::vector<std::string> live(order.begin(), order.begin() + 5);
  std::sort(live.begin(), live.end());
  CHECK(live == std::vector<std::string>{"customers", "customers", "customers",
                                         "customers", "jobs"});
  CHECK(std::vector<std::string>(order.begin() + 5, order.end()) ==
        std::vector<std::string>(6, "jobs"));
}

TEST_CASE(
    "a table filled from scratch is not reconciled in the same run, however "
    "long the fill takes") {
  // On the real clock: the fill takes longer than reconcile_every, and no
  // moment of it is idle (a FakeClock moves only while the loop waits).
  FakeServer server(test::SmallFake({"jobs"}, 300, 10));
  fake::Fault slow;
  slow.status = 0;
  slow.delay_ms = 40;
  slow.count = 1 << 30;
  server.AddFault(slow);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("fill.db");
  const Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[{name: jobs, reconcile_every: 1s}]"));
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(Drain(config, nullptr).Failed() == 0);
  REQUIRE(std::chrono::steady_clock::now() - started >
          std::chrono::milliseconds(1100));
  CHECK(JobsRequestsSince(server, 0) == 30);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_reconcile") == 0);
  // The next run finds it due.
  server.ClearFaults();
  REQUIRE(Drain(config, nullptr).Failed() == 0);
  CHECK(test::QueryInt(db, "SELECT last_seen FROM _stsync_reconcile") == 300);
}

TEST_CASE("a list endpoint is reconciled the same way") {
  FakeServer server(test::SmallFake({"zones", "payment-terms"}, 120, 50));
  REQUIRE(server.Start().ok());
  auto clock = ClockAfterRecords();
  test::TempDir dir;
  const std::string db = dir.File("lists.db");
  // zones pages by key (sorted by modifiedOn), payment-terms by page number.
  const Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[{name: zones, page_size: 50, reconcile_every: 1d}, {name: "
      "payment-terms, page_size: 50, reconcile_every: 1d}]"));
  REQUIRE(Drain(config, clock.get()).Failed() == 0);
  for (const std::string e : {"zones", "payment-terms"}) {
    REQUIRE(server.Delete(e, 4).size() == 4);
  }
  clock->Advance(kDay);
  REQUIRE(Drain(config, clock.get()).Failed() == 0);
  for (const std::string table : {"zones", "payment_terms"}) {
    INFO(table);
    CHECK(test::QueryInt(db, "SELECT count(*) FROM " + table) == 120);
    CHECK(test::QueryInt(db, "SELECT count(*) FROM " + table +
                                 " WHERE deleted_at IS NOT NULL") == 4);
  }
  CHECK(test::TableData(db, "zones") != server.TruthRows("zones"));
  std::vector<std::string> live;
  for (const auto& row :
       test::QueryRows(db, "SELECT data FROM zones WHERE deleted_at IS NULL")) {
    live.push_back(row[0]);
  }
  std::sort(live.begin(), live.end());
  CHECK(live == server.TruthRows("zones"));
}

TEST_CASE("an endpoint without reconcile_every never reconciles") {
  Setup s({"jobs"}, "jobs");
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  s.server.Delete("jobs", 3);
  s.clock->Advance(kDay * 30);
  const size_t requests = s.server.Requests().size();
  REQUIRE(Drain(s.config(), s.clock.get()).Failed() == 0);
  CHECK(JobsRequestsSince(s.server, requests) == 1);
  CHECK(Data(s.db, true).empty());
  CHECK(test::QueryInt(s.db, "SELECT count(*) FROM _stsync_reconcile") == 0);
}

}  // namespace stsync

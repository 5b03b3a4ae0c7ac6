// End to end, in process: list endpoints (those without an export) synced
// from the FakeServer over loopback HTTP into a real SQLite file.
#include <doctest/doctest.h>

#include "engine/replicator.h"
#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;

// The list requests for `endpoint` (by path) made since request `since`.
std::vector<fake::RequestRecord> ListRequests(const FakeServer& server,
                                              const std::string& path_part,
                                              size_t since = 0) {
  std::vector<fake::RequestRecord> out;
  auto all = server.Requests();
  for (size_t i = since; i < all.size(); ++i) {
    if (all[i].path.find(path_part) != std::string::npos) {
      out.push_back(all[i]);
    }
  }
  return out;
}

std::string Param(const fake::RequestRecord& r, const std::string& name) {
  auto it = r.params.find(name);
  return it == r.params.end() ? "" : it->second;
}

}  // namespace

TEST_CASE(
    "a list endpoint is replicated with its inactive records, and a "
    "caught-up poll costs one request") {
  FakeServer server(test::SmallFake({"zones", "job-types"}, 45, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("list.db");
  Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[{name: zones, page_size: 10}, {name: job-types, page_size: 10}]"));
  CHECK(test::SyncOnce(config).Failed() == 0);
  test::ExpectReplica(server, db, "zones");
  test::ExpectReplica(server, db, "job-types");
  // 45 records in pages of 10, each page after the first from the newest
  // version of the one before: 5 requests.
  auto zones = ListRequests(server, "/dispatch/v2/tenant/1234567/zones");
  REQUIRE(zones.size() == 5);
  CHECK(Param(zones[0], "active") == "Any");
  CHECK(Param(zones[0], "sort") == "+ModifiedOn");
  CHECK(Param(zones[0], "modifiedOnOrAfter").empty());
  CHECK(Param(zones[1], "modifiedOnOrAfter") ==
        test::QueryText(db,
                        "SELECT modified_on FROM zones ORDER BY modified_on "
                        "LIMIT 1 OFFSET 9"));
  CHECK(Param(ListRequests(server, "/job-types")[0], "orderBy") ==
        "modifiedOn");

  // Deactivations arrive: the fake, like ServiceTitan, returns active
  // records only unless asked for active=Any.
  server.Mutate("zones", 9, 2);
  size_t before = server.Requests().size();
  CHECK(test::SyncOnce(config).Failed() == 0);
  test::ExpectReplica(server, db, "zones");
  CHECK(test::QueryInt(db, "SELECT count(*) FROM zones WHERE active = 0") > 0);
  // Caught up, with nothing new: one request per endpoint. (The fake's
  // records are a second apart, so a 5-minute overlap re-reads them all;
  // with list_overlap 0 only the newest comes back.)
  Config tight = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[{name: zones, page_size: 10, list_overlap: 0s}, "
      "{name: job-types, page_size: 10, list_overlap: 0s}]"));
  CHECK(test::SyncOnce(tight).Failed() == 0);
  before = server.Requests().size();
  RunReport idle = test::SyncOnce(tight);
  CHECK(idle.Failed() == 0);
  CHECK(server.Requests().size() - before == 2);
  CHECK(idle.Records() == 2);  // the newest record of each, absorbed
}

TEST_CASE(
    "a record changed during a list pass moves to the end of the list, and "
    "no record is skipped") {
  FakeServer server(test::SmallFake({"zones"}, 40, 10));
  // After page 2, records on page 1 change: under offset paging the first
  // records of page 3 would slide onto page 2, already read, and be lost.
  server.SetAfterListRequest([&server](const std::string&, int n) {
    if (n == 2) {
      server.Update("zones", 0, true);
      server.Update("zones", 1, false);
    }
  });
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("moving.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[{name: zones, page_size: 10}]"));
  CHECK(test::SyncOnce(config).Failed() == 0);
  test::ExpectReplica(server, db, "zones");
  CHECK(test::QueryInt(db, "SELECT count(*) FROM zones") == 40);
}

TEST_CASE(
    "a list endpoint without modifiedOnOrAfter is read in full every pass, "
    "hourly by default") {
  FakeServer server(test::SmallFake({"user-roles"}, 25, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("full.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[{name: user-roles, page_size: 10}]"));
  CHECK(test::SyncOnce(config).Failed() == 0);
  server.Mutate("user-roles", 3, 1);
  CHECK(test::SyncOnce(config).Failed() == 0);
  test::ExpectReplica(server, db, "user-roles");
  auto requests = ListRequests(server, "/user-roles");
  REQUIRE(requests.size() == 6);  // 3 pages, twice
  for (const auto& r : requests) {
    CHECK(Param(r, "modifiedOnOrAfter").empty());
  }
  CHECK(Param(requests[3], "page") == "1");
  // The interval: 1 hour unless the endpoint's own entry sets one; the one
  // in `defaults` (100ms here) is for the other endpoints.
  auto own = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[user-roles, zones, {name: arrival-windows, interval: 2h}]"));
  CHECK(own.endpoints[0].interval == std::chrono::hours(1));
  CHECK(own.endpoints[1].interval == std::chrono::milliseconds(100));
  CHECK(own.endpoints[2].interval == std::chrono::hours(2));
}

}  // namespace stsync

// End to end, in process: a Replicator syncing from the FakeServer over
// loopback HTTP into a real SQLite file.
#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "base/timestamp.h"
#include "engine/replicator.h"
#include "sink/sqlite_sink.h"
#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;
using fake::Fault;

RunReport Drain(const Config& config) { return test::SyncOnce(config); }

// `from` values of the successful page requests for `path_part`.
std::vector<std::string> ServedFroms(const FakeServer& server,
                                     const std::string& path_part) {
  std::vector<std::string> out;
  for (const auto& r : server.Requests()) {
    if (r.status == 200 && r.path.find(path_part) != std::string::npos)
      out.push_back(r.from);
  }
  return out;
}

// Counts the scheduler's failures that were a busy database.
class BusyWatcher : public Observer {
 public:
  void OnFailure(const FailureEvent& e) override {
    if (e.status.code() != Status::Code::kBusy) return;
    std::lock_guard<std::mutex> lock(mu_);
    ++busy_;
    cv_.notify_all();
  }
  bool WaitForBusy(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return busy_ > 0; });
  }
  int busy_failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return busy_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int busy_ = 0;
};

}  // namespace

TEST_CASE(
    "a multi-page export of several endpoints equals the server's data row for "
    "row") {
  FakeServer server(
      test::SmallFake({"jobs", "technician-ratings", "job-history",
                       "gross-pay-items", "appointments"},
                      95, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("e2e.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db,
                           "[jobs, technician-ratings, job-history, "
                           "gross-pay-items, appointments]"));
  RunReport report = Drain(config);
  CHECK(report.Failed() == 0);
  CHECK(report.Pages() == 5 * 10);
  for (const char* e : {"jobs", "technician-ratings", "job-history",
                        "gross-pay-items", "appointments"}) {
    test::ExpectReplica(server, db, e);
  }
  // gross-pay-items without an id were kept under fallback keys.
  CHECK(test::QueryInt(
            db, "SELECT count(*) FROM gross_pay_items WHERE id < 0") > 0);
  CHECK(
      test::QueryInt(db, "SELECT count(*) FROM gross_pay_items WHERE id < 0") ==
      test::QueryInt(db,
                     "SELECT count(*) FROM gross_pay_items "
                     "WHERE json_extract(data, '$.id') IS NULL"));
  // appointments (whose spec has `active`) asked for active=Any on every
  // call, jobs never sent the parameter.
  int appointment_calls = 0;
  for (const auto& r : server.Requests()) {
    INFO(r.path);
    if (r.path.find("/export/appointments") != std::string::npos) {
      ++appointment_calls;
      CHECK(r.params.count("active") == 1);
      auto it = r.params.find("active");
      CHECK((it != r.params.end() && it->second == "Any"));
    }
    if (r.path.find("/export/jobs") != std::string::npos) {
      CHECK(r.params.count("active") == 0);
    }
  }
  CHECK(appointment_calls == 10);
  CHECK(test::QueryInt(
            db, "SELECT count(*) FROM jobs WHERE modified_on IS NULL") == 0);
}

TEST_CASE(
    "an incremental poll picks up new and updated records, and nothing else") {
  FakeServer server(test::SmallFake({"jobs"}, 40, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("inc.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  CHECK(Drain(config).Failed() == 0);
  size_t before = server.Requests().size();
  server.Mutate("jobs", 7, 5);
  RunReport second = Drain(config);
  CHECK(second.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  // New and changed records only: 12 versions, in 2 pages of 10.
  CHECK(second.Records() == 12);
  CHECK(server.Requests().size() - before == 2);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs WHERE active = 0") >= 1);
}

TEST_CASE(
    "a restart resumes from the cursor and re-fetches no committed page") {
  FakeServer server(test::SmallFake({"jobs"}, 100, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("resume.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  Fault outage;
  outage.skip = 4;  // four pages succeed, then the server fails for good
  outage.count = 1000;
  outage.status = 500;
  server.AddFault(outage);
  RunReport first = Drain(config);
  CHECK(first.Failed() == 1);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 40);
  CHECK(test::QueryText(db, "SELECT last_error FROM _stsync_cursors")
            .find("HTTP 500") != std::string::npos);

  server.ClearFaults();
  RunReport second = Drain(config);
  CHECK(second.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  auto froms = ServedFroms(server, "/export/jobs");
  CHECK(froms.size() == 10);  // every page exactly once
  std::set<std::string> unique(froms.begin(), froms.end());
  CHECK(unique.size() == froms.size());
  CHECK(test::QueryText(db, "SELECT last_error FROM _stsync_cursors").empty());
}

TEST_CASE(
    "expired continuation tokens: the feed fails with the reset to run, or "
    "with restart_from_last_seen restarts by date and loses nothing") {
  FakeServer server(test::SmallFake({"jobs"}, 40, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("expired.db");
  Config plain =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  CHECK(Drain(plain).Failed() == 0);
  server.Mutate("jobs", 7, 5);
  server.ExpireCursors();

  CHECK(Drain(plain).Failed() == 1);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 40);
  const std::string error =
      test::QueryText(db, "SELECT last_error FROM _stsync_cursors");
  CHECK(error.find("the server rejected the stored cursor (HTTP 400") !=
        std::string::npos);
  CHECK(error.find("stsync reset -c CONFIG jobs --from") != std::string::npos);

  // The fake's records are all from 2024-01-01: the restart goes to the day
  // before, re-reads the feed and absorbs what it already has.
  Config restarting = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[{name: jobs, on_rejected_cursor: restart_from_last_seen}]"));
  const size_t before = server.Requests().size();
  RunReport report = Drain(restarting);
  CHECK(report.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  // The stored token was refused once; then pages from the date on.
  const auto requests = server.Requests();
  REQUIRE(requests.size() > before + 1);
  CHECK(requests[before].status == 400);
  CHECK(requests[before].from.rfind("v1.", 0) == 0);
  std::vector<std::string> froms;
  for (size_t i = before + 1; i < requests.size(); ++i) {
    CHECK(requests[i].status == 200);
    froms.push_back(requests[i].from);
  }
  REQUIRE(!froms.empty());
  CHECK(froms[0] == "2023-12-31");
  CHECK(froms.back().rfind("v2.", 0) == 0);
  CHECK(test::QueryText(db, "SELECT last_error FROM _stsync_cursors").empty());
}

TEST_CASE("start_from is the first `from`, the stored cursor wins afterwards") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("start.db");
  std::string yaml = test::FakeConfigYaml(
      server, db, "[{name: jobs, start_from: 2024-01-01}]");
  Config config = test::MustParseConfig(yaml);
  CHECK(Drain(config).Failed() == 0);
  auto froms = ServedFroms(server, "/export/jobs");
  REQUIRE(!froms.empty());
  CHECK(froms[0] == "2024-01-01");
  CHECK(Drain(config).Failed() == 0);
  froms = ServedFroms(server, "/export/jobs");
  CHECK(froms.back().rfind("v1.", 0) == 0);
  test::ExpectReplica(server, db, "jobs");
}

TEST_CASE(
    "includeRecentChanges duplicates leave one row per key with the newest "
    "version") {
  fake::FakeOptions o = test::SmallFake({"jobs"}, 60, 10);
  o.recent_overlap = 4;  // every page re-sends the 4 entries before it
  FakeServer server(o);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("recent.db");
  Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, db, "[{name: jobs, include_recent_changes: true}]"));
  RunReport first = Drain(config);
  CHECK(first.Failed() == 0);
  CHECK(first.Records() > 60);              // duplicates were delivered...
  test::ExpectReplica(server, db, "jobs");  // ...and absorbed
  // Updates (some records twice) make replayed windows hold stale versions
  // that arrive after the newer version was stored.
  for (int round = 0; round < 3; ++round) {
    server.Mutate("jobs", 25, 3);
    CHECK(Drain(config).Failed() == 0);
    test::ExpectReplica(server, db, "jobs");
  }
  for (const auto& r : server.Requests()) CHECK(r.recent);
}

TEST_CASE("a spurious 401 gets one new token and the same page again") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault unauthorized;
  unauthorized.skip = 1;
  unauthorized.status = 401;
  unauthorized.body = "";
  server.AddFault(unauthorized);
  test::TempDir dir;
  std::string db = dir.File("401.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  CHECK(Drain(config).Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  auto reqs = server.Requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[1].status == 401);
  CHECK(reqs[2].status == 200);
  CHECK(reqs[2].from == reqs[1].from);
  CHECK(server.TokenRequests() == 2);
}

TEST_CASE("a 429 with Retry-After is honoured before the next call") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault throttle;
  throttle.skip = 1;
  throttle.status = 429;
  throttle.retry_after = "1";
  throttle.body = R"({"title":"Too Many Requests"})";
  throttle.content_type = "application/json";
  server.AddFault(throttle);
  test::TempDir dir;
  std::string db = dir.File("429.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  CHECK(Drain(config).Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  auto reqs = server.Requests();
  auto throttled = std::find_if(
      reqs.begin(), reqs.end(),
      [](const fake::RequestRecord& r) { return r.status == 429; });
  REQUIRE(throttled != reqs.end());
  REQUIRE(throttled + 1 != reqs.end());
  auto waited = (throttled + 1)->at - throttled->at;
  CHECK(waited >= std::chrono::milliseconds(990));
  CHECK((throttled + 1)->from == throttled->from);  // the same page again
}

TEST_CASE(
    "5xx HTML, 409 maintenance, truncated and malformed pages are retried "
    "without harm") {
  FakeServer server(test::SmallFake({"jobs"}, 50, 10));
  REQUIRE(server.Start().ok());
  auto add = [&](int skip, int status, std::string body, std::string type) {
    Fault f;
    f.skip = skip;
    f.status = status;
    f.body = std::move(body);
    f.content_type = std::move(type);
    server.AddFault(f);
  };
  add(1, 503, "<html><body><h1>503 Service Unavailable</h1></body></html>",
      "text/html");
  add(1, 409, R"({"title":"Tenant is suspended for maintenance"})",
      "application/json");
  add(1, 200,
      R"({"hasMore":true,"continueFrom":"v1.000000000999","data":[{"id":1,)",
      "application/json");
  add(1, 200,
      R"({"hasMore":true,"continueFrom":"v1.000000000999","data":[{"id":1},"no key"]})",
      "application/json");
  add(1, 200, R"({"data":{},"hasMore":true,"continueFrom":"x"})",
      "application/json");
  add(1, 502, "", "text/plain");
  test::TempDir dir;
  std::string db = dir.File("faults.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  RunReport report = Drain(config);
  CHECK(report.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  // The bad pages' fake tokens never became a cursor.
  CHECK(test::QueryText(db, "SELECT cursor FROM _stsync_cursors") !=
        "v1.000000000999");
}

TEST_CASE("an endpoint that keeps failing writes nothing and says why") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 20, 10));
  REQUIRE(server.Start().ok());
  Fault broken;
  broken.path_contains = "/export/jobs";
  broken.count = 1000;
  broken.status = 200;
  broken.body = R"({"hasMore":true,"continueFrom":"x","data":[{"id":1},2]})";
  broken.content_type = "application/json";
  server.AddFault(broken);
  test::TempDir dir;
  std::string db = dir.File("broken.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[jobs, customers]"));
  RunReport report = Drain(config);
  CHECK(report.Failed() == 1);
  CHECK(report.feeds[0].failed);
  CHECK(report.feeds[0].last_error.find("data[1] is not an object") !=
        std::string::npos);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 0);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM _stsync_cursors "
                       "WHERE endpoint = 'jobs' AND cursor IS NULL") == 1);
  CHECK(test::QueryInt(db,
                       "SELECT consecutive_failures FROM _stsync_cursors "
                       "WHERE endpoint = 'jobs'") == config.retry.max_attempts);
  // The healthy endpoint is unaffected.
  test::ExpectReplica(server, db, "customers");
}

TEST_CASE(
    "a reader holding a read transaction through a sync does not disturb it") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("reader.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  CHECK(Drain(config).Failed() == 0);

  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &reader) == SQLITE_OK);
  auto count = [&] {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(reader,
                               "SELECT count(*), max(modified_on) FROM jobs",
                               -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  };
  REQUIRE(sqlite3_exec(reader, "BEGIN", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  CHECK(count() == 30);
  server.Mutate("jobs", 10, 45);
  RunReport report = Drain(config);
  CHECK(report.Failed() == 0);
  CHECK(report.Pages() >= 5);
  CHECK(count() == 30);  // still its snapshot
  REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  CHECK(count() == 75);
  sqlite3_close(reader);
  test::ExpectReplica(server, db, "jobs");
}

TEST_CASE(
    "feeds whose ids come out of order, as real feeds do, replicate "
    "exactly") {
  for (double later : {0.0, 0.3, 1.0}) {
    INFO("modified later: ", later);
    fake::FakeOptions o = test::SmallFake({"jobs", "job-history"}, 300, 40);
    o.modified_later = later;
    FakeServer server(o);
    REQUIRE(server.Start().ok());
    // How far the feed's order is from the id order: positions where an id
    // is smaller than one served before it.
    auto order = server.IndicesInFeedOrder("jobs");
    REQUIRE(order.size() == 300);
    int64_t highest = -1;
    int behind = 0;
    for (int64_t i : order) {
      if (i < highest) ++behind;
      highest = std::max(highest, i);
    }
    if (later == 0) CHECK(behind == 0);
    if (later == 0.3) CHECK((behind > 30 && behind < 200));
    if (later == 1.0) CHECK(behind > 200);
    test::TempDir dir;
    std::string db = dir.File("order.db");
    Config config = test::MustParseConfig(
        test::FakeConfigYaml(server, db, "[jobs, job-history]"));
    CHECK(Drain(config).Failed() == 0);
    test::ExpectReplica(server, db, "jobs");
    test::ExpectReplica(server, db, "job-history");
  }
}

TEST_CASE(
    "every catalog endpoint syncs from the fake, and all leaves out only "
    "estimates-legacy") {
  fake::FakeOptions options = test::SmallFake({}, 12, 5);
  options.array_items = 2;  // nested arrays, as real records have
  FakeServer server(options);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("all.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "all"));
  RunReport report = Drain(config);
  CHECK(report.Failed() == 0);
  CHECK(report.feeds.size() == 52 + 63);  // exports, then list endpoints
  for (const auto& r : server.Requests()) {
    CHECK(r.path.find("/estimates/export") == std::string::npos);
  }
  // A list endpoint is read with the largest page its spec allows.
  for (const auto& r : server.Requests()) {
    if (r.path.find("/business-units/intacct") != std::string::npos) {
      CHECK(r.params.find("pageSize")->second == "500");
    } else if (r.path.find("/dispatch/v2/tenant/1234567/zones") !=
               std::string::npos) {
      CHECK(r.params.find("pageSize")->second == "5000");
    }
  }
  for (const auto& e : Catalog()) {
    if (e.name != "estimates-legacy") test::ExpectReplica(server, db, e.name);
  }
  CHECK(test::QueryText(db,
                        "SELECT json_array_length(data, '$.customFields') "
                        "FROM jobs LIMIT 1") == "2");
  // It returns the records of estimates: selectable by name only.
  Config by_name = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[estimates-legacy]"));
  CHECK(Drain(by_name).Failed() == 0);
  test::ExpectReplica(server, db, "estimates-legacy");
}

TEST_CASE(
    "a createdOn-versioned record changed later reaches the table, and "
    "repeats change nothing") {
  FakeServer server(test::SmallFake({"job-canceled-logs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("canceled.db");
  Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[job-canceled-logs]"));
  REQUIRE(Drain(config).Failed() == 0);
  const std::string versions =
      "SELECT group_concat(modified_on) FROM job_canceled_logs";
  const std::string before = test::QueryText(db, versions);
  // Edited and deactivated records keep their createdOn.
  server.Mutate("job-canceled-logs", 12, 0);
  REQUIRE(Drain(config).Failed() == 0);
  test::ExpectReplica(server, db, "job-canceled-logs");
  CHECK(test::QueryText(db, versions) == before);
  CHECK(test::QueryInt(db,
                       "SELECT count(*) FROM job_canceled_logs WHERE "
                       "synced_at > first_seen_at") > 0);

  // The whole feed again, as includeRecentChanges repeats: nothing written.
  const std::string synced =
      "SELECT group_concat(synced_at) FROM job_canceled_logs";
  const std::string synced_before = test::QueryText(db, synced);
  {
    auto sink = SqliteSink::Open(db, {}, RealClock::Get());
    REQUIRE(sink.ok());
    REQUIRE((*sink)->ResetCursor("job-canceled-logs", std::nullopt).ok());
  }
  RunReport again = Drain(config);
  REQUIRE(again.Failed() == 0);
  CHECK(again.Records() == 30);
  CHECK(test::QueryText(db, synced) == synced_before);
  test::ExpectReplica(server, db, "job-canceled-logs");
}

TEST_CASE("a custom endpoint from the config is synced like a built-in one") {
  Endpoint widgets;
  widgets.name = "widgets";
  widgets.path = "/widgets/v9/tenant/{tenant}/export/widgets";
  widgets.key_fields = {"widgetId"};
  widgets.version_field = "updatedOn";
  fake::FakeOptions o = test::SmallFake({"jobs"}, 25, 10);
  o.extra_endpoints = {widgets};
  FakeServer server(o);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("custom.db");
  Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[{name: widgets, path: '/widgets/v9/tenant/{tenant}/export/widgets', "
      "key: widgetId, "
      "version_field: updatedOn}]"));
  CHECK(Drain(config).Failed() == 0);
  test::ExpectReplica(server, db, "widgets");
  CHECK(test::QueryInt(
            db, "SELECT count(*) FROM widgets WHERE widget_id >= 1000") == 25);
}

TEST_CASE("a feed that does not advance is an error, not a busy loop") {
  FakeServer server(test::SmallFake({"jobs"}, 20, 10));
  REQUIRE(server.Start().ok());
  Fault stuck;
  stuck.count = 1000;
  stuck.status = 200;
  stuck.content_type = "application/json";
  test::TempDir dir;
  std::string db = dir.File("stuck.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  // The first page's token, then the same token back with hasMore=true.
  REQUIRE(Drain(config).Failed() == 0);
  std::string token = test::QueryText(db, "SELECT cursor FROM _stsync_cursors");
  stuck.body =
      R"({"hasMore":true,"continueFrom":")" + token + R"(","data":[]})";
  server.AddFault(stuck);
  size_t before = server.Requests().size();
  RunReport report = Drain(config);
  CHECK(report.Failed() == 1);
  CHECK(report.feeds[0].last_error.find("without advancing continueFrom") !=
        std::string::npos);
  CHECK(server.Requests().size() - before ==
        static_cast<size_t>(config.retry.max_attempts));
  CHECK(test::QueryText(db, "SELECT cursor FROM _stsync_cursors") == token);
}

TEST_CASE(
    "a server that leads a feed in a circle fails the attempt after a few "
    "requests, storing nothing of the cycle") {
  FakeServer server(test::SmallFake({"jobs", "zones"}, 20, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("cycle.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs, zones]"));
  REQUIRE(Drain(config).Failed() == 0);
  const std::string jobs_cursor = test::QueryText(
      db, "SELECT cursor FROM _stsync_cursors WHERE endpoint = 'jobs'");
  const std::string zones_cursor = test::QueryText(
      db, "SELECT cursor FROM _stsync_cursors WHERE endpoint = 'zones'");
  const int64_t rows = test::QueryInt(db, "SELECT count(*) FROM jobs");
  // Positions A -> B -> A -> ... with hasMore=true, a new record each time.
  Fault cycle;
  cycle.path_contains = "/export/jobs";
  cycle.count = 1000;
  cycle.status = 200;
  cycle.content_type = "application/json";
  cycle.bodies = {
      R"({"hasMore":true,"continueFrom":"A","data":[{"id":9001,"modifiedOn":"2030-01-01T00:00:00Z"}]})",
      R"({"hasMore":true,"continueFrom":"B","data":[{"id":9002,"modifiedOn":"2030-01-01T00:00:01Z"}]})"};
  server.AddFault(cycle);
  // A list endpoint whose envelope names another page than the one asked.
  Fault echo;
  echo.path_contains = "/zones";
  echo.count = 1000;
  echo.status = 200;
  echo.content_type = "application/json";
  echo.body =
      R"({"page":7,"pageSize":5000,"hasMore":true,"totalCount":1,"data":[{"id":1,"modifiedOn":"2030-01-01T00:00:00Z"}]})";
  server.AddFault(echo);
  const size_t before = server.Requests().size();
  RunReport report = Drain(config);
  CHECK(report.Failed() == 2);
  for (const auto& f : report.feeds) {
    INFO(f.name, ": ", f.last_error);
    if (f.name == "jobs") {
      CHECK(f.last_error.find("a position already passed") !=
            std::string::npos);
    } else {
      CHECK(f.last_error.find("answered page 7 to a request for page 1") !=
            std::string::npos);
    }
  }
  // jobs: A and B are stored, the third answer (A again) is refused; each
  // retry asks from B and is refused again. zones: every answer refused.
  const size_t attempts = static_cast<size_t>(config.retry.max_attempts);
  CHECK(server.Requests().size() - before == 2 + attempts + attempts);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == rows + 2);
  CHECK(test::QueryText(db,
                        "SELECT cursor FROM _stsync_cursors WHERE "
                        "endpoint = 'jobs'") == "B");
  CHECK(test::QueryText(db,
                        "SELECT cursor FROM _stsync_cursors WHERE "
                        "endpoint = 'zones'") == zones_cursor);
  CHECK(jobs_cursor != "B");
}

TEST_CASE(
    "a full disk rolls the page back, keeps the cursor, and catches up "
    "later") {
  FakeServer server(test::SmallFake({"jobs"}, 200, 20));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("full.db");
  std::string yaml = test::FakeConfigYaml(server, db, "[jobs]");
  // Seventeen pages of 16 KiB: the schema (thirteen pages) and a few pages
  // of records fit.
  std::string capped =
      test::Replace(yaml, "database:\n", "database:\n  max_size: 278528\n");
  RunReport full = Drain(test::MustParseConfig(capped));
  CHECK(full.Failed() == 1);
  CHECK(full.feeds[0].last_error.find("full") != std::string::npos);
  CHECK(test::QueryText(db, "PRAGMA integrity_check") == "ok");
  int64_t stored = test::QueryInt(db, "SELECT count(*) FROM jobs");
  CHECK(stored > 0);
  CHECK(stored < 200);
  CHECK(test::QueryInt(db, "SELECT row_count FROM _stsync_cursors") == stored);
  // The cursor covers exactly the pages that were committed.
  std::string token = test::QueryText(db, "SELECT cursor FROM _stsync_cursors");
  CHECK(test::TableData(db, "jobs") == server.RowsUpTo("jobs", token));

  // Space is back: it catches up from where it stopped.
  RunReport later = Drain(test::MustParseConfig(yaml));
  CHECK(later.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  CHECK(later.Records() == 200 - stored);
}

TEST_CASE(
    "the next page is fetched while the current one waits to be written, and "
    "each page is fetched once") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("overlap.db");
  std::string yaml = test::FakeConfigYaml(server, db, "[jobs]");
  yaml = test::Replace(yaml, "database:\n", "database:\n  busy_timeout: 10s\n");
  Config config = test::MustParseConfig(yaml);
  REQUIRE(Drain(config).Failed() == 0);
  server.Mutate("jobs", 0, 30);  // three more pages
  const size_t before = server.Requests().size();
  const int64_t pages_before =
      test::QueryInt(db, "SELECT pages FROM _stsync_cursors");

  // Another writer holds the lock, so page 1 cannot be written yet.
  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &writer) == SQLITE_OK);
  REQUIRE(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  auto r = Replicator::Create(config);
  REQUIRE(r.ok());
  RunReport report;
  std::thread run([&] { report = (*r)->Run(Scheduler::Mode::kDrain); });
  // Page 2 is requested while page 1 waits for the lock.
  bool overlapped =
      test::WaitUntil([&] { return server.Requests().size() >= before + 2; },
                      std::chrono::seconds(5));
  int64_t pages_meanwhile =
      test::QueryInt(db, "SELECT pages FROM _stsync_cursors");
  sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  run.join();
  CHECK(overlapped);
  CHECK(pages_meanwhile == pages_before);
  CHECK(report.Failed() == 0);
  CHECK(report.Pages() == 3);
  test::ExpectReplica(server, db, "jobs");
  // Every `from` was served once: nothing prefetched was wasted.
  auto froms = ServedFroms(server, "/export/jobs");
  std::vector<std::string> sorted = froms;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
}

TEST_CASE(
    "another writer holding the lock past the busy timeout delays, never "
    "loses") {
  FakeServer server(test::SmallFake({"jobs"}, 40, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("locked.db");
  std::string yaml = test::FakeConfigYaml(server, db, "[jobs]");
  yaml =
      test::Replace(yaml, "database:\n", "database:\n  busy_timeout: 100ms\n");
  yaml = test::Replace(yaml, "max_attempts: 5", "max_attempts: 100");
  Config config = test::MustParseConfig(yaml);
  REQUIRE(Drain(config).Failed() == 0);
  server.Mutate("jobs", 10, 20);

  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &writer) == SQLITE_OK);
  REQUIRE(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  // The other writer lets go once the daemon has reported the lock.
  BusyWatcher busy;
  ReplicatorSeams seams;
  seams.observers = {&busy};
  auto r = Replicator::Create(config, std::move(seams));
  REQUIRE(r.ok());
  RunReport report;
  std::thread daemon([&] { report = (*r)->Run(Scheduler::Mode::kDrain); });
  CHECK(busy.WaitForBusy(std::chrono::seconds(30)));
  sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
  daemon.join();
  sqlite3_close(writer);
  CHECK(report.Failed() == 0);
  CHECK(busy.busy_failures() >= 1);  // it had to wait for the lock
  test::ExpectReplica(server, db, "jobs");
}

TEST_CASE(
    "after a long-lived reader lets go, the WAL is checkpointed and stops "
    "growing") {
  FakeServer server(test::SmallFake({"jobs"}, 1000, 200));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("wal.db");
  Config config =
      test::MustParseConfig(test::FakeConfigYaml(server, db, "[jobs]"));
  config.database.wal_size = 1 << 20;  // checkpoint at 256 pages
  // One long-running daemon, as in production: its connection stays open.
  auto r = Replicator::Create(config);
  REQUIRE(r.ok());
  std::thread daemon([&] { (*r)->Run(Scheduler::Mode::kForever); });
  auto caught_up = [&] {
    return test::WaitUntil(
        [&] { return test::TableData(db, "jobs") == server.TruthRows("jobs"); },
        std::chrono::seconds(20));
  };
  auto wal_size = [&] { return std::filesystem::file_size(db + "-wal"); };
  REQUIRE(test::WaitForTable(db, "jobs"));  // made on the first step
  REQUIRE(caught_up());

  // A reader holds one snapshot while more than the checkpoint threshold
  // (database.wal_size) is written: the WAL must grow past it.
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &reader) == SQLITE_OK);
  REQUIRE(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM jobs;", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  server.Mutate("jobs", 12000, 0);
  CHECK(caught_up());  // the reader never blocks the writer
  uintmax_t held = wal_size();
  CHECK(held > (1 << 20));
  REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  sqlite3_close(reader);

  // Once it lets go, three times as much again goes through the WAL.
  for (int round = 0; round < 3; ++round) {
    server.Mutate("jobs", 12000, 0);
    CHECK(caught_up());
  }
  uintmax_t after = wal_size();
  (*r)->Stop();
  daemon.join();
  INFO("WAL ", held, " bytes while the reader held it, ", after, " after");
  // Reused, not appended to: at most one more transaction's frames beyond
  // the size it had (without checkpoints it grows past 3x).
  CHECK(after < held * 3 / 2);
  CHECK(test::QueryText(db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("a page over http.max_page_bytes is refused with a clear error") {
  FakeServer server(test::SmallFake({"jobs"}, 100, 100));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("big.db");
  std::string yaml = test::FakeConfigYaml(server, db, "[jobs]");
  yaml = test::Replace(yaml, "http:\n", "http:\n  max_page_bytes: 20000\n");
  RunReport report = Drain(test::MustParseConfig(yaml));
  CHECK(report.Failed() == 1);
  CHECK(report.feeds[0].last_error.find("exceeds http.max_page_bytes") !=
        std::string::npos);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 0);
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "a split first sync of exports with years of history equals the server's "
    "data, and the next run is one poll per feed") {
  fake::FakeOptions options = test::SmallFake({"jobs", "customers"}, 3000, 50);
  options.history_days = 1000;
  options.records_of["customers"] = 120;
  FakeServer server(options);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("split.db");
  Config config = test::MustParseConfig(
      test::Replace(test::FakeConfigYaml(server, db, "[jobs, customers]"),
                    "split_first_sync: false", "split_first_sync: true"));
  REQUIRE(config.http.concurrency == 8);
  RunReport report = Drain(config);
  CHECK(report.Failed() == 0);
  test::ExpectReplica(server, db, "jobs");
  test::ExpectReplica(server, db, "customers");
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_ranges") == 0);
  CHECK(test::QueryInt(db,
                       "SELECT row_count FROM _stsync_cursors WHERE "
                       "endpoint = 'jobs'") == 3000);
  // jobs (60 pages) was asked for by date ranges; customers, 3 pages of
  // mostly recent records, was not worth splitting... or was, by its pace;
  // either way every range met the next and nothing was fetched twice
  // beyond the overlaps.
  int dated = 0;
  for (const std::string& from : ServedFroms(server, "/export/jobs")) {
    if (IsCalendarDate(from)) ++dated;
  }
  CHECK(dated >= 7);
  CHECK(ServedFroms(server, "/export/jobs").size() < 60 + 30);

  const size_t before = server.Requests().size();
  CHECK(Drain(config).Failed() == 0);
  CHECK(server.Requests().size() - before == 2);
}

}  // namespace stsync

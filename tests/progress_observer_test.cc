// ProgressObserver on a FakeClock: the lines it logs, and when.
#include "engine/progress_observer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "fake_clock.h"

namespace stsync {
namespace {

struct Lines {
  FakeClock clock;
  std::vector<std::string> lines;
  ProgressObserver progress{
      &clock, "", std::chrono::minutes(1),
      [this](const std::string& l) { lines.push_back(l); }};

  void Start(const std::string& feed) {
    Cursor from;
    progress.OnFeedStart({feed, from, false});
  }
  // A batch of `records` of `feed` versioned from `oldest` to `newest`,
  // fetched `took` before now.
  void Batch(const std::string& feed, size_t records, bool caught_up,
             const std::string& oldest, const std::string& newest,
             Millis took = Millis(100), double owed_days = 0) {
    const SteadyTime now = clock.Now();
    progress.OnBatch({feed, records, ApplyStats{}, caught_up, now - took, now,
                      now, Millis(0), oldest, newest, owed_days});
  }
};

bool Has(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "progress is logged once a minute while a feed is behind: the tenant's "
    "records, rate and endpoints, and each feed's position in time") {
  Lines t;
  t.Start("jobs");
  t.Start("customers");
  // The fake clock's wall time is 2023-11-14: jobs' first record is four
  // years back.
  t.Batch("jobs", 1000, false, "2019-11-14T00:00:00.0000000Z",
          "2020-01-01T00:00:00.0000000Z", Millis(0));
  t.Batch("customers", 10, true, "2023-01-01T00:00:00.0000000Z",
          "2023-01-02T00:00:00.0000000Z");
  CHECK(t.lines.empty());  // not a minute yet
  t.clock.Advance(std::chrono::seconds(60));
  t.Batch("jobs", 1200, false, "2021-01-01T00:00:00.0000000Z",
          "2021-11-14T00:00:00.0000000Z");
  REQUIRE(t.lines.size() == 2);
  INFO(t.lines[0]);
  INFO(t.lines[1]);
  CHECK(Has(t.lines[0], "progress: 2210 records this run (37 records/s"));
  CHECK(Has(t.lines[0], "1 of 2 endpoints caught up"));
  CHECK(Has(t.lines[1], "jobs: 2200 records (37 records/s)"));
  CHECK(Has(t.lines[1],
            "modifiedOn at 2021-11-14, 50% of the way from 2019-11-14 to "
            "now"));
  CHECK(Has(t.lines[1], "left at this pace"));
  // Within the next minute: nothing more.
  t.clock.Advance(std::chrono::seconds(30));
  t.Batch("jobs", 1000, false, "2022-01-01T00:00:00.0000000Z",
          "2022-06-01T00:00:00.0000000Z");
  CHECK(t.lines.size() == 2);
  // Once every feed has caught up, steady polling logs nothing.
  t.clock.Advance(std::chrono::seconds(60));
  t.Batch("jobs", 5, true, "2023-11-01T00:00:00.0000000Z",
          "2023-11-14T00:00:00.0000000Z");
  t.clock.Advance(std::chrono::minutes(10));
  t.Batch("jobs", 1, true, "2023-11-14T00:00:00.0000000Z",
          "2023-11-14T00:00:00.0000000Z");
  CHECK(t.lines.size() == 2);
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "a split first sync's progress counts the days its ranges still owe, "
    "whatever order its ranges' batches come in") {
  Lines t;
  t.Start("jobs");
  // Four years back to the fake clock's 2023-11-14; the feed's own chain is
  // already at 2023-11-01, but its ranges still owe 2 of the 4 years.
  t.Batch("jobs", 500, false, "2019-11-14T00:00:00.0000000Z",
          "2020-01-01T00:00:00.0000000Z", Millis(0));
  t.clock.Advance(std::chrono::seconds(60));
  t.Batch("jobs", 500, false, "2023-10-01T00:00:00.0000000Z",
          "2023-11-14T00:00:00.0000000Z", Millis(100), 2 * 365.25);
  // A range's batch, older than the newest seen: the newest stays.
  t.Batch("jobs", 500, false, "2021-01-01T00:00:00.0000000Z",
          "2021-02-01T00:00:00.0000000Z", Millis(100), 2 * 365.25);
  REQUIRE(t.lines.size() == 2);
  INFO(t.lines[1]);
  CHECK(Has(t.lines[1],
            "modifiedOn at 2023-11-14, 49% of the way from 2019-11-14 to "
            "now"));
  t.clock.Advance(std::chrono::seconds(60));
  t.Batch("jobs", 500, false, "2021-02-01T00:00:00.0000000Z",
          "2021-03-01T00:00:00.0000000Z", Millis(100), 365.25);
  REQUIRE(t.lines.size() == 4);
  INFO(t.lines[3]);
  CHECK(Has(t.lines[3], "74% of the way from 2019-11-14 to now"));
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "the status-line style says, every second, the tenant's records, rate, "
    "endpoints caught up and the feed behind with the most time left") {
  FakeClock clock;
  std::vector<std::string> lines;
  ProgressObserver progress(
      &clock, "1111111/", std::chrono::seconds(1),
      [&](const std::string& l) { lines.push_back(l); },
      ProgressObserver::Style::kStatusLine);
  Cursor from;
  for (const char* feed : {"jobs", "customers", "invoices"}) {
    progress.OnFeedStart({feed, from, false});
  }
  auto batch = [&](const std::string& feed, size_t records, bool caught_up,
                   const std::string& oldest, const std::string& newest) {
    const SteadyTime now = clock.Now();
    progress.OnBatch({feed, records, ApplyStats{}, caught_up, now, now, now,
                      Millis(0), oldest, newest, 0});
  };
  // Each four years back from the fake clock's 2023-11-14, started together.
  batch("jobs", 1000, false, "2019-11-14T00:00:00.0000000Z",
        "2019-11-20T00:00:00.0000000Z");
  batch("invoices", 1000, false, "2019-11-14T00:00:00.0000000Z",
        "2019-11-20T00:00:00.0000000Z");
  batch("customers", 10, true, "2023-01-01T00:00:00.0000000Z",
        "2023-01-02T00:00:00.0000000Z");
  CHECK(lines.empty());  // not a second yet
  clock.Advance(std::chrono::seconds(10));
  // jobs at half its history (a little under: 9 s left at this pace).
  batch("jobs", 1000, false, "2020-11-14T00:00:00.0000000Z",
        "2021-11-14T00:00:00.0000000Z");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "1111111/3010 records (301/s), 1/3 caught up; jobs at 2021-11-14 "
        "(50%, 9s left) +1 behind");
  // invoices further on (75%, 3.6 s left): jobs is still the one said.
  clock.Advance(std::chrono::seconds(1));
  batch("invoices", 1000, false, "2021-11-14T00:00:00.0000000Z",
        "2022-11-14T00:00:00.0000000Z");
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] ==
        "1111111/4010 records (365/s), 1/3 caught up; jobs at 2021-11-14 "
        "(50%, 10s left) +1 behind");
  // Caught up, it still says so (a terminal's line is not left stale).
  clock.Advance(std::chrono::seconds(1));
  batch("jobs", 5, true, "2023-11-01T00:00:00.0000000Z",
        "2023-11-14T00:00:00.0000000Z");
  clock.Advance(std::chrono::seconds(1));
  batch("invoices", 5, true, "2023-11-01T00:00:00.0000000Z",
        "2023-11-14T00:00:00.0000000Z");
  REQUIRE(lines.size() == 4);
  CHECK(lines[3] == "1111111/4020 records (309/s), 3/3 caught up");
}

}  // namespace stsync

// The contract every destination keeps (model/sink.h,
// model/side_feed_store.h), run against both: the SQLite file and a
// PostgreSQL schema on a throwaway server (test_postgres.h).
#include <doctest/doctest.h>

#include "api/page_parser.h"
#include "config/catalog.h"
#include "fake_clock.h"
#include "sink/pg_sink.h"
#include "sink/sqlite_sink.h"
#include "test_postgres.h"
#include "test_util.h"

namespace stsync {
namespace {

const Endpoint& Jobs() { return *FindEndpoint("jobs"); }

using test::MakePage;
using test::RecordsPage;

// Each harness opens one destination with jobs prepared, and reads it back
// through a connection of its own, as a user's tool would.
struct SqliteHarness {
  test::TempDir dir;
  FakeClock clock;
  std::unique_ptr<Destination> sink;
  std::string path = dir.File("s.db");

  bool Open() {
    auto s = SqliteSink::Open(path, {}, &clock);
    INFO(s.status().message());
    REQUIRE(s.ok());
    sink = std::move(*s);
    REQUIRE(sink->Prepare(Jobs()).ok());
    return true;
  }
  int64_t Int(const std::string& sql) { return test::QueryInt(path, sql); }
  std::string Text(const std::string& sql) {
    return test::QueryText(path, sql);
  }
  // The SQL of a JSON field of a row's data, as text.
  static std::string Field(const std::string& f) {
    return "json_extract(data, '$." + f + "')";
  }
  // Makes every insert of the jobs row with id 13 fail.
  void FailInsertOf13() {
    test::Exec(path,
               "CREATE TRIGGER boom BEFORE INSERT ON jobs WHEN NEW.id = 13 "
               "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
  }
};

struct PgHarness {
  std::unique_ptr<test::TestPostgres> pg;
  FakeClock clock;
  std::unique_ptr<Destination> sink;

  bool Open() {
    pg = test::TestPostgres::StartOrSkip();
    if (!pg) return false;
    PgSinkOptions o;
    o.schema = "st_1";
    auto s = PgSink::Open(pg->Url(), o, &clock);
    INFO(s.status().message());
    REQUIRE(s.ok());
    sink = std::move(*s);
    REQUIRE(sink->Prepare(Jobs()).ok());
    return true;
  }
  int64_t Int(const std::string& sql) {
    return pg->Int("SET search_path TO st_1; " + sql);
  }
  std::string Text(const std::string& sql) {
    return pg->Psql("SET search_path TO st_1; " + sql);
  }
  static std::string Field(const std::string& f) {
    return "(data ->> '" + f + "')";
  }
  void FailInsertOf13() {
    pg->Psql(
        "CREATE FUNCTION st_1.boom() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.id = 13 THEN RAISE EXCEPTION 'simulated failure'; END "
        "IF; RETURN NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON "
        "st_1.jobs FOR EACH ROW EXECUTE FUNCTION st_1.boom()");
  }
};

}  // namespace
}  // namespace stsync

TYPE_TO_STRING(stsync::SqliteHarness);
TYPE_TO_STRING(stsync::PgHarness);

namespace stsync {

#define SINKS SqliteHarness, PgHarness

TEST_CASE_TEMPLATE("a page's rows and its cursor are committed together", H,
                   SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  auto stats =
      sink.Apply(Jobs(), MakePage({1, 2, 3}, "2024-01-01T00:00:00Z", "t1"));
  REQUIRE(stats.ok());
  CHECK(stats->inserted == 3);
  auto cp = sink.Load("jobs");
  REQUIRE(cp.ok());
  REQUIRE(cp->has_value());
  CHECK((*cp)->cursor == Cursor::FromStored("t1"));
  CHECK((*cp)->row_count == 3);
  CHECK((*cp)->pages == 1);
  CHECK((*cp)->caught_up_at.empty());
  CHECK(h.Int("SELECT count(*) FROM jobs") == 3);
  CHECK(h.Text("SELECT modified_on FROM jobs WHERE id = 2") ==
        "2024-01-01T00:00:00.0000000Z");
  CHECK(h.Int("SELECT count(*) FROM jobs WHERE id = 2 AND active") == 1);
  CHECK(h.Text("SELECT " + H::Field("modifiedOn") +
               " FROM jobs WHERE id = 3") == "2024-01-01T00:00:00Z");
  // The record's bytes exactly as received.
  CHECK(h.Text("SELECT data FROM jobs WHERE id = 1") ==
        R"({"id":1,"modifiedOn":"2024-01-01T00:00:00Z","active":true})");

  REQUIRE(sink.Apply(Jobs(), MakePage({4}, "2024-01-02T00:00:00Z", "t2", false))
              .ok());
  cp = sink.Load("jobs");
  CHECK((*cp)->cursor == Cursor::FromStored("t2"));
  CHECK((*cp)->row_count == 4);
  CHECK_FALSE((*cp)->caught_up_at.empty());
  CHECK(*sink.NewestVersion(Jobs()) == "2024-01-02T00:00:00.0000000Z");
  CHECK(*sink.OldestVersion(Jobs()) == "2024-01-01T00:00:00.0000000Z");
}

TEST_CASE_TEMPLATE(
    "duplicates are absorbed and an older version never replaces a newer one",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(sink.Apply(Jobs(), MakePage({1, 2}, "2024-01-01T00:00:08.5Z", "t1"))
              .ok());
  // The same page again (includeRecentChanges): nothing changes.
  auto again =
      sink.Apply(Jobs(), MakePage({1, 2}, "2024-01-01T00:00:08.5Z", "t1"));
  CHECK(again->unchanged == 2);
  // A newer version of 1 (more fractional digits, still later) replaces it.
  auto newer = sink.Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:08.5000001Z",
                                           "t2", true, R"(,"v":"new")"));
  CHECK(newer->updated == 1);
  // An older version of 1 arriving later is ignored. As raw text "08Z"
  // would sort after "08.5000001Z"; normalised, it is correctly older.
  auto older = sink.Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:08Z", "t3",
                                           true, R"(,"v":"old")"));
  CHECK(older->unchanged == 1);
  CHECK(h.Text("SELECT " + H::Field("v") + " FROM jobs WHERE id = 1") == "new");
  CHECK(h.Int("SELECT count(*) FROM jobs") == 2);
  // The cursor still advances: the page was consumed.
  CHECK((*sink.Load("jobs"))->cursor == Cursor::FromStored("t3"));
  CHECK((*sink.Load("jobs"))->row_count == 2);
  CHECK(h.Int("SELECT count(*) FROM jobs WHERE first_seen_at <= synced_at") ==
        2);
}

TEST_CASE_TEMPLATE(
    "within one page the newest version of a key wins and on a tie the "
    "later record",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  const std::string v1 = R"("modifiedOn":"2024-01-01T00:00:00Z")";
  const std::string v2 = R"("modifiedOn":"2024-01-02T00:00:00Z")";
  auto stats = h.sink->Apply(
      Jobs(),
      RecordsPage(R"({"id":1,"x":1,)" + v2 + R"(},{"id":1,"x":2,)" + v1 +
                      R"(},{"id":2,"x":3,)" + v1 + R"(},{"id":2,"x":4,)" + v1 +
                      // A version beats none; of two without, the
                      // later.
                      R"(},{"id":3,"x":5,)" + v1 +
                      R"(},{"id":3,"x":6},{"id":4,"x":7},)"
                      R"({"id":4,"x":8})",
                  "a"));
  REQUIRE(stats.ok());
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs WHERE id = 1") == "1");
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs WHERE id = 2") == "4");
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs WHERE id = 3") == "5");
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs WHERE id = 4") == "8");
  CHECK((*h.sink->Load("jobs"))->row_count == 4);
  CHECK(stats->inserted == 4);
}

TEST_CASE_TEMPLATE("rows without a version are replaced only by different data",
                   H, SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(sink.Apply(Jobs(), RecordsPage(R"({"id":1,"x":1})", "a")).ok());
  CHECK(sink.Apply(Jobs(), RecordsPage(R"({"id":1,"x":1})", "b"))->unchanged ==
        1);
  CHECK(sink.Apply(Jobs(), RecordsPage(R"({"id":1,"x":2})", "c"))->updated ==
        1);
  CHECK(sink.Apply(
                Jobs(),
                RecordsPage(R"({"id":1,"x":3,"modifiedOn":"2024-01-01"})", "d"))
            ->updated == 1);
  // Once versioned, an unversioned copy cannot replace it.
  CHECK(sink.Apply(Jobs(), RecordsPage(R"({"id":1,"x":4})", "e"))->unchanged ==
        1);
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs") == "3");
}

TEST_CASE_TEMPLATE(
    "the same version with different bytes replaces the row while the same "
    "bytes and older versions do not",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  auto apply = [&](const std::string& rec, const std::string& tok) {
    auto stats = h.sink->Apply(Jobs(), RecordsPage(rec, tok));
    REQUIRE(stats.ok());
    return *stats;
  };
  const std::string v1 = R"("modifiedOn":"2024-01-01T00:00:00Z")";
  REQUIRE(apply(R"({"id":1,"x":1,)" + v1 + "}", "a").inserted == 1);
  // Edited later without a newer version: the later position wins.
  h.clock.Advance(Millis(1000));
  CHECK(apply(R"({"id":1,"x":2,)" + v1 + "}", "b").updated == 1);
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs") == "2");
  // A repeat (includeRecentChanges) writes nothing, not even synced_at.
  const std::string before = h.Text("SELECT synced_at FROM jobs");
  h.clock.Advance(Millis(1000));
  CHECK(apply(R"({"id":1,"x":2,)" + v1 + "}", "c").unchanged == 1);
  // An older version never replaces a newer one.
  CHECK(apply(R"({"id":1,"x":3,"modifiedOn":"2023-12-31T00:00:00Z"})", "d")
            .unchanged == 1);
  CHECK(h.Text("SELECT " + H::Field("x") + " FROM jobs") == "2");
  CHECK(h.Text("SELECT synced_at FROM jobs") == before);
}

TEST_CASE_TEMPLATE(
    "a page that fails half-way writes nothing and keeps the cursor", H,
    SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(sink.Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:00Z", "t1")).ok());
  h.FailInsertOf13();
  auto r = sink.Apply(
      Jobs(), MakePage({10, 11, 12, 13, 14}, "2024-01-02T00:00:00Z", "t2"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("simulated failure") != std::string::npos);
  CHECK(h.Int("SELECT count(*) FROM jobs") == 1);
  CHECK((*sink.Load("jobs"))->cursor == Cursor::FromStored("t1"));
  CHECK((*sink.Load("jobs"))->row_count == 1);
  // The sink is still usable afterwards.
  REQUIRE(
      sink.Apply(Jobs(), MakePage({20}, "2024-01-03T00:00:00Z", "t3")).ok());
  CHECK((*sink.Load("jobs"))->cursor == Cursor::FromStored("t3"));
}

TEST_CASE_TEMPLATE(
    "reset keeps rows and moves the cursor and failures are recorded", H,
    SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(
      sink.Apply(Jobs(), MakePage({1, 2}, "2024-01-01T00:00:00Z", "t1")).ok());
  REQUIRE(sink.RecordFailure("jobs", "HTTP 503").ok());
  REQUIRE(sink.RecordFailure("jobs", "HTTP 503").ok());
  auto cp = *sink.Load("jobs");
  CHECK(cp->last_error == "HTTP 503");
  CHECK(cp->consecutive_failures == 2);
  CHECK(cp->cursor == Cursor::FromStored("t1"));

  REQUIRE(sink.ResetCursor("jobs", Cursor::Date("2023-06-01")).ok());
  CHECK((*sink.Load("jobs"))->cursor == Cursor::FromStored("2023-06-01"));
  REQUIRE(sink.ResetCursor("jobs", std::nullopt).ok());
  cp = *sink.Load("jobs");
  CHECK_FALSE(cp->cursor.has_value());
  CHECK(cp->row_count == 2);
  CHECK(cp->last_error.empty());
  CHECK(h.Int("SELECT count(*) FROM jobs") == 2);
  // A new endpoint can be reset before it ever ran.
  REQUIRE(sink.ResetCursor("customers", Cursor::Date("2024-01-01")).ok());
  CHECK((*sink.Load("customers"))->cursor == Cursor::FromStored("2024-01-01"));
  auto all = sink.LoadAll();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].endpoint == "customers");
}

TEST_CASE_TEMPLATE(
    "a split first sync's ranges are stored with their batch and forgotten "
    "by a reset",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  SplitChange split;
  split.put = {{1, "2023-06-01", Cursor::Date("2023-01-01"), ""},
               {2, "2024-01-01", Cursor::Date("2023-06-01"), ""}};
  split.cursor = Cursor::Date("2024-01-01");
  REQUIRE(sink.ApplySplit(Jobs(), MakePage({1}, "2022-12-01T00:00:00Z", "t1"),
                          split)
              .ok());
  auto state = *sink.Load("jobs");
  REQUIRE(state->ranges.size() == 2);
  CHECK(state->ranges[1] == split.put[1]);
  CHECK(state->cursor == Cursor::Date("2024-01-01"));
  // A range's batch: its rows and pages count, the feed's cursor stays.
  SplitChange step;
  step.put = {{1, "2023-06-01", Cursor::Position("r1"), "2023-02-01"}};
  step.done = {2};
  REQUIRE(
      sink.ApplySplit(Jobs(), MakePage({2}, "2023-02-01T00:00:00Z", "r1"), step)
          .ok());
  state = *sink.Load("jobs");
  REQUIRE(state->ranges.size() == 1);
  CHECK(state->ranges[0] == step.put[0]);
  CHECK(state->cursor == Cursor::Date("2024-01-01"));
  CHECK(state->row_count == 2);
  CHECK(state->pages == 2);
  REQUIRE(sink.ResetCursor("jobs", std::nullopt).ok());
  CHECK((*sink.Load("jobs"))->ranges.empty());
}

TEST_CASE_TEMPLATE("records that cannot be rows are quarantined once", H,
                   SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  const Batch page =
      RecordsPage(R"({"id":1},{"name":"no id"},{"id":null})", "t1");
  REQUIRE(page.rejects.size() == 2);
  auto stats = sink.Apply(Jobs(), page);
  REQUIRE(stats.ok());
  CHECK(stats->rejected == 2);
  CHECK(stats->inserted == 1);
  REQUIRE(sink.Apply(Jobs(), page).ok());
  CHECK((*sink.Load("jobs"))->rejected == 2);
  CHECK(h.Int("SELECT count(*) FROM _stsync_rejects") == 2);
}

TEST_CASE_TEMPLATE(
    "records with text PostgreSQL refuses are quarantined and the rest stored",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  // A \u0000 escape, a Latin-1 byte: before they were quarantined, either
  // failed the PostgreSQL page forever, or broke every ->> on its row.
  const Batch page = RecordsPage(
      "{\"id\":1,\"name\":\"a\\u0000b\"},{\"id\":2,\"name\":\"caf\xE9\"},"
      "{\"id\":3,\"name\":\"ok\"}",
      "t1");
  REQUIRE(page.rejects.size() == 2);
  auto stats = h.sink->Apply(Jobs(), page);
  INFO(stats.status().message());
  REQUIRE(stats.ok());
  CHECK(stats->rejected == 2);
  CHECK(stats->inserted == 1);
  CHECK(h.Int("SELECT count(*) FROM _stsync_rejects") == 2);
  CHECK(h.Text("SELECT " + H::Field("name") + " FROM jobs") == "ok");
  CHECK((*h.sink->Load("jobs"))->cursor == Cursor::FromStored("t1"));
}

TEST_CASE_TEMPLATE(
    "composite keys and job-history parents get their own columns", H, SINKS) {
  H h;
  if (!h.Open()) return;
  const Endpoint& ratings = *FindEndpoint("technician-ratings");
  const Endpoint& history = *FindEndpoint("job-history");
  REQUIRE(h.sink->Prepare(ratings).ok());
  REQUIRE(h.sink->Prepare(history).ok());
  const Batch r = RecordsPage(
      R"({"technicianId":1,"jobId":2,"rating":9},{"technicianId":1,"jobId":3})",
      "x", false, &ratings);
  REQUIRE(h.sink->Apply(ratings, r)->inserted == 2);
  CHECK(h.Int("SELECT count(*) FROM technician_ratings WHERE technician_id = "
              "1") == 2);
  const Batch j =
      RecordsPage(R"({"jobId":7,"history":[{"id":70,"date":"2024-01-01"},)"
                  R"({"id":71,"date":"2024-01-02"}]})",
                  "x", false, &history);
  REQUIRE(h.sink->Apply(history, j)->inserted == 2);
  CHECK(h.Int("SELECT count(*) FROM job_history WHERE job_id = 7") == 2);
  REQUIRE(h.sink->Apply(history, j).ok());
  CHECK(h.Int("SELECT count(*) FROM job_history") == 2);
}

TEST_CASE_TEMPLATE(
    "a reconciliation marks the rows it did not see and a row that comes "
    "back is revived",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(
      sink.Apply(Jobs(), MakePage({1, 2, 3, 4}, "2023-01-01T00:00:00Z", "t1"))
          .ok());
  h.clock.Advance(Millis(2000));
  ReconcilePolicy policy;
  policy.margin = Millis(0);
  // The pass sees 1, 2 and 3 over two pages, then reaches the end.
  auto first = sink.ApplyReconcile(
      Jobs(), MakePage({1, 2}, "2023-01-01T00:00:00Z", "p1"), policy);
  REQUIRE(first.ok());
  CHECK_FALSE(first->finished.has_value());
  auto state = *sink.LoadReconcile("jobs");
  REQUIRE(state.has_value());
  CHECK(state->seen == 2);
  CHECK(state->cursor == Cursor::FromStored("p1"));
  auto last = sink.ApplyReconcile(
      Jobs(), MakePage({2, 3}, "2023-01-01T00:00:00Z", "p2", false), policy);
  REQUIRE(last.ok());
  REQUIRE(last->finished.has_value());
  CHECK(last->finished->seen == 3);
  CHECK(last->finished->live == 4);
  CHECK(last->finished->marked == 1);
  CHECK(h.Int("SELECT count(*) FROM jobs WHERE deleted_at IS NOT NULL AND "
              "id = 4") == 1);
  CHECK(h.Int("SELECT count(*) FROM _stsync_seen") == 0);
  auto all = sink.LoadAllReconciles();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].last_marked == 1);
  CHECK((*all)[0].last_outcome == "marked");
  // 4 comes back with the same version: it is revived, not duplicated.
  auto back = sink.Apply(Jobs(), MakePage({4}, "2023-01-01T00:00:00Z", "t2"));
  REQUIRE(back.ok());
  CHECK(back->updated == 1);
  CHECK(h.Int("SELECT count(*) FROM jobs WHERE deleted_at IS NOT NULL") == 0);
  CHECK((*sink.Load("jobs"))->row_count == 4);
  // A pass restarted drops its keys.
  REQUIRE(sink.ApplyReconcile(
                  Jobs(), MakePage({1}, "2023-01-01T00:00:00Z", "p3"), policy)
              .ok());
  REQUIRE(sink.RecordReconcileFailure("jobs", "HTTP 500").ok());
  CHECK((*sink.LoadReconcile("jobs"))->consecutive_failures == 1);
  REQUIRE(sink.RestartReconcile("jobs").ok());
  CHECK(h.Int("SELECT count(*) FROM _stsync_seen") == 0);
  CHECK((*sink.LoadReconcile("jobs"))->pass_started_at.empty());
  CHECK(sink.FirstStoredAt(Jobs())->has_value());
}

TEST_CASE_TEMPLATE(
    "a backfill's rows count without moving the cursor and writes before "
    "Prepare are refused",
    H, SINKS) {
  H h;
  if (!h.Open()) return;
  Destination& sink = *h.sink;
  REQUIRE(sink.Apply(Jobs(), MakePage({1}, "2024-01-01T00:00:00Z", "t1")).ok());
  auto rows =
      sink.ApplyRows(Jobs(), MakePage({2, 3}, "2023-01-01T00:00:00Z", "b1"));
  REQUIRE(rows.ok());
  CHECK(rows->inserted == 2);
  auto state = *sink.Load("jobs");
  CHECK(state->cursor == Cursor::FromStored("t1"));
  CHECK(state->row_count == 3);
  const Endpoint& customers = *FindEndpoint("customers");
  auto early = sink.Apply(customers, MakePage({1}, "2024-01-01", "c1"));
  REQUIRE_FALSE(early.ok());
  CHECK(early.status().code() == Status::Code::kInvalid);
}

}  // namespace stsync

// kill -9 at random instants: the database must never lose a committed row,
// never hold a cursor ahead of its data, and converge once left alone.
//
// CI runs 25 kills. For a longer run: STSYNC_KILLS=1000 (and optionally
// STSYNC_KILL_SEED=N) build/tests/stsync_tests -tc='*kill -9*'
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "base/timestamp.h"
#include "sink/sqlite_schema.h"
#include "sink/sqlite_sink.h"
#include "test_postgres.h"
#include "test_util.h"

namespace stsync {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// Every page a few ms late, so that kills land mid-request too.
void SlowDown(fake::FakeServer& server) {
  fake::Fault slow;
  slow.status = 0;
  slow.delay_ms = 3;
  slow.count = 1 << 30;
  server.AddFault(slow);
}

// Waits (at most 30 s, else fails the test) until `process` has written
// `text` to stderr.
void WaitForLog(const test::Process& process, const std::string& text) {
  REQUIRE(test::WaitUntil(
      [&] { return process.ErrSoFar().find(text) != std::string::npos; },
      std::chrono::seconds(30)));
}

// Runs `stsync run -c cfg` and kills it with SIGKILL a random 5 to 300 ms
// after it has opened the database and started its loops, `kills` times; every
// fifth time the server's data changes first, so incremental polls get killed
// too. After each kill that left stsync's tables in `db`, the file must pass
// integrity_check, and for each of `checked` with a stored cursor, its table
// must hold every row of `required(endpoint, cursor)` and its row_count must
// match the table. Returns how many such cursor checks were made.
int KillRepeatedly(
    fake::FakeServer& server, const std::string& cfg, const std::string& db,
    const std::vector<std::string>& checked, int kills, unsigned seed,
    const std::function<std::vector<std::string>(
        const std::string& endpoint, const std::string& cursor)>& required) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause_ms(5, 300);
  int checks = 0;
  for (int k = 0; k < kills; ++k) {
    if (k % 5 == 4) {
      for (const auto& e : server.EndpointNames()) server.Mutate(e, 8, 4);
    }
    {
      test::Process run({STSYNC_BIN, "run", "-c", cfg});
      // The pause counts from the line that says the loops start, not from
      // the exec: a slow machine (a sanitizer build, a busy CI) may take
      // longer than the pause just to open the database.
      WaitForLog(run, " run: ");
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
      run.Signal(SIGKILL);
      REQUIRE(run.Wait(std::chrono::seconds(10)).signal == SIGKILL);
    }
    if (!std::filesystem::exists(db)) continue;
    INFO("after kill ", k + 1, " (seed ", seed, ")");
    REQUIRE(test::QueryText(db, "PRAGMA integrity_check") == "ok");
    if (test::QueryInt(db,
                       "SELECT count(*) FROM sqlite_master "
                       "WHERE name = '_stsync_cursors'") == 0) {
      continue;
    }
    for (const auto& e : checked) {
      const std::string cursor = test::QueryText(
          db,
          "SELECT cursor FROM _stsync_cursors WHERE endpoint = '" + e + "'");
      if (cursor.empty()) continue;
      INFO(e, " at ", cursor);
      auto rows = test::TableData(db, FindEndpoint(e)->TableName());
      auto want = required(e, cursor);
      CHECK(std::includes(rows.begin(), rows.end(), want.begin(), want.end()));
      CHECK(test::QueryInt(
                db, "SELECT row_count FROM _stsync_cursors WHERE endpoint = '" +
                        e + "'") == static_cast<int64_t>(rows.size()));
      ++checks;
    }
  }
  return checks;
}

}  // namespace

TEST_CASE(
    "kill -9 at random instants loses nothing and re-fetches at most a page "
    "per feed and one more per kill") {
  const int kills = EnvInt("STSYNC_KILLS", 25);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("STSYNC_KILL_SEED", 20261129));
  const std::vector<std::string> endpoints = {"jobs", "customers",
                                              "job-history"};
  fake::FakeServer server(test::SmallFake(endpoints, 300, 10));
  SlowDown(server);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("crash.db");
  std::string cfg = dir.File("crash.yaml");
  test::WriteFile(
      cfg, test::FakeConfigYaml(server, db, "[jobs, customers, job-history]"));
  // Everything the feed delivered up to the cursor is in the table.
  const int checks =
      KillRepeatedly(server, cfg, db, endpoints, kills, seed,
                     [&](const std::string& e, const std::string& cursor) {
                       return server.RowsUpTo(e, cursor);
                     });

  // Left alone, it converges to exactly the server's data.
  server.ClearFaults();
  for (const auto& e : endpoints) server.Mutate(e, 5, 5);
  auto once = test::Run({STSYNC_BIN, "once", "-c", cfg});
  INFO(once.err);
  REQUIRE(once.exit_code == 0);
  int64_t rows = 0;
  for (const auto& e : endpoints) {
    auto data = test::TableData(db, FindEndpoint(e)->TableName());
    CHECK(data == server.TruthRows(e));
    rows += static_cast<int64_t>(data.size());
  }

  // A page with records is asked for again only if a kill came between its
  // answer and its commit. At a kill at most one page per feed is in that
  // window (one request in flight each), and one more: the feed being
  // applied has its next page fetched meanwhile (scheduler.h).
  std::map<std::string, int> served;
  int pages = 0;
  for (const auto& r : server.Requests()) {
    if (r.status == 200 && r.records > 0) {
      ++served[r.path + "?" + r.from];
      ++pages;
    }
  }
  int refetched = 0;
  for (const auto& [page, n] : served) refetched += n - 1;
  CHECK(refetched <= static_cast<int>(endpoints.size() + 1) * kills);
  MESSAGE("kill -9: ", kills, " kills (seed ", seed, "), ", checks,
          " cursor checks, ", pages, " pages with data served, ", refetched,
          " fetched twice, ", rows, " rows at the end, 0 lost");
}

TEST_CASE(
    "kill -9 during a split first sync loses nothing: every range's position "
    "is stored with its rows") {
  const int kills = EnvInt("STSYNC_KILLS", 20);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("STSYNC_KILL_SEED", 20261205));
  const std::vector<std::string> endpoints = {"jobs", "customers"};
  fake::FakeOptions options = test::SmallFake(endpoints, 2000, 20);
  options.history_days = 1000;  // records over years: worth splitting
  fake::FakeServer server(options);
  SlowDown(server);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("split-crash.db");
  std::string cfg = dir.File("split-crash.yaml");
  test::WriteFile(
      cfg, test::Replace(test::FakeConfigYaml(server, db, "[jobs, customers]"),
                         "split_first_sync: false", "split_first_sync: true"));
  // Everything up to the feed's own cursor, less what its stored ranges
  // still owe (after their position, before their end), is in the table.
  int split_checks = 0;
  const int checks = KillRepeatedly(
      server, cfg, db, endpoints, kills, seed,
      [&](const std::string& e, const std::string& cursor) {
        std::vector<std::pair<std::string, std::string>> owed;
        for (const auto& r : test::QueryRows(
                 db,
                 "SELECT position, range_end FROM _stsync_ranges WHERE "
                 "endpoint = '" +
                     e + "'")) {
          owed.emplace_back(r[0], r[1]);
        }
        if (!owed.empty()) ++split_checks;
        return server.RowsUpTo(e, cursor, owed);
      });
  MESSAGE("kill -9 during a split first sync: ", kills, " kills, ", checks,
          " cursor checks, ", split_checks, " with ranges owed");
  CHECK(split_checks >= 3);

  // Left alone, it converges to exactly the server's data, every range met.
  server.ClearFaults();
  auto once = test::Run({STSYNC_BIN, "once", "-c", cfg});
  INFO(once.err);
  REQUIRE(once.exit_code == 0);
  for (const auto& e : endpoints) {
    CHECK(test::TableData(db, FindEndpoint(e)->TableName()) ==
          server.TruthRows(e));
  }
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_ranges") == 0);
}

namespace {

// The rows of `truth` whose modifiedOn is before `bound` (or at it, if
// `inclusive`): what a list feed whose pass has got that far must hold.
std::vector<std::string> ModifiedBefore(const std::vector<std::string>& truth,
                                        const std::string& bound,
                                        bool inclusive) {
  std::vector<std::string> out;
  for (const auto& row : truth) {
    rapidjson::Document d;
    d.Parse(row.c_str());
    REQUIRE(d.IsObject());
    auto v = NormalizeTimestamp(d["modifiedOn"].GetString());
    REQUIRE(v);
    if (*v < bound || (inclusive && *v == bound)) out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "kill -9 in the middle of list passes loses nothing, and the feeds "
    "converge") {
  const int kills = EnvInt("STSYNC_KILLS", 15);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("STSYNC_KILL_SEED", 20261130));
  // zones pages by key, payment-terms by offset (it cannot sort by date),
  // user-roles is read in full.
  const std::vector<std::string> endpoints = {"zones", "payment-terms",
                                              "user-roles"};
  fake::FakeServer server(test::SmallFake(endpoints, 300, 10));
  SlowDown(server);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string db = dir.File("list-crash.db");
  std::string cfg = dir.File("list-crash.yaml");
  test::WriteFile(cfg, test::FakeConfigYaml(
                           server, db,
                           "[{name: zones, page_size: 10}, {name: "
                           "payment-terms, page_size: 10}, {name: user-roles, "
                           "page_size: 10, interval: 100ms}]"));
  // "list|pass|<since>|<page>|<newest>|<started>" or "list|done|<mark>":
  // every record modified before <since> (through <mark> after a pass) has
  // been stored in its current version.
  const int checks = KillRepeatedly(
      server, cfg, db, {"zones", "payment-terms"}, kills, seed,
      [&](const std::string& e, const std::string& cursor) {
        std::vector<std::string> f;
        for (size_t at = 0, next; at <= cursor.size(); at = next + 1) {
          next = std::min(cursor.find('|', at), cursor.size());
          f.push_back(cursor.substr(at, next - at));
        }
        REQUIRE(f.size() >= 3);
        std::string bound = f[2];
        if (e == "payment-terms" && f[1] == "done") {
          // Paged by offset, a pass misses changes to pages it has read;
          // they are newer than the pass's start (list_feed.h), which a
          // done mark never exceeds. Not so here: the fake dates records
          // by its own count, not by the clock that dates a pass, so a
          // change made while a pass was halfway can be older than the
          // mark. Only the overlap the next pass starts with (5 min) then
          // brings it.
          auto mark = ParseNormalizedTimestamp(bound);
          REQUIRE(mark);
          bound = FormatTimestamp(*mark - std::chrono::minutes(5));
        }
        return ModifiedBefore(server.TruthRows(e), bound, f[1] == "done");
      });
  server.ClearFaults();
  for (const auto& e : endpoints) server.Mutate(e, 5, 5);
  // The first `once` finishes the passes the kills interrupted; records
  // changed on pages those passes had read (payment-terms, user-roles) come
  // with the next pass, the second `once`.
  for (int pass = 0; pass < 2; ++pass) {
    auto once = test::Run({STSYNC_BIN, "once", "-c", cfg});
    INFO(once.err);
    REQUIRE(once.exit_code == 0);
  }
  for (const auto& e : endpoints) {
    INFO(e);
    CHECK(test::TableData(db, FindEndpoint(e)->TableName()) ==
          server.TruthRows(e));
  }
  CHECK(checks > kills / 2);
  MESSAGE("kill -9 during list passes: ", kills, " kills (seed ", seed, "), ",
          checks, " cursor checks, 0 lost");
}

namespace {

// The "id" of each JSON row.
std::set<std::string> Ids(const std::vector<std::string>& rows) {
  std::set<std::string> ids;
  for (const auto& row : rows) {
    rapidjson::Document d;
    d.Parse(row.c_str());
    REQUIRE(d.IsObject());
    ids.insert(std::to_string(d["id"].GetInt64()));
  }
  return ids;
}

std::set<std::string> Column(const std::string& db, const std::string& sql) {
  std::set<std::string> out;
  for (const auto& row : test::QueryRows(db, sql)) out.insert(row[0]);
  return out;
}

}  // namespace

TEST_CASE(
    "kill -9 in the middle of a reconciliation marks nothing early, and the "
    "pass resumes to mark exactly the deleted records") {
  const int kills = EnvInt("STSYNC_KILLS", 12);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("STSYNC_KILL_SEED", 20261201));
  // A pass of 150 pages of 10, a few ms each: most kills land in it.
  fake::FakeServer server(test::SmallFake({"jobs"}, 1500, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("reconcile-crash.db");
  const std::string cfg = dir.File("reconcile-crash.yaml");
  test::WriteFile(cfg, test::FakeConfigYaml(
                           server, db, "[{name: jobs, reconcile_every: 1s}]"));
  REQUIRE(test::Run({STSYNC_BIN, "once", "-c", cfg}).exit_code == 0);
  const std::set<std::string> all = Ids(server.TruthRows("jobs"));
  server.Delete("jobs", 40);
  const std::set<std::string> live = Ids(server.TruthRows("jobs"));
  std::set<std::string> deleted;
  std::set_difference(all.begin(), all.end(), live.begin(), live.end(),
                      std::inserter(deleted, deleted.end()));
  REQUIRE(deleted.size() == 40);
  SlowDown(server);
  // The first pass falls due a second after the first row was stored.
  test::WaitUntilReconcileDue(db, "jobs", std::chrono::seconds(1));

  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause_ms(5, 300);
  int mid_pass = 0;
  for (int k = 0; k < kills; ++k) {
    {
      test::Process run({STSYNC_BIN, "run", "-c", cfg});
      // The kill lands a random time after the pass's first page, not after
      // the start: a slow machine (a sanitizer build) may take longer than
      // the pause just to start, and no kill would hit a pass.
      WaitForLog(run, "jobs (reconcile):");
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
      run.Signal(SIGKILL);
      REQUIRE(run.Wait(std::chrono::seconds(10)).signal == SIGKILL);
    }
    INFO("after kill ", k + 1, " (seed ", seed, ")");
    REQUIRE(test::QueryText(db, "PRAGMA integrity_check") == "ok");
    // No row is ever removed, and only deleted records are ever marked.
    CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1500);
    const auto marked =
        Column(db, "SELECT id FROM jobs WHERE deleted_at IS NOT NULL");
    CHECK(std::includes(deleted.begin(), deleted.end(), marked.begin(),
                        marked.end()));
    const std::string cursor =
        test::QueryText(db,
                        "SELECT coalesce(cursor, '') FROM _stsync_reconcile "
                        "WHERE pass_started_at IS NOT NULL");
    if (cursor.empty()) continue;
    // A pass in progress: its keys are those of every record delivered
    // before its cursor, committed with it.
    ++mid_pass;
    CHECK(marked.empty());
    const auto seen = Column(db, "SELECT k1 FROM _stsync_seen");
    CHECK(static_cast<int64_t>(seen.size()) ==
          test::QueryInt(db, "SELECT seen FROM _stsync_reconcile"));
    const auto want = Ids(server.RowsUpTo("jobs", cursor));
    CHECK(std::includes(seen.begin(), seen.end(), want.begin(), want.end()));
    CHECK(seen.size() == want.size());
  }
  CHECK(mid_pass > 0);

  // Left alone, the pass finishes (or the next one runs): exactly the
  // deleted records are marked.
  server.ClearFaults();
  test::WaitUntilReconcileDue(db, "jobs", std::chrono::seconds(1));
  auto once = test::Run({STSYNC_BIN, "once", "-c", cfg});
  INFO(once.err);
  REQUIRE(once.exit_code == 0);
  CHECK(Column(db, "SELECT id FROM jobs WHERE deleted_at IS NOT NULL") ==
        deleted);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1500);
  MESSAGE("kill -9 during reconciliation: ", kills, " kills (seed ", seed,
          "), ", mid_pass, " in the middle of a pass, ", deleted.size(),
          " deleted records marked exactly");
}

TEST_CASE(
    "kill -9 during the conversion to the arrival-order layout leaves the old "
    "table whole, and the next start converts it") {
  fake::FakeServer server(test::SmallFake({"jobs"}, 50, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("old.db");
  const std::string cfg = dir.File("old.yaml");
  test::WriteFile(cfg, test::FakeConfigYaml(server, db, "[jobs]"));
  // About 60 MB: the conversion takes a good fraction of a second.
  test::WriteSchema2Database(db, 60000, 1000);
  const std::string old_rows =
      "SELECT count(*) || ' ' || sum(id) || ' ' || sum(length(data)) || ' ' "
      "|| sum(unicode(substr(data, 40))) FROM jobs WHERE id >= 1000000000";
  const std::string before = test::QueryText(db, old_rows);
  const std::string keyed_by_rowid =
      "SELECT count(*) FROM pragma_table_info('jobs') WHERE pk";

  // Kills ever later after the conversion starts, until one comes too late.
  int killed_mid_conversion = 0;
  for (int delay_ms = 0; delay_ms < 20000; delay_ms = delay_ms * 2 + 10) {
    test::Process run({STSYNC_BIN, "run", "-c", cfg});
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (run.ErrSoFar().find("converting table jobs") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    run.Signal(SIGKILL);
    auto r = run.Wait(std::chrono::seconds(10));
    INFO(r.err);
    REQUIRE(r.signal == SIGKILL);
    INFO("killed ", delay_ms, " ms after the conversion started");
    REQUIRE(test::QueryText(db, "PRAGMA integrity_check") == "ok");
    REQUIRE(test::QueryText(db, old_rows) == before);
    if (test::QueryInt(db, keyed_by_rowid) == 0) break;  // converted
    CHECK(test::QueryInt(db, "PRAGMA user_version") == 2);
    ++killed_mid_conversion;
  }
  CHECK(killed_mid_conversion > 0);
  CHECK(test::QueryInt(db, keyed_by_rowid) == 0);

  auto once = test::Run({STSYNC_BIN, "once", "-c", cfg});
  INFO(once.err);
  REQUIRE(once.exit_code == 0);
  CHECK(test::QueryInt(db, "PRAGMA user_version") == LatestSchemaVersion());
  CHECK(test::QueryText(db, old_rows) == before);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 60000 + 50);
  MESSAGE("conversion: ", killed_mid_conversion,
          " kills in the middle, none lost a row");
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "kill -9 at random instants of a sync into PostgreSQL loses nothing and "
    "keeps every cursor with its rows") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  const int kills = EnvInt("STSYNC_PG_KILLS", 8);
  const unsigned seed =
      static_cast<unsigned>(EnvInt("STSYNC_KILL_SEED", 20261206));
  const std::vector<std::string> endpoints = {"jobs", "customers"};
  fake::FakeServer server(test::SmallFake(endpoints, 300, 10));
  SlowDown(server);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string cfg = dir.File("crash-pg.yaml");
  // A short lease: each new process waits for its killed predecessor's.
  test::WriteFile(
      cfg, test::Replace(
               test::FakeConfigYaml(server, "unused", "[jobs, customers]"),
               "  path: unused\n", "  url: " + pg->Url() + "\n  lease: 1s\n"));
  const std::string schema = "st_" + server.options().tenant;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pause_ms(5, 300);
  int checks = 0;
  for (int k = 0; k < kills; ++k) {
    if (k % 4 == 3) {
      for (const auto& e : endpoints) server.Mutate(e, 8, 4);
    }
    {
      test::Process run({STSYNC_BIN, "run", "-c", cfg});
      WaitForLog(run, "took the lease of schema");
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
      run.Signal(SIGKILL);
      REQUIRE(run.Wait(std::chrono::seconds(10)).signal == SIGKILL);
    }
    INFO("after kill ", k + 1, " (seed ", seed, ")");
    for (const auto& e : endpoints) {
      const std::string cursor =
          pg->Psql("SELECT cursor FROM " + schema +
                   "._stsync_cursors WHERE endpoint = '" + e + "'");
      if (cursor.empty()) continue;
      INFO(e, " at ", cursor);
      const std::string table = schema + "." + FindEndpoint(e)->TableName();
      auto rows = pg->SortedRows("SELECT data FROM " + table);
      auto want = server.RowsUpTo(e, cursor);
      CHECK(std::includes(rows.begin(), rows.end(), want.begin(), want.end()));
      CHECK(pg->Int("SELECT row_count FROM " + schema +
                    "._stsync_cursors WHERE endpoint = '" + e + "'") ==
            static_cast<int64_t>(rows.size()));
      ++checks;
    }
  }
  CHECK(checks > 0);

  // Left alone, it converges to exactly the server's data.
  server.ClearFaults();
  for (const auto& e : endpoints) server.Mutate(e, 5, 5);
  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  const bool converged = test::WaitUntil(
      [&] {
        for (const auto& e : endpoints) {
          if (pg->SortedRows("SELECT data FROM " + schema + "." +
                             FindEndpoint(e)->TableName()) !=
              server.TruthRows(e)) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  CHECK(converged);
  run.Signal(SIGTERM);
  CHECK(run.Wait(std::chrono::seconds(15)).exit_code == 0);
  MESSAGE("kill -9 into PostgreSQL: ", kills, " kills (seed ", seed, "), ",
          checks, " cursor checks, 0 lost");
}

}  // namespace stsync

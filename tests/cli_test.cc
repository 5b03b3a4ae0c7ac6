// The real stsync binary, as a user runs it: exit codes, signals, output.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;
using fake::Fault;

const std::string kBin = STSYNC_BIN;

test::ProcessResult Stsync(std::vector<std::string> args) {
  args.insert(args.begin(), kBin);
  return test::Run(args);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A config file for `server` in `dir`; returns its path.
std::string WriteConfig(const test::TempDir& dir, const FakeServer& server,
                        const std::string& endpoints,
                        const std::string& extra = "") {
  std::string path = dir.File("stsync.yaml");
  test::WriteFile(
      path, test::FakeConfigYaml(server, dir.File("cli.db"), endpoints, extra));
  return path;
}

// WriteConfig for `[jobs]`, with the line `after` of the fake's config
// followed by `added` (keys of the same section).
std::string WriteConfigAdding(const test::TempDir& dir,
                              const FakeServer& server,
                              const std::string& after,
                              const std::string& added) {
  std::string path = WriteConfig(dir, server, "[jobs]");
  test::WriteFile(path,
                  test::Replace(test::ReadFile(path), after, after + added));
  return path;
}

// Sends `sig` and waits for the exit; *seconds is how long that took.
test::ProcessResult StopWith(test::Process& process, int sig, double* seconds) {
  auto signalled = std::chrono::steady_clock::now();
  process.Signal(sig);
  auto r = process.Wait(std::chrono::seconds(10));
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           signalled)
                 .count();
  return r;
}

}  // namespace

TEST_CASE("every command answers --help and --version with exit code 0") {
  for (const char* cmd : {"run", "once", "status", "reset", "backfill",
                          "endpoints", "check-config"}) {
    INFO(cmd);
    auto help = Stsync({cmd, "--help"});
    CHECK(help.exit_code == 0);
    CHECK(Contains(help.out, std::string("Usage: stsync ") + cmd));
    auto version = Stsync({cmd, "--version"});
    CHECK(version.exit_code == 0);
    CHECK(Contains(version.out, "stsync " STSYNC_VERSION));
  }
  CHECK(Stsync({"--help"}).exit_code == 0);
  auto version = Stsync({"--version"});
  CHECK(version.exit_code == 0);
  // The SQLite named is the one linked at run time.
  CHECK(
      Contains(version.out, std::string("stsync " STSYNC_VERSION " (SQLite ") +
                                sqlite3_libversion() + ")"));
}

TEST_CASE("usage errors exit with code 2") {
  auto none = Stsync({});
  CHECK(none.exit_code == 2);
  auto unknown = Stsync({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(Contains(unknown.err, "unknown command 'frobnicate'"));
  auto bad_option = Stsync({"once", "--colour"});
  CHECK(bad_option.exit_code == 2);
  CHECK(Contains(bad_option.err, "unknown option --colour"));
  auto no_config = Stsync({"once"});
  CHECK(no_config.exit_code == 2);
  CHECK(Contains(no_config.err, "--config FILE is required"));
  auto missing_file = Stsync({"once", "-c", "/nonexistent/stsync.yaml"});
  CHECK(missing_file.exit_code == 2);
  CHECK(Contains(missing_file.err, "/nonexistent/stsync.yaml: cannot read"));
  // A bad --log-level is refused before the config is read, for both
  // commands that take it.
  for (const char* cmd : {"once", "run"}) {
    INFO(cmd);
    auto bad_level =
        Stsync({cmd, "-c", "/nonexistent.yaml", "--log-level", "bogus"});
    CHECK(bad_level.exit_code == 2);
    CHECK(Contains(bad_level.err, "--log-level 'bogus' is not one of"));
  }
}

TEST_CASE(
    "config errors exit 2 from run, once and check-config, naming file and "
    "key") {
  test::TempDir dir;
  const std::string good =
      "servicetitan:\n  tenant: 1\n  client_id: a\n  client_secret: b\n  "
      "app_key: c\n"
      "database:\n  path: " +
      dir.File("x.db") +
      "\ndefaults:\n  interval: 5m\n"
      "endpoints: [jobs]\n";
  struct Case {
    std::string from, to, key;
  };
  std::vector<Case> cases = {
      {"  tenant: 1\n", "", "servicetitan.tenant: missing"},
      {"endpoints: [jobs]", "endpoints: [jobz]", "unknown endpoint 'jobz'"},
      {"interval: 5m", "interval: soon", "defaults.interval"},
      {"client_id: a", "client_id: ${STSYNC_TEST_UNSET_VARIABLE}",
       "STSYNC_TEST_UNSET_VARIABLE is not set"},
      {"database:\n", "database:\n  size: 5\n", "database.size: unknown key"},
      {"endpoints: [jobs]\n",
       "endpoints: [jobs]\ndatabase:\n  busy_timeout: 99999h\n",
       "database: appears twice (lines 6 and 11)"},
      {"client_secret: b\n", "client_secret: b\n  client_secret: c\n",
       "servicetitan.client_secret: appears twice"},
      {"endpoints: [jobs]\n", "endpoints: [jobs]\n---\nendpoints: [zones]\n",
       "a second YAML document"},
  };
  for (const auto& c : cases) {
    std::string yaml = test::Replace(good, c.from, c.to);
    std::string path = dir.File("bad.yaml");
    test::WriteFile(path, yaml);
    for (const char* cmd : {"check-config", "once", "run"}) {
      INFO(cmd, " with ", c.key);
      auto r = Stsync({cmd, "-c", path});
      CHECK(r.exit_code == 2);
      CHECK(Contains(r.err, path));
      CHECK(Contains(r.err, c.key));
    }
  }
  std::string path = dir.File("good.yaml");
  test::WriteFile(path, good);
  auto ok = Stsync({"check-config", path});
  CHECK(ok.exit_code == 0);
  CHECK(Contains(ok.out, "ok"));
  CHECK(Contains(ok.out, "jobs"));
  CHECK_FALSE(Contains(ok.out + ok.err, "client_secret: b"));
}

TEST_CASE("stsync-fake refuses a port that is already in use") {
  FakeServer first(test::SmallFake({"jobs"}, 1, 1));
  REQUIRE(first.Start().ok());
  auto r = test::Run({STSYNC_FAKE_BIN, "--port", std::to_string(first.port())});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "cannot listen"));
}

TEST_CASE("endpoints lists the whole catalog") {
  auto r = Stsync({"endpoints"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "116 endpoints"));
  CHECK(Contains(r.out, "/jpm/v2/tenant/{tenant}/export/jobs"));
  CHECK(Contains(r.out, "technicianId,jobId"));
  auto json = Stsync({"endpoints", "--json"});
  CHECK(json.exit_code == 0);
  CHECK(Contains(json.out, R"("table": "recurring_services")"));
  CHECK(Contains(json.out, R"("name": "job-types",
        "kind": "list",
        "incremental": true,)"));
  CHECK(Contains(r.out, "user-roles"));
  CHECK(Contains(r.out, "list-full"));
}

TEST_CASE(
    "once fills the tables, status and reset report and rewind, no secret is "
    "printed") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs, customers]");
  auto once = Stsync({"once", "-c", cfg, "--log-level", "trace"});
  CHECK(once.exit_code == 0);
  CHECK(Contains(
      once.err,
      "jobs: 10 records (10 new, 0 updated, 0 unchanged), hasMore=true"));
  CHECK(Contains(once.err, "done: 6 pages, 60 records"));
  CHECK(test::TableData(dir.File("cli.db"), "jobs") ==
        server.TruthRows("jobs"));

  auto status = Stsync({"status", "-c", cfg});
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "ENDPOINT"));
  CHECK(Contains(status.out, "customers"));
  CHECK(Contains(status.out, "30"));
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(json.exit_code == 0);
  CHECK(Contains(json.out, R"("endpoint": "jobs")"));
  CHECK(Contains(json.out, R"("rows": 30)"));
  CHECK(Contains(json.out, R"("last_error": null)"));
  CHECK(Contains(json.out, R"("has_cursor": true)"));
  CHECK(Contains(json.out, R"("cursor_age_seconds": )"));
  // Totals over the endpoints: 30 + 30 rows, 3 + 3 pages.
  CHECK(Contains(status.out,
                 "TOTAL                              60       6  "
                 "0 of 2 endpoint(s) failing"));
  CHECK(Contains(json.out,
                 "\"totals\": {\n        \"rows\": 60,\n        "
                 "\"pages\": 6,\n        \"failing_endpoints\": 0"));

  // Secrets never reach any output, even at trace level.
  const auto& o = server.options();
  for (const auto* r : {&once, &status, &json}) {
    std::string all = r->out + r->err;
    CHECK_FALSE(Contains(all, o.client_secret));
    CHECK_FALSE(Contains(all, o.app_key));
    CHECK_FALSE(Contains(all, "fake-access-"));
  }

  auto bad_reset = Stsync({"reset", "-c", cfg, "leads"});
  CHECK(bad_reset.exit_code == 2);
  CHECK(Contains(bad_reset.err, "'leads' is not in"));
  CHECK(Stsync({"reset", "-c", cfg, "jobs", "--from", "someday"}).exit_code ==
        2);
  // A date-time is not a date: the export's `from` takes a day.
  auto date_time =
      Stsync({"reset", "-c", cfg, "jobs", "--from", "2024-01-01T10:00:00"});
  CHECK(date_time.exit_code == 2);
  CHECK(Contains(date_time.err, "'2024-01-01T10:00:00' is not a date"));
  auto reset = Stsync({"reset", "-c", cfg, "jobs"});
  CHECK(reset.exit_code == 0);
  size_t before = server.Requests().size();
  auto again = Stsync({"once", "-c", cfg});
  CHECK(again.exit_code == 0);
  CHECK(
      Contains(again.err, "jobs: 10 records (0 new, 0 updated, 10 unchanged)"));
  auto reqs = server.Requests();
  int jobs_from_start = 0;
  for (size_t i = before; i < reqs.size(); ++i) {
    if (Contains(reqs[i].path, "/export/jobs") && reqs[i].from.empty())
      ++jobs_from_start;
  }
  CHECK(jobs_from_start == 1);
  CHECK(test::QueryInt(dir.File("cli.db"), "SELECT count(*) FROM jobs") == 30);
}

TEST_CASE(
    "status shows each endpoint's reconciliation, and once runs a pass that "
    "is due") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(
      dir, server, "[{name: jobs, reconcile_every: 1s}, customers]");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  auto before = Stsync({"status", "-c", cfg});
  CHECK(Contains(before.out, "RECONCILE"));
  CHECK(Contains(before.out, "no pass finished yet"));
  CHECK_FALSE(Contains(before.out, "\ncustomers                  1s"));

  server.Delete("jobs", 2);
  test::WaitUntilReconcileDue(dir.File("cli.db"), "jobs",
                              std::chrono::seconds(1));
  auto once = Stsync({"once", "-c", cfg});
  CHECK(once.exit_code == 0);
  CHECK(Contains(once.err,
                 "jobs: reconciliation saw 28 keys for 30 rows; marked 2 "
                 "deleted"));
  auto after = Stsync({"status", "-c", cfg});
  CHECK(Contains(after.out, "saw 28 keys, marked 2 deleted"));
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(Contains(json.out, R"("last_marked": 2)"));
  CHECK(Contains(json.out, R"("reconcile": null)"));  // customers
  CHECK(Contains(json.out, R"("every_seconds": 1)"));
}

TEST_CASE(
    "status shows how far a first sync has got, and the date ranges a split "
    "one still owes") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("cli.db");
  std::string cfg = WriteConfig(dir, server, "[jobs, customers]");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  auto done = Stsync({"status", "-c", cfg});
  CHECK_FALSE(Contains(done.out, "FIRST SYNC"));
  CHECK(Contains(Stsync({"status", "-c", cfg, "--json"}).out,
                 R"("first_sync": null)"));
  // As a first sync of jobs left it, split, mid-way: not caught up yet, and
  // a range owed. (The fake's records are of 2024-01-01.)
  test::Exec(db,
             "UPDATE _stsync_cursors SET caught_up_at = NULL WHERE endpoint "
             "= 'jobs'; INSERT INTO _stsync_ranges VALUES ('jobs', 3, "
             "'2023-06-01', '2023-01-01', '2023-03-04T05:06:07.0000000Z')");
  auto status = Stsync({"status", "-c", cfg});
  INFO(status.out);
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "FIRST SYNC"));
  CHECK(Contains(status.out, "% of the way from 2024-01-01 to now"));
  CHECK(Contains(status.out, "rows/s"));
  CHECK(Contains(status.out,
                 "1 date range(s) left (at..end): 2023-03-04..2023-06-01"));
  // customers caught up: in the table of endpoints only.
  size_t customers_lines = 0;
  for (size_t at = status.out.find("\ncustomers "); at != std::string::npos;
       at = status.out.find("\ncustomers ", at + 1)) {
    ++customers_lines;
  }
  CHECK(customers_lines == 1);
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(Contains(json.out, R"("oldest_version": "2024-01-01T)"));
  CHECK(Contains(json.out, R"("share": )"));
  CHECK(Contains(json.out, R"("end": "2023-06-01")"));
  CHECK(Contains(json.out, R"("reached": "2023-03-04T05:06:07.0000000Z")"));
}

TEST_CASE(
    "--log-format json writes one JSON object per line, and text drops its "
    "timestamp under systemd") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  auto json = Stsync({"once", "-c", cfg, "--log-format", "json"});
  CHECK(json.exit_code == 0);
  std::istringstream lines(json.err);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    INFO(line);
    REQUIRE(d.IsObject());
    CHECK(d["time"].IsString());
    CHECK(std::string(d["time"].GetString()).back() == 'Z');
    CHECK(d["level"].IsString());
    CHECK(d["message"].IsString());
    ++objects;
  }
  CHECK(objects >= 3);
  CHECK(Contains(json.err, R"("message":"done: 3 pages, 30 records)"));
  CHECK(Stsync({"once", "-c", cfg, "--log-format", "xml"}).exit_code == 2);

  test::ProcessResult journal;
  {
    setenv("JOURNAL_STREAM", "8:12345", 1);
    journal = Stsync({"once", "-c", cfg});
    unsetenv("JOURNAL_STREAM");
  }
  CHECK(journal.exit_code == 0);
  INFO(journal.err);
  CHECK(Contains(journal.err, "\ninfo  stsync "));
  CHECK_FALSE(Contains(journal.err, "T0"));  // no ISO timestamps
  CHECK(journal.err.rfind("warning ", 0) == 0);
}

TEST_CASE(
    "health exits 1 with a reason unless a daemon runs and keeps up, and "
    "metrics.listen serves /metrics and /healthz") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const int port = test::FreePort();
  // Healthy within 20 polls of 100 ms: a sanitizer build on a loaded CI
  // machine can miss the default three (observed: 1 run in 8 under TSan).
  std::string cfg =
      WriteConfig(dir, server, "[jobs]",
                  "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) +
                      "\nhealth:\n  max_intervals: 20\n");
  auto before = Stsync({"health", "-c", cfg});
  CHECK(before.exit_code == 1);
  CHECK(before.out ==
        "unhealthy: tenant 1234567: no stsync process is writing " +
            dir.File("cli.db") + "\n");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  CHECK(Stsync({"health", "-c", cfg}).exit_code == 1);  // still no daemon

  test::Process run({kBin, "run", "-c", cfg});
  // A connection per request, as a Prometheus scraper makes.
  auto get = [port](const char* path) {
    return httplib::Client("127.0.0.1", port).Get(path);
  };
  REQUIRE(test::WaitUntil([&] { return get("/healthz") != nullptr; },
                          std::chrono::seconds(10)));
  auto health = Stsync({"health", "-c", cfg});
  CHECK(health.exit_code == 0);
  CHECK(health.out == "ok\n");
  auto healthz = get("/healthz");
  REQUIRE(healthz);
  CHECK(healthz->status == 200);
  auto metrics = get("/metrics");
  REQUIRE(metrics);
  CHECK(Contains(metrics->body,
                 "stsync_pages_committed_total{endpoint=\"jobs\"}"));
  run.Signal(SIGTERM);
  CHECK(run.Wait(std::chrono::seconds(10)).exit_code == 0);
}

namespace {

// Whether jobs commits `polls` more pages (caught-up polls) within 10 s.
bool JobsKeepPolling(const std::string& db, int polls) {
  const std::string pages =
      "SELECT pages FROM _stsync_cursors WHERE endpoint = 'jobs'";
  const int64_t before = test::QueryInt(db, pages);
  return test::WaitUntil(
      [&] { return test::QueryInt(db, pages) >= before + polls; },
      std::chrono::seconds(10));
}

}  // namespace

TEST_CASE(
    "SIGHUP reloads the config: an added endpoint starts, an invalid config "
    "is refused and the running one stays") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("cli.db");
  std::string cfg = WriteConfig(dir, server, "[{name: jobs, interval: 1h}]");
  test::Process run({kBin, "run", "-c", cfg});
  REQUIRE(test::WaitForPages(db, 3, std::chrono::seconds(10)));

  // An endpoint added, and jobs polled every 200 ms instead of hourly.
  WriteConfig(dir, server,
              "[{name: jobs, interval: 200ms}, {name: customers, interval: "
              "1h}]");
  run.Signal(SIGHUP);
  REQUIRE(test::WaitUntil(
      [&] {
        return test::QueryInt(db,
                              "SELECT count(*) FROM _stsync_cursors WHERE "
                              "endpoint = 'customers' AND caught_up_at IS "
                              "NOT NULL") == 1;
      },
      std::chrono::seconds(10)));
  // Polled every 200 ms now: three more polls within seconds.
  CHECK(JobsKeepPolling(db, 3));

  // A broken config: refused, and the daemon goes on with the running one.
  test::WriteFile(cfg, "servicetitan: [broken\n");
  run.Signal(SIGHUP);
  CHECK(
      test::WaitUntil([&] { return Contains(run.ErrSoFar(), "not reloading"); },
                      std::chrono::seconds(5)));
  CHECK(JobsKeepPolling(db, 2));
  run.Signal(SIGTERM);
  auto done = run.Wait(std::chrono::seconds(10));
  CHECK(done.exit_code == 0);
  CHECK(Contains(done.err, "reloaded: 1 tenant(s)"));
  CHECK(
      Contains(done.err, "SIGHUP: not reloading, the running config stays: "));
}

TEST_CASE(
    "a server that echoes the request in its error bodies gets no secret "
    "into the log, status or the database") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault echo;
  echo.status = 400;
  echo.count = 100;
  echo.content_type = "application/json";
  echo.body = R"({"title":"bad request","headers":"Authorization: )"
              R"({authorization} ST-App-Key: {app-key}"})";
  server.AddFault(echo);
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  auto once = Stsync({"once", "-c", cfg, "--log-level", "trace"});
  CHECK(once.exit_code == 1);
  CHECK(Contains(once.err, "Authorization: Bearer [redacted]"));
  auto status = Stsync({"status", "-c", cfg});
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(Contains(status.out, "[redacted]"));
  const std::string stored = test::QueryText(
      dir.File("cli.db"),
      "SELECT last_error FROM _stsync_cursors WHERE endpoint = 'jobs'");
  CHECK(Contains(stored, "ST-App-Key: [redacted]"));
  const auto& o = server.options();
  for (const std::string& text :
       {once.out + once.err, status.out + status.err, json.out, stored}) {
    CHECK_FALSE(Contains(text, o.client_secret));
    CHECK_FALSE(Contains(text, o.app_key));
    CHECK_FALSE(Contains(text, "fake-access-"));
  }
}

TEST_CASE(
    "a chunked page over max_page_bytes and a huge token answer are refused "
    "while they stream: peak memory stays near the limit") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault token;
  token.target = Fault::Target::kToken;
  token.status = 200;
  token.content_type = "application/json";
  token.stream_bytes = size_t{400} << 20;
  server.AddFault(token);
  Fault page;
  page.status = 200;
  page.content_type = "application/json";
  page.stream_bytes = size_t{400} << 20;
  page.stream_piece = size_t{1} << 20;
  server.AddFault(page);
  test::TempDir dir;
  const size_t limit = size_t{128} << 20;
  std::string cfg =
      WriteConfigAdding(dir, server, "  read_timeout: 5s\n",
                        "  max_page_bytes: " + std::to_string(limit) + "\n");
  auto once = Stsync({"once", "-c", cfg});
  INFO(once.err);
  CHECK(once.exit_code == 0);
  CHECK(Contains(once.err, "64 KiB"));
  CHECK(Contains(once.err, "exceeds http.max_page_bytes"));
  CHECK(test::TableData(dir.File("cli.db"), "jobs") ==
        server.TruthRows("jobs"));
  // The limit, one 4 MiB block and the process itself (about 20 MB; ASan
  // adds its shadow and allocator, TSan several times the heap).
  MESSAGE("peak RSS ", once.max_rss_kb / 1024, " MiB, limit ", limit >> 20,
          " MiB");
#if defined(__SANITIZE_THREAD__)
  MESSAGE("peak RSS not checked under ThreadSanitizer");
#else
#if defined(__SANITIZE_ADDRESS__)
  const size_t slack = size_t{80} << 20;
#else
  const size_t slack = size_t{48} << 20;
#endif
  CHECK(once.max_rss_kb * 1024L < static_cast<long>(limit + slack));
#endif
}

TEST_CASE(
    "a page that trickles in is cancelled at http.request_timeout and "
    "retried") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault trickle;
  trickle.status = 200;
  trickle.content_type = "application/json";
  trickle.stream_bytes = 1000;  // one byte every 100 ms: 100 s
  trickle.stream_piece = 1;
  trickle.stream_piece_ms = 100;
  server.AddFault(trickle);
  test::TempDir dir;
  std::string cfg = WriteConfigAdding(dir, server, "  read_timeout: 5s\n",
                                      "  request_timeout: 1s\n");
  auto once = Stsync({"once", "-c", cfg});
  INFO(once.err);
  CHECK(once.exit_code == 0);
  CHECK(Contains(once.err, "no complete answer within http.request_timeout"));
  CHECK(once.seconds < 10);
  CHECK(test::TableData(dir.File("cli.db"), "jobs") ==
        server.TruthRows("jobs"));
}

TEST_CASE(
    "a damaged database stops the writer at once, status says so, and "
    "verify finds it and lets a restored file be written again") {
  FakeServer server(test::SmallFake({"jobs"}, 400, 100));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  const std::string db = dir.File("cli.db");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  auto sound = Stsync({"verify", "-c", cfg});
  CHECK(sound.exit_code == 0);
  CHECK(Contains(sound.out, db + ": ok"));
  // Everything into the main file, no WAL beside it.
  {
    sqlite3* c = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &c) == SQLITE_OK);
    CHECK(sqlite3_exec(c, "PRAGMA journal_mode=DELETE", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
    sqlite3_close(c);
  }
  REQUIRE_FALSE(std::filesystem::exists(db + "-wal"));
  REQUIRE(std::filesystem::copy_file(db, dir.File("backup.db")));
  // Zero the second half of the file's pages.
  const std::string bytes = test::ReadFile(db);
  const size_t page = 16384, pages = bytes.size() / page;
  REQUIRE(pages > 8);
  std::string damaged = bytes.substr(0, pages / 2 * page);
  damaged.resize(bytes.size(), '\0');
  test::WriteFile(db, damaged);
  server.Mutate("jobs", 200, 0);

  auto once = Stsync({"once", "-c", cfg});
  INFO(once.err);
  CHECK(once.exit_code == 1);
  CHECK(once.seconds < 10);
  CHECK(Contains(once.err, "is damaged; stsync stops writing it"));
  CHECK(Contains(once.err, "stsync verify"));
  CHECK(std::filesystem::exists(db + "-damaged"));

  auto status = Stsync({"status", "-c", cfg});
  CHECK(status.exit_code == 1);
  CHECK(Contains(status.out, "PROBLEM: DAMAGED"));
  auto verify = Stsync({"verify", "-c", cfg});
  CHECK(verify.exit_code == 1);
  CHECK(Contains(verify.out, db + ": DAMAGED"));
  CHECK(Contains(verify.out, ".recover"));
  // The writer refuses the file until verify passes.
  auto again = Stsync({"once", "-c", cfg});
  CHECK(again.exit_code == 1);
  CHECK(Contains(again.err, "was found damaged"));
  CHECK(server.RequestsStarted() > 0);

  // Restored from the backup: verify passes and lifts the note; the writer
  // catches up.
  std::filesystem::copy_file(dir.File("backup.db"), db,
                             std::filesystem::copy_options::overwrite_existing);
  auto restored = Stsync({"verify", "-c", cfg});
  CHECK(restored.exit_code == 0);
  CHECK(Contains(restored.out, "note (" + db + "-damaged) is removed"));
  CHECK_FALSE(std::filesystem::exists(db + "-damaged"));
  auto caught_up = Stsync({"once", "-c", cfg});
  CHECK(caught_up.exit_code == 0);
  CHECK(test::TableData(db, "jobs") == server.TruthRows("jobs"));
  CHECK(Stsync({"status", "-c", cfg}).exit_code == 0);
}

TEST_CASE("status over another tenant's file names the file's owner") {
  FakeServer server(test::SmallFake({"jobs"}, 10, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  const std::string tenant = server.options().tenant;
  std::string other = dir.File("other.yaml");
  test::WriteFile(
      other, test::Replace(test::ReadFile(cfg), "  tenant: " + tenant + "\n",
                           "  tenant: 999\n"));
  auto status = Stsync({"status", "-c", other});
  CHECK(status.exit_code == 1);
  CHECK(Contains(status.out, "holds the data of tenant " + tenant));
  CHECK(Contains(status.out, "not of tenant 999"));
  auto json = Stsync({"status", "-c", other, "--json"});
  CHECK(json.exit_code == 1);
  CHECK(Contains(json.out, "\"problem\": \"database "));
}

TEST_CASE(
    "a reloaded config whose database cannot be opened leaves the running "
    "config running, and the metrics say the reload failed") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("cli.db");
  const int port = test::FreePort();
  const std::string metrics =
      "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  std::string cfg =
      WriteConfig(dir, server, "[{name: jobs, interval: 200ms}]", metrics);
  const std::string good = test::ReadFile(cfg);
  test::Process run({kBin, "run", "-c", cfg});
  REQUIRE(test::WaitForPages(db, 3, std::chrono::seconds(10)));
  auto scrape = [port] {
    auto r = httplib::Client("127.0.0.1", port).Get("/metrics");
    return r ? r->body : std::string();
  };

  // Another tenant's file, a path that cannot be created, a file that is
  // not SQLite: each validates, and none can be opened.
  const std::string other = dir.File("other.db");
  {
    test::TempDir other_dir;
    std::string other_cfg = test::Replace(
        test::Replace(good, "  path: " + db + "\n", "  path: " + other + "\n"),
        "  tenant: " + server.options().tenant + "\n", "  tenant: 999\n");
    test::WriteFile(other_dir.File("o.yaml"),
                    test::Replace(other_cfg, metrics, ""));
    // Recorded for tenant 999 (its server is gone: only the owner matters).
    Stsync({"once", "-c", other_dir.File("o.yaml")});
  }
  const std::string not_sqlite = dir.File("text.db");
  test::WriteFile(not_sqlite, "not a database\n");
  int reloads = 0;
  for (const std::string& path :
       {other, std::string("/proc/nope/st.db"), not_sqlite}) {
    INFO(path);
    test::WriteFile(cfg, test::Replace(good, "  path: " + db + "\n",
                                       "  path: " + path + "\n"));
    run.Signal(SIGHUP);
    ++reloads;
    CHECK(test::WaitUntil(
        [&] {
          const std::string err = run.ErrSoFar();
          size_t n = 0;
          for (size_t at = err.find("reload failed, the running config stays");
               at != std::string::npos;
               at = err.find("reload failed, the running config stays",
                             at + 1)) {
            ++n;
          }
          return n == static_cast<size_t>(reloads);
        },
        std::chrono::seconds(10)));
    // Still syncing the running config's file.
    CHECK(JobsKeepPolling(db, 2));
    CHECK(test::WaitUntil(
        [&] {
          return Contains(scrape(), "stsync_config_last_reload_successful 0");
        },
        std::chrono::seconds(5)));
  }
  CHECK(test::ReadFile(not_sqlite) == "not a database\n");
  // A good config again: reloaded, and the metric says so.
  test::WriteFile(cfg, test::Replace(good, "[{name: jobs, interval: 200ms}]",
                                     "[{name: jobs, interval: 200ms}, "
                                     "customers]"));
  run.Signal(SIGHUP);
  CHECK(test::WaitUntil(
      [&] {
        return Contains(scrape(), "stsync_config_last_reload_successful 1");
      },
      std::chrono::seconds(10)));
  run.Signal(SIGTERM);
  auto done = run.Wait(std::chrono::seconds(10));
  CHECK(done.exit_code == 0);
  CHECK(Contains(done.err, "holds the data of tenant 999"));
  CHECK(Contains(done.err, "not a database"));
  CHECK(Contains(done.err, "reloaded: 1 tenant(s)"));
}

TEST_CASE(
    "records that cannot be rows (a null key, nesting deeper than SQLite's "
    "JSON functions read) are quarantined, and the page, the views and "
    "indexes go on") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  const std::string deep = std::string(2500, '[') + std::string(2500, ']');
  const std::string null_key =
      R"({"id":null,"customerId":7,"modifiedOn":"2030-01-01T00:00:00Z"})";
  Fault page;
  page.path_contains = "/export/jobs";
  page.status = 200;
  page.content_type = "application/json";
  page.body =
      R"({"hasMore":false,"continueFrom":"q","data":[)"
      R"({"id":5001,"customerId":7,"modifiedOn":"2030-01-01T00:00:00Z"},)" +
      null_key + R"(,{"id":5002,"customerId":7,"x":)" + deep +
      R"(,"modifiedOn":"2030-01-01T00:00:00Z"}]})";
  server.AddFault(page);
  test::TempDir dir;
  std::string cfg =
      WriteConfig(dir, server, "[{name: jobs, index: [customerId]}]");
  const std::string db = dir.File("cli.db");
  auto once = Stsync({"once", "-c", cfg});
  INFO(once.err);
  CHECK(once.exit_code == 0);
  CHECK(test::QueryInt(db, "SELECT count(*) FROM jobs") == 1);
  CHECK(test::QueryText(db, "SELECT cursor FROM _stsync_cursors") == "q");
  // Every reader query works, the views included.
  CHECK(test::QueryInt(
            db, "SELECT count(*) FROM jobs_v WHERE customerId = 7") == 1);
  CHECK(test::QueryInt(
            db, "SELECT count(*) FROM jobs WHERE json_valid(data)") == 1);
  // Both kept whole, with their reason and position.
  CHECK(test::QueryInt(db, "SELECT count(*) FROM _stsync_rejects") == 2);
  CHECK(test::QueryText(db,
                        "SELECT reason FROM _stsync_rejects WHERE "
                        "record_index = 1") ==
        "data[1]: key field 'id' is missing or null");
  CHECK(test::QueryText(db,
                        "SELECT CAST(data AS TEXT) FROM _stsync_rejects WHERE "
                        "record_index = 1") == null_key);
  CHECK(Contains(test::QueryText(db,
                                 "SELECT reason FROM _stsync_rejects WHERE "
                                 "record_index = 2"),
                 "nested 2500 levels deep"));
  CHECK(test::QueryInt(db,
                       "SELECT length(data) FROM _stsync_rejects WHERE "
                       "record_index = 2") > 5000);
  CHECK(test::QueryText(db,
                        "SELECT DISTINCT endpoint || ' ' || position FROM "
                        "_stsync_rejects") == "jobs ");
  auto status = Stsync({"status", "-c", cfg});
  CHECK(
      Contains(status.out, "QUARANTINED records (in _stsync_rejects): jobs 2"));
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(Contains(json.out, R"("rejected": 2)"));
}

TEST_CASE(
    "once on a terminal keeps a live progress line below the log and erases "
    "it at the end: neither with --no-progress nor without a terminal") {
  // 30 pages of 60 ms: the line is drawn after a second.
  fake::FakeOptions options = test::SmallFake({"jobs"}, 3000, 100);
  options.latency_ms = 60;
  FakeServer server(options);
  REQUIRE(server.Start().ok());
  // Each run a first sync, into a database of its own.
  test::TempDir shown_dir, quiet_dir, piped_dir;
  // script(1) (util-linux, in every Debian) gives the command a terminal
  // and copies what it writes there to its stdout.
  auto on_terminal = [&](const test::TempDir& dir, const std::string& flags) {
    const std::string cfg = WriteConfig(dir, server, "[jobs]");
    return test::Run({"/usr/bin/script", "-qfec",
                      "TERM=xterm exec " + kBin + " once -c " + cfg +
                          " --log-level warn" + flags,
                      "/dev/null"});
  };
  const std::string erase = "\r\033[K";
  auto shown = on_terminal(shown_dir, "");
  CHECK(shown.exit_code == 0);
  INFO(shown.out);
  CHECK(Contains(shown.out, " records ("));
  CHECK(Contains(shown.out, "0/1 caught up"));
  // Erased before the exit: nothing after the last erase.
  REQUIRE(Contains(shown.out, erase));
  CHECK(shown.out.substr(shown.out.rfind(erase) + erase.size()) == "");

  auto quiet = on_terminal(quiet_dir, " --no-progress");
  CHECK(quiet.exit_code == 0);
  CHECK(!Contains(quiet.out, "caught up"));
  CHECK(!Contains(quiet.out, erase));

  auto piped = Stsync({"once", "-c", WriteConfig(piped_dir, server, "[jobs]")});
  CHECK(piped.exit_code == 0);
  CHECK(!Contains(piped.err, erase));
  CHECK(Contains(piped.err, "done: 30 pages"));
}

TEST_CASE("status before the first run and once with a failing endpoint") {
  FakeServer server(test::SmallFake({"jobs"}, 10, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  auto status = Stsync({"status", "-c", cfg});
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "not created yet"));

  Fault down;
  down.count = 100;
  down.status = 503;
  server.AddFault(down);
  auto once = Stsync({"once", "-c", cfg});
  CHECK(once.exit_code == 1);
  CHECK(Contains(once.err, "jobs: failed: HTTP 503"));
  auto after = Stsync({"status", "-c", cfg});
  CHECK(Contains(after.out, "HTTP 503"));
}

TEST_CASE(
    "an endpoint the tenant is not licensed for (403) is listed, not a "
    "failure of once, and shown as forbidden by status") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 10, 10));
  REQUIRE(server.Start().ok());
  Fault unlicensed;
  unlicensed.path_contains = "/export/customers";
  unlicensed.count = 1000;
  unlicensed.status = 403;
  unlicensed.body = R"({"title":"Forbidden"})";
  unlicensed.content_type = "application/json";
  server.AddFault(unlicensed);
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs, customers]");
  auto once = Stsync({"once", "-c", cfg});
  CHECK(once.exit_code == 0);
  CHECK(Contains(once.err,
                 "forbidden (HTTP 403: the tenant lacks the "
                 "module, or the app its access): customers"));
  CHECK(Contains(once.err,
                 "customers: HTTP 403 forbidden: the tenant lacks "
                 "the module of customers"));
  CHECK(test::QueryInt(dir.File("cli.db"), "SELECT count(*) FROM jobs") == 10);
  int customer_calls = 0;
  for (const auto& r : server.Requests()) {
    if (r.path.find("/export/customers") != std::string::npos) ++customer_calls;
  }
  CHECK(customer_calls == 1);

  auto status = Stsync({"status", "-c", cfg});
  CHECK(Contains(status.out, "forbidden: HTTP 403"));
  auto json = Stsync({"status", "-c", cfg, "--json"});
  CHECK(Contains(json.out, "\"forbidden\": true"));
  CHECK(Contains(json.out, "\"forbidden\": false"));
}

TEST_CASE(
    "a database path holding a non-SQLite file or a newer schema gives exit "
    "1 and is left alone") {
  FakeServer server(test::SmallFake({"jobs"}, 10, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  std::string text = "this is not a database\n";
  test::WriteFile(dir.File("cli.db"), text);
  auto r = Stsync({"once", "-c", cfg});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "not a database"));
  CHECK(test::ReadFile(dir.File("cli.db")) == text);

  // A database from a newer stsync is refused the same way.
  std::remove(dir.File("cli.db").c_str());
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.File("cli.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 77; CREATE TABLE t(x)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  std::string newer = test::ReadFile(dir.File("cli.db"));
  r = Stsync({"run", "-c", cfg});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "schema version 77, newer than this stsync"));
  CHECK(test::ReadFile(dir.File("cli.db")) == newer);
}

TEST_CASE(
    "a database recorded for another tenant or environment gives exit 1 "
    "naming both, and is left alone") {
  FakeServer server(test::SmallFake({"jobs"}, 10, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  const std::string db = dir.File("cli.db");
  auto files = [&] {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      if (std::filesystem::exists(db + suffix)) {
        all += test::ReadFile(db + suffix);
      }
      all += "|";
    }
    return all;
  };
  const std::string before = files();

  const std::string yaml = test::ReadFile(cfg);
  test::WriteFile(cfg,
                  test::Replace(yaml, "tenant: 1234567", "tenant: 7654321"));
  for (const char* cmd : {"once", "run"}) {
    auto r = Stsync({cmd, "-c", cfg});
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.err,
                   "holds the data of tenant 1234567 (production), "
                   "not of tenant 7654321 (production)"));
  }
  auto reset = Stsync({"reset", "-c", cfg, "jobs"});
  CHECK(reset.exit_code == 1);
  CHECK(Contains(reset.err, "tenant 1234567"));
  CHECK(files() == before);
  // No request reached the server with the other tenant's cursor.
  for (const auto& r : server.Requests()) {
    CHECK(r.path.find("7654321") == std::string::npos);
  }

  test::WriteFile(cfg,
                  test::Replace(yaml, "servicetitan:\n",
                                "servicetitan:\n  environment: integration\n"));
  auto env = Stsync({"once", "-c", cfg});
  CHECK(env.exit_code == 1);
  CHECK(Contains(env.err, "not of tenant 1234567 (integration)"));
  CHECK(files() == before);

  // The right tenant goes on as before.
  test::WriteFile(cfg, yaml);
  CHECK(Stsync({"once", "-c", cfg}).exit_code == 0);
  CHECK(test::QueryText(db,
                        "SELECT tenant || ' ' || environment FROM "
                        "_stsync_owner") == "1234567 production");
}

TEST_CASE(
    "SIGTERM during a backfill exits 0 within 5 s, the database stays "
    "consistent") {
  FakeServer server(test::SmallFake({"jobs", "customers"}, 300, 10));
  REQUIRE(server.Start().ok());
  Fault slow;
  slow.status = 0;  // only a delay
  slow.delay_ms = 50;
  slow.count = 100000;
  server.AddFault(slow);
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs, customers]");
  std::string db = dir.File("cli.db");
  for (int round = 0; round < 3; ++round) {
    test::Process run({kBin, "run", "-c", cfg});
    REQUIRE(test::WaitForPages(db, (round + 1) * 4, std::chrono::seconds(20)));
    double stop_seconds = 0;
    auto r = StopWith(run, round == 1 ? SIGINT : SIGTERM, &stop_seconds);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(stop_seconds < 5.0);
    CHECK(Contains(r.err, "stopping"));
    CHECK(test::QueryText(db, "PRAGMA integrity_check") == "ok");
    for (const char* table : {"jobs", "customers"}) {
      CHECK(test::QueryInt(db,
                           std::string("SELECT row_count FROM _stsync_cursors "
                                       "WHERE endpoint = '") +
                               table + "'") ==
            test::QueryInt(db, std::string("SELECT count(*) FROM ") + table));
    }
  }
  server.ClearFaults();
  auto once = Stsync({"once", "-c", cfg});
  CHECK(once.exit_code == 0);
  CHECK(test::TableData(db, "jobs") == server.TruthRows("jobs"));
  CHECK(test::TableData(db, "customers") == server.TruthRows("customers"));
  // No page was fetched twice except ones in flight at a signal (one per
  // feed per stop at most: 2 feeds, 3 stops).
  std::multiset<std::string> froms;
  for (const auto& r : server.Requests()) {
    if (r.status == 200) froms.insert(r.path + "?" + r.from);
  }
  int repeats = 0;
  for (auto it = froms.begin(); it != froms.end();
       it = froms.upper_bound(*it)) {
    repeats += static_cast<int>(froms.count(*it)) - 1;
  }
  CHECK(repeats <= 2 * 3);
}

TEST_CASE("SIGTERM while the server never answers still stops within 5 s") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault hang;
  hang.status = 0;
  hang.skip = 1;
  hang.delay_ms = 60'000;
  server.AddFault(hang);
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]", "");
  // read_timeout is 5 s in the test config: the stop must not wait for it.
  test::Process run({kBin, "run", "-c", cfg});
  // The first page is served; the second request hangs.
  REQUIRE(test::WaitUntil([&] { return server.RequestsStarted() >= 2; },
                          std::chrono::seconds(10)));
  REQUIRE(server.Requests().size() == 1);
  double stop_seconds = 0;
  auto r = StopWith(run, SIGTERM, &stop_seconds);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(stop_seconds < 5.0);
  CHECK(test::QueryInt(dir.File("cli.db"), "SELECT count(*) FROM jobs") == 10);
}

TEST_CASE(
    "SIGTERM while another process holds the write lock stops within 1 s, "
    "even with busy_timeout: 1h") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg =
      WriteConfigAdding(dir, server, "database:\n", "  busy_timeout: 1h\n");
  REQUIRE(Stsync({"once", "-c", cfg}).exit_code == 0);
  server.Mutate("jobs", 5, 0);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(dir.File("cli.db").c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  const int before = server.RequestsStarted();
  test::Process run({kBin, "run", "-c", cfg});
  // Its first page is fetched; applying it waits for the lock.
  REQUIRE(test::WaitUntil([&] { return server.RequestsStarted() > before; },
                          std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double seconds = 0;
  auto r = StopWith(run, SIGTERM, &seconds);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(seconds < 1.0);
  CHECK(test::QueryText(dir.File("cli.db"), "PRAGMA integrity_check") == "ok");
  CHECK(test::QueryInt(dir.File("cli.db"), "SELECT count(*) FROM jobs") == 30);
}

TEST_CASE(
    "a symbolic link planted as the lock file is refused and its target is "
    "not truncated") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]", "");
  const std::string victim = dir.File("owned-by-root.conf");
  test::WriteFile(victim, "keep me\n");
  REQUIRE(::symlink(victim.c_str(), dir.File("cli.db-lock").c_str()) == 0);
  auto once = Stsync({"once", "-c", cfg});
  CHECK(once.exit_code == 1);
  CHECK(Contains(once.err, "is a symbolic link"));
  CHECK(test::ReadFile(victim) == "keep me\n");
  CHECK(server.RequestsStarted() == 0);
}

TEST_CASE(
    "while a daemon writes the database, reset and a second daemon are "
    "refused, and kill -9 frees it") {
  FakeServer server(test::SmallFake({"jobs"}, 30, 10));
  REQUIRE(server.Start().ok());
  Fault hang;  // a request of each daemon hangs, so it stays busy
  hang.status = 0;
  hang.delay_ms = 60'000;
  hang.count = 2;
  server.AddFault(hang);
  test::TempDir dir;
  std::string cfg = WriteConfig(dir, server, "[jobs]", "");
  for (int sig : {SIGTERM, SIGKILL}) {
    INFO("stopping the daemon with signal ", sig);
    const int started = server.RequestsStarted();
    test::Process run({kBin, "run", "-c", cfg});
    // It opens the database before its first request.
    REQUIRE(
        test::WaitUntil([&] { return server.RequestsStarted() >= started + 1; },
                        std::chrono::seconds(10)));
    auto reset = Stsync({"reset", "-c", cfg, "jobs"});
    CHECK(reset.exit_code == 1);
    CHECK(Contains(reset.err, "is in use by another stsync process (pid "));
    auto once = Stsync({"once", "-c", cfg});
    CHECK(once.exit_code == 1);
    CHECK(Contains(once.err, "is in use by another stsync process"));
    // Removing the lock file does not let a second writer in.
    REQUIRE(::unlink(dir.File("cli.db-lock").c_str()) == 0);
    auto without_file = Stsync({"once", "-c", cfg});
    CHECK(without_file.exit_code == 1);
    CHECK(Contains(without_file.err, "is in use by another stsync process"));
    // Reading is always allowed.
    CHECK(Stsync({"status", "-c", cfg}).exit_code == 0);
    run.Signal(sig);
    run.Wait(std::chrono::seconds(10));
    auto after = Stsync({"reset", "-c", cfg, "jobs"});
    INFO(after.err);
    CHECK(after.exit_code == 0);
  }
}

}  // namespace stsync

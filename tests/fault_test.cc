// Convergence under faults: every fault mode on at once, data changing, and
// `stsync run` must end up holding exactly the server's truth.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <thread>

#include "test_util.h"

namespace stsync {

TEST_CASE("stsync run converges to the server's truth under every fault mode") {
  const std::vector<std::string> endpoints = {"jobs", "customers",
                                              "job-history", "gross-pay-items"};
  fake::FakeOptions o = test::SmallFake(endpoints, 120, 10);
  o.token_lifetime_seconds = 1;
  o.seed = 99;
  fake::FakeServer server(o);
  fake::FaultRates rates;
  std::string error;
  REQUIRE(rates.Parse(
      "throttle=0.02,maintenance=0.05,server_error=0.05,unavailable=0.05,"
      "slow=0.05,hang=0.02,truncate=0.05,reset=0.05,broken_json=0.05,"
      "bad_envelope=0.06,unauthorized=0.05,token_error=0.5,slow_ms=100",
      &error));
  server.SetFaultRates(rates);
  REQUIRE(server.Start().ok());

  test::TempDir dir;
  std::string db = dir.File("faults.db");
  std::string yaml = test::FakeConfigYaml(server, db,
                                          "[jobs, customers, job-history, "
                                          "gross-pay-items]");
  // A hung request costs one read timeout.
  yaml = test::Replace(yaml, "read_timeout: 5s", "read_timeout: 1s");
  std::string cfg = dir.File("faults.yaml");
  test::WriteFile(cfg, yaml);

  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  // Changes keep coming while faults fly: at least 6 s, and until every
  // fault mode has struck (at most 25 s).
  std::mt19937 rng(7);
  auto started = std::chrono::steady_clock::now();
  auto all_struck = [&] {
    for (const auto& [kind, n] : server.FaultCounts()) {
      if (n == 0) return false;
    }
    return true;
  };
  while (
      std::chrono::steady_clock::now() - started < std::chrono::seconds(25) &&
      (std::chrono::steady_clock::now() - started < std::chrono::seconds(6) ||
       !all_struck())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.Mutate(endpoints[rng() % endpoints.size()], 2, 1);
  }
  server.ClearFaults();
  auto cleared = std::chrono::steady_clock::now();
  auto converged = [&] {
    for (const auto& e : endpoints) {
      if (test::TableData(db, FindEndpoint(e)->TableName()) !=
          server.TruthRows(e)) {
        return false;
      }
    }
    return true;
  };
  bool ok = test::WaitUntil(converged, std::chrono::seconds(30));
  double converge_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cleared)
          .count();
  run.Signal(SIGTERM);
  auto r = run.Wait(std::chrono::seconds(10));
  INFO(r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0));
  CHECK(ok);
  CHECK(r.exit_code == 0);
  CHECK(test::QueryText(db, "PRAGMA integrity_check") == "ok");
  for (const auto& e : endpoints) {
    auto rows = test::TableData(db, FindEndpoint(e)->TableName());
    auto truth = server.TruthRows(e);
    std::vector<std::string> extra, missing;
    std::set_difference(rows.begin(), rows.end(), truth.begin(), truth.end(),
                        std::back_inserter(extra));
    std::set_difference(truth.begin(), truth.end(), rows.begin(), rows.end(),
                        std::back_inserter(missing));
    INFO(e, ": ", rows.size(), " rows, truth ", truth.size(),
         "; extra: ", extra.empty() ? "-" : extra[0].substr(0, 300),
         "; missing: ", missing.empty() ? "-" : missing[0].substr(0, 300));
    CHECK(rows == truth);
  }

  std::string summary;
  int total = 0;
  for (const auto& [kind, n] : server.FaultCounts()) {
    INFO(kind);
    CHECK(n > 0);  // every mode was exercised
    summary += " " + kind + "=" + std::to_string(n);
    total += n;
  }
  // The daemon said what went wrong, naming the kinds of failure.
  CHECK(r.err.find("HTTP 429") != std::string::npos);
  CHECK(r.err.find("HTTP 503") != std::string::npos);
  CHECK(r.err.find("invalid page") != std::string::npos);
  MESSAGE("faults injected: ", total, " (", summary, " ), ",
          server.Requests().size(), " export requests, converged ",
          converge_seconds,
          " s after the faults stopped, 0 lost rows, 0 duplicate keys");
}

}  // namespace stsync

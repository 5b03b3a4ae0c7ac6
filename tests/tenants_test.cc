// Many tenants in one daemon: each has its own file, token, limiter and
// failures; one failing auth and one hanging stall no other.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>

#include "test_util.h"

namespace stsync {
namespace {

constexpr const char* kHealthy1 = "1234567";  // the fake's own tenant
constexpr const char* kHealthy2 = "2222222";
constexpr const char* kBadSecret = "3333333";
constexpr const char* kHanging = "4444444";

// The fake's config with four tenants instead of its one.
std::string TenantsConfig(const fake::FakeServer& server,
                          const std::string& dir) {
  const std::string tenants =
      std::string("tenants:\n") + "  - " + kHealthy1 + "\n" +
      "  - id: " + kHealthy2 + "\n" + "    endpoints: [jobs]\n" +
      "  - id: " + kBadSecret + "\n" + "    client_secret: not-the-secret\n" +
      "  - " + kHanging + "\n";
  return test::Replace(test::FakeConfigYaml(server, dir + "/{tenant}.db",
                                            "[jobs, zones]", tenants),
                       "  tenant: " + server.options().tenant + "\n", "");
}

int64_t CaughtUp(const std::string& db) {
  if (!std::filesystem::exists(db)) return 0;
  if (test::QueryInt(db,
                     "SELECT count(*) FROM sqlite_master WHERE name = "
                     "'_stsync_cursors'") == 0) {
    return 0;
  }
  return test::QueryInt(
      db,
      "SELECT count(*) FROM _stsync_cursors WHERE caught_up_at IS NOT NULL");
}

}  // namespace

TEST_CASE(
    "one daemon serves many tenants: a failing and a hanging one stall no "
    "other, and each tenant's rows are in its own file") {
  fake::FakeOptions options = test::SmallFake({"jobs", "zones"}, 40, 10);
  options.extra_tenants = {kHealthy2, kBadSecret, kHanging};
  fake::FakeServer server(options);
  fake::Fault hang;  // every request of one tenant hangs until stopped
  hang.path_contains = std::string("/tenant/") + kHanging + "/";
  hang.status = 0;
  hang.delay_ms = 120'000;
  hang.count = 1 << 30;
  server.AddFault(hang);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string cfg = dir.File("tenants.yaml");
  test::WriteFile(cfg, TenantsConfig(server, dir.path()));
  auto db = [&](const char* tenant) {
    return dir.File(std::string(tenant) + ".db");
  };

  auto check = test::Run({STSYNC_BIN, "check-config", "-c", cfg});
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("tenant 3333333") != std::string::npos);
  CHECK(check.out.find("database " + db(kHanging)) != std::string::npos);
  CHECK(check.out.find("not-the-secret") == std::string::npos);

  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  REQUIRE(test::WaitUntil(
      [&] {
        return CaughtUp(db(kHealthy1)) == 2 && CaughtUp(db(kHealthy2)) == 1;
      },
      std::chrono::seconds(20)));
  // Both healthy tenants hold exactly the server's data, each in its file.
  CHECK(test::TableData(db(kHealthy1), "jobs") == server.TruthRows("jobs"));
  CHECK(test::TableData(db(kHealthy1), "zones") == server.TruthRows("zones"));
  CHECK(test::TableData(db(kHealthy2), "jobs") == server.TruthRows("jobs"));
  CHECK(test::QueryInt(db(kHealthy2),
                       "SELECT count(*) FROM sqlite_master WHERE name = "
                       "'zones'") == 0);
  // The one with a wrong secret records why; the hanging one has nothing.
  CHECK(test::QueryText(db(kBadSecret),
                        "SELECT last_error FROM _stsync_cursors LIMIT 1")
            .find("client credentials") != std::string::npos);
  CHECK(CaughtUp(db(kHanging)) == 0);
  // It did ask, and is still waiting for an answer.
  CHECK(server.RequestsStarted() > static_cast<int>(server.Requests().size()));

  auto status = test::Run({STSYNC_BIN, "status", "-c", cfg, "--json"});
  CHECK(status.exit_code == 0);
  for (const char* t : {kHealthy1, kHealthy2, kBadSecret, kHanging}) {
    CHECK(status.out.find(std::string("\"tenant\": \"") + t + "\"") !=
          std::string::npos);
  }
  CHECK(status.out.find("not-the-secret") == std::string::npos);
  auto one =
      test::Run({STSYNC_BIN, "status", "-c", cfg, "--tenant", kHealthy2});
  CHECK(one.exit_code == 0);
  CHECK(one.out.find(std::string("database: ") + db(kHealthy2)) == 0);

  // SIGTERM stops every tenant promptly, the hanging request included.
  run.Signal(SIGTERM);
  auto stopped = run.Wait(std::chrono::seconds(10));
  INFO(stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find(std::string(kHealthy1) + "/jobs: ") !=
        std::string::npos);
  CHECK(stopped.err.find("not-the-secret") == std::string::npos);

  // Commands that act on one tenant need to be told which.
  auto reset = test::Run({STSYNC_BIN, "reset", "-c", cfg, "jobs"});
  CHECK(reset.exit_code == 2);
  CHECK(reset.err.find("has 4 tenants (1234567, 2222222, 3333333, "
                       "4444444): say which with --tenant") !=
        std::string::npos);
  reset = test::Run(
      {STSYNC_BIN, "reset", "-c", cfg, "--tenant", kHealthy2, "jobs"});
  CHECK(reset.exit_code == 0);
  CHECK(test::QueryInt(db(kHealthy2),
                       "SELECT count(*) FROM _stsync_cursors "
                       "WHERE cursor IS NOT NULL") == 0);
  CHECK(test::QueryInt(db(kHealthy1),
                       "SELECT count(*) FROM _stsync_cursors "
                       "WHERE cursor IS NOT NULL") == 2);
  auto unknown = test::Run({STSYNC_BIN, "backfill", "-c", cfg, "--tenant",
                            "999", "jobs", "--from", "2024-01-01"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("tenant 999 is not in") != std::string::npos);
}

}  // namespace stsync

// Several daemons sharing one PostgreSQL cluster's tenants (sink/pg_lease.h):
// the real binary, three processes, nine tenants, a throwaway server.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "fake/fake_server.h"
#include "test_postgres.h"
#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The daemons' lease: long enough that a loaded machine (a sanitizer build)
// renews in time, and that daemons starting together count each other.
constexpr int kLeaseSeconds = 4;

// Tenant schema -> the pid of the daemon holding its live lease (0: none).
std::map<std::string, int> Holders(const test::TestPostgres& pg) {
  std::map<std::string, int> out;
  const std::vector<std::string> rows = pg.SortedRows(
      "SELECT tenant_schema, coalesce(split_part(owner, ':', 2), '0') FROM "
      "stsync.leases WHERE owner IS NOT NULL AND heartbeat_at > "
      "clock_timestamp() - interval '" +
      std::to_string(kLeaseSeconds) + " seconds'");
  for (const std::string& line : rows) {
    const size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    out[line.substr(0, bar)] = std::stoi(line.substr(bar + 1));
  }
  return out;
}

bool LeasesReady(const test::TestPostgres& pg) {
  return pg.Int(
             "SELECT count(*) FROM pg_tables WHERE schemaname = 'stsync' "
             "AND tablename = 'leases'") == 1;
}

}  // namespace

TEST_CASE(
    "three daemons share nine tenants: a killed one's tenants are taken over "
    "a paused one writes nothing more and gets its share back and all "
    "converge after a server restart") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  // Every write of a feed's state, with the writer's session and the lease
  // as that transaction sees it.
  pg->Psql(R"sql(
CREATE TABLE public.writes (id bigserial PRIMARY KEY, schema text, app text,
                            owner text, epoch bigint);
CREATE FUNCTION public.log_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.writes (schema, app, owner, epoch)
  SELECT TG_TABLE_SCHEMA, current_setting('application_name'), l.owner,
         l.epoch
  FROM stsync.leases l WHERE l.tenant_schema = TG_TABLE_SCHEMA;
  RETURN NULL;
END $$)sql");

  fake::FakeOptions options = test::SmallFake({"jobs"}, 300, 10);
  options.latency_ms = 40;
  std::vector<std::string> tenants = {options.tenant};
  for (int i = 1; i <= 8; ++i) {
    options.extra_tenants.push_back(std::to_string(7000000 + i));
    tenants.push_back(options.extra_tenants.back());
  }
  FakeServer server(options);
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string list = "tenants:\n";
  for (const auto& t : tenants) list += "  - " + t + "\n";
  std::string yaml = test::FakeConfigYaml(server, "unused", "[jobs]", list);
  yaml = test::Replace(yaml, "  tenant: " + options.tenant + "\n", "");
  yaml = test::Replace(yaml, "  path: unused\n",
                       "  url: " + pg->Url() + "\n  lease: " +
                           std::to_string(kLeaseSeconds) + "s\n");
  const std::string cfg = dir.File("shared.yaml");
  test::WriteFile(cfg, yaml);

  std::vector<std::unique_ptr<test::Process>> daemons;
  for (int i = 0; i < 3; ++i) {
    daemons.push_back(std::make_unique<test::Process>(std::vector<std::string>{
        STSYNC_BIN, "run", "-c", cfg, "--log-level", "info"}));
  }
  std::map<int, test::Process*> by_pid;
  for (auto& d : daemons) by_pid[d->pid()] = d.get();

  // Each takes its share: three tenants.
  REQUIRE(test::WaitUntil([&] { return LeasesReady(*pg); }, seconds(15)));
  REQUIRE(
      test::WaitUntil([&] { return Holders(*pg).size() == 9; }, seconds(15)));
  for (const auto& t : tenants) {
    pg->Psql("CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON st_" + t +
             "._stsync_cursors FOR EACH ROW EXECUTE FUNCTION "
             "public.log_write()");
  }
  std::map<int, int> counts;
  for (const auto& [schema, pid] : Holders(*pg)) ++counts[pid];
  CHECK(counts.size() == 3);
  for (const auto& [pid, n] : counts) {
    INFO("daemon ", pid, " holds ", n);
    CHECK(n == 3);
    CHECK(by_pid.count(pid) == 1);
  }

  // kill -9 one mid-sync: its tenants are taken over within about a lease
  // and a poll.
  const int killed = Holders(*pg).begin()->second;
  by_pid[killed]->Signal(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(test::WaitUntil(
      [&] {
        auto h = Holders(*pg);
        return h.size() == 9 && std::none_of(h.begin(), h.end(), [&](auto& p) {
                 return p.second == killed;
               });
      },
      seconds(20)));
  const double took = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - killed_at)
                          .count();
  INFO("taken over in ", took, " s");
  CHECK(took < 2 * kLeaseSeconds + 2);

  // SIGSTOP another past its lease: the third takes everything; woken, the
  // paused one's next page is refused.
  int paused = 0;
  for (const auto& [pid, p] : by_pid) {
    if (pid != killed) {
      paused = pid;
      break;
    }
  }
  by_pid[paused]->Signal(SIGSTOP);
  INFO("leases: ", pg->Psql("SELECT * FROM stsync.leases ORDER BY 1"));
  INFO("daemons: ", pg->Psql("SELECT * FROM stsync.daemons"));
  REQUIRE(test::WaitUntil(
      [&] {
        auto h = Holders(*pg);
        return h.size() == 9 && std::all_of(h.begin(), h.end(), [&](auto& p) {
                 return p.second != paused && p.second != killed;
               });
      },
      seconds(20)));
  by_pid[paused]->Signal(SIGCONT);
  REQUIRE(test::WaitUntil(
      [&] {
        return by_pid[paused]->ErrSoFar().find("lost the lease of schema") !=
               std::string::npos;
      },
      seconds(10)));
  // Back, it holds fewer than its share (5 of 9): the third gives it the
  // tenants it took last.
  int third = 0;
  for (const auto& [pid, p] : by_pid) {
    if (pid != killed && pid != paused) third = pid;
  }
  REQUIRE(test::WaitUntil(
      [&] {
        std::map<int, int> n;
        const auto h = Holders(*pg);
        for (const auto& [schema, pid] : h) ++n[pid];
        return h.size() == 9 && n[paused] == 4 && n[third] == 5;
      },
      seconds(20)));
  // A routine hand-over, not a failure.
  const std::string log = by_pid[third]->ErrSoFar();
  CHECK(log.find("up to a daemon holding fewer") != std::string::npos);
  CHECK(log.find("giving up after") == std::string::npos);

  // The server stops mid-sync and comes back: every daemon reconnects.
  server.Mutate("jobs", 20, 10);  // new pages to write while it restarts
  pg->Stop();
  std::this_thread::sleep_for(milliseconds(500));
  pg->Start();
  const std::vector<std::string> truth = server.TruthRows("jobs");
  bool converged = test::WaitUntil(
      [&] {
        for (const auto& t : tenants) {
          if (pg->SortedRows("SELECT data FROM st_" + t + ".jobs") != truth) {
            return false;
          }
        }
        return true;
      },
      seconds(30));
  for (const auto& [pid, p] : by_pid) {
    if (pid == killed || converged) continue;
    const std::string err = p->ErrSoFar();
    MESSAGE("daemon ", pid, ": ",
            err.substr(err.size() > 4000 ? err.size() - 4000 : 0));
  }
  if (!converged) {
    for (const auto& t : tenants) {
      MESSAGE(t, ": ", pg->Int("SELECT count(*) FROM st_" + t + ".jobs"),
              " rows of ", truth.size());
    }
  }
  CHECK(converged);
  for (const auto& t : tenants) {
    CHECK(pg->Int("SELECT row_count FROM st_" + t +
                  "._stsync_cursors WHERE endpoint = 'jobs'") ==
          pg->Int("SELECT count(*) FROM st_" + t + ".jobs"));
  }

  // Every page was written by the lease's holder at that moment, and a
  // tenant's epochs only grow.
  CHECK(pg->Int("SELECT count(*) FROM public.writes") > 0);
  CHECK(pg->Int("SELECT count(*) FROM public.writes WHERE app <> 'stsync ' "
                "|| owner") == 0);
  CHECK(
      pg->Int("SELECT count(*) FROM (SELECT epoch < max(epoch) OVER (PARTITION "
              "BY schema ORDER BY id) AS back FROM public.writes) w WHERE "
              "back") == 0);
  CHECK(pg->Int("SELECT count(DISTINCT epoch) FROM public.writes") > 1);

  for (auto& [pid, p] : by_pid) {
    if (pid == killed) continue;
    p->Signal(SIGTERM);
    auto r = p->Wait(seconds(15));
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
}

}  // namespace stsync

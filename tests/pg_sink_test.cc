// What only the PostgreSQL sink does (the shared contract is in
// sink_contract_test.cc): typed views, the schema's owner, reconnecting,
// the WAL of pages applied again, the URL kept secret, the lease (fencing,
// states read under a lost one, shares), the writer's settings, and the
// real binary syncing into a throwaway server.
#include "sink/pg_sink.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <sstream>

#include "api/page_parser.h"
#include "config/catalog.h"
#include "fake/fake_server.h"
#include "fake_clock.h"
#include "test_postgres.h"
#include "test_util.h"

namespace stsync {
namespace {

using fake::FakeServer;

const Endpoint& Jobs() { return *FindEndpoint("jobs"); }

Batch JobsPage(const std::string& records, const std::string& token) {
  return test::RecordsPage(records, token);
}

std::unique_ptr<PgSink> MustOpen(const test::TestPostgres& pg, PgSinkOptions o,
                                 Clock* clock = RealClock::Get());

std::unique_ptr<PgSink> MustOpen(const test::TestPostgres& pg) {
  PgSinkOptions o;
  o.schema = "st_1";
  return MustOpen(pg, o);
}

std::unique_ptr<PgSink> MustOpen(const test::TestPostgres& pg, PgSinkOptions o,
                                 Clock* clock) {
  auto s = PgSink::Open(pg.Url(), o, clock);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(*s);
}

// `schema` under the lease of daemon `owner`, one of those sharing
// `tenants` (a lease of 60 s, no cap).
PgSinkOptions Leased(const std::string& schema, const std::string& owner,
                     int tenants = 1) {
  PgSinkOptions o;
  o.schema = schema;
  o.lease = LeaseTerms{owner, Millis(60000), tenants, 0};
  return o;
}

PgSinkOptions InSchema(const std::string& schema) {
  PgSinkOptions o;
  o.schema = schema;
  return o;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the URL's password never appears in an error or a description") {
  const std::string url =
      "postgresql://stsync:hunter2secret@/nowhere?host=/nonexistent-dir";
  auto opened = PgSink::Open(url, InSchema("st_1"), RealClock::Get());
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == Status::Code::kBusy);
  CHECK(Contains(opened.status().message(), "cannot connect to PostgreSQL"));
  CHECK_FALSE(Contains(opened.status().message(), "hunter2secret"));
  CHECK(DescribePgUrl(url) ==
        "postgresql://stsync@/nowhere?host=/nonexistent-dir");
  CHECK(DescribePgUrl("host=db password=hunter2secret dbname=x") ==
        "postgresql://db/x");
  auto bad = PgSink::Open("postgresql://u:hunter2secret@h:notaport/x",
                          InSchema("st_1"), RealClock::Get());
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(Contains(bad.status().message(), "hunter2secret"));
}

TEST_CASE(
    "views cast fields by the spec's types and show NULL for a value of "
    "another type") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  auto sink = MustOpen(*pg);
  REQUIRE(sink->Prepare(Jobs()).ok());
  REQUIRE(sink->Apply(Jobs(),
                      JobsPage(R"({"id":1,"jobNumber":"J-1","total":12.5,)"
                               R"("createdOn":"2024-01-02T03:04:05.1234567Z",)"
                               R"("active":true,"customerId":77},)"
                               R"({"id":2,"total":"n/a","createdOn":"soon",)"
                               R"("active":"yes","customerId":"x"})",
                               "t1"))
              .ok());
  CHECK(pg->Psql("SELECT pg_typeof(id), pg_typeof(total), "
                 "pg_typeof(\"createdOn\"), pg_typeof(active), "
                 "pg_typeof(\"customerId\") FROM st_1.jobs_v WHERE id = 1") ==
        "bigint|numeric|timestamp with time zone|boolean|bigint");
  CHECK(pg->Psql("SELECT \"jobNumber\", total, \"customerId\", active FROM "
                 "st_1.jobs_v WHERE id = 1") == "J-1|12.5|77|t");
  CHECK(pg->Psql("SELECT \"createdOn\" AT TIME ZONE 'UTC' FROM st_1.jobs_v "
                 "WHERE id = 1") == "2024-01-02 03:04:05.123457");
  // Wrong types read as NULL; the view never fails.
  CHECK(pg->Psql("SELECT coalesce(total::text, 'null'), coalesce(\"createdOn\""
                 "::text, 'null'), coalesce(active::text, 'null'), "
                 "coalesce(\"customerId\"::text, 'null') FROM st_1.jobs_v "
                 "WHERE id = 2") == "null|null|null|null");
  // Preparing again (a restart) keeps the view.
  auto again = MustOpen(*pg);
  REQUIRE(again->Prepare(Jobs()).ok());
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs_v") == 2);
}

TEST_CASE(
    "a schema holding another tenant's data is refused and a read-only open "
    "writes nothing") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  PgSinkOptions ro;
  ro.schema = "st_1";
  ro.read_only = true;
  auto missing = PgSink::Open(pg->Url(), ro, RealClock::Get());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(pg->Int("SELECT count(*) FROM pg_namespace WHERE nspname = 'st_1'") ==
        0);

  PgSinkOptions mine;
  mine.schema = "st_1";
  mine.tenant = "1";
  mine.environment = "production";
  {
    auto sink = MustOpen(*pg, mine);
    REQUIRE(sink->Prepare(Jobs()).ok());
    REQUIRE(sink->Apply(Jobs(), JobsPage(R"({"id":1})", "t1")).ok());
    CHECK(sink->schema_version() == 1);
  }
  PgSinkOptions other = mine;
  other.tenant = "2";
  auto refused = PgSink::Open(pg->Url(), other, RealClock::Get());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kInvalid);
  CHECK(Contains(refused.status().message(),
                 "schema st_1 holds the data of tenant 1 (production)"));
  ro.tenant = "1";
  ro.environment = "production";
  auto reader = PgSink::Open(pg->Url(), ro, RealClock::Get());
  REQUIRE(reader.ok());
  CHECK((*reader)->Load("jobs")->value().row_count == 1);
  CHECK((*reader)->RecordFailure("jobs", "x").code() == Status::Code::kInvalid);
  CHECK((*reader)->ResetCursor("jobs", std::nullopt).code() ==
        Status::Code::kInvalid);
  CHECK(
      (*reader)->Apply(Jobs(), JobsPage(R"({"id":2})", "t2")).status().code() ==
      Status::Code::kInvalid);
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs") == 1);
}

TEST_CASE(
    "a page written while the server is down fails as busy and the next one "
    "reconnects") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  {
    // A transaction inside another is refused rather than folded into it.
    auto c = PgConnection::Connect(pg->Url());
    REQUIRE(c.ok());
    PgTransaction outer(c->get());
    REQUIRE(outer.Begin().ok());
    PgTransaction inner(c->get());
    CHECK(inner.Begin().code() == Status::Code::kInvalid);
  }
  auto sink = MustOpen(*pg);
  REQUIRE(sink->Prepare(Jobs()).ok());
  REQUIRE(sink->Apply(Jobs(), JobsPage(R"({"id":1})", "t1")).ok());
  pg->Stop();
  auto down = sink->Apply(Jobs(), JobsPage(R"({"id":2})", "t2"));
  REQUIRE_FALSE(down.ok());
  INFO(down.status().message());
  CHECK(down.status().code() == Status::Code::kBusy);
  pg->Start();
  // Reconnects are tried at most once a second.
  bool up = test::WaitUntil(
      [&] { return sink->Apply(Jobs(), JobsPage(R"({"id":2})", "t2")).ok(); },
      std::chrono::seconds(10));
  REQUIRE(up);
  CHECK((*sink->Load("jobs"))->cursor == Cursor::FromStored("t2"));
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs") == 2);
}

TEST_CASE(
    "pages applied again write under 1% of the WAL of their first write") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  auto sink = MustOpen(*pg);
  REQUIRE(sink->Prepare(Jobs()).ok());
  // 20 pages of 100 records of about 1.5 KB, ids scattered.
  const std::string pad(1400, 'x');
  std::vector<Batch> pages;
  for (int p = 0; p < 20; ++p) {
    std::string records;
    for (int i = 0; i < 100; ++i) {
      const int id = (p * 100 + i) * 7919 % 100003;
      if (!records.empty()) records += ",";
      records += R"({"id":)" + std::to_string(id) +
                 R"(,"modifiedOn":"2024-01-01T00:00:00Z","notes":")" + pad +
                 R"(","items":[{"sku":1},{"sku":2}]})";
    }
    pages.push_back(JobsPage(records, "t" + std::to_string(p)));
  }
  auto wal_after = [&](bool first) {
    const std::string lsn = pg->Psql("SELECT pg_current_wal_insert_lsn()");
    for (const Batch& b : pages) {
      auto stats = sink->Apply(Jobs(), b);
      REQUIRE(stats.ok());
      CHECK(stats->unchanged == (first ? 0 : 100));
    }
    return pg->Int("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '" +
                   lsn + "')::bigint");
  };
  const int64_t first = wal_after(true);
  const int64_t again = wal_after(false);
  INFO("first write: ", first, " bytes of WAL; again: ", again);
  CHECK(first > 2'000'000);
  CHECK(again * 100 < first);
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs") == 2000);
}

TEST_CASE(
    "once syncs into PostgreSQL and status and reset work there without "
    "showing the URL's password") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  pg->Psql("CREATE ROLE stsync LOGIN PASSWORD 'hunter2secret'");
  FakeServer server(test::SmallFake({"jobs", "customers"}, 30, 10));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  std::string yaml =
      test::FakeConfigYaml(server, "unused", "[jobs, customers]");
  const std::string url = test::Replace(pg->Url(), "user=postgres",
                                        "user=stsync&password=hunter2secret");
  yaml = test::Replace(yaml, "  path: unused\n", "  url: " + url + "\n");
  // The role needs a database it may create schemas in.
  pg->Psql("GRANT CREATE ON DATABASE postgres TO stsync");
  const std::string cfg = dir.File("pg.yaml");
  test::WriteFile(cfg, yaml);
  const std::string tenant = server.options().tenant;
  const std::string schema = "st_" + tenant;

  auto once =
      test::Run({STSYNC_BIN, "once", "-c", cfg, "--log-level", "debug"});
  INFO(once.err);
  CHECK(once.exit_code == 0);
  CHECK(Contains(once.err, "done: 6 pages, 60 records"));
  for (const char* endpoint : {"jobs", "customers"}) {
    CHECK(pg->SortedRows("SELECT data FROM " + schema + "." + endpoint) ==
          server.TruthRows(endpoint));
    CHECK(pg->Int("SELECT row_count FROM " + schema +
                  "._stsync_cursors WHERE endpoint = '" + endpoint + "'") ==
          30);
  }
  auto status = test::Run({STSYNC_BIN, "status", "-c", cfg});
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "(schema " + schema + ")"));
  CHECK(Contains(status.out, "customers"));
  auto json = test::Run({STSYNC_BIN, "status", "-c", cfg, "--json"});
  CHECK(Contains(json.out, R"("rows": 30)"));
  // No daemon holds the tenant: unhealthy, whatever the data's age.
  auto health = test::Run({STSYNC_BIN, "health", "-c", cfg});
  CHECK(health.exit_code == 1);
  CHECK(Contains(health.out, "no stsync daemon holds its lease"));
  auto reset = test::Run({STSYNC_BIN, "reset", "-c", cfg, "jobs"});
  CHECK(reset.exit_code == 0);
  auto again = test::Run({STSYNC_BIN, "once", "-c", cfg});
  CHECK(again.exit_code == 0);
  CHECK(
      Contains(again.err, "jobs: 10 records (0 new, 0 updated, 10 unchanged)"));
  CHECK(pg->Int("SELECT count(*) FROM " + schema + ".jobs") == 30);
  for (const auto* r : {&once, &status, &json, &health, &reset, &again}) {
    CHECK_FALSE(Contains(r->out + r->err, "hunter2secret"));
  }
}

TEST_CASE("run into PostgreSQL reports the schema's size in /metrics") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  FakeServer server(test::SmallFake({"jobs"}, 200, 50));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const int port = test::FreePort();
  std::string yaml = test::FakeConfigYaml(server, "unused", "[jobs]");
  yaml = test::Replace(yaml, "  path: unused\n",
                       "  url: " + pg->Url() + "\n  lease: 3s\n");
  yaml += "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  const std::string cfg = dir.File("pg.yaml");
  test::WriteFile(cfg, yaml);
  const std::string schema = "st_" + server.options().tenant;

  test::Process run({STSYNC_BIN, "run", "-c", cfg});
  // The size sampled after the rows were written: what the server says.
  auto reported = [&]() -> double {
    auto r = httplib::Client("127.0.0.1", port).Get("/metrics");
    if (!r) return -1;
    const std::string name = "\nstsync_database_size_bytes ";
    const size_t at = r->body.find(name);
    if (at == std::string::npos) return -1;
    return std::stod(r->body.substr(at + name.size()));
  };
  auto size_of = [&](const std::string& relations) {
    return static_cast<double>(
        pg->Int("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                "n.nspname = '" +
                schema + "' AND " + relations));
  };
  REQUIRE(test::WaitUntil(
      [&] {
        return pg->Int("SELECT count(*) FROM pg_tables WHERE schemaname = '" +
                       schema + "' AND tablename = 'jobs'") == 1 &&
               pg->Int("SELECT count(*) FROM " + schema + ".jobs") == 200;
      },
      std::chrono::seconds(20)));
  // Its rows, indexes and TOAST, and the small tables beside them (which
  // caught-up polls may grow meanwhile).
  const double jobs = size_of("c.relname = 'jobs'");
  CHECK(jobs > 200 * 100);
  double last = -1, schema_size = 0;
  INFO("reported ", last, "; jobs ", jobs, "; the schema ", schema_size);
  CHECK(test::WaitUntil(
      [&] {
        last = reported();
        schema_size = size_of("c.relkind = 'r'");
        return last > jobs && last <= schema_size;
      },
      std::chrono::seconds(25)));
  run.Signal(SIGTERM);
  CHECK(run.Wait(std::chrono::seconds(10)).exit_code == 0);
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "through PgBouncer's transaction pooling two tenants write their own "
    "schemas and a read-only open leaves the shared connection writable") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  const std::string url = pg->StartBouncerOrSkip();
  if (url.empty()) return;
  // Every session below shares one server connection, transaction by
  // transaction: no setting of a session may matter.
  auto open = [&](const std::string& schema, bool read_only) {
    PgSinkOptions o;
    o.schema = schema;
    o.read_only = read_only;
    if (!read_only)
      o.lease = LeaseTerms{"host:1:" + schema, Millis(60000), 1, 0};
    auto s = PgSink::Open(url, o, RealClock::Get());
    INFO(s.status().message());
    REQUIRE(s.ok());
    return std::move(*s);
  };
  auto a = open("st_a", false);
  auto b = open("st_b", false);
  REQUIRE(a->Prepare(Jobs()).ok());
  REQUIRE(b->Prepare(Jobs()).ok());
  for (int round = 0; round < 3; ++round) {
    const std::string n = std::to_string(round);
    REQUIRE(a->Apply(Jobs(), JobsPage(R"({"id":)" + n + "}", "a" + n)).ok());
    REQUIRE(b->Apply(Jobs(), JobsPage(R"({"id":10)" + n + "}", "b" + n)).ok());
    // A reader (status) in between.
    auto reader = open(round % 2 ? "st_a" : "st_b", true);
    REQUIRE((*reader->Load("jobs")).has_value());
  }
  CHECK(pg->SortedRows("SELECT id FROM st_a.jobs") ==
        std::vector<std::string>{"0", "1", "2"});
  CHECK(pg->SortedRows("SELECT id FROM st_b.jobs") ==
        std::vector<std::string>{"100", "101", "102"});
  CHECK((*a->Load("jobs"))->cursor == Cursor::FromStored("a2"));
  CHECK((*b->Load("jobs"))->cursor == Cursor::FromStored("b2"));
  CHECK(pg->Psql("SELECT string_agg(tenant_schema || '=' || owner, ',' ORDER "
                 "BY tenant_schema) FROM stsync.leases") ==
        "st_a=host:1:st_a,st_b=host:1:st_b");
}

TEST_CASE(
    "a writer's transactions plan generically and bound idling while the "
    "session keeps the server's defaults") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  auto sink = MustOpen(*pg, Leased("st_1", "host:1:a"));
  PgConnection* c = sink->TEST_connection();
  auto show = [&](const std::string& name) {
    auto v = c->QueryText("SELECT current_setting($1)", {name}, "showing");
    REQUIRE(v.ok());
    return v->value_or("");
  };
  {
    PgTransaction tx(c);
    REQUIRE(tx.Begin().ok());
    // A custom plan would copy the page's arrays into the plan.
    CHECK(show("plan_cache_mode") == "force_generic_plan");
    CHECK(show("idle_in_transaction_session_timeout") == "30s");
    REQUIRE(tx.Commit().ok());
  }
  // Nothing stays on the session (PgBouncer hands it to other clients).
  CHECK(show("plan_cache_mode") == "auto");
  CHECK(show("idle_in_transaction_session_timeout") == "0");
}

TEST_CASE(
    "a daemon whose lease expired and was taken over has its next page "
    "refused and writes nothing") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  auto a = MustOpen(*pg, Leased("st_1", "host:1:a"));
  REQUIRE(a->Prepare(Jobs()).ok());
  REQUIRE(a->Apply(Jobs(), JobsPage(R"({"id":1})", "a1")).ok());
  CHECK(pg->Psql("SELECT owner, epoch FROM stsync.leases") == "host:1:a|1");
  CHECK(a->WrittenBy()->live);
  CHECK(Contains(a->WrittenBy()->description, "daemon host:1:a (epoch 1"));

  // A second daemon that does not wait is refused while the lease is live.
  auto refused =
      PgSink::Open(pg->Url(), Leased("st_1", "host:2:b"), RealClock::Get());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Status::Code::kBusy);
  CHECK(Contains(refused.status().message(), "is held by daemon host:1:a"));

  // A is paused past its lease; B takes the tenant over.
  pg->Psql(
      "UPDATE stsync.leases SET heartbeat_at = clock_timestamp() - "
      "interval '2 minutes'");
  auto b = MustOpen(*pg, Leased("st_1", "host:2:b"));
  REQUIRE(b->Prepare(Jobs()).ok());
  REQUIRE(b->Apply(Jobs(), JobsPage(R"({"id":2})", "b1")).ok());
  CHECK(pg->Psql("SELECT owner, epoch FROM stsync.leases") == "host:2:b|2");

  // A wakes: its next page, and its failure note, are refused.
  auto stale = a->Apply(Jobs(), JobsPage(R"({"id":3})", "a2"));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.status().code() == Status::Code::kFenced);
  CHECK(Contains(stale.status().message(), "lost the lease of schema st_1"));
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs WHERE id = 3") == 0);
  CHECK((*b->Load("jobs"))->cursor == Cursor::FromStored("b1"));
  CHECK(a->RecordFailure("jobs", "x").code() == Status::Code::kFenced);

  // A clean stop hands the tenant over at once. A writes again only once
  // it has taken the lease back (Prepare, as a scheduler's new run does).
  b.reset();
  CHECK(pg->Psql("SELECT coalesce(owner, 'none') FROM stsync.leases") ==
        "none");
  CHECK(a->Apply(Jobs(), JobsPage(R"({"id":3})", "a3")).status().code() ==
        Status::Code::kFenced);
  REQUIRE(a->Prepare(Jobs()).ok());
  REQUIRE(a->Apply(Jobs(), JobsPage(R"({"id":3})", "a3")).ok());
  CHECK(pg->Psql("SELECT owner, epoch FROM stsync.leases") == "host:1:a|3");
}

TEST_CASE(
    "a feed state read before the lease was lost is not written over a "
    "peer's once the lease is taken back") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  auto a = MustOpen(*pg, Leased("st_1", "host:1:a"));
  REQUIRE(a->Prepare(Jobs()).ok());
  REQUIRE(a->Apply(Jobs(), JobsPage(R"({"id":1})", "a1")).ok());
  REQUIRE(a->Load("jobs").ok());  // the scheduler's state: at a1

  // A pauses past its lease; B writes jobs on, then stops.
  pg->Psql(
      "UPDATE stsync.leases SET heartbeat_at = clock_timestamp() - "
      "interval '2 minutes'");
  {
    auto b = MustOpen(*pg, Leased("st_1", "host:2:b"));
    REQUIRE(b->Prepare(Jobs()).ok());
    REQUIRE(b->Apply(Jobs(), JobsPage(R"({"id":2})", "b1")).ok());
  }
  // A learns of the loss (here from a write; in a daemon, from its
  // heartbeat's KeepAlive). A feed it prepares next takes the lease back;
  // jobs' state was read under the lost one, so its page is refused, not
  // stored over B's cursor.
  CHECK(a->RecordFailure("customers", "x").code() == Status::Code::kFenced);
  REQUIRE(a->Prepare(*FindEndpoint("customers")).ok());
  auto stale = a->Apply(Jobs(), JobsPage(R"({"id":3})", "a2"));
  CHECK(stale.status().code() == Status::Code::kFenced);
  CHECK(Contains(stale.status().message(), "since this daemon read jobs's"));
  CHECK((*a->Load("jobs"))->cursor == Cursor::FromStored("b1"));
  CHECK(pg->Int("SELECT count(*) FROM st_1.jobs WHERE id = 3") == 0);
  // Read again, it writes.
  REQUIRE(a->Apply(Jobs(), JobsPage(R"({"id":3})", "a2")).ok());
  CHECK((*a->Load("jobs"))->cursor == Cursor::FromStored("a2"));
}

TEST_CASE(
    "a daemon holding more than its share gives the tenants it took last up "
    "to a peer holding fewer") {
  auto pg = test::TestPostgres::StartOrSkip();
  if (!pg) return;
  FakeClock clock;
  auto open = [&](const std::string& owner, const std::string& schema) {
    return MustOpen(*pg, Leased(schema, owner, 4), &clock);
  };
  // A alone: its share is all four tenants.
  std::vector<std::unique_ptr<PgSink>> a;
  for (int i = 1; i <= 4; ++i) {
    a.push_back(open("host:1:a", "st_" + std::to_string(i)));
    REQUIRE(a.back()->Prepare(Jobs()).ok());
    REQUIRE(a.back()->Apply(Jobs(), JobsPage(R"({"id":1})", "a")).ok());
  }
  auto owners = [&] {
    return pg->Psql(
        "SELECT string_agg(tenant_schema || '=' || coalesce(owner, '-'), ',' "
        "ORDER BY tenant_schema) FROM stsync.leases");
  };
  // Within its share nothing is given up.
  clock.Advance(std::chrono::seconds(30));
  for (auto& s : a) REQUIRE(s->KeepAlive().ok());
  CHECK(owners() == "st_1=host:1:a,st_2=host:1:a,st_3=host:1:a,st_4=host:1:a");

  // B comes: the shares are two each, and B holds none.
  pg->Psql(
      "INSERT INTO stsync.daemons (id, heartbeat_at) VALUES ('host:2:b', "
      "clock_timestamp())");
  clock.Advance(std::chrono::seconds(30));
  std::vector<Status> kept;
  for (auto& s : a) kept.push_back(s->KeepAlive());
  CHECK(kept[0].ok());
  CHECK(kept[1].ok());
  CHECK(kept[2].code() == Status::Code::kFenced);
  CHECK(kept[3].code() == Status::Code::kFenced);
  CHECK(Contains(kept[3].message(), "gave schema st_4 up"));
  CHECK(owners() == "st_1=host:1:a,st_2=host:1:a,st_3=-,st_4=-");
  // A's pages to them are refused; A does not take them back over its
  // share, and B takes them.
  CHECK(a[3]->Apply(Jobs(), JobsPage(R"({"id":2})", "a2")).status().code() ==
        Status::Code::kFenced);
  CHECK(a[3]->Prepare(Jobs()).code() == Status::Code::kBusy);
  auto b = open("host:2:b", "st_4");
  REQUIRE(b->Prepare(Jobs()).ok());
  REQUIRE(b->Apply(Jobs(), JobsPage(R"({"id":2})", "b")).ok());
  CHECK(owners() == "st_1=host:1:a,st_2=host:1:a,st_3=-,st_4=host:2:b");
  // Balanced, nobody gives anything up.
  clock.Advance(std::chrono::seconds(30));
  CHECK(a[0]->KeepAlive().ok());
  CHECK(a[1]->KeepAlive().ok());
  CHECK(b->KeepAlive().ok());

  // A one-off command (once, reset, backfill) takes a free tenant but is
  // not a peer that the shares count.
  PgSinkOptions once = Leased("st_3", "host:3:once", 4);
  once.lease->peer = false;
  auto c = MustOpen(*pg, once, &clock);
  CHECK(owners() ==
        "st_1=host:1:a,st_2=host:1:a,st_3=host:3:once,st_4=host:2:b");
  auto daemons = [&] {
    return pg->Psql(
        "SELECT string_agg(id, ',' ORDER BY id) FROM "
        "stsync.daemons");
  };
  CHECK(daemons() == "host:1:a,host:2:b");

  // A daemon that stops cleanly leaves the shares with its last schema, so
  // that A may take B's tenants at once.
  b.reset();
  CHECK(daemons() == "host:1:a");
  REQUIRE(a[3]->Prepare(Jobs()).ok());
  CHECK(owners() ==
        "st_1=host:1:a,st_2=host:1:a,st_3=host:3:once,st_4=host:1:a");
}

}  // namespace stsync

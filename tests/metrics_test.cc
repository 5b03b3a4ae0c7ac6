// Metrics and health: the exposition format, the counters against the
// database after a real sync over loopback, /healthz and staleness.
#include "ops/metrics.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "api/httplib_transport.h"
#include "base/prometheus_text.h"
#include "base/timestamp.h"
#include "engine/replicator.h"
#include "fake/fake_server.h"
#include "ops/health.h"
#include "ops/metrics_server.h"
#include "test_util.h"

namespace stsync {
namespace {

// Sample lines of `text` ("name{labels}" -> value); comments skipped.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double SumOf(const std::map<std::string, double>& samples,
             const std::string& prefix) {
  double sum = 0;
  for (const auto& [name, v] : samples) {
    if (name.rfind(prefix, 0) == 0) sum += v;
  }
  return sum;
}

}  // namespace

TEST_CASE(
    "the text format has HELP and TYPE once per family, escaped labels, and "
    "cumulative histogram buckets") {
  PrometheusText t;
  t.Family("x_total", "counter", "A help\nwith a \\ backslash.");
  t.Sample("x_total", {{"endpoint", "a\"b\\c\nd"}}, 3);
  t.Sample("x_total", {}, 0.25);
  t.Family("h_seconds", "histogram", "H.");
  t.Histogram("h_seconds", {{"tenant", "1"}}, {0.1, 1}, {2, 0, 1}, 2.5);
  CHECK(t.text() ==
        "# HELP x_total A help\\nwith a \\\\ backslash.\n"
        "# TYPE x_total counter\n"
        "x_total{endpoint=\"a\\\"b\\\\c\\nd\"} 3\n"
        "x_total 0.25\n"
        "# HELP h_seconds H.\n"
        "# TYPE h_seconds histogram\n"
        "h_seconds_bucket{tenant=\"1\",le=\"0.1\"} 2\n"
        "h_seconds_bucket{tenant=\"1\",le=\"1\"} 2\n"
        "h_seconds_bucket{tenant=\"1\",le=\"+Inf\"} 3\n"
        "h_seconds_sum{tenant=\"1\"} 2.5\n"
        "h_seconds_count{tenant=\"1\"} 3\n");
  CHECK(PrometheusText::FormatValue(1e300) == "1e+300");
  CHECK(PrometheusText::FormatValue(-0.5) == "-0.5");
  CHECK(PrometheusText::FormatValue(1.0 / 0.0) == "+Inf");
}

TEST_CASE("500 idle connections do not keep /metrics from answering") {
  Metrics metrics(/*label_tenants=*/false);
  auto listener = MetricsServer::Start("127.0.0.1", 0, &metrics, {});
  REQUIRE(listener.ok());
  const int port = (*listener)->port();
  // Opening them takes about 40 s: httplib listens with a backlog of 5, so
  // most connects wait for a SYN retransmit. Each is idle meanwhile.
  std::vector<int> idle;
  for (int i = 0; i < 500; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0);
    idle.push_back(fd);
  }
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  const auto started = std::chrono::steady_clock::now();
  auto r = client.Get("/metrics");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  for (int fd : idle) ::close(fd);
  REQUIRE(r);
  CHECK(r->status == 200);
  MESSAGE("/metrics answered in ", seconds, " s beside 500 idle connections");
  CHECK(seconds < 8.0);  // at most a second here; httplib's pool: never
}

TEST_CASE(
    "/metrics during a sync adds up to the rows written, and /healthz says "
    "ok") {
  fake::FakeServer server(test::SmallFake({"jobs", "customers"}, 120, 25));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("metrics.db");
  const Config config = test::MustParseConfig(
      test::FakeConfigYaml(server, db, "[jobs, customers]"));
  Metrics metrics(/*label_tenants=*/false);
  metrics.AddTenant(config.tenant, db, {"jobs", "customers"});
  MetricsObserver observer(&metrics, config.tenant, RealClock::Get());
  ReplicatorSeams seams;
  seams.observers = {&observer};
  seams.transport = std::make_unique<CountingTransport>(
      std::make_unique<HttplibTransport>(config.http), &metrics, config.tenant);
  // One 500 to count as a retry and a 5xx.
  fake::Fault fault;
  fault.path_contains = "/export/customers";
  fault.skip = 1;
  server.AddFault(fault);
  auto r = Replicator::Create(config, std::move(seams));
  REQUIRE(r.ok());
  auto listener = MetricsServer::Start("127.0.0.1", 0, &metrics, {&config});
  REQUIRE(listener.ok());
  httplib::Client client("127.0.0.1", (*listener)->port());

  auto empty = client.Get("/metrics");
  REQUIRE(empty);
  CHECK(empty->status == 200);
  CHECK(empty->get_header_value("Content-Type") ==
        PrometheusText::kContentType);
  CHECK(Samples(
            empty->body)["stsync_records_upserted_total{endpoint=\"jobs\"}"] ==
        0);
  auto unhealthy = client.Get("/healthz");
  REQUIRE(unhealthy);
  CHECK(unhealthy->status == 503);
  CHECK(unhealthy->body.find("jobs never synced") != std::string::npos);

  REQUIRE((*r)->Run(Scheduler::Mode::kDrain).Failed() == 0);
  auto scraped = client.Get("/metrics");
  REQUIRE(scraped);
  auto s = Samples(scraped->body);
  const int64_t rows = test::QueryInt(db, "SELECT count(*) FROM jobs") +
                       test::QueryInt(db, "SELECT count(*) FROM customers");
  CHECK(rows == 240);
  CHECK(SumOf(s, "stsync_records_upserted_total") == rows);
  CHECK(SumOf(s, "stsync_pages_committed_total") ==
        test::QueryInt(db, "SELECT sum(pages) FROM _stsync_cursors"));
  CHECK(s["stsync_retries_total{endpoint=\"customers\"}"] == 1);
  CHECK(s["stsync_http_requests_total{class=\"5xx\"}"] == 1);
  // Every answer the fake gave (exports and the token) is counted.
  CHECK(s["stsync_http_requests_total{class=\"2xx\"}"] ==
        static_cast<double>(server.Requests().size() - 1 +
                            server.TokenRequests()));
  CHECK(s["stsync_page_commit_duration_seconds_count"] ==
        SumOf(s, "stsync_pages_committed_total"));
  CHECK(s["stsync_page_commit_duration_seconds_bucket{le=\"+Inf\"}"] ==
        s["stsync_page_commit_duration_seconds_count"]);
  CHECK(s["stsync_database_size_bytes"] > 0);
  CHECK(s.count("stsync_cursor_age_seconds{endpoint=\"jobs\"}") == 1);
  CHECK(scraped->body.find("stsync_build_info{version=\"") !=
        std::string::npos);

  auto healthy = client.Get("/healthz");
  REQUIRE(healthy);
  CHECK(healthy->status == 200);
  CHECK(healthy->body == "ok\n");
}

TEST_CASE(
    "a tenant without a file reports the size its daemon sampled, once it "
    "did") {
  Metrics metrics(/*label_tenants=*/true);
  metrics.AddTenant("1", "", {"jobs"});
  metrics.AddTenant("2", "", {"jobs"});
  CHECK(Samples(metrics.Render(WallTime{}))
            .count("stsync_database_size_bytes{tenant=\"1\"}") == 0);
  metrics.SetDatabaseSize("1", 123456789);
  auto s = Samples(metrics.Render(WallTime{}));
  CHECK(s["stsync_database_size_bytes{tenant=\"1\"}"] == 123456789);
  CHECK(s.count("stsync_database_size_bytes{tenant=\"2\"}") == 0);
  CHECK(s.count("stsync_wal_size_bytes{tenant=\"1\"}") == 0);
}

TEST_CASE(
    "an endpoint is unhealthy once its last page is older than max_intervals "
    "of its interval plus the longest backoff") {
  Config config = test::MustParseConfig(
      "servicetitan:\n  tenant: 42\n  client_id: a\n  client_secret: b\n"
      "  app_key: c\ndatabase:\n  path: /tmp/x.db\n"
      "retry:\n  max_backoff: 1m\nhealth:\n  max_intervals: 2\n"
      "endpoints:\n  - name: jobs\n    interval: 5m\n  - customers\n"
      "  - invoices\n");
  const WallTime now = RealClock::Get()->WallNow();
  auto at = [&](std::chrono::minutes ago) {
    return FormatTimestamp(now - ago);
  };
  std::vector<FeedState> states(3);
  states[0].endpoint = "jobs";
  states[0].cursor_updated_at = at(std::chrono::minutes(10));
  states[1].endpoint = "customers";
  states[1].cursor_updated_at = at(std::chrono::minutes(10));
  states[2].endpoint = "invoices";
  states[2].cursor_updated_at = at(std::chrono::minutes(1));
  // 10m <= 2 x 5m + 1m.
  CHECK(CheckFreshness(config, states, now).ok());
  states[0].cursor_updated_at = at(std::chrono::minutes(12));
  states[0].last_error = "HTTP 500: boom";
  Status stale = CheckFreshness(config, states, now);
  CHECK(stale.code() == Status::Code::kUnhealthy);
  CHECK(stale.message() ==
        "tenant 42: 1 of 3 endpoint(s) behind: jobs last synced 12m ago "
        "(allowed 11m): HTTP 500: boom");
  // A module the tenant lacks does not count; one never synced does.
  states[0].last_error = "HTTP 403 forbidden: the tenant lacks the module";
  CHECK(CheckFreshness(config, states, now).ok());
  states.pop_back();
  CHECK(CheckFreshness(config, states, now)
            .message()
            .find("invoices never synced") != std::string::npos);
}

}  // namespace stsync

#include "config/config.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "test_util.h"

namespace stsync {
namespace {

const char* kGood = R"(
servicetitan:
  environment: integration
  tenant: 1234567
  client_id: ${ST_CLIENT_ID}
  client_secret: ${ST_CLIENT_SECRET}
  app_key: ak1
database:
  path: /tmp/x.db
defaults:
  interval: 5m
  include_recent_changes: false
  start_from: 2020-01-01
endpoints:
  - jobs
  - customers
  - name: recurring-services
    interval: 1m
    include_recent_changes: true
    on_rejected_cursor: restart_from_last_seen
)";

Result<ConfigFile> Parse(const std::string& yaml,
                         std::map<std::string, std::string> env = {
                             {"ST_CLIENT_ID", "cid"},
                             {"ST_CLIENT_SECRET", "s3cret-value"}}) {
  return ParseConfig(
      yaml, "cfg.yaml",
      [env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
}

// Expects `yaml` to fail with a message containing each of `parts`.
void ExpectError(const std::string& yaml, std::vector<std::string> parts,
                 std::map<std::string, std::string> env = {
                     {"ST_CLIENT_ID", "cid"},
                     {"ST_CLIENT_SECRET", "s3cret-value"}}) {
  auto c = Parse(yaml, env);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Status::Code::kInvalid);
  for (const auto& p : parts) {
    INFO("message: ", c.status().message(), " should contain: ", p);
    CHECK(c.status().message().find(p) != std::string::npos);
  }
  CHECK(c.status().message().find("s3cret-value") == std::string::npos);
}

}  // namespace

TEST_CASE(
    "a complete config parses with environment values and per-endpoint "
    "settings") {
  auto c = Parse(kGood);
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->tenants[0].tenant == "1234567");
  CHECK(c->tenants[0].client_id == "cid");
  CHECK(c->tenants[0].client_secret == "s3cret-value");
  CHECK(c->tenants[0].auth_url ==
        "https://auth-integration.servicetitan.io/connect/token");
  CHECK(c->tenants[0].api_url == "https://api-integration.servicetitan.io");
  REQUIRE(c->tenants[0].endpoints.size() == 3);
  CHECK(c->tenants[0].endpoints[0].endpoint.name == "jobs");
  CHECK(c->tenants[0].endpoints[0].interval == std::chrono::minutes(5));
  CHECK(c->tenants[0].endpoints[0].start_from == "2020-01-01");
  CHECK(c->tenants[0].endpoints[2].interval == std::chrono::minutes(1));
  CHECK(c->tenants[0].endpoints[2].include_recent_changes);
  CHECK_FALSE(c->tenants[0].endpoints[1].include_recent_changes);
  CHECK(c->tenants[0].endpoints[2].restart_rejected_cursor);
  CHECK_FALSE(c->tenants[0].endpoints[0].restart_rejected_cursor);
  CHECK(c->tenants[0].rate_limit == 60);
  CHECK(c->tenants[0].database.wal_size == 64 << 20);
  CHECK(c->tenants[0].database.cache_size == 16 << 20);
  auto sized = Parse(test::Replace(
      kGood, "  path: /tmp/x.db\n",
      "  path: /tmp/x.db\n  wal_size: 8388608\n  cache_size: 33554432\n"));
  REQUIRE(sized.ok());
  CHECK(sized->tenants[0].database.wal_size == 8 << 20);
  CHECK(sized->tenants[0].database.cache_size == 32 << 20);
}

TEST_CASE(
    "tenants: ids or mappings beside servicetitan.tenant, each with its own "
    "file") {
  const std::string tenants =
      "tenants:\n"
      "  - 2222222\n"
      "  - id: 3333333\n"
      "    client_id: other\n"
      "    client_secret: other-secret\n"
      "    endpoints: [zones]\n"
      "database:\n";
  auto c =
      Parse(test::Replace(test::Replace(kGood, "database:\n", tenants),
                          "  path: /tmp/x.db\n", "  path: /tmp/{tenant}.db\n"));
  INFO(c.status().message());
  REQUIRE(c.ok());
  std::vector<const Config*> all;
  for (const Config& t : c->tenants) all.push_back(&t);
  REQUIRE(all.size() == 3);
  CHECK(all[0]->tenant == "1234567");
  CHECK(all[0]->database.path == "/tmp/1234567.db");
  CHECK(all[1]->tenant == "2222222");
  CHECK(all[1]->client_id == "cid");
  CHECK(all[1]->endpoints.size() == 3);
  CHECK(all[2]->database.path == "/tmp/3333333.db");
  CHECK(all[2]->client_id == "other");
  CHECK(all[2]->client_secret == "other-secret");
  REQUIRE(all[2]->endpoints.size() == 1);
  CHECK(all[2]->endpoints[0].endpoint.name == "zones");
  CHECK(c->FindTenant("2222222") == all[1]);
  CHECK(c->FindTenant("9") == nullptr);
  CHECK(Parse(kGood)->tenants.size() == 1);
  CHECK(c->warnings.empty());
  // Short intervals are named whichever tenant polls at them.
  auto fast = Parse(test::Replace(
      test::Replace(test::Replace(kGood, "database:\n", tenants),
                    "  path: /tmp/x.db\n", "  path: /tmp/{tenant}.db\n"),
      "    endpoints: [zones]\n",
      "    endpoints:\n      - name: zones\n        interval: 30s\n"));
  INFO(fast.status().message());
  REQUIRE(fast.ok());
  REQUIRE(fast->warnings.size() == 1);
  CHECK(fast->warnings[0].find("interval below 1m for zones:") !=
        std::string::npos);

  ExpectError(test::Replace(kGood, "database:\n", tenants),
              {"database.path",
               "must contain {tenant} when there is more "
               "than one tenant"});
  ExpectError(
      test::Replace(kGood, "database:\n", "tenants: [1234567]\ndatabase:\n"),
      {"tenants[0]", "tenant 1234567 is listed twice"});
  ExpectError(
      test::Replace(kGood, "database:\n", "tenants: [12ab]\ndatabase:\n"),
      {"tenants[0]", "'12ab' is not a numeric tenant id"});
  ExpectError(
      test::Replace(kGood, "database:\n",
                    "tenants:\n  - id: 5\n    colour: red\ndatabase:\n"),
      {"tenants[0].colour", "unknown key"});
  // The same rules as for servicetitan's own credentials.
  ExpectError(
      test::Replace(kGood, "database:\n",
                    "tenants:\n  - id: 5\n    client_id: \"\"\ndatabase:\n"),
      {"tenants[0].client_id", "is empty"});
  ExpectError(test::Replace(kGood, "database:\n",
                            "tenants:\n  - id: 5\n    client_secret: x\n"
                            "    client_secret_file: /dev/null\ndatabase:\n"),
              {"tenants[0].client_secret_file",
               "give either client_secret or client_secret_file, not both"});
  ExpectError(test::Replace(kGood, "  tenant: 1234567\n", ""),
              {"servicetitan.tenant",
               "give servicetitan.tenant, or list "
               "tenants:"});
}

TEST_CASE("index names fields of an endpoint's view") {
  auto c = Parse(test::Replace(kGood, "  - customers\n",
                               "  - name: customers\n"
                               "    index: [mergedToId, paymentTermId]\n"));
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->tenants[0].endpoints[1].endpoint.indexed_fields ==
        std::vector<std::string>{"mergedToId", "paymentTermId"});
  CHECK(c->tenants[0].endpoints[0].endpoint.indexed_fields.empty());
  ExpectError(test::Replace(kGood, "  - customers\n",
                            "  - name: customers\n    index: [address]\n"),
              {"cfg.yaml:", "endpoints[1].index",
               "'address' is not a top-level scalar field of customers (the "
               "columns of its view customers_v)"});
  ExpectError(test::Replace(kGood, "  - customers\n",
                            "  - name: customers\n    index: [name, name]\n"),
              {"endpoints[1].index", "'name' is listed twice"});
  ExpectError(test::Replace(kGood, "  - customers\n",
                            "  - name: customers\n    index: [\"a b\"]\n"),
              {"endpoints[1].index", "'a b' is not a field name"});
  ExpectError(test::Replace(kGood, "  include_recent_changes: false\n",
                            "  include_recent_changes: false\n  index: id\n"),
              {"defaults.index", "unknown key"});
}

TEST_CASE(
    "production is the default environment and `all` takes the whole catalog") {
  auto c = Parse(test::Replace(
      test::Replace(kGood, "  environment: integration\n", ""),
      "endpoints:\n  - jobs\n  - customers\n  - name: recurring-services\n"
      "    interval: 1m\n    include_recent_changes: true\n"
      "    on_rejected_cursor: restart_from_last_seen\n",
      "endpoints: all\n"));
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->tenants[0].api_url == "https://api.servicetitan.io");
  CHECK(c->tenants[0].auth_url == "https://auth.servicetitan.io/connect/token");
  // estimates-legacy returns the records of estimates: by name only.
  CHECK(c->tenants[0].endpoints.size() == Catalog().size() - 1);
  auto named = [](const Config& config, const std::string& name) {
    return std::count_if(
        config.endpoints.begin(), config.endpoints.end(),
        [&](const EndpointConfig& ec) { return ec.endpoint.name == name; });
  };
  CHECK(named(c->tenants[0], "estimates") == 1);
  CHECK(named(c->tenants[0], "estimates-legacy") == 0);
  auto both = Parse(test::Replace(
      kGood,
      "endpoints:\n  - jobs\n  - customers\n  - name: recurring-services\n"
      "    interval: 1m\n    include_recent_changes: true\n"
      "    on_rejected_cursor: restart_from_last_seen\n",
      "endpoints:\n  - estimates-legacy\n  - all\n"));
  INFO(both.status().message());
  REQUIRE(both.ok());
  CHECK(named(both->tenants[0], "estimates-legacy") == 1);
  CHECK(c->tenants[0].http.read_timeout == std::chrono::seconds(120));
  CHECK(c->tenants[0].retry.forbidden_interval == std::chrono::hours(24));
}

TEST_CASE(
    "reconcile_every is off unless set, per endpoint or in defaults, with "
    "its threshold") {
  auto c = Parse(kGood);
  REQUIRE(c.ok());
  for (const auto& ec : c->tenants[0].endpoints)
    CHECK_FALSE(ec.reconcile_every);
  CHECK(c->tenants[0].endpoints[0].reconcile_min_seen_percent == 50);
  auto one = Parse(test::Replace(kGood, "    interval: 1m\n",
                                 "    interval: 1m\n    reconcile_every: 7d\n"
                                 "    reconcile_min_seen_percent: 20\n"));
  INFO(one.status().message());
  REQUIRE(one.ok());
  CHECK_FALSE(one->tenants[0].endpoints[0].reconcile_every);
  REQUIRE(one->tenants[0].endpoints[2].reconcile_every);
  CHECK(*one->tenants[0].endpoints[2].reconcile_every ==
        std::chrono::hours(24 * 7));
  CHECK(one->tenants[0].endpoints[2].reconcile_min_seen_percent == 20);
  auto all = Parse(test::Replace(kGood, "  interval: 5m\n",
                                 "  interval: 5m\n  reconcile_every: 1d\n"));
  REQUIRE(all.ok());
  for (const auto& ec : all->tenants[0].endpoints) {
    CHECK(ec.reconcile_every == std::chrono::hours(24));
  }
  ExpectError(test::Replace(kGood, "    interval: 1m\n",
                            "    interval: 1m\n    reconcile_every: 0s\n"),
              {"endpoints[2].reconcile_every", "at least"});
  ExpectError(test::Replace(kGood, "    interval: 1m\n",
                            "    interval: 1m\n    reconcile_every: weekly\n"),
              {"endpoints[2].reconcile_every", "not a duration"});
  ExpectError(
      test::Replace(kGood, "    interval: 1m\n",
                    "    interval: 1m\n    reconcile_min_seen_percent: 150\n"),
      {"endpoints[2].reconcile_min_seen_percent"});
}

TEST_CASE(
    "metrics.listen, health.max_intervals and log.format are optional and "
    "checked") {
  auto c = Parse(kGood);
  REQUIRE(c.ok());
  CHECK(c->metrics.port == 0);
  CHECK(c->tenants[0].health.max_intervals == 3);
  CHECK(c->log.format == "text");
  auto on = Parse(test::Replace(
      kGood, "database:\n",
      "metrics:\n  listen: 127.0.0.1:9464\nhealth:\n  max_intervals: 5\n"
      "log:\n  format: json\ndatabase:\n"));
  INFO(on.status().message());
  REQUIRE(on.ok());
  CHECK(on->metrics.host == "127.0.0.1");
  CHECK(on->metrics.port == 9464);
  CHECK(on->tenants[0].health.max_intervals == 5);
  CHECK(on->log.format == "json");
  CHECK(on->warnings.empty());
  auto v6 = Parse(test::Replace(kGood, "database:\n",
                                "metrics:\n  listen: \"[::1]:9464\"\n"
                                "database:\n"));
  REQUIRE(v6.ok());
  CHECK(v6->metrics.host == "::1");
  auto open = Parse(test::Replace(
      kGood, "database:\n", "metrics:\n  listen: 0.0.0.0:9464\ndatabase:\n"));
  REQUIRE(open.ok());
  REQUIRE(open->warnings.size() == 1);
  CHECK(open->warnings[0].find("beyond this machine") != std::string::npos);
  for (const char* bad :
       {"9464", "localhost:", ":9464", "host:99999", "host:http"}) {
    INFO(bad);
    ExpectError(test::Replace(kGood, "database:\n",
                              std::string("metrics:\n  listen: \"") + bad +
                                  "\"\ndatabase:\n"),
                {"metrics.listen", "is not host:port"});
  }
  ExpectError(test::Replace(kGood, "database:\n",
                            "health:\n  max_intervals: 0\ndatabase:\n"),
              {"health.max_intervals"});
  ExpectError(
      test::Replace(kGood, "database:\n", "log:\n  format: xml\ndatabase:\n"),
      {"log.format", "'xml' is not one of text, json"});
}

TEST_CASE("an interval below a minute is accepted with one warning") {
  auto c = Parse(kGood);
  REQUIRE(c.ok());
  // kGood has recurring-services at 1m: no warning.
  CHECK(c->warnings.empty());
  auto fast = Parse(test::Replace(kGood, "interval: 1m", "interval: 30s"));
  REQUIRE(fast.ok());
  CHECK(fast->tenants[0].endpoints[2].interval == std::chrono::seconds(30));
  REQUIRE(fast->warnings.size() == 1);
  CHECK(fast->warnings[0].find("interval below 1m for recurring-services") !=
        std::string::npos);
  CHECK(fast->warnings[0].find("include_recent_changes") != std::string::npos);
  auto all = Parse(test::Replace(kGood, "interval: 5m", "interval: 10s"));
  REQUIRE(all.ok());
  REQUIRE(all->warnings.size() == 1);
  CHECK(all->warnings[0].find("jobs, customers") != std::string::npos);
}

TEST_CASE("each bad config fails naming the file, line and key") {
  ExpectError(test::Replace(kGood, "  tenant: 1234567\n", ""),
              {"cfg.yaml", "servicetitan.tenant", "missing"});
  ExpectError(test::Replace(kGood, "tenant: 1234567", "tenant: 12ab"),
              {"cfg.yaml:4:", "servicetitan.tenant", "numeric"});
  ExpectError(test::Replace(kGood, "tenant: 1234567", "tenant: 1/../2"),
              {"servicetitan.tenant"});
  ExpectError(kGood, {"servicetitan.client_id", "ST_CLIENT_ID is not set"},
              {{"ST_CLIENT_SECRET", "x"}});
  ExpectError(test::Replace(kGood, "interval: 5m", "interval: 5 minutes"),
              {"cfg.yaml:11:", "defaults.interval", "not a duration"});
  ExpectError(test::Replace(kGood, "interval: 1m", "interval: 0s"),
              {"endpoints[2].interval", "at least"});
  ExpectError(test::Replace(kGood, "  - customers\n", "  - customerz\n"),
              {"cfg.yaml:16:", "endpoints[1]", "unknown endpoint 'customerz'"});
  ExpectError(test::Replace(kGood, "database:\n", "databse:\n"),
              {"databse", "unknown key"});
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n",
                            "  path: /tmp/x.db\n  colour: red\n"),
              {"database.colour", "unknown key"});
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n",
                            "  path: /tmp/x.db\n  wal_size: 4096\n"),
              {"database.wal_size"});
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n",
                            "  path: /tmp/x.db\n  cache_size: 1000\n"),
              {"database.cache_size"});
  ExpectError(test::Replace(kGood, "start_from: 2020-01-01",
                            "start_from: last tuesday"),
              {"defaults.start_from", "not a date"});
  ExpectError(test::Replace(kGood, "start_from: 2020-01-01",
                            "start_from: 2020-01-01T00:00:00Z"),
              {"defaults.start_from", "'2020-01-01T00:00:00Z' is not a date"});
  ExpectError(test::Replace(kGood, "include_recent_changes: false",
                            "include_recent_changes: maybe"),
              {"defaults.include_recent_changes"});
  ExpectError(test::Replace(kGood, "restart_from_last_seen", "restart"),
              {"cfg.yaml:20:", "endpoints[2].on_rejected_cursor",
               "'restart' is not one of fail, restart_from_last_seen"});
  ExpectError(
      test::Replace(kGood, "environment: integration", "environment: staging"),
      {"servicetitan.environment", "staging"});
  ExpectError(test::Replace(kGood, "  - customers\n", "  - jobs\n"),
              {"listed twice"});
  ExpectError(test::Replace(kGood, "  app_key: ak1\n", ""),
              {"servicetitan.app_key", "missing"});
  ExpectError(
      test::Replace(kGood, "  client_secret: ${ST_CLIENT_SECRET}\n", ""),
      {"servicetitan.client_secret", "missing"});
  ExpectError("servicetitan: [unclosed\n", {"cfg.yaml", "not valid YAML"});
  ExpectError("", {"empty"});
  ExpectError(test::Replace(kGood, "endpoints:\n  - jobs",
                            "endpoints:\n  - 42\n  - jobs"),
              {"endpoints[0]", "unknown endpoint '42'"});
}

TEST_CASE("URLs are validated: plain http only to loopback unless allowed") {
  std::string with_url =
      test::Replace(kGood, "  app_key: ak1\n",
                    "  app_key: ak1\n  api_url: http://example.com\n");
  ExpectError(with_url, {"servicetitan.api_url", "loopback"});
  auto ok = Parse(with_url + "http:\n  allow_insecure_http: true\n");
  CHECK(ok.ok());
  auto loop = Parse(
      test::Replace(kGood, "  app_key: ak1\n",
                    "  app_key: ak1\n  api_url: http://127.0.0.1:8089/\n"));
  REQUIRE(loop.ok());
  CHECK(loop->tenants[0].api_url == "http://127.0.0.1:8089");
  ExpectError(test::Replace(kGood, "  app_key: ak1\n",
                            "  app_key: ak1\n  api_url: "
                            "https://evil.example@api.servicetitan.io\n"),
              {"servicetitan.api_url", "user info"});
  ExpectError(test::Replace(kGood, "  app_key: ak1\n",
                            "  app_key: ak1\n  api_url: "
                            "https://api.servicetitan.io/other/path\n"),
              {"servicetitan.api_url", "without a path"});
  ExpectError(test::Replace(kGood, "  app_key: ak1\n",
                            "  app_key: ak1\n  auth_url: ftp://x/token\n"),
              {"servicetitan.auth_url", "scheme"});
}

TEST_CASE("a repeated key or a second YAML document is an error naming lines") {
  ExpectError(std::string(kGood) + "database:\n  busy_timeout: 1s\n",
              {"cfg.yaml:", "database: appears twice (lines 8 and"});
  ExpectError(test::Replace(kGood, "  app_key: ak1\n",
                            "  app_key: ak1\n  app_key: ak2\n"),
              {"servicetitan.app_key: appears twice (lines 7 and 8)"});
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n",
                            "  path: /tmp/x.db\n  path: /tmp/y.db\n"),
              {"database.path: appears twice"});
  ExpectError(std::string(kGood) + "---\nendpoints: [jobs]\n",
              {"a second YAML document"});
  // One document with an explicit start marker is fine.
  CHECK(Parse(std::string("---\n") + kGood).ok());
  // A stray comma before the content: yaml-cpp's LoadAll would spin for
  // ever here, allocating (the config fuzzer found it).
  ExpectError(std::string("# stsync\n,,,  # note\n") + kGood,
              {"cfg.yaml:2:1: not valid YAML: a ','"});
}

TEST_CASE("only a literal loopback address or localhost may use plain http") {
  for (const char* host :
       {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    CAPTURE(host);
    CHECK(IsLoopbackHost(host));
  }
  for (const char* host :
       {"127.attacker.example", "127.0.0.1.nip.io", "128.0.0.1", "::2",
        "localhost.example", "1127.0.0.1", "example.com", ""}) {
    CAPTURE(host);
    CHECK_FALSE(IsLoopbackHost(host));
  }
  for (const char* url :
       {"http://127.attacker.example", "http://127.0.0.1.nip.io:8080"}) {
    CAPTURE(url);
    ExpectError(
        test::Replace(kGood, "  app_key: ak1\n",
                      std::string("  app_key: ak1\n  api_url: ") + url + "\n"),
        {"servicetitan.api_url", "loopback"});
  }
}

TEST_CASE("custom endpoints: name, safe path, key and version field") {
  std::string custom = std::string(kGood) +
                       "  - name: widget-exports\n"
                       "    path: /widgets/v2/tenant/{tenant}/export/widgets\n"
                       "    key: [widgetId, siteId]\n"
                       "    version_field: updatedOn\n"
                       "    params: {active: Any}\n";
  auto c = Parse(custom);
  INFO(c.status().message());
  REQUIRE(c.ok());
  const auto& e = c->tenants[0].endpoints.back().endpoint;
  CHECK(e.name == "widget-exports");
  CHECK(e.TableName() == "widget_exports");
  CHECK(e.key_fields == std::vector<std::string>{"widgetId", "siteId"});
  CHECK(e.version_field == "updatedOn");
  CHECK(e.params.size() == 1);

  ExpectError(
      test::Replace(custom, "/widgets/v2/tenant/{tenant}/export/widgets",
                    "/widgets/../../admin"),
      {"path", "not a safe API path"});
  ExpectError(
      test::Replace(custom, "/widgets/v2/tenant/{tenant}/export/widgets",
                    "https://evil.example/x"),
      {"path", "not a safe API path"});
  ExpectError(
      test::Replace(custom, "/widgets/v2/tenant/{tenant}/export/widgets",
                    "/w/{other}/export"),
      {"path"});
  ExpectError(test::Replace(custom, "name: widget-exports", "name: jobs"),
              {"built-in endpoint"});
  ExpectError(
      test::Replace(custom, "name: widget-exports", "name: Widget_Exports"),
      {"not a valid name"});
  ExpectError(
      test::Replace(custom, "key: [widgetId, siteId]", "key: [a, b, c, d, e]"),
      {"key", "at most 4"});
  ExpectError(test::Replace(custom, "key: [widgetId, siteId]", "key: data"),
              {"key", "reserved"});
  ExpectError(std::string(kGood) + "  - name: jobs\n    key: id\n",
              {"endpoints[3].key", "only allowed for a custom endpoint"});
}

TEST_CASE("the secret can come from a file, a world-readable one warns") {
  test::TempDir dir;
  std::string secret = dir.File("secret");
  test::WriteFile(secret, "from-file-secret\n");
  chmod(secret.c_str(), 0644);
  std::string yaml = test::Replace(kGood, "client_secret: ${ST_CLIENT_SECRET}",
                                   "client_secret_file: " + secret);
  auto c = Parse(yaml);
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->tenants[0].client_secret == "from-file-secret");
  REQUIRE(c->warnings.size() == 1);
  CHECK(c->warnings[0].find("readable by every user") != std::string::npos);
  chmod(secret.c_str(), 0600);
  CHECK(Parse(yaml)->warnings.empty());

  ExpectError(test::Replace(kGood, "client_secret: ${ST_CLIENT_SECRET}",
                            "client_secret_file: " + dir.File("missing")),
              {"servicetitan.client_secret_file", "cannot read"});
  ExpectError(
      test::Replace(kGood, "client_secret: ${ST_CLIENT_SECRET}",
                    "client_secret: x\n  client_secret_file: " + secret),
      {"not both"});
}

TEST_CASE("retry, http and log sections are validated") {
  std::string base = kGood;
  auto c = Parse(
      base +
      "retry:\n  initial_backoff: 2s\n  max_backoff: 1m\n  max_attempts: 3\n"
      "http:\n  read_timeout: 30s\n  rate_limit: 20\n  max_page_bytes: "
      "1048576\n  concurrency: 3\n"
      "log:\n  level: debug\n");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->tenants[0].retry.max_attempts == 3);
  CHECK(c->tenants[0].http.read_timeout == std::chrono::seconds(30));
  CHECK(c->tenants[0].rate_limit == 20);
  CHECK(c->tenants[0].http.max_page_bytes == 1048576u);
  CHECK(c->tenants[0].http.concurrency == 3);
  CHECK(Parse(kGood)->tenants[0].http.concurrency == 8);
  CHECK(c->log.level == "debug");
  ExpectError(base + "http:\n  concurrency: 0\n",
              {"http.concurrency", "between 1 and 32"});
  ExpectError(base + "http:\n  concurrency: 33\n",
              {"http.concurrency", "between 1 and 32"});
  ExpectError(base + "retry:\n  max_attempts: 0\n",
              {"retry.max_attempts", "between"});
  ExpectError(base + "retry:\n  initial_backoff: 1m\n  max_backoff: 1s\n",
              {"retry.max_backoff"});
  ExpectError(base + "http:\n  rate_limit: lots\n",
              {"http.rate_limit", "whole number"});
  ExpectError(base + "log:\n  level: chatty\n", {"log.level"});
  ExpectError(base + "http:\n  ca_bundle: /nonexistent/ca.pem\n",
              {"http.ca_bundle"});
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "database.url selects PostgreSQL with a schema per tenant and is never "
    "repeated in an error") {
  const std::string url =
      "  url: postgresql://stsync:${PGPASS}@db.example/warehouse\n";
  const std::map<std::string, std::string> env = {
      {"ST_CLIENT_ID", "cid"},
      {"ST_CLIENT_SECRET", "s3cret-value"},
      {"PGPASS", "pg-s3cret"}};
  auto one = Parse(test::Replace(kGood, "  path: /tmp/x.db\n", url), env);
  INFO(one.status().message());
  REQUIRE(one.ok());
  const Config& c = one->tenants[0];
  CHECK(c.database.url == "postgresql://stsync:pg-s3cret@db.example/warehouse");
  CHECK(c.database.path.empty());
  CHECK(c.database.schema == "st_1234567");

  const std::string tenants = "tenants: [2222222]\ndatabase:\n";
  auto two = Parse(test::Replace(test::Replace(kGood, "database:\n", tenants),
                                 "  path: /tmp/x.db\n",
                                 url + "  schema: replica_{tenant}\n"),
                   env);
  INFO(two.status().message());
  REQUIRE(two.ok());
  CHECK(two->tenants[0].database.schema == "replica_1234567");
  CHECK(two->tenants[1].database.schema == "replica_2222222");

  ExpectError(test::Replace(test::Replace(kGood, "database:\n", tenants),
                            "  path: /tmp/x.db\n", url + "  schema: one\n"),
              {"database.schema", "must contain {tenant}"}, env);
  ExpectError(
      test::Replace(kGood, "  path: /tmp/x.db\n", "  path: /tmp/x.db\n" + url),
      {"database", "sets both path (SQLite) and url (PostgreSQL)"}, env);
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n", "  schema: s\n"),
              {"database.path", "missing"}, env);
  ExpectError(test::Replace(kGood, "  path: /tmp/x.db\n",
                            "  path: /tmp/x.db\n  schema: s\n"),
              {"database.schema", "is for PostgreSQL only"}, env);
  ExpectError(
      test::Replace(kGood, "  path: /tmp/x.db\n", url + "  schema: A-b\n"),
      {"database.schema", "lower-case letters"}, env);
  auto bad = Parse(test::Replace(kGood, "  path: /tmp/x.db\n",
                                 "  url: mysql://u:pg-s3cret@h/db\n"),
                   env);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("must be a postgresql:// URI") !=
        std::string::npos);
  CHECK(bad.status().message().find("pg-s3cret") == std::string::npos);
}

}  // namespace stsync

#include "config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <type_traits>

#include "base/timestamp.h"
#include "base/url.h"
#include "config/catalog.h"
#include "config/endpoint_entries.h"
#include "config/key_table.h"
#include "config/tenants.h"
#include "config/yaml_reader.h"

namespace stsync {
namespace {

void ValidateUrl(const YamlReader& p, const YAML::Node& node,
                 const std::string& key, const std::string& url,
                 bool allow_insecure, bool allow_path) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) p.Fail(node, key, parsed.status().message());
  if (!allow_path && parsed->path != "/" && !parsed->path.empty()) {
    p.Fail(node, key, "must be scheme://host[:port] without a path");
  }
  if (parsed->scheme == "http" && !allow_insecure &&
      !IsLoopbackHost(parsed->host)) {
    p.Fail(node, key,
           "plain http:// is only allowed to a loopback host; use https:// "
           "or set http.allow_insecure_http: true");
  }
}

// `servicetitan:`, before the URLs are settled. The secret's keys are read
// by ReadSecret.
const KeyTable<Config>& ServiceTitanKeys() {
  using S = Config;
  static const KeyTable<S> keys = {
      {"environment",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          S& s) {
         s.environment = p.String(v, key);
         if (s.environment != "production" && s.environment != "integration") {
           p.Fail(v, key,
                  "'" + s.environment + "' is not production or integration");
         }
       }},
      TenantIdKey("tenant", false),
      TextKey<S>(
          "client_id", [](S& s) -> std::string& { return s.client_id; }, true),
      ReadElsewhere<S>("client_secret"),
      ReadElsewhere<S>("client_secret_file"),
      TextKey<S>(
          "app_key", [](S& s) -> std::string& { return s.app_key; }, true),
      {"auth_url",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          S& s) { s.auth_url = p.String(v, key); }},
      {"api_url",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          S& s) { s.api_url = p.String(v, key); }},
  };
  return keys;
}

const KeyTable<Config>& HttpKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      DurationKey<C>("connect_timeout", Millis(1),
                     [](C& c) -> Millis& { return c.http.connect_timeout; }),
      DurationKey<C>("read_timeout", Millis(1),
                     [](C& c) -> Millis& { return c.http.read_timeout; }),
      DurationKey<C>("request_timeout", Millis(1000),
                     [](C& c) -> Millis& { return c.http.request_timeout; }),
      IntegerKey<C>("max_page_bytes", 1024, 4LL << 30,
                    [](C& c) -> size_t& { return c.http.max_page_bytes; }),
      IntegerKey<C>("rate_limit", 1, 10000,
                    [](C& c) -> double& { return c.rate_limit; }),
      IntegerKey<C>("concurrency", 1, 32,
                    [](C& c) -> int& { return c.http.concurrency; }),
      {"ca_bundle",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.http.ca_bundle = p.String(v, key);
         if (access(c.http.ca_bundle.c_str(), R_OK) != 0) {
           p.Fail(v, key, "cannot read " + c.http.ca_bundle);
         }
       }},
      BoolKey<C>("allow_insecure_http",
                 [](C& c) -> bool& { return c.http.allow_insecure_http; }),
  };
  return keys;
}

const KeyTable<Config>& DatabaseKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      TextKey<C>("path", [](C& c) -> std::string& { return c.database.path; }),
      {"url",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.database.url = p.String(v, key);
         if (c.database.url.rfind("postgresql://", 0) != 0 &&
             c.database.url.rfind("postgres://", 0) != 0) {
           // Not repeated: it may hold a password.
           p.Fail(v, key, "must be a postgresql:// URI");
         }
       }},
      {"schema",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.database.schema = p.String(v, key);
         std::string bare = c.database.schema;
         if (auto at = bare.find("{tenant}"); at != std::string::npos) {
           bare.replace(at, 8, "1");
         }
         bool ok = !bare.empty() && bare.size() <= 63 &&
                   (std::islower(static_cast<unsigned char>(bare[0])) ||
                    bare[0] == '_');
         for (char ch : bare) {
           ok = ok &&
                (std::islower(static_cast<unsigned char>(ch)) ||
                 std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
         }
         if (!ok) {
           p.Fail(v, key,
                  "must be lower-case letters, digits and _ (with {tenant} "
                  "where each tenant's id goes), at most 63 characters");
         }
       }},
      DurationKey<C>("busy_timeout", Millis(0),
                     [](C& c) -> Millis& { return c.database.busy_timeout; }),
      IntegerKey<C>("max_size", 65536, 1LL << 50,
                    [](C& c) -> int64_t& { return c.database.max_size; }),
      IntegerKey<C>("wal_size", 1 << 20, 1LL << 40,
                    [](C& c) -> int64_t& { return c.database.wal_size; }),
      IntegerKey<C>("cache_size", 1 << 20, 1LL << 40,
                    [](C& c) -> int64_t& { return c.database.cache_size; }),
      DurationKey<C>("lease", Millis(1000),
                     [](C& c) -> Millis& { return c.database.lease; }),
      IntegerKey<C>("max_tenants", 0, 100000,
                    [](C& c) -> int& { return c.database.max_tenants; }),
  };
  return keys;
}

const KeyTable<Config>& RetryKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      DurationKey<C>("initial_backoff", Millis(1),
                     [](C& c) -> Millis& { return c.retry.initial_backoff; }),
      DurationKey<C>("max_backoff", Millis(1),
                     [](C& c) -> Millis& { return c.retry.max_backoff; }),
      IntegerKey<C>("max_attempts", 1, 1000,
                    [](C& c) -> int& { return c.retry.max_attempts; }),
      DurationKey<C>(
          "forbidden_interval", Millis(1),
          [](C& c) -> Millis& { return c.retry.forbidden_interval; }),
  };
  return keys;
}

const KeyTable<ConfigFile>& LogKeys() {
  using C = ConfigFile;
  static const KeyTable<C> keys = {
      {"level",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.log.level = p.String(v, key);
         if (!IsLogLevel(c.log.level)) {
           p.Fail(v, key, "'" + c.log.level + "' is not one of " + kLogLevels);
         }
       }},
      {"format",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.log.format = p.String(v, key);
         if (c.log.format != "text" && c.log.format != "json") {
           p.Fail(v, key, "'" + c.log.format + "' is not one of text, json");
         }
       }},
  };
  return keys;
}

const KeyTable<ConfigFile>& MetricsKeys() {
  using C = ConfigFile;
  static const KeyTable<C> keys = {
      {"listen",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         const std::string text = p.String(v, key);
         const size_t colon = text.rfind(':');
         std::string host =
             colon == std::string::npos ? "" : text.substr(0, colon);
         if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
           host = host.substr(1, host.size() - 2);
         }
         const std::string port =
             colon == std::string::npos ? "" : text.substr(colon + 1);
         const bool digits =
             !port.empty() && port.size() <= 5 &&
             port.find_first_not_of("0123456789") == std::string::npos;
         if (host.empty() || !digits || std::stoi(port) < 1 ||
             std::stoi(port) > 65535) {
           p.Fail(v, key,
                  "'" + text + "' is not host:port (e.g. 127.0.0.1:9464)");
         }
         c.metrics.host = host;
         c.metrics.port = std::stoi(port);
         if (!IsLoopbackHost(host)) {
           c.warnings.push_back(
               "metrics.listen " + text +
               " serves /metrics and /healthz beyond this machine");
         }
       }},
  };
  return keys;
}

const KeyTable<Config>& HealthKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      IntegerKey<C>("max_intervals", 1, 1000,
                    [](C& c) -> int& { return c.health.max_intervals; }),
  };
  return keys;
}

void ReadServiceTitan(const YamlReader& p, const YAML::Node& root, Config& c,
                      std::vector<std::string>* warnings) {
  const YAML::Node st = root["servicetitan"];
  if (!st) p.Fail(root, "servicetitan", "missing");
  ReadKeys(p, st, "servicetitan", ServiceTitanKeys(), c);
  if (!ReadSecret(p, st, "servicetitan", &c.client_secret, warnings)) {
    p.Fail(st, "servicetitan.client_secret",
           "missing (give client_secret or client_secret_file)");
  }
}

// The hosts: the environment's, unless overridden; an override must be
// https:// or loopback unless http.allow_insecure_http says otherwise.
void SettleUrls(const YamlReader& p, const YAML::Node& root, Config& c) {
  const YAML::Node st = root["servicetitan"];
  const bool production = c.environment == "production";
  if (!st["auth_url"]) {
    c.auth_url = production
                     ? "https://auth.servicetitan.io/connect/token"
                     : "https://auth-integration.servicetitan.io/connect/token";
  } else {
    ValidateUrl(p, st["auth_url"], "servicetitan.auth_url", c.auth_url,
                c.http.allow_insecure_http, /*allow_path=*/true);
  }
  if (!st["api_url"]) {
    c.api_url = production ? "https://api.servicetitan.io"
                           : "https://api-integration.servicetitan.io";
  } else {
    while (!c.api_url.empty() && c.api_url.back() == '/') c.api_url.pop_back();
    ValidateUrl(p, st["api_url"], "servicetitan.api_url", c.api_url,
                c.http.allow_insecure_http, /*allow_path=*/false);
  }
}

ConfigFile Parse(const YamlReader& p, const YAML::Node& root,
                 const std::string& file) {
  ConfigFile out;
  out.file = file;
  Config c;  // the shared settings, then each tenant's
  c.file = file;
  if (!root.IsDefined() || root.IsNull()) {
    p.Fail(root, "(top level)", "the file is empty");
  }
  p.CheckKeys(root, "",
              {"servicetitan", "tenants", "database", "defaults", "endpoints",
               "http", "retry", "log", "metrics", "health"});
  ReadServiceTitan(p, root, c, &out.warnings);
  if (const YAML::Node h = root["http"]) ReadKeys(p, h, "http", HttpKeys(), c);
  SettleUrls(p, root, c);  // after http.allow_insecure_http
  const YAML::Node db = root["database"];
  if (!db) p.Fail(root, "database", "missing");
  ReadKeys(p, db, "database", DatabaseKeys(), c);
  if (!c.database.path.empty() && !c.database.url.empty()) {
    p.Fail(db, "database",
           "sets both path (SQLite) and url (PostgreSQL); keep one");
  }
  if (c.database.path.empty() && c.database.url.empty()) {
    p.Fail(db, "database.path",
           "missing (a SQLite file; or url: for PostgreSQL)");
  }
  if (db["schema"] && c.database.url.empty()) {
    p.Fail(db["schema"], "database.schema",
           "is for PostgreSQL only (set database.url)");
  }
  if (const YAML::Node r = root["retry"]) {
    ReadKeys(p, r, "retry", RetryKeys(), c);
    if (c.retry.max_backoff < c.retry.initial_backoff) {
      p.Fail(r, "retry.max_backoff", "is smaller than retry.initial_backoff");
    }
  }
  if (const YAML::Node l = root["log"]) ReadKeys(p, l, "log", LogKeys(), out);
  if (const YAML::Node m = root["metrics"]) {
    ReadKeys(p, m, "metrics", MetricsKeys(), out);
  }
  if (const YAML::Node h = root["health"]) {
    ReadKeys(p, h, "health", HealthKeys(), c);
  }
  const EndpointConfig defaults = ReadDefaults(p, root);
  const YAML::Node eps = root["endpoints"];
  if (!eps) p.Fail(root, "endpoints", "missing (list endpoint names, or all)");
  c.endpoints = ReadEndpointList(p, eps, "endpoints", defaults);
  out.tenants = ReadTenants(p, root, defaults, c, &out.warnings);
  WarnAboutShortIntervals(out.tenants, &out.warnings);
  return out;
}

}  // namespace

const EndpointConfig* Config::FindEndpoint(const std::string& name) const {
  for (const auto& e : endpoints) {
    if (e.endpoint.name == name) return &e;
  }
  return nullptr;
}

const Config* ConfigFile::FindTenant(const std::string& id) const {
  for (const Config& t : tenants) {
    if (t.tenant == id) return &t;
  }
  return nullptr;
}

bool IsLogLevel(const std::string& level) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                "warn",  "error", "off"};
  return kLevels.count(level) > 0;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  // Only a literal address: a name such as 127.0.0.1.nip.io resolves
  // wherever its owner wants.
  in_addr v4{};
  if (::inet_pton(AF_INET, bare.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, bare.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

Result<ConfigFile> ParseConfig(const std::string& yaml_text,
                               const std::string& file, const EnvLookup& env) {
  YamlReader parser(file, env);
  try {
    YAML::Node root = parser.LoadDocument(yaml_text);
    parser.CheckNoDuplicateKeys(root, "");
    return Parse(parser, root, file);
  } catch (const ConfigError& e) {
    return Status::Invalid(e.message);
  } catch (const YAML::Exception& e) {
    std::string where = file;
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
    return Status::Invalid(where + ": not valid YAML: " + e.msg);
  }
}

Result<ConfigFile> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid(path + ": cannot read the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path,
                     [](const std::string& name) -> std::optional<std::string> {
                       const char* v = std::getenv(name.c_str());
                       if (!v) return std::nullopt;
                       return std::string(v);
                     });
}

}  // namespace stsync

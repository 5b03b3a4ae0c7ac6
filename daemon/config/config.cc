#include "config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <type_traits>

#include "base/timestamp.h"
#include "base/url.h"
#include "config/catalog.h"
#include "config/yaml_reader.h"

namespace stsync {
namespace {

// The schema: each section of the file is a table of keys. A key is
// spelled once, in its table; the table lists the keys a section allows,
// names each in messages (`section.key`), and reads it into its target.
template <typename T>
struct Key {
  const char* name;
  std::function<void(const YamlReader&, const YAML::Node& value,
                     const std::string& key, T& target)>
      read;
  bool required = false;
};

template <typename T>
using KeyTable = std::vector<Key<T>>;

// The names a table allows.
template <typename T>
std::set<std::string> KeyNames(const KeyTable<T>& keys) {
  std::set<std::string> names;
  for (const auto& k : keys) names.insert(k.name);
  return names;
}

// Reads every key of `keys` present in `map`, whose keys were checked; a
// required key that is absent is an error.
template <typename T>
void ReadPresentKeys(const YamlReader& p, const YAML::Node& map,
                     const std::string& path, const KeyTable<T>& keys,
                     T& target) {
  for (const auto& k : keys) {
    const std::string key = YamlReader::Join(path, k.name);
    if (const YAML::Node value = map[k.name]) {
      k.read(p, value, key, target);
    } else if (k.required) {
      p.Fail(map, key, "missing");
    }
  }
}

// Checks that `map` has only the keys of `keys`, then reads them.
template <typename T>
void ReadKeys(const YamlReader& p, const YAML::Node& map,
              const std::string& path, const KeyTable<T>& keys, T& target) {
  p.CheckKeys(map, path, KeyNames(keys));
  ReadPresentKeys(p, map, path, keys, target);
}

// Key factories. `field` is a lambda giving the target's member to set.
template <typename T, typename F>
Key<T> TextKey(const char* name, F field, bool required = false) {
  return {name,
          [field](const YamlReader& p, const YAML::Node& v,
                  const std::string& key, T& t) {
            std::string s = p.String(v, key);
            if (s.empty()) p.Fail(v, key, "is empty");
            field(t) = s;
          },
          required};
}

template <typename T, typename F>
Key<T> BoolKey(const char* name, F field) {
  return {name,
          [field](const YamlReader& p, const YAML::Node& v,
                  const std::string& key, T& t) { field(t) = p.Bool(v, key); }};
}

template <typename T, typename F>
Key<T> DurationKey(const char* name, Millis min, F field) {
  return {name, [field, min](const YamlReader& p, const YAML::Node& v,
                             const std::string& key,
                             T& t) { field(t) = p.Duration(v, key, min); }};
}

template <typename T, typename F>
Key<T> IntegerKey(const char* name, long long min, long long max, F field) {
  return {name, [field, min, max](const YamlReader& p, const YAML::Node& v,
                                  const std::string& key, T& t) {
            auto& target = field(t);
            target = static_cast<std::remove_reference_t<decltype(target)>>(
                p.Integer(v, key, min, max));
          }};
}

template <typename T, typename F>
Key<T> DateKey(const char* name, F field) {
  return {name,
          [field](const YamlReader& p, const YAML::Node& v,
                  const std::string& key, T& t) { field(t) = p.Date(v, key); }};
}

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

bool IsSafePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.find("//") != std::string::npos) return false;
  if (path.find("..") != std::string::npos) return false;
  for (char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '_' ||
              c == '.' || c == '{' || c == '}';
    if (!ok) return false;
  }
  std::string rest = path;
  for (size_t pos; (pos = rest.find('{')) != std::string::npos;) {
    if (rest.compare(pos, 8, "{tenant}") != 0) return false;
    rest.erase(pos, 8);
  }
  return rest.find('}') == std::string::npos;
}

bool IsFieldName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> FieldList(const YamlReader& p, const YAML::Node& node,
                                   const std::string& key) {
  std::vector<std::string> fields;
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      fields.push_back(p.String(node[i], key));
    }
  } else {
    fields.push_back(p.String(node, key));
  }
  if (fields.empty()) p.Fail(node, key, "must name at least one field");
  for (const auto& f : fields) {
    if (!IsFieldName(f)) p.Fail(node, key, "'" + f + "' is not a field name");
  }
  return fields;
}

// How often and from where a feed is polled: `defaults` and every
// endpoint.
const KeyTable<EndpointConfig>& ScheduleKeys() {
  using E = EndpointConfig;
  static const KeyTable<E> keys = {
      {"interval",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) {
         e.interval = p.Duration(v, key, Millis(1));
         e.interval_set = true;
       }},
      DurationKey<E>("list_overlap", Millis(0),
                     [](E& e) -> Millis& { return e.list_overlap; }),
      IntegerKey<E>("page_size", 1, 5000,
                    [](E& e) -> int& { return e.page_size; }),
      BoolKey<E>("include_recent_changes",
                 [](E& e) -> bool& { return e.include_recent_changes; }),
      DateKey<E>(
          "start_from",
          [](E& e) -> std::optional<std::string>& { return e.start_from; }),
      {"reconcile_every",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) { e.reconcile_every = p.Duration(v, key, Millis(1000)); }},
      IntegerKey<E>("reconcile_min_seen_percent", 0, 100,
                    [](E& e) -> int& { return e.reconcile_min_seen_percent; }),
      {"on_rejected_cursor",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) {
         const std::string s = p.String(v, key);
         if (s != "fail" && s != "restart_from_last_seen") {
           p.Fail(v, key,
                  "'" + s + "' is not one of fail, restart_from_last_seen");
         }
         e.restart_rejected_cursor = s == "restart_from_last_seen";
       }},
  };
  return keys;
}

// The description of a custom endpoint (one with a path).
const KeyTable<Endpoint>& CustomEndpointKeys() {
  using E = Endpoint;
  static const std::set<std::string> kReserved = {
      "modified_on",   "active",    "data",
      "first_seen_at", "synced_at", "deleted_at"};
  static const KeyTable<E> keys = {
      {"path",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) {
         e.path = p.String(v, key);
         if (!IsSafePath(e.path)) {
           p.Fail(v, key,
                  "'" + e.path +
                      "' is not a safe API path (absolute, letters, digits, - "
                      "_ . / and {tenant} only)");
         }
       }},
      {"key",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) {
         e.key_fields = FieldList(p, v, key);
         if (e.key_fields.size() > 4) {
           p.Fail(v, key, "at most 4 key fields are supported");
         }
         for (const auto& col : e.KeyColumns()) {
           if (kReserved.count(col)) {
             p.Fail(v, key, "'" + col + "' is a reserved column name");
           }
         }
       }},
      {"version_field",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) { e.version_field = FieldList(p, v, key)[0]; }},
      {"params",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          E& e) {
         if (!v.IsMap()) p.Fail(v, key, "must be a mapping");
         for (const auto& kv : v) {
           std::string name = kv.first.as<std::string>();
           if (!IsFieldName(name)) {
             p.Fail(kv.first, key, "'" + name + "' is not a name");
           }
           e.params.emplace_back(name, p.String(kv.second, key + "." + name));
         }
       }},
  };
  return keys;
}

// An endpoint entry's `index`: fields of its view to index. A built-in
// endpoint's must be among its view's columns.
void ReadIndex(const YamlReader& p, const YAML::Node& node,
               const std::string& key, Endpoint& e) {
  const YAML::Node ix = node["index"];
  if (!ix) return;
  const std::string ix_key = key + ".index";
  std::vector<std::string> fields = FieldList(p, ix, ix_key);
  std::set<std::string> seen;
  for (const auto& f : fields) {
    if (!seen.insert(f).second)
      p.Fail(ix, ix_key, "'" + f + "' is listed twice");
    if (!e.view_fields.empty() &&
        std::find(e.view_fields.begin(), e.view_fields.end(), f) ==
            e.view_fields.end()) {
      p.Fail(ix, ix_key,
             "'" + f + "' is not a top-level scalar field of " + e.name +
                 " (the columns of its view " + e.TableName() + "_v)");
    }
  }
  e.indexed_fields = std::move(fields);
}

EndpointConfig ParseEndpoint(const YamlReader& p, const YAML::Node& node,
                             const std::string& key,
                             const EndpointConfig& defaults) {
  EndpointConfig ec = defaults;
  if (node.IsScalar()) {
    std::string name = p.String(node, key);
    const Endpoint* e = FindEndpoint(name);
    if (!e) {
      p.Fail(node, key,
             "unknown endpoint '" + name +
                 "' (`stsync endpoints` lists them; a custom one needs a "
                 "mapping with name and path)");
    }
    ec.endpoint = *e;
    return ec;
  }
  // A mapping: its name, how it is scheduled, and (custom ones) what it is.
  std::set<std::string> allowed = KeyNames(ScheduleKeys());
  allowed.merge(KeyNames(CustomEndpointKeys()));
  allowed.insert("name");
  allowed.insert("index");
  p.CheckKeys(node, key, allowed);
  ReadPresentKeys(p, node, key, ScheduleKeys(), ec);
  if (!node["name"]) p.Fail(node, key + ".name", "missing");
  std::string name = p.String(node["name"], key + ".name");
  const Endpoint* builtin = FindEndpoint(name);
  if (!node["path"]) {
    if (!builtin) {
      p.Fail(
          node["name"], key + ".name",
          "unknown endpoint '" + name +
              "' (`stsync endpoints` lists them; a custom one needs a path)");
    }
    for (const auto& k : CustomEndpointKeys()) {
      if (node[k.name]) {
        p.Fail(node[k.name], key + "." + k.name,
               "only allowed for a custom endpoint (one with a path)");
      }
    }
    ec.endpoint = *builtin;
    ReadIndex(p, node, key, ec.endpoint);
    return ec;
  }
  if (builtin) {
    p.Fail(node["name"], key + ".name",
           "'" + name +
               "' is a built-in endpoint; give a custom endpoint another name");
  }
  if (!IsValidEndpointName(name)) {
    p.Fail(node["name"], key + ".name",
           "'" + name +
               "' is not a valid name (lower-case letters, digits and dashes, "
               "starting with a letter)");
  }
  Endpoint e;
  e.name = name;
  ReadPresentKeys(p, node, key, CustomEndpointKeys(), e);
  ReadIndex(p, node, key, e);
  ec.endpoint = e;
  return ec;
}

bool IsTenantId(const std::string& t) {
  return !t.empty() && t.size() <= 19 &&
         t.find_first_not_of("0123456789") == std::string::npos;
}

// A key that is allowed here and read by other code.
template <typename T>
Key<T> ReadElsewhere(const char* name) {
  return {name,
          [](const YamlReader&, const YAML::Node&, const std::string&, T&) {}};
}

// A tenant id (digits), into Config::tenant.
Key<Config> TenantIdKey(const char* name, bool required) {
  return {name,
          [](const YamlReader& p, const YAML::Node& v, const std::string& key,
             Config& c) {
            std::string t = p.String(v, key);
            if (!IsTenantId(t)) {
              p.Fail(v, key, "'" + t + "' is not a numeric tenant id");
            }
            c.tenant = t;
          },
          required};
}

// A mapping's client secret: its client_secret, or what its
// client_secret_file holds (never both; `path` names the mapping in
// messages). False if it gives neither.
bool ReadSecret(const YamlReader& p, const YAML::Node& map,
                const std::string& path, std::string* secret,
                std::vector<std::string>* warnings) {
  const YAML::Node inline_secret = map["client_secret"];
  const YAML::Node file = map["client_secret_file"];
  if (inline_secret && file) {
    p.Fail(file, path + ".client_secret_file",
           "give either client_secret or client_secret_file, not both");
  }
  if (file) {
    *secret = p.ReadSecretFile(file, path + ".client_secret_file", warnings);
    return true;
  }
  if (!inline_secret) return false;
  *secret = p.String(inline_secret, path + ".client_secret");
  if (secret->empty()) {
    p.Fail(inline_secret, path + ".client_secret", "is empty");
  }
  return true;
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
      TextKey<C>(
          "path", [](C& c) -> std::string& { return c.database_path; }, true),
      DurationKey<C>("busy_timeout", Millis(0),
                     [](C& c) -> Millis& { return c.busy_timeout; }),
      IntegerKey<C>("max_size", 65536, 1LL << 50,
                    [](C& c) -> int64_t& { return c.max_database_bytes; }),
      IntegerKey<C>("wal_size", 1 << 20, 1LL << 40,
                    [](C& c) -> int64_t& { return c.wal_bytes; }),
      IntegerKey<C>("cache_size", 1 << 20, 1LL << 40,
                    [](C& c) -> int64_t& { return c.cache_bytes; }),
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

const KeyTable<Config>& LogKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      {"level",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.log_level = p.String(v, key);
         if (!IsLogLevel(c.log_level)) {
           p.Fail(v, key, "'" + c.log_level + "' is not one of " + kLogLevels);
         }
       }},
      {"format",
       [](const YamlReader& p, const YAML::Node& v, const std::string& key,
          C& c) {
         c.log_format = p.String(v, key);
         if (c.log_format != "text" && c.log_format != "json") {
           p.Fail(v, key, "'" + c.log_format + "' is not one of text, json");
         }
       }},
  };
  return keys;
}

const KeyTable<Config>& MetricsKeys() {
  using C = Config;
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
         c.metrics_host = host;
         c.metrics_port = std::stoi(port);
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
                    [](C& c) -> int& { return c.health_max_intervals; }),
  };
  return keys;
}

void ReadServiceTitan(const YamlReader& p, const YAML::Node& root, Config& c) {
  const YAML::Node st = root["servicetitan"];
  if (!st) p.Fail(root, "servicetitan", "missing");
  ReadKeys(p, st, "servicetitan", ServiceTitanKeys(), c);
  if (!ReadSecret(p, st, "servicetitan", &c.client_secret, &c.warnings)) {
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

// Every built-in endpoint not in `seen`, with the defaults.
void AddCatalog(const EndpointConfig& defaults, std::set<std::string>* seen,
                std::vector<EndpointConfig>* out) {
  for (const auto& e : Catalog()) {
    if (!SelectedByAll(e.name) || !seen->insert(e.name).second) continue;
    EndpointConfig ec = defaults;
    ec.endpoint = e;
    out->push_back(ec);
  }
}

// `defaults:`, the schedule every endpoint entry starts from.
EndpointConfig ReadDefaults(const YamlReader& p, const YAML::Node& root) {
  EndpointConfig defaults;
  if (const YAML::Node d = root["defaults"]) {
    ReadKeys(p, d, "defaults", ScheduleKeys(), defaults);
  }
  // Only an endpoint's own entry overrides the hourly pass of a list
  // endpoint read in full (see EndpointConfig::interval).
  defaults.interval_set = false;
  return defaults;
}

// An endpoint list (`endpoints`, or a tenant's) at `key`: names, mappings,
// or `all`.
std::vector<EndpointConfig> ReadEndpointList(const YamlReader& p,
                                             const YAML::Node& eps,
                                             const std::string& key,
                                             const EndpointConfig& defaults) {
  std::vector<EndpointConfig> out;
  std::set<std::string> seen;
  if (eps.IsScalar()) {
    if (p.String(eps, key) != "all") {
      p.Fail(eps, key, "must be a list of endpoints, or all");
    }
    AddCatalog(defaults, &seen, &out);
  } else {
    if (!eps.IsSequence() || eps.size() == 0) {
      p.Fail(eps, key, "must be a non-empty list, or all");
    }
    for (size_t i = 0; i < eps.size(); ++i) {
      std::string item_key = key + "[" + std::to_string(i) + "]";
      const YAML::Node item = eps[i];
      if (item.IsScalar() && item.Scalar() == "all") {
        AddCatalog(defaults, &seen, &out);
        continue;
      }
      EndpointConfig ec = ParseEndpoint(p, item, item_key, defaults);
      if (!seen.insert(ec.endpoint.name).second) {
        p.Fail(item, item_key,
               "endpoint '" + ec.endpoint.name + "' is listed twice");
      }
      out.push_back(ec);
    }
  }
  for (EndpointConfig& ec : out) {
    if (ec.endpoint.kind != EndpointKind::kList) continue;
    if (!ec.endpoint.modified_filter && !ec.interval_set) {
      ec.interval = std::chrono::hours(1);
    }
    if (ec.page_size == 0 || ec.page_size > ec.endpoint.max_page_size) {
      ec.page_size = ec.endpoint.max_page_size;
    }
  }
  return out;
}

// A mapping in `tenants:`: its id and what it overrides of the shared
// settings (its secret is read by ReadSecret, its endpoints by
// ReadEndpointList).
const KeyTable<Config>& TenantKeys() {
  using C = Config;
  static const KeyTable<C> keys = {
      TenantIdKey("id", true),
      TextKey<C>("client_id", [](C& c) -> std::string& { return c.client_id; }),
      TextKey<C>("app_key", [](C& c) -> std::string& { return c.app_key; }),
      ReadElsewhere<C>("client_secret"),
      ReadElsewhere<C>("client_secret_file"),
      ReadElsewhere<C>("endpoints"),
  };
  return keys;
}

// `tenants:`: more tenants beside (or instead of) servicetitan.tenant, each
// with the shared settings unless its entry overrides credentials or
// endpoints. Leaves `c` as the first tenant, with every tenant (itself
// included) in c.tenants when there is more than one, and {tenant} in
// database.path replaced by each one's id.
void ReadTenants(const YamlReader& p, const YAML::Node& root,
                 const EndpointConfig& defaults, Config& c) {
  const YAML::Node list = root["tenants"];
  std::vector<Config> all;
  std::set<std::string> ids;
  if (!c.tenant.empty()) {
    all.push_back(c);
    ids.insert(c.tenant);
  }
  if (list) {
    if (!list.IsSequence() || list.size() == 0) {
      p.Fail(list, "tenants",
             "must be a non-empty list of tenant ids or mappings with id");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string key = "tenants[" + std::to_string(i) + "]";
      const YAML::Node item = list[i];
      Config t = c;
      std::string where = key;  // where the id is, for messages
      if (item.IsMap()) {
        ReadKeys(p, item, key, TenantKeys(), t);
        ReadSecret(p, item, key, &t.client_secret, &c.warnings);
        if (item["endpoints"]) {
          t.endpoints = ReadEndpointList(p, item["endpoints"],
                                         key + ".endpoints", defaults);
        }
        where = key + ".id";
      } else {
        TenantIdKey("id", true).read(p, item, key, t);
      }
      if (!ids.insert(t.tenant).second) {
        p.Fail(item, where, "tenant " + t.tenant + " is listed twice");
      }
      all.push_back(std::move(t));
    }
  }
  if (all.empty()) {
    p.Fail(root["servicetitan"], "servicetitan.tenant",
           "missing (give servicetitan.tenant, or list tenants:)");
  }
  const std::string placeholder = "{tenant}";
  const size_t at = c.database_path.find(placeholder);
  if (all.size() > 1 && at == std::string::npos) {
    p.Fail(root["database"]["path"], "database.path",
           "must contain {tenant} when there is more than one tenant, so "
           "that each has its own file (e.g. /var/lib/stsync/{tenant}.db)");
  }
  for (Config& t : all) {
    if (at != std::string::npos) {
      t.database_path.replace(at, placeholder.size(), t.tenant);
    }
    t.warnings.clear();
  }
  std::vector<std::string> warnings = std::move(c.warnings);
  c = all[0];
  c.warnings = std::move(warnings);
  if (all.size() > 1) c.tenants = std::move(all);
}

// ServiceTitan asks export clients to wait 5 to 10 minutes after
// hasMore=false. Shorter intervals are allowed (tests, a quiet tenant) but
// named once.
void WarnAboutShortIntervals(Config& c) {
  std::vector<std::string> names;
  for (const auto& ec : c.endpoints) {
    if (ec.interval < std::chrono::minutes(1))
      names.push_back(ec.endpoint.name);
  }
  if (names.empty()) return;
  std::string list;
  for (size_t i = 0; i < names.size() && i < 3; ++i) {
    list += (i ? ", " : "") + names[i];
  }
  if (names.size() > 3) {
    list += " and " + std::to_string(names.size() - 3) + " more";
  }
  c.warnings.push_back(
      "interval below 1m for " + list +
      ": ServiceTitan asks clients to wait 5 to 10 minutes after "
      "hasMore=false; to see changes sooner, set include_recent_changes "
      "instead");
}

Config Parse(const YamlReader& p, const YAML::Node& root,
             const std::string& file) {
  Config c;
  c.file = file;
  if (!root.IsDefined() || root.IsNull()) {
    p.Fail(root, "(top level)", "the file is empty");
  }
  p.CheckKeys(root, "",
              {"servicetitan", "tenants", "database", "defaults", "endpoints",
               "http", "retry", "log", "metrics", "health"});
  ReadServiceTitan(p, root, c);
  if (const YAML::Node h = root["http"]) ReadKeys(p, h, "http", HttpKeys(), c);
  SettleUrls(p, root, c);  // after http.allow_insecure_http
  const YAML::Node db = root["database"];
  if (!db) p.Fail(root, "database", "missing");
  ReadKeys(p, db, "database", DatabaseKeys(), c);
  if (const YAML::Node r = root["retry"]) {
    ReadKeys(p, r, "retry", RetryKeys(), c);
    if (c.retry.max_backoff < c.retry.initial_backoff) {
      p.Fail(r, "retry.max_backoff", "is smaller than retry.initial_backoff");
    }
  }
  if (const YAML::Node l = root["log"]) ReadKeys(p, l, "log", LogKeys(), c);
  if (const YAML::Node m = root["metrics"]) {
    ReadKeys(p, m, "metrics", MetricsKeys(), c);
  }
  if (const YAML::Node h = root["health"]) {
    ReadKeys(p, h, "health", HealthKeys(), c);
  }
  const EndpointConfig defaults = ReadDefaults(p, root);
  const YAML::Node eps = root["endpoints"];
  if (!eps) p.Fail(root, "endpoints", "missing (list endpoint names, or all)");
  c.endpoints = ReadEndpointList(p, eps, "endpoints", defaults);
  ReadTenants(p, root, defaults, c);
  WarnAboutShortIntervals(c);
  return c;
}

}  // namespace

std::vector<const Config*> TenantConfigs(const Config& config) {
  std::vector<const Config*> out;
  if (config.tenants.empty()) {
    out.push_back(&config);
  } else {
    for (const Config& t : config.tenants) out.push_back(&t);
  }
  return out;
}

const Config* FindTenant(const Config& config, const std::string& id) {
  for (const Config* t : TenantConfigs(config)) {
    if (t->tenant == id) return t;
  }
  return nullptr;
}

const EndpointConfig* Config::FindEndpoint(const std::string& name) const {
  for (const auto& e : endpoints) {
    if (e.endpoint.name == name) return &e;
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

Result<Config> ParseConfig(const std::string& yaml_text,
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

Result<Config> LoadConfig(const std::string& path) {
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

#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/duration.h"
#include "base/timestamp.h"
#include "base/url.h"

namespace stsync {
namespace {

// Thrown inside this file only; turned into a Status by ParseConfig.
struct ConfigError {
  std::string message;
};

class Parser {
 public:
  Parser(std::string file, const EnvLookup& env)
      : file_(std::move(file)), env_(env) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const {
    std::string where = file_;
    if (node.IsDefined() && node.Mark().line >= 0) {
      where += ":" + std::to_string(node.Mark().line + 1);
    }
    throw ConfigError{where + ": " + key + ": " + what};
  }

  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const {
    if (!map.IsMap()) Fail(map, path, "must be a mapping");
    for (const auto& kv : map) {
      std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Fail(kv.first, Join(path, k),
             "unknown key (expected one of: " + list + ")");
      }
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // A scalar with ${VAR} expanded.
  std::string String(const YAML::Node& node, const std::string& key) const {
    if (node.IsNull()) Fail(node, key, "has no value");
    if (!node.IsScalar()) Fail(node, key, "must be a single value");
    return Expand(node, key, node.Scalar());
  }

  std::string Expand(const YAML::Node& node, const std::string& key,
                     const std::string& raw) const {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '$') {
        out += '$';
        ++i;
      } else if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '{') {
        size_t end = raw.find('}', i + 2);
        if (end == std::string::npos) Fail(node, key, "unterminated ${");
        std::string name = raw.substr(i + 2, end - i - 2);
        if (name.empty()) Fail(node, key, "empty ${} reference");
        auto value = env_(name);
        if (!value) {
          Fail(node, key, "environment variable " + name + " is not set");
        }
        out += *value;
        i = end;
      } else {
        out += raw[i];
      }
    }
    return out;
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    std::string v = String(node, key);
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    Fail(node, key, "'" + v + "' is not true or false");
  }

  Millis Duration(const YAML::Node& node, const std::string& key,
                  Millis min) const {
    std::string v = String(node, key);
    auto d = ParseDuration(v);
    if (!d) {
      Fail(node, key,
           "'" + v + "' is not a duration (use e.g. 500ms, 30s, 5m, 1h)");
    }
    if (*d < min) {
      Fail(node, key, "must be at least " + FormatDuration(min));
    }
    return *d;
  }

  long long Integer(const YAML::Node& node, const std::string& key,
                    long long min, long long max) const {
    std::string v = String(node, key);
    size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(v, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != v.size()) {
      Fail(node, key, "'" + v + "' is not a whole number");
    }
    if (n < min || n > max) {
      Fail(node, key,
           "must be between " + std::to_string(min) + " and " +
               std::to_string(max));
    }
    return n;
  }

  std::string Date(const YAML::Node& node, const std::string& key) const {
    std::string v = String(node, key);
    if (!NormalizeTimestamp(v)) {
      Fail(node, key, "'" + v + "' is not a date (use YYYY-MM-DD)");
    }
    return v;
  }

  std::string ReadSecretFile(const YAML::Node& node, const std::string& key,
                             std::vector<std::string>* warnings) const {
    std::string path = String(node, key);
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail(node, key, "cannot read secret file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string secret = ss.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                               secret.back() == ' ' || secret.back() == '\t')) {
      secret.pop_back();
    }
    if (secret.empty()) Fail(node, key, "secret file " + path + " is empty");
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
      warnings->push_back("secret file " + path +
                          " is readable by every user; chmod o-r it");
    }
    return secret;
  }

 private:
  std::string file_;
  const EnvLookup& env_;
};

void ValidateUrl(const Parser& p, const YAML::Node& node,
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

std::vector<std::string> FieldList(const Parser& p, const YAML::Node& node,
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

EndpointConfig ParseEndpoint(const Parser& p, const YAML::Node& node,
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
  p.CheckKeys(node, key,
              {"name", "interval", "include_recent_changes", "start_from",
               "path", "key", "version_field", "params"});
  if (!node["name"]) p.Fail(node, key + ".name", "missing");
  std::string name = p.String(node["name"], key + ".name");
  const Endpoint* builtin = FindEndpoint(name);
  if (node["path"]) {
    if (builtin) {
      p.Fail(node["name"], key + ".name",
             "'" + name +
                 "' is a built-in endpoint; give a custom endpoint another "
                 "name");
    }
    if (!IsValidEndpointName(name)) {
      p.Fail(node["name"], key + ".name",
             "'" + name +
                 "' is not a valid name (lower-case letters, digits and "
                 "dashes, starting with a letter)");
    }
    Endpoint e;
    e.name = name;
    e.path = p.String(node["path"], key + ".path");
    if (!IsSafePath(e.path)) {
      p.Fail(node["path"], key + ".path",
             "'" + e.path +
                 "' is not a safe API path (absolute, letters, digits, - _ . "
                 "/ and {tenant} only)");
    }
    if (node["key"]) e.key_fields = FieldList(p, node["key"], key + ".key");
    if (e.key_fields.size() > 4) {
      p.Fail(node["key"], key + ".key", "at most 4 key fields are supported");
    }
    static const std::set<std::string> kReserved = {
        "modified_on", "active", "data", "first_seen_at", "synced_at"};
    for (const auto& col : e.KeyColumns()) {
      if (kReserved.count(col)) {
        p.Fail(node["key"], key + ".key",
               "'" + col + "' is a reserved column name");
      }
    }
    if (node["version_field"]) {
      e.version_field =
          FieldList(p, node["version_field"], key + ".version_field")[0];
    }
    if (node["params"]) {
      const YAML::Node& params = node["params"];
      if (!params.IsMap()) p.Fail(params, key + ".params", "must be a mapping");
      for (const auto& kv : params) {
        std::string pk = kv.first.as<std::string>();
        if (!IsFieldName(pk)) {
          p.Fail(kv.first, key + ".params", "'" + pk + "' is not a name");
        }
        e.params.emplace_back(pk, p.String(kv.second, key + ".params." + pk));
      }
    }
    ec.endpoint = e;
  } else {
    if (!builtin) {
      p.Fail(
          node["name"], key + ".name",
          "unknown endpoint '" + name +
              "' (`stsync endpoints` lists them; a custom one needs a path)");
    }
    for (const char* custom_only : {"key", "version_field", "params"}) {
      if (node[custom_only]) {
        p.Fail(node[custom_only], key + "." + custom_only,
               "only allowed for a custom endpoint (one with a path)");
      }
    }
    ec.endpoint = *builtin;
  }
  if (node["interval"]) {
    ec.interval = p.Duration(node["interval"], key + ".interval", Millis(1));
  }
  if (node["include_recent_changes"]) {
    ec.include_recent_changes =
        p.Bool(node["include_recent_changes"], key + ".include_recent_changes");
  }
  if (node["start_from"]) {
    ec.start_from = p.Date(node["start_from"], key + ".start_from");
  }
  return ec;
}

Config Parse(const Parser& p, const YAML::Node& root, const std::string& file) {
  Config c;
  c.file = file;
  if (!root.IsDefined() || root.IsNull()) {
    p.Fail(root, "(top level)", "the file is empty");
  }
  p.CheckKeys(root, "",
              {"servicetitan", "database", "defaults", "endpoints", "http",
               "retry", "log"});

  // servicetitan
  const YAML::Node st = root["servicetitan"];
  if (!st) p.Fail(root, "servicetitan", "missing");
  p.CheckKeys(st, "servicetitan",
              {"environment", "tenant", "client_id", "client_secret",
               "client_secret_file", "app_key", "auth_url", "api_url"});
  if (st["environment"]) {
    c.environment = p.String(st["environment"], "servicetitan.environment");
  }
  if (c.environment == "production") {
    c.auth_url = "https://auth.servicetitan.io/connect/token";
    c.api_url = "https://api.servicetitan.io";
  } else if (c.environment == "integration") {
    c.auth_url = "https://auth-integration.servicetitan.io/connect/token";
    c.api_url = "https://api-integration.servicetitan.io";
  } else {
    p.Fail(st["environment"], "servicetitan.environment",
           "'" + c.environment + "' is not production or integration");
  }
  if (!st["tenant"]) p.Fail(st, "servicetitan.tenant", "missing");
  c.tenant = p.String(st["tenant"], "servicetitan.tenant");
  if (c.tenant.empty() || c.tenant.size() > 19 ||
      c.tenant.find_first_not_of("0123456789") != std::string::npos) {
    p.Fail(st["tenant"], "servicetitan.tenant",
           "'" + c.tenant + "' is not a numeric tenant id");
  }
  if (!st["client_id"]) p.Fail(st, "servicetitan.client_id", "missing");
  c.client_id = p.String(st["client_id"], "servicetitan.client_id");
  if (c.client_id.empty()) {
    p.Fail(st["client_id"], "servicetitan.client_id", "is empty");
  }
  if (st["client_secret"] && st["client_secret_file"]) {
    p.Fail(st["client_secret_file"], "servicetitan.client_secret_file",
           "give either client_secret or client_secret_file, not both");
  }
  if (st["client_secret"]) {
    c.client_secret =
        p.String(st["client_secret"], "servicetitan.client_secret");
    if (c.client_secret.empty()) {
      p.Fail(st["client_secret"], "servicetitan.client_secret", "is empty");
    }
  } else if (st["client_secret_file"]) {
    c.client_secret =
        p.ReadSecretFile(st["client_secret_file"],
                         "servicetitan.client_secret_file", &c.warnings);
  } else {
    p.Fail(st, "servicetitan.client_secret",
           "missing (give client_secret or client_secret_file)");
  }
  if (!st["app_key"]) p.Fail(st, "servicetitan.app_key", "missing");
  c.app_key = p.String(st["app_key"], "servicetitan.app_key");
  if (c.app_key.empty()) {
    p.Fail(st["app_key"], "servicetitan.app_key", "is empty");
  }

  // http (read before the URLs, which depend on allow_insecure_http)
  if (const YAML::Node h = root["http"]) {
    p.CheckKeys(h, "http",
                {"connect_timeout", "read_timeout", "max_page_bytes",
                 "rate_limit", "ca_bundle", "allow_insecure_http"});
    if (h["connect_timeout"]) {
      c.http.connect_timeout =
          p.Duration(h["connect_timeout"], "http.connect_timeout", Millis(1));
    }
    if (h["read_timeout"]) {
      c.http.read_timeout =
          p.Duration(h["read_timeout"], "http.read_timeout", Millis(1));
    }
    if (h["max_page_bytes"]) {
      c.http.max_page_bytes = static_cast<size_t>(p.Integer(
          h["max_page_bytes"], "http.max_page_bytes", 1024, 4LL << 30));
    }
    if (h["rate_limit"]) {
      c.rate_limit = static_cast<double>(
          p.Integer(h["rate_limit"], "http.rate_limit", 1, 10000));
    }
    if (h["ca_bundle"]) {
      c.http.ca_bundle = p.String(h["ca_bundle"], "http.ca_bundle");
      if (access(c.http.ca_bundle.c_str(), R_OK) != 0) {
        p.Fail(h["ca_bundle"], "http.ca_bundle",
               "cannot read " + c.http.ca_bundle);
      }
    }
    if (h["allow_insecure_http"]) {
      c.http.allow_insecure_http =
          p.Bool(h["allow_insecure_http"], "http.allow_insecure_http");
    }
  }
  if (st["auth_url"]) {
    c.auth_url = p.String(st["auth_url"], "servicetitan.auth_url");
    ValidateUrl(p, st["auth_url"], "servicetitan.auth_url", c.auth_url,
                c.http.allow_insecure_http, /*allow_path=*/true);
  }
  if (st["api_url"]) {
    c.api_url = p.String(st["api_url"], "servicetitan.api_url");
    while (!c.api_url.empty() && c.api_url.back() == '/') c.api_url.pop_back();
    ValidateUrl(p, st["api_url"], "servicetitan.api_url", c.api_url,
                c.http.allow_insecure_http, /*allow_path=*/false);
  }

  // database
  const YAML::Node db = root["database"];
  if (!db) p.Fail(root, "database", "missing");
  p.CheckKeys(db, "database", {"path", "busy_timeout", "max_size", "wal_size"});
  if (!db["path"]) p.Fail(db, "database.path", "missing");
  c.database_path = p.String(db["path"], "database.path");
  if (c.database_path.empty()) p.Fail(db["path"], "database.path", "is empty");
  if (db["max_size"]) {
    c.max_database_bytes =
        p.Integer(db["max_size"], "database.max_size", 65536, 1LL << 50);
  }
  if (db["wal_size"]) {
    c.wal_bytes =
        p.Integer(db["wal_size"], "database.wal_size", 1 << 20, 1LL << 40);
  }
  if (db["busy_timeout"]) {
    c.busy_timeout =
        p.Duration(db["busy_timeout"], "database.busy_timeout", Millis(0));
  }

  // retry
  if (const YAML::Node r = root["retry"]) {
    p.CheckKeys(r, "retry", {"initial_backoff", "max_backoff", "max_attempts"});
    if (r["initial_backoff"]) {
      c.retry.initial_backoff =
          p.Duration(r["initial_backoff"], "retry.initial_backoff", Millis(1));
    }
    if (r["max_backoff"]) {
      c.retry.max_backoff =
          p.Duration(r["max_backoff"], "retry.max_backoff", Millis(1));
    }
    if (r["max_attempts"]) {
      c.retry.max_attempts = static_cast<int>(
          p.Integer(r["max_attempts"], "retry.max_attempts", 1, 1000));
    }
    if (c.retry.max_backoff < c.retry.initial_backoff) {
      p.Fail(r, "retry.max_backoff", "is smaller than retry.initial_backoff");
    }
  }

  // log
  if (const YAML::Node l = root["log"]) {
    p.CheckKeys(l, "log", {"level"});
    if (l["level"]) {
      c.log_level = p.String(l["level"], "log.level");
      if (!IsLogLevel(c.log_level)) {
        p.Fail(l["level"], "log.level",
               "'" + c.log_level + "' is not one of " + kLogLevels);
      }
    }
  }

  // defaults
  EndpointConfig defaults;
  if (const YAML::Node d = root["defaults"]) {
    p.CheckKeys(d, "defaults",
                {"interval", "include_recent_changes", "start_from"});
    if (d["interval"]) {
      defaults.interval =
          p.Duration(d["interval"], "defaults.interval", Millis(1));
    }
    if (d["include_recent_changes"]) {
      defaults.include_recent_changes = p.Bool(
          d["include_recent_changes"], "defaults.include_recent_changes");
    }
    if (d["start_from"]) {
      defaults.start_from = p.Date(d["start_from"], "defaults.start_from");
    }
  }

  // endpoints
  const YAML::Node eps = root["endpoints"];
  if (!eps) p.Fail(root, "endpoints", "missing (list endpoint names, or all)");
  if (eps.IsScalar()) {
    if (p.String(eps, "endpoints") != "all") {
      p.Fail(eps, "endpoints", "must be a list of endpoints, or all");
    }
    for (const auto& e : Catalog()) {
      EndpointConfig ec = defaults;
      ec.endpoint = e;
      c.endpoints.push_back(ec);
    }
  } else {
    if (!eps.IsSequence() || eps.size() == 0) {
      p.Fail(eps, "endpoints", "must be a non-empty list, or all");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < eps.size(); ++i) {
      std::string key = "endpoints[" + std::to_string(i) + "]";
      const YAML::Node item = eps[i];
      if (item.IsScalar() && item.Scalar() == "all") {
        for (const auto& e : Catalog()) {
          if (seen.count(e.name)) continue;
          EndpointConfig ec = defaults;
          ec.endpoint = e;
          seen.insert(e.name);
          c.endpoints.push_back(ec);
        }
        continue;
      }
      EndpointConfig ec = ParseEndpoint(p, item, key, defaults);
      if (!seen.insert(ec.endpoint.name).second) {
        p.Fail(item, key,
               "endpoint '" + ec.endpoint.name + "' is listed twice");
      }
      c.endpoints.push_back(ec);
    }
  }
  return c;
}

}  // namespace

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
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         host.rfind("127.", 0) == 0;
}

Result<Config> ParseConfig(const std::string& yaml_text,
                           const std::string& file, const EnvLookup& env) {
  Parser parser(file, env);
  try {
    YAML::Node root = YAML::Load(yaml_text);
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

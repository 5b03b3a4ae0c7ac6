#include "config/tenants.h"

#include <set>

#include "config/endpoint_entries.h"

namespace stsync {
namespace {

bool IsTenantId(const std::string& t) {
  return !t.empty() && t.size() <= 19 &&
         t.find_first_not_of("0123456789") == std::string::npos;
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

}  // namespace

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

std::vector<Config> ReadTenants(const YamlReader& p, const YAML::Node& root,
                                const EndpointConfig& defaults, const Config& c,
                                std::vector<std::string>* warnings) {
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
        ReadSecret(p, item, key, &t.client_secret, warnings);
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
  const bool pg = !c.database.url.empty();
  const std::string& where = pg ? c.database.schema : c.database.path;
  const size_t at = where.find(placeholder);
  if (all.size() > 1 && at == std::string::npos) {
    if (pg) {
      p.Fail(root["database"]["schema"], "database.schema",
             "must contain {tenant} when there is more than one tenant, so "
             "that each has its own schema (the default is st_{tenant})");
    }
    p.Fail(root["database"]["path"], "database.path",
           "must contain {tenant} when there is more than one tenant, so "
           "that each has its own file (e.g. /var/lib/stsync/{tenant}.db)");
  }
  for (Config& t : all) t.tenants_in_file = static_cast<int>(all.size());
  if (at != std::string::npos) {
    for (Config& t : all) {
      (pg ? t.database.schema : t.database.path)
          .replace(at, placeholder.size(), t.tenant);
    }
  }
  return all;
}

}  // namespace stsync

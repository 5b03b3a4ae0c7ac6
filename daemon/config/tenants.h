// Tenants: `servicetitan.tenant` and `tenants:`, each tenant's id, secret
// and overrides, and its own database file. Internal to config/; errors are
// ConfigError.
#ifndef STSYNC_CONFIG_TENANTS_H_
#define STSYNC_CONFIG_TENANTS_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/key_table.h"
#include "config/yaml_reader.h"

namespace stsync {

// A tenant id (digits), into Config::tenant.
Key<Config> TenantIdKey(const char* name, bool required);

// A mapping's client secret: its client_secret, or what its
// client_secret_file holds (never both; `path` names the mapping in
// messages). False if it gives neither.
bool ReadSecret(const YamlReader& p, const YAML::Node& map,
                const std::string& path, std::string* secret,
                std::vector<std::string>* warnings);

// `tenants:`: more tenants beside (or instead of) servicetitan.tenant, each
// with the shared settings `c` unless its entry overrides credentials or
// endpoints. Returns every tenant (c's own servicetitan.tenant first, when
// given; never none), with {tenant} in database.path replaced by each one's
// id.
std::vector<Config> ReadTenants(const YamlReader& p, const YAML::Node& root,
                                const EndpointConfig& defaults, const Config& c,
                                std::vector<std::string>* warnings);

}  // namespace stsync

#endif  // STSYNC_CONFIG_TENANTS_H_

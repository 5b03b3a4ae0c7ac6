// EndpointEntries: `defaults:` and the endpoint lists (`endpoints:`, a
// tenant's): names, `all`, or mappings overriding the schedule, and custom
// endpoints with a path. Internal to config/; errors are ConfigError.
#ifndef STSYNC_CONFIG_ENDPOINT_ENTRIES_H_
#define STSYNC_CONFIG_ENDPOINT_ENTRIES_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace stsync {

// `defaults:`, the schedule every endpoint entry starts from.
EndpointConfig ReadDefaults(const YamlReader& p, const YAML::Node& root);

// An endpoint list (`endpoints`, or a tenant's) at `key`: names, mappings,
// or `all`.
std::vector<EndpointConfig> ReadEndpointList(const YamlReader& p,
                                             const YAML::Node& eps,
                                             const std::string& key,
                                             const EndpointConfig& defaults);

// Adds one warning naming the endpoints (of any tenant) polled more often
// than once a minute.
void WarnAboutShortIntervals(const std::vector<Config>& tenants,
                             std::vector<std::string>* warnings);

}  // namespace stsync

#endif  // STSYNC_CONFIG_ENDPOINT_ENTRIES_H_

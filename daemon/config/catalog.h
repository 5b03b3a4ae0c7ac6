// The endpoint catalog: every ServiceTitan Data Export endpoint stsync knows,
// with how its records are keyed and versioned.
//
// The built-in catalog holds the 53 export endpoints of the public OpenAPI
// documents; a config file may add custom ones (see model/endpoint.h).
#ifndef STSYNC_CONFIG_CATALOG_H_
#define STSYNC_CONFIG_CATALOG_H_

#include <string_view>
#include <vector>

#include "model/endpoint.h"

namespace stsync {

// The built-in endpoints, in a stable order. Never empty.
const std::vector<Endpoint>& Catalog();

// The built-in endpoint called `name`, or nullptr.
const Endpoint* FindEndpoint(std::string_view name);

// Whether `endpoints: all` selects the built-in endpoint `name`: all do
// except one that returns another's records (estimates-legacy returns those
// of estimates), which stays selectable by name.
bool SelectedByAll(std::string_view name);

}  // namespace stsync

#endif  // STSYNC_CONFIG_CATALOG_H_

#include "config/endpoint_entries.h"

#include <algorithm>
#include <set>

#include "config/catalog.h"
#include "config/key_table.h"

namespace stsync {
namespace {

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
      BoolKey<E>("split_first_sync",
                 [](E& e) -> bool& { return e.split_first_sync; }),
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

}  // namespace

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

// ServiceTitan asks export clients to wait 5 to 10 minutes after
// hasMore=false. Shorter intervals are allowed (tests, a quiet tenant) but
// named once.
void WarnAboutShortIntervals(const std::vector<Config>& tenants,
                             std::vector<std::string>* warnings) {
  std::vector<std::string> names;
  for (const Config& t : tenants) {
    for (const auto& ec : t.endpoints) {
      if (ec.interval < std::chrono::minutes(1) &&
          std::find(names.begin(), names.end(), ec.endpoint.name) ==
              names.end()) {
        names.push_back(ec.endpoint.name);
      }
    }
  }
  if (names.empty()) return;
  std::string list;
  for (size_t i = 0; i < names.size() && i < 3; ++i) {
    list += (i ? ", " : "") + names[i];
  }
  if (names.size() > 3) {
    list += " and " + std::to_string(names.size() - 3) + " more";
  }
  warnings->push_back(
      "interval below 1m for " + list +
      ": ServiceTitan asks clients to wait 5 to 10 minutes after "
      "hasMore=false; to see changes sooner, set include_recent_changes "
      "instead");
}

}  // namespace stsync

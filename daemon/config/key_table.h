// KeyTable: the config's schema machinery. Each section of the file is a
// table of keys: a key is spelled once, in its table; the table lists the
// keys a section allows, names each in messages (`section.key`), and reads
// it into its target. Internal to config/.
//
// Every reader throws ConfigError (config/yaml_reader.h) on a bad value.
#ifndef STSYNC_CONFIG_KEY_TABLE_H_
#define STSYNC_CONFIG_KEY_TABLE_H_

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "config/yaml_reader.h"

namespace stsync {

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

// A key that is allowed here and read by other code.
template <typename T>
Key<T> ReadElsewhere(const char* name) {
  return {name,
          [](const YamlReader&, const YAML::Node&, const std::string&, T&) {}};
}

}  // namespace stsync

#endif  // STSYNC_CONFIG_KEY_TABLE_H_

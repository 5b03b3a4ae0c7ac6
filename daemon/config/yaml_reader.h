// YamlReader: reads values out of a YAML config, reporting every problem as
// `FILE:LINE: key.path: what is wrong`.
//
// Each reader returns the value or throws ConfigError, which ParseConfig
// turns into Status::Invalid; the exception never leaves config/. Values
// may use ${VAR}, replaced through the EnvLookup (an unset variable is an
// error) and $$ for a literal $. Messages name keys and values a user
// wrote, but never the content of a secret file.
//
// Thread safety: const methods; the EnvLookup must outlive the reader.
#ifndef STSYNC_CONFIG_YAML_READER_H_
#define STSYNC_CONFIG_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "config/config.h"

namespace stsync {

struct ConfigError {
  std::string message;
};

class YamlReader {
 public:
  // `file` names the config in messages.
  YamlReader(std::string file, const EnvLookup& env);

  // The one document of `text`. Fails on a second document, and on text
  // yaml-cpp cannot get past (YAML::Exception for invalid YAML passes
  // through). Never loops: yaml-cpp 0.7's LoadAll spins for ever,
  // allocating, on a stray ',' before a document's content
  // (jbeder/yaml-cpp#1040), so documents are counted with a bounded parse.
  YAML::Node LoadDocument(const std::string& text) const;

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const;
  // Fails unless `map` is a mapping whose keys are all in `allowed`.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const;
  // Fails if any mapping under `node` repeats a key (YAML would keep the
  // first silently), naming both lines.
  void CheckNoDuplicateKeys(const YAML::Node& node,
                            const std::string& path) const;
  // "a.b" from "a" and "b"; "b" from "" and "b".
  static std::string Join(const std::string& path, const std::string& key);

  // A scalar, with ${VAR} expanded.
  std::string String(const YAML::Node& node, const std::string& key) const;
  bool Bool(const YAML::Node& node, const std::string& key) const;
  // A duration ("30s", "5m"; see base/duration.h) of at least `min`.
  Millis Duration(const YAML::Node& node, const std::string& key,
                  Millis min) const;
  long long Integer(const YAML::Node& node, const std::string& key,
                    long long min, long long max) const;
  // A date the API accepts as `from` (YYYY-MM-DD).
  std::string Date(const YAML::Node& node, const std::string& key) const;
  // The content of the file named by `node`, trailing blanks removed; a
  // file other users can read adds a warning.
  std::string ReadSecretFile(const YAML::Node& node, const std::string& key,
                             std::vector<std::string>* warnings) const;

 private:
  std::string Expand(const YAML::Node& node, const std::string& key,
                     const std::string& raw) const;

  const std::string file_;
  const EnvLookup& env_;
};

}  // namespace stsync

#endif  // STSYNC_CONFIG_YAML_READER_H_

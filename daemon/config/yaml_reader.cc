#include "config/yaml_reader.h"

#include <sys/stat.h>
#include <yaml-cpp/eventhandler.h>

#include <fstream>
#include <map>
#include <sstream>

#include "base/duration.h"
#include "base/timestamp.h"

namespace stsync {

YamlReader::YamlReader(std::string file, const EnvLookup& env)
    : file_(std::move(file)), env_(env) {}

namespace {

// Records where each document starts; the content is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node YamlReader::LoadDocument(const std::string& text) const {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts documents;
  // Two documents at most: enough to tell one from more.
  for (int i = 0; i < 2 && parser.HandleNextDocument(documents); ++i) {
  }
  if (documents.starts.size() > 1) {
    const YAML::Mark& first = documents.starts[0];
    const YAML::Mark& second = documents.starts[1];
    std::string where = file_ + ":" + std::to_string(second.line + 1);
    if (second.pos == first.pos) {
      // The first document ended without reading anything: a character
      // no YAML node starts with, such as ',' or ']'.
      throw ConfigError{where + ":" + std::to_string(second.column + 1) +
                        ": not valid YAML: a '" +
                        std::string(1, text[second.pos]) +
                        "' where a value should start"};
    }
    throw ConfigError{where +
                      ": a second YAML document; a config file holds one "
                      "(its first document would be read and the rest "
                      "ignored)"};
  }
  return YAML::Load(text);
}

void YamlReader::Fail(const YAML::Node& node, const std::string& key,
                      const std::string& what) const {
  std::string where = file_;
  if (node.IsDefined() && node.Mark().line >= 0) {
    where += ":" + std::to_string(node.Mark().line + 1);
  }
  throw ConfigError{where + ": " + key + ": " + what};
}

void YamlReader::CheckKeys(const YAML::Node& map, const std::string& path,
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

void YamlReader::CheckNoDuplicateKeys(const YAML::Node& node,
                                      const std::string& path) const {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CheckNoDuplicateKeys(node[i], path + "[" + std::to_string(i) + "]");
    }
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    const int line = kv.first.Mark().line + 1;
    auto [it, added] = first_line.emplace(k, line);
    if (!added) {
      Fail(kv.first, Join(path, k),
           "appears twice (lines " + std::to_string(it->second) + " and " +
               std::to_string(line) + "); keep one");
    }
    CheckNoDuplicateKeys(kv.second, Join(path, k));
  }
}

std::string YamlReader::Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string YamlReader::String(const YAML::Node& node,
                               const std::string& key) const {
  if (node.IsNull()) Fail(node, key, "has no value");
  if (!node.IsScalar()) Fail(node, key, "must be a single value");
  return Expand(node, key, node.Scalar());
}

std::string YamlReader::Expand(const YAML::Node& node, const std::string& key,
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

bool YamlReader::Bool(const YAML::Node& node, const std::string& key) const {
  std::string v = String(node, key);
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  Fail(node, key, "'" + v + "' is not true or false");
}

Millis YamlReader::Duration(const YAML::Node& node, const std::string& key,
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

long long YamlReader::Integer(const YAML::Node& node, const std::string& key,
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

std::string YamlReader::Date(const YAML::Node& node,
                             const std::string& key) const {
  std::string v = String(node, key);
  if (!IsCalendarDate(v)) {
    Fail(node, key, "'" + v + "' is not a date (use YYYY-MM-DD)");
  }
  return v;
}

std::string YamlReader::ReadSecretFile(
    const YAML::Node& node, const std::string& key,
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

}  // namespace stsync

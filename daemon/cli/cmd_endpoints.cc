// stsync endpoints: list the built-in catalog.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdio>

#include "cli/cli.h"
#include "config/catalog.h"

namespace stsync {

int EndpointsCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "endpoints";
  spec.flags = {"--json"};
  spec.usage =
      "Usage: stsync endpoints [--json]\n"
      "\n"
      "Lists the built-in endpoints: the name to use in the config, its kind\n"
      "(export: a Data Export feed; list: a regular list endpoint, read\n"
      "incrementally by modifiedOnOrAfter, or in full on every pass), its\n"
      "key, the field ordering versions, and its path. The table is the name\n"
      "with '-' replaced by '_'.\n";
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  auto kind = [](const Endpoint& e) -> std::string {
    if (e.kind == EndpointKind::kExport) return "export";
    return e.modified_filter ? "list" : "list-full";
  };
  if (args->Has("--json")) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& e : Catalog()) {
      w.StartObject();
      w.Key("name");
      w.String(e.name.c_str());
      w.Key("kind");
      w.String(e.kind == EndpointKind::kExport ? "export" : "list");
      if (e.kind == EndpointKind::kList) {
        // Read by modifiedOnOrAfter, or in full on every pass.
        w.Key("incremental");
        w.Bool(e.modified_filter);
      }
      w.Key("table");
      w.String(e.TableName().c_str());
      w.Key("path");
      w.String(e.path.c_str());
      w.Key("key");
      w.StartArray();
      for (const auto& k : e.key_fields) w.String(k.c_str());
      w.EndArray();
      w.Key("version_field");
      w.String(e.version_field.c_str());
      w.Key("in_all");
      w.Bool(SelectedByAll(e.name));
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", buf.GetString());
    return kExitOk;
  }
  int width = 4;
  for (const auto& e : Catalog()) {
    width = std::max(width, static_cast<int>(e.name.size()));
  }
  std::printf("%-*s %-9s %-20s %-11s %s\n", width, "NAME", "KIND", "KEY",
              "VERSION", "PATH");
  for (const auto& e : Catalog()) {
    std::string key = join(e.key_fields);
    if (!e.explode_field.empty()) key += " (per " + e.explode_field + " entry)";
    std::string path = e.path;
    if (!SelectedByAll(e.name)) path += "  (not in 'all': by name only)";
    std::printf("%-*s %-9s %-20s %-11s %s\n", width, e.name.c_str(),
                kind(e).c_str(), key.c_str(), e.version_field.c_str(),
                path.c_str());
  }
  std::printf(
      "\n%zu endpoints. 'all' in the config selects every one not marked "
      "otherwise.\nKIND list-full: no modifiedOnOrAfter, so every pass reads "
      "every record.\n",
      Catalog().size());
  return kExitOk;
}

}  // namespace stsync

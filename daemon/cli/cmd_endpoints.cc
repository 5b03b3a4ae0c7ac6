// stsync endpoints: list the built-in catalog.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

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
      "Lists the built-in export endpoints: the name to use in the config,\n"
      "the table it fills, its key, the field ordering versions, and its "
      "path.\n";
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (args->Has("--json")) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& e : Catalog()) {
      w.StartObject();
      w.Key("name");
      w.String(e.name.c_str());
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
  std::printf("%-26s %-26s %-20s %-11s %s\n", "NAME", "TABLE", "KEY", "VERSION",
              "PATH");
  for (const auto& e : Catalog()) {
    std::string key = join(e.key_fields);
    if (!e.explode_field.empty()) key += " (per " + e.explode_field + " entry)";
    std::string path = e.path;
    if (!SelectedByAll(e.name)) path += "  (not in 'all': by name only)";
    std::printf("%-26s %-26s %-20s %-11s %s\n", e.name.c_str(),
                e.TableName().c_str(), key.c_str(), e.version_field.c_str(),
                path.c_str());
  }
  std::printf(
      "\n%zu endpoints. 'all' in the config selects every one not marked "
      "otherwise.\n",
      Catalog().size());
  return kExitOk;
}

}  // namespace stsync

// The built-in catalog must match the official OpenAPI documents.
#include "config/catalog.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <set>

#include "test_util.h"

namespace stsync {
namespace {

// ../shared/servicetitan-openapi next to the source tree, or "" (a user's
// clone has no ../shared).
std::string SpecDir() {
  std::filesystem::path dir =
      std::filesystem::path(STSYNC_SOURCE_DIR).parent_path() / "shared" /
      "servicetitan-openapi";
  return std::filesystem::is_directory(dir) ? dir.string() : "";
}

struct SpecEndpoint {
  std::string path;  // full, with the server's base path
  bool has_active_param = false;
  std::set<std::string> fields;  // of one record (history entry: nested)
};

std::vector<SpecEndpoint> ReadSpecs(const std::string& dir) {
  std::vector<SpecEndpoint> out;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    rapidjson::Document d;
    std::string text = test::ReadFile(f.path().string());
    d.Parse(text.c_str());
    REQUIRE_FALSE(d.HasParseError());
    std::string base = d["servers"][0]["url"].GetString();
    base = base.substr(base.find('/', std::string("https://").size()));
    const auto& schemas = d["components"]["schemas"];
    auto resolve = [&](const rapidjson::Value* v) {
      while (v->IsObject() && v->HasMember("$ref")) {
        std::string ref = (*v)["$ref"].GetString();
        v = &schemas[ref.substr(ref.rfind('/') + 1).c_str()];
      }
      return v;
    };
    for (auto& p : d["paths"].GetObject()) {
      std::string path = p.name.GetString();
      if (path.find("/export") == std::string::npos ||
          !p.value.HasMember("get"))
        continue;
      SpecEndpoint e;
      e.path = base + path;
      const auto& op = p.value["get"];
      if (op.HasMember("parameters")) {
        for (const auto& param : op["parameters"].GetArray()) {
          const auto* pr = resolve(&param);
          if (pr->HasMember("name") &&
              std::string((*pr)["name"].GetString()) == "active") {
            e.has_active_param = true;
          }
        }
      }
      const auto& content = op["responses"]["200"]["content"];
      const auto* schema = resolve(&content.MemberBegin()->value["schema"]);
      const auto* item = resolve(&(*schema)["properties"]["data"]["items"]);
      for (auto& m : (*item)["properties"].GetObject())
        e.fields.insert(m.name.GetString());
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the catalog and the OpenAPI specs agree on the set of export paths") {
  std::string dir = SpecDir();
  if (dir.empty()) {
    test::Skip(
        "../shared/servicetitan-openapi is absent (only the developers' "
        "checkout has it); the catalog was not compared with the specs");
    return;
  }
  std::set<std::string> spec_paths, catalog_paths;
  auto specs = ReadSpecs(dir);
  for (const auto& s : specs) spec_paths.insert(s.path);
  for (const auto& e : Catalog()) catalog_paths.insert(e.path);
  CHECK(spec_paths.size() == 53);
  CHECK(catalog_paths.size() == Catalog().size());
  for (const auto& p : spec_paths) {
    INFO("in the specs, missing from the catalog: ", p);
    CHECK(catalog_paths.count(p) == 1);
  }
  for (const auto& p : catalog_paths) {
    INFO("in the catalog, not in the specs: ", p);
    CHECK(spec_paths.count(p) == 1);
  }

  // Each entry's key and version fields exist in its records, and the
  // active=Any parameter is sent exactly where the spec has `active`.
  for (const auto& e : Catalog()) {
    INFO(e.name);
    auto it =
        std::find_if(specs.begin(), specs.end(),
                     [&](const SpecEndpoint& s) { return s.path == e.path; });
    REQUIRE(it != specs.end());
    std::set<std::string> fields = it->fields;
    if (!e.explode_field.empty()) {
      CHECK(fields.count(e.explode_field) == 1);
      CHECK(fields.count(e.parent_field) == 1);
      continue;  // key and version live in the nested entries
    }
    for (const auto& k : e.key_fields) CHECK(fields.count(k) == 1);
    CHECK(fields.count(e.version_field) == 1);
    if (fields.count("modifiedOn")) CHECK(e.version_field == "modifiedOn");
    bool sends_active =
        std::any_of(e.params.begin(), e.params.end(),
                    [](const auto& p) { return p.first == "active"; });
    CHECK(sends_active == it->has_active_param);
  }
}

TEST_CASE(
    "catalog entries without id, modifiedOn or flat records are keyed as "
    "documented") {
  REQUIRE(Catalog().size() == 53);
  const Endpoint* ratings = FindEndpoint("technician-ratings");
  REQUIRE(ratings);
  CHECK(ratings->key_fields ==
        std::vector<std::string>{"technicianId", "jobId"});
  CHECK(ratings->KeyColumns() ==
        std::vector<std::string>{"technician_id", "job_id"});
  CHECK(FindEndpoint("payroll-settings")->key_fields ==
        std::vector<std::string>{"employeeId"});
  CHECK_FALSE(FindEndpoint("gross-pay-items")->fallback_key_fields.empty());
  const Endpoint* history = FindEndpoint("job-history");
  CHECK(history->explode_field == "history");
  CHECK(history->ParentColumn() == "job_id");
  CHECK(FindEndpoint("job-canceled-logs")->version_field == "createdOn");
  CHECK(FindEndpoint("membership-status-changes")->version_field ==
        "createdOn");
  for (const char* name : {"appointments", "appointment-assignments"}) {
    const Endpoint* e = FindEndpoint(name);
    REQUIRE(e);
    CHECK(e->params ==
          std::vector<std::pair<std::string, std::string>>{{"active", "Any"}});
  }
  std::set<std::string> names, tables;
  for (const auto& e : Catalog()) {
    CHECK(IsValidEndpointName(e.name));
    names.insert(e.name);
    tables.insert(e.TableName());
  }
  CHECK(names.size() == 53);
  CHECK(tables.size() == 53);
  CHECK(FindEndpoint("recurring-services")->TableName() ==
        "recurring_services");
  CHECK(FindEndpoint("no-such-thing") == nullptr);
}

}  // namespace stsync

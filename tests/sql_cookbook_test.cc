// The SQL of docs/sql-cookbook.md runs against a synced tenant and answers
// with rows, so the documented queries cannot rot.
#include <doctest/doctest.h>

#include <sstream>

#include "test_util.h"

namespace stsync {
namespace {

// The ```sql blocks of the markdown file `path`.
std::vector<std::string> SqlBlocks(const std::string& path) {
  std::istringstream in(test::ReadFile(path));
  std::vector<std::string> blocks;
  bool in_block = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "```sql") {
      in_block = true;
      blocks.emplace_back();
    } else if (line == "```") {
      in_block = false;
    } else if (in_block) {
      blocks.back() += line + "\n";
    }
  }
  return blocks;
}

}  // namespace

TEST_CASE("the SQL cookbook's questions run on a synced tenant and find rows") {
  const auto queries =
      SqlBlocks(std::string(STSYNC_SOURCE_DIR) + "/docs/sql-cookbook.md");
  REQUIRE(queries.size() == 5);
  fake::FakeServer server(test::SmallFake(
      {"jobs", "job-types", "estimates", "customers", "locations", "zones",
       "technician-shifts", "technicians"},
      60, 60));
  REQUIRE(server.Start().ok());
  test::TempDir dir;
  const std::string db = dir.File("readme.db");
  Config config = test::MustParseConfig(test::FakeConfigYaml(
      server, db,
      "[jobs, job-types, estimates, customers, locations, zones, "
      "technician-shifts, technicians]"));
  REQUIRE(test::SyncOnce(config).Failed() == 0);
  for (const auto& sql : queries) {
    INFO(sql);
    CHECK_FALSE(test::QueryRows(db, sql).empty());
  }
}

}  // namespace stsync

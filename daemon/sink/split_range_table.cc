#include "sink/split_range_table.h"

#include <map>

#include "sink/sqlite_statement.h"

namespace stsync {
namespace {

// Split first syncs arrived in schema 7.
constexpr int kSplitRangesSchema = 7;

struct StoredRange {
  std::string endpoint;
  SplitRange range;
};

StoredRange ReadRange(const Stmt& s) {
  StoredRange r;
  r.endpoint = s.ColumnText(0);
  r.range.id = sqlite3_column_int64(s.get(), 1);
  r.range.end = s.ColumnText(2);
  r.range.position = Cursor::FromStored(s.ColumnText(3));
  r.range.reached = s.ColumnText(4);
  return r;
}

}  // namespace

Status AttachSplitRanges(sqlite3* db, int schema_version,
                         std::vector<FeedState>& states) {
  if (schema_version < kSplitRangesSchema || states.empty()) {
    return Status::Ok();
  }
  std::map<std::string, FeedState*> by_name;
  for (FeedState& s : states) by_name[s.endpoint] = &s;
  const std::string* only = states.size() == 1 ? &states[0].endpoint : nullptr;
  auto rows = QueryRows(
      db,
      std::string("SELECT endpoint, id, range_end, position, reached FROM "
                  "_stsync_ranges") +
          (only ? " WHERE endpoint = ?1" : "") + " ORDER BY endpoint, id",
      only, ReadRange, "reading split ranges");
  if (!rows.ok()) return rows.status();
  for (StoredRange& r : *rows) {
    auto it = by_name.find(r.endpoint);
    if (it != by_name.end()) it->second->ranges.push_back(std::move(r.range));
  }
  return Status::Ok();
}

Status StoreSplitChange(sqlite3* db, const std::string& endpoint,
                        const SplitChange& change) {
  for (int64_t id : change.done) {
    Status s = SqliteRun(
        db, "DELETE FROM _stsync_ranges WHERE endpoint = ?1 AND id = ?2",
        {endpoint, id}, endpoint + ": removing a split range");
    if (!s.ok()) return s;
  }
  for (const SplitRange& r : change.put) {
    const std::string position = r.position.ToStored().value_or("");
    Status s = SqliteRun(
        db,
        "INSERT OR REPLACE INTO _stsync_ranges (endpoint, id, range_end, "
        "position, reached) VALUES (?1, ?2, ?3, ?4, ?5)",
        {endpoint, r.id, r.end, position, r.reached},
        endpoint + ": storing a split range");
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ForgetSplitRanges(sqlite3* db, const std::string& endpoint) {
  return SqliteRun(db, "DELETE FROM _stsync_ranges WHERE endpoint = ?1",
                   {endpoint}, endpoint + ": forgetting split ranges");
}

}  // namespace stsync

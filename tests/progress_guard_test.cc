#include "engine/progress_guard.h"

#include <doctest/doctest.h>

namespace stsync {
namespace {

// A batch at position `next` holding one row per record text.
Batch Page(const std::string& next, std::vector<std::string> records,
           bool caught_up = false) {
  Batch b;
  for (const auto& r : records) {
    Row row;
    row.data_offset = static_cast<uint32_t>(b.body.size());
    row.data_size = static_cast<uint32_t>(r.size());
    b.body += r;
    b.rows.push_back(row);
  }
  b.records = records.size();
  b.next = Cursor::Position(next);
  b.caught_up = caught_up;
  return b;
}

}  // namespace

TEST_CASE("the progress guard refuses a position or a page seen in the drain") {
  ProgressGuard g;
  Batch a = Page("A", {"{\"id\":1}"});
  Batch b = Page("B", {"{\"id\":2}"});
  REQUIRE(g.Check(a).ok());
  g.Applied(a);
  REQUIRE(g.Check(b).ok());
  g.Applied(b);
  // A again: a circle.
  Status circle = g.Check(Page("A", {"{\"id\":3}"}));
  CHECK(circle.code() == Status::Code::kBadResponse);
  CHECK(circle.message().find("already passed") != std::string::npos);
  // B's records under a new position.
  Status again = g.Check(Page("C", {"{\"id\":2}"}));
  CHECK(again.message().find("page already stored") != std::string::npos);
  CHECK(g.Check(Page("C", {"{\"id\":2}", "{\"id\":4}"})).ok());
  // A batch that catches up is always fine, and ends the drain.
  Batch done = Page("A", {}, /*caught_up=*/true);
  CHECK(g.Check(done).ok());
  g.Applied(done);
  CHECK(g.Check(a).ok());
}

TEST_CASE("the progress guard allows empty pages, up to a limit in a row") {
  ProgressGuard g;
  for (int i = 1; i < ProgressGuard::kMaxEmptyPages; ++i) {
    Batch empty = Page("e" + std::to_string(i), {});
    REQUIRE(g.Check(empty).ok());
    g.Applied(empty);
  }
  Status last = g.Check(Page("e-last", {}));
  CHECK(last.message().find("empty pages in a row") != std::string::npos);
  // A page with records resets the count.
  Batch full = Page("f", {"{\"id\":1}"});
  REQUIRE(g.Check(full).ok());
  g.Applied(full);
  CHECK(g.Check(Page("e-after", {})).ok());
}

}  // namespace stsync

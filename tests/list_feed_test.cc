// ListFeed's requests and the cursor it derives from each page, without a
// server: how a pass starts, pages by key or by offset, and ends.
#include "api/list_feed.h"

#include <doctest/doctest.h>

#include <map>

#include "base/timestamp.h"
#include "config/catalog.h"
#include "fake_clock.h"

namespace stsync {
namespace {

using Params = std::map<std::string, std::string>;

Params ParamsOf(const FeedRequest& r) {
  Params out;
  for (const auto& [k, v] : r.params) out[k] = v;
  return out;
}

// A list page of records {"id": i, "modifiedOn": versions[i]}, its
// envelope naming `page` (0: no page member).
std::string ListPage(const std::vector<std::string>& versions, bool more,
                     int page = 0) {
  std::string data;
  for (size_t i = 0; i < versions.size(); ++i) {
    data += (i ? "," : "") + std::string(R"({"id":)") + std::to_string(i + 1) +
            R"(,"modifiedOn":")" + versions[i] + R"("})";
  }
  return "{" +
         (page ? R"("page":)" + std::to_string(page) + "," : std::string()) +
         R"("pageSize":50,"hasMore":)" + std::string(more ? "true" : "false") +
         R"(,"totalCount":99,"data":[)" + data + "]}";
}

const std::string kT1 = "2024-03-01T10:00:00.0000000Z";
const std::string kT2 = "2024-03-01T11:00:00.0000000Z";
const std::string kT3 = "2024-03-01T12:00:00.0000000Z";

// Its wall time is in 2023, before every version above.
FakeClock* TestClock() {
  static FakeClock* clock = new FakeClock();
  return clock;
}

ListFeed Zones() {
  return ListFeed(*FindEndpoint("zones"), "42", std::chrono::minutes(5), 100,
                  TestClock());
}

}  // namespace

TEST_CASE("a list pass asks for modification order, all states, and a page") {
  const Endpoint* zones = FindEndpoint("zones");
  REQUIRE(zones);
  REQUIRE(zones->kind == EndpointKind::kList);
  Params p = ParamsOf(Zones().Request(Cursor::Start()));
  CHECK(p == Params{{"active", "Any"},
                    {"page", "1"},
                    {"pageSize", "100"},
                    {"sort", "+ModifiedOn"}});
  CHECK(Zones().Request(Cursor::Start()).path ==
        "/dispatch/v2/tenant/42/zones");
  // From a date: records modified on or after it.
  p = ParamsOf(Zones().Request(Cursor::Date("2024-02-01")));
  CHECK(p["modifiedOnOrAfter"] == "2024-02-01T00:00:00.0000000Z");
  // job-types sorts with orderBy; a page size above the spec's is capped.
  ListFeed types(*FindEndpoint("job-types"), "42", std::chrono::minutes(5),
                 9000, TestClock());
  p = ParamsOf(types.Request(Cursor::Start()));
  CHECK(p["orderBy"] == "modifiedOn");
  CHECK(p["orderByDirection"] == "asc");
  CHECK(p["pageSize"] == "5000");
  CHECK(p.count("sort") == 0);
}

TEST_CASE(
    "pages in modification order are followed by key, from the newest "
    "version of the page") {
  ListFeed feed = Zones();
  auto b = feed.Read(ListPage({kT1, kT2}, true), Cursor::Start());
  REQUIRE(b.ok());
  CHECK_FALSE(b->caught_up);
  CHECK(b->rows.size() == 2);
  Params p = ParamsOf(feed.Request(b->next));
  CHECK(p["modifiedOnOrAfter"] == kT2);
  CHECK(p["page"] == "1");
  // A page whose records all share the filter's time cannot move the filter:
  // the next page of the same filter.
  auto same = feed.Read(ListPage({kT2, kT2}, true), b->next);
  REQUIRE(same.ok());
  p = ParamsOf(feed.Request(same->next));
  CHECK(p["modifiedOnOrAfter"] == kT2);
  CHECK(p["page"] == "2");
  // The last page ends the pass; the next one starts at the newest version
  // less the overlap, from page 1.
  auto last = feed.Read(ListPage({kT3}, false), same->next);
  REQUIRE(last.ok());
  CHECK(last->caught_up);
  p = ParamsOf(feed.Request(last->next));
  CHECK(p["modifiedOnOrAfter"] == "2024-03-01T11:55:00.0000000Z");
  CHECK(p["page"] == "1");
}

TEST_CASE(
    "pages out of order, or of an endpoint that cannot sort, are followed "
    "by offset") {
  ListFeed feed = Zones();
  auto b = feed.Read(ListPage({kT2, kT1}, true), Cursor::Date("2024-01-01"));
  REQUIRE(b.ok());
  Params p = ParamsOf(feed.Request(b->next));
  CHECK(p["modifiedOnOrAfter"] == "2024-01-01T00:00:00.0000000Z");
  CHECK(p["page"] == "2");
  // The high-water mark is the newest version of the pass, wherever it was.
  auto last = feed.Read(ListPage({kT1}, false), b->next);
  REQUIRE(last.ok());
  CHECK(ParamsOf(feed.Request(last->next))["modifiedOnOrAfter"] ==
        "2024-03-01T10:55:00.0000000Z");

  const Endpoint* terms = FindEndpoint("payment-terms");  // sort: no date
  REQUIRE(terms);
  REQUIRE(terms->order == ListOrder::kDefault);
  ListFeed unsorted(*terms, "42", std::chrono::minutes(5), 100, TestClock());
  CHECK(ParamsOf(unsorted.Request(Cursor::Start())).count("sort") == 0);
  auto u = unsorted.Read(ListPage({kT1, kT2}, true), Cursor::Start());
  REQUIRE(u.ok());
  p = ParamsOf(unsorted.Request(u->next));
  CHECK(p.count("modifiedOnOrAfter") == 0);
  CHECK(p["page"] == "2");
  // A record changed on page 1 while page 2 is read is newer than the
  // pass's start, but maybe older than its newest record: the next pass
  // starts before the start (by the clock, less the overlap).
  const std::string started = FormatTimestamp(TestClock()->WallNow());
  TestClock()->Advance(std::chrono::minutes(10));
  auto end = unsorted.Read(ListPage({kT3}, false), u->next);
  REQUIRE(end.ok());
  CHECK(ParamsOf(unsorted.Request(end->next))["modifiedOnOrAfter"] ==
        FormatTimestamp(*ParseNormalizedTimestamp(started) -
                        std::chrono::minutes(5)));
}

TEST_CASE("an endpoint without modifiedOnOrAfter is read in full each pass") {
  const Endpoint* roles = FindEndpoint("user-roles");
  REQUIRE(roles);
  REQUIRE_FALSE(roles->modified_filter);
  ListFeed feed(*roles, "42", std::chrono::minutes(5), 100, TestClock());
  auto b = feed.Read(R"({"hasMore":false,"data":[{"id":1,"name":"a"}]})",
                     Cursor::Start());
  REQUIRE(b.ok());
  CHECK(b->caught_up);
  Params p = ParamsOf(feed.Request(b->next));
  CHECK(p.count("modifiedOnOrAfter") == 0);
  CHECK(p["page"] == "1");
}

TEST_CASE("bad list pages and unreadable positions") {
  ListFeed feed = Zones();
  auto empty_more = feed.Read(ListPage({}, true), Cursor::Start());
  REQUIRE_FALSE(empty_more.ok());
  CHECK(empty_more.status().message() ==
        "the server answered hasMore=true with no records");
  // The envelope names the page it answers: it must be the one asked for.
  CHECK(feed.Read(ListPage({kT1}, true, 1), Cursor::Start()).ok());
  auto echo = feed.Read(ListPage({kT1}, true, 2), Cursor::Start());
  REQUIRE_FALSE(echo.ok());
  CHECK(echo.status().message() ==
        "the server answered page 2 to a request for page 1");
  auto no_more = feed.Read(R"({"data":[]})", Cursor::Start());
  REQUIRE_FALSE(no_more.ok());
  CHECK(no_more.status().code() == Status::Code::kBadResponse);
  // A position the feed did not write (an export's token, a damaged one):
  // the first record, which skips nothing.
  for (const char* text : {"v1.00000000000a", "list|pass|junk|1|",
                           "list|pass||0|", "list|done|2024-99-01"}) {
    INFO(text);
    CHECK(ParamsOf(feed.Request(Cursor::Position(text))) ==
          ParamsOf(feed.Request(Cursor::Start())));
  }
}

}  // namespace stsync

#include "engine/rejected_cursor.h"

#include <doctest/doctest.h>

#include "config/catalog.h"

namespace stsync {

TEST_CASE("only a 400 to an export's stored position is a rejected cursor") {
  const Status bad = Status::Http(400, "HTTP 400: bad");
  const Endpoint& jobs = *FindEndpoint("jobs");
  CHECK(IsRejectedCursor(bad, Cursor::Position("v1.abc"), jobs));
  CHECK_FALSE(IsRejectedCursor(bad, Cursor::Start(), jobs));
  CHECK_FALSE(IsRejectedCursor(bad, Cursor::Date("2024-01-01"), jobs));
  CHECK_FALSE(IsRejectedCursor(Status::Http(404, "HTTP 404"),
                               Cursor::Position("v1.abc"), jobs));
  CHECK_FALSE(IsRejectedCursor(Status::Network("reset"),
                               Cursor::Position("v1.abc"), jobs));
  // A list endpoint's positions are stsync's: a 400 is about the request.
  CHECK_FALSE(IsRejectedCursor(bad, Cursor::Position("list|done|"),
                               *FindEndpoint("zones")));
}

TEST_CASE("a restart begins the day before the newest stored version") {
  CHECK(RestartCursor("2024-03-10T05:00:00.0000000Z", Cursor::Start()) ==
        Cursor::Date("2024-03-09"));
  // Just after midnight: still a whole day back, across a month and a year.
  CHECK(RestartCursor("2024-01-01T00:00:00.0000001Z", Cursor::Start()) ==
        Cursor::Date("2023-12-31"));
  CHECK(RestartCursor("2024-03-01T23:59:59.9999999Z", Cursor::Start()) ==
        Cursor::Date("2024-02-29"));
}

TEST_CASE("a restart never goes before a configured start date") {
  CHECK(RestartCursor("2024-03-10T05:00:00.0000000Z",
                      Cursor::Date("2024-03-10")) ==
        Cursor::Date("2024-03-10"));
  CHECK(RestartCursor("2024-03-10T05:00:00.0000000Z",
                      Cursor::Date("2024-01-01")) ==
        Cursor::Date("2024-03-09"));
}

TEST_CASE("without a stored version a restart goes back to the start") {
  CHECK(RestartCursor(std::nullopt, Cursor::Start()) == Cursor::Start());
  CHECK(RestartCursor(std::nullopt, Cursor::Date("2022-05-01")) ==
        Cursor::Date("2022-05-01"));
  CHECK(RestartCursor("not a timestamp", Cursor::Start()) == Cursor::Start());
}

}  // namespace stsync

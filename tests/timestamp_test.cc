#include "base/timestamp.h"

#include <doctest/doctest.h>

#include "base/duration.h"

namespace stsync {

TEST_CASE(
    "timestamps with 0 to 7 fractional digits normalise to one sortable form") {
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08Z") ==
        "2024-03-05T06:07:08.0000000Z");
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.1Z") ==
        "2024-03-05T06:07:08.1000000Z");
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.12Z") ==
        "2024-03-05T06:07:08.1200000Z");
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.123456Z") ==
        "2024-03-05T06:07:08.1234560Z");
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.1234567Z") ==
        "2024-03-05T06:07:08.1234567Z");
  // Digits past the seventh are truncated, not rounded.
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.123456789Z") ==
        "2024-03-05T06:07:08.1234567Z");
  // No zone means UTC; offsets are converted to UTC, across day boundaries.
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08.5") ==
        "2024-03-05T06:07:08.5000000Z");
  CHECK(NormalizeTimestamp("2024-03-05T06:07:08+00:00") ==
        "2024-03-05T06:07:08.0000000Z");
  CHECK(NormalizeTimestamp("2024-03-05T01:00:00+02:00") ==
        "2024-03-04T23:00:00.0000000Z");
  CHECK(NormalizeTimestamp("2024-12-31T23:30:00-0100") ==
        "2025-01-01T00:30:00.0000000Z");
  CHECK(NormalizeTimestamp("2024-02-29") == "2024-02-29T00:00:00.0000000Z");
  CHECK(NormalizeTimestamp("2024-03-05 06:07") ==
        "2024-03-05T06:07:00.0000000Z");
}

TEST_CASE("normalised timestamps sort as text in time order") {
  // As raw text, "08.5Z" sorts before "08Z" ('.' < 'Z'): the wrong order.
  auto a = *NormalizeTimestamp("2024-01-01T00:00:08.123Z");
  auto b = *NormalizeTimestamp("2024-01-01T00:00:08.5Z");
  auto c = *NormalizeTimestamp("2024-01-01T00:00:08Z");
  CHECK(c < a);
  CHECK(a < b);
  CHECK(std::string("2024-01-01T00:00:08.5Z") <
        std::string("2024-01-01T00:00:08Z"));
}

TEST_CASE("invalid timestamps are refused") {
  for (const char* bad :
       {"", "yesterday", "2024-13-01", "2023-02-29", "2024-01-32",
        "2024-01-01T25:00:00Z", "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00Zjunk", "2024-1-1", "2024-01-01T00"}) {
    INFO(bad);
    CHECK_FALSE(NormalizeTimestamp(bad).has_value());
  }
}

TEST_CASE("a calendar date is a day that exists, and never a date-time") {
  CHECK(IsCalendarDate("2024-02-29"));
  CHECK(IsCalendarDate("1999-12-31"));
  for (const char* bad :
       {"", "2023-02-29", "2024-04-31", "2024-1-01", "2024-01-01T00:00:00Z",
        "2024-01-01 10:00", "20240101", "2024/01/01"}) {
    INFO(bad);
    CHECK_FALSE(IsCalendarDate(bad));
  }
}

TEST_CASE("FormatTimestamp and ParseNormalizedTimestamp round-trip") {
  auto t = ParseNormalizedTimestamp("2024-05-06T07:08:09.1234567Z");
  REQUIRE(t.has_value());
  CHECK(FormatTimestamp(*t) == "2024-05-06T07:08:09.1234567Z");
  CHECK_FALSE(ParseNormalizedTimestamp("2024-05-06T07:08:09Z").has_value());
}

TEST_CASE("durations parse and format") {
  using std::chrono::milliseconds;
  CHECK(ParseDuration("250ms") == milliseconds(250));
  CHECK(ParseDuration("30s") == milliseconds(30'000));
  CHECK(ParseDuration("5m") == milliseconds(300'000));
  CHECK(ParseDuration("1h30m") == milliseconds(5'400'000));
  CHECK(ParseDuration("45") == milliseconds(45'000));
  CHECK(ParseDuration("315360000") == milliseconds(315'360'000'000));  // max
  CHECK(ParseDuration("3650d") == milliseconds(315'360'000'000));
  for (const char* bad :
       {"", "5x", "m", "-5s", "1.5s", "5 m", "99999999999999h",
        // Past ten years: as a product that overflows int64, as a sum, and
        // as a bare number of seconds.
        "300000000000d", "3000d3000d", "315360001", "999999999999"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad).has_value());
  }
  CHECK(FormatDuration(milliseconds(300'000)) == "5m");
  CHECK(FormatDuration(milliseconds(5'400'000)) == "1h30m");
  CHECK(FormatDuration(milliseconds(250)) == "250ms");
  CHECK(FormatDuration(milliseconds(0)) == "0s");
}

}  // namespace stsync

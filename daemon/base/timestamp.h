// Timestamps as the API sends them, normalised so that text order is time
// order.
//
// ServiceTitan sends ISO-8601 date-times with 0 to 7 fractional digits, with a
// `Z`, an offset, or nothing (taken as UTC). The normalised form is always
// `YYYY-MM-DDTHH:MM:SS.fffffffZ` in UTC: 28 bytes, sortable as text.
#ifndef STSYNC_BASE_TIMESTAMP_H_
#define STSYNC_BASE_TIMESTAMP_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace stsync {

// Returns the normalised form of `text`, or nullopt if it is not a date
// (`YYYY-MM-DD`) or date-time this function understands. Digits beyond the
// seventh fractional one are truncated.
std::optional<std::string> NormalizeTimestamp(std::string_view text);

// True if `text` is exactly a calendar date, `YYYY-MM-DD`, of a day that
// exists. What `start_from`, `reset --from` and `backfill --from/--to` take
// and a date cursor holds: a date-time is not one.
bool IsCalendarDate(std::string_view text);

// `t` in the normalised form.
std::string FormatTimestamp(WallTime t);

// Parses a normalised timestamp back to a time point.
std::optional<WallTime> ParseNormalizedTimestamp(std::string_view text);

}  // namespace stsync

#endif  // STSYNC_BASE_TIMESTAMP_H_

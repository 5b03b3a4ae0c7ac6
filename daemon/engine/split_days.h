// Day arithmetic for a split first sync (engine/scheduler.h): the dates
// that cut a feed's history into ranges fetched side by side.
//
// Days are counted from 1970-01-01 (UTC). Pure functions, thread-safe.
#ifndef STSYNC_ENGINE_SPLIT_DAYS_H_
#define STSYNC_ENGINE_SPLIT_DAYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "model/sink.h"

namespace stsync {

// The day of `text`, a date (YYYY-MM-DD) or a normalised timestamp (its
// first ten characters); nullopt if it does not start with a date.
std::optional<int64_t> DayOf(std::string_view text);
// The day that `t` falls on.
int64_t DayOf(WallTime t);
// YYYY-MM-DD of `day`.
std::string DateOfDay(int64_t day);

// The days (fractional) from `from` to `to`, each a date or a normalised
// timestamp; nullopt if either is neither.
std::optional<double> DaysBetween(std::string_view from, std::string_view to);

// The days `range` still owes: from the newest version it stored (or its
// start date, before it stored any) to its end; 0 if unknown.
double OwedDays(const SplitRange& range);

// The days that cut [first, last) into `parts` ranges of (nearly) equal
// length, ascending: parts - 1 of them, fewer when the span has fewer
// days, none if it has less than two.
std::vector<int64_t> CutDays(int64_t first, int64_t last, int parts);

}  // namespace stsync

#endif  // STSYNC_ENGINE_SPLIT_DAYS_H_

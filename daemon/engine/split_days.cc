#include "engine/split_days.h"

#include <algorithm>
#include <chrono>

#include "base/timestamp.h"

namespace stsync {

namespace {

// The time of a date or a normalised timestamp.
std::optional<WallTime> TimeOf(std::string_view text) {
  const auto normal = NormalizeTimestamp(text);
  if (!normal) return std::nullopt;
  return ParseNormalizedTimestamp(*normal);
}

}  // namespace

std::optional<int64_t> DayOf(std::string_view text) {
  if (text.size() < 10 || !IsCalendarDate(text.substr(0, 10))) {
    return std::nullopt;
  }
  return DayOf(*TimeOf(text.substr(0, 10)));
}

int64_t DayOf(WallTime t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

std::string DateOfDay(int64_t day) {
  return FormatTimestamp(WallTime(std::chrono::sys_days(
                             std::chrono::days(static_cast<int>(day)))))
      .substr(0, 10);
}

std::optional<double> DaysBetween(std::string_view from, std::string_view to) {
  const auto a = TimeOf(from);
  const auto b = TimeOf(to);
  if (!a || !b) return std::nullopt;
  return std::chrono::duration<double, std::ratio<86400>>(*b - *a).count();
}

double OwedDays(const SplitRange& range) {
  std::string_view from = range.reached;
  if (from.empty() && range.position.kind() == Cursor::Kind::kDate) {
    from = range.position.value();
  }
  return std::max(0.0, DaysBetween(from, range.end).value_or(0));
}

std::vector<int64_t> CutDays(int64_t first, int64_t last, int parts) {
  std::vector<int64_t> cuts;
  const int64_t span = last - first;
  const int64_t n = std::min<int64_t>(parts, span);
  for (int64_t k = 1; k < n; ++k) cuts.push_back(first + k * span / n);
  return cuts;
}

}  // namespace stsync

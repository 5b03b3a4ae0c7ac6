#include "engine/split_days.h"

#include <algorithm>
#include <chrono>

#include "base/timestamp.h"

namespace stsync {

std::optional<int64_t> DayOf(std::string_view text) {
  if (text.size() < 10 || !IsCalendarDate(text.substr(0, 10))) {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  const std::chrono::year_month_day ymd{
      std::chrono::year(number(0, 4)),
      std::chrono::month(static_cast<unsigned>(number(5, 2))),
      std::chrono::day(static_cast<unsigned>(number(8, 2)))};
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

int64_t DayOf(WallTime t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

std::string DateOfDay(int64_t day) {
  return FormatTimestamp(WallTime(std::chrono::sys_days(
                             std::chrono::days(static_cast<int>(day)))))
      .substr(0, 10);
}

double OwedDays(const SplitRange& range) {
  std::optional<WallTime> from = ParseNormalizedTimestamp(range.reached);
  if (!from && range.position.kind() == Cursor::Kind::kDate) {
    from = ParseNormalizedTimestamp(
        NormalizeTimestamp(range.position.value()).value_or(""));
  }
  const auto end =
      ParseNormalizedTimestamp(NormalizeTimestamp(range.end).value_or(""));
  if (!from || !end || *end <= *from) return 0;
  return std::chrono::duration<double, std::ratio<86400>>(*end - *from).count();
}

std::vector<int64_t> CutDays(int64_t first, int64_t last, int parts) {
  std::vector<int64_t> cuts;
  const int64_t span = last - first;
  const int64_t n = std::min<int64_t>(parts, span);
  for (int64_t k = 1; k < n; ++k) cuts.push_back(first + k * span / n);
  return cuts;
}

}  // namespace stsync

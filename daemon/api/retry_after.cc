#include "api/retry_after.h"

#include <algorithm>
#include <ctime>

namespace stsync {

std::optional<Millis> ParseRetryAfter(const std::string& value, WallTime now) {
  const size_t first = value.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;  // empty or blank
  const size_t last = value.find_last_not_of(' ');
  const std::string v = value.substr(first, last - first + 1);
  if (v.find_first_not_of("0123456789") == std::string::npos) {
    // delta-seconds; anything over an hour is capped, so stop counting there.
    long long secs = 0;
    for (char c : v) {
      secs = std::min<long long>(secs * 10 + (c - '0'), 3600);
    }
    return Millis(secs * 1000);
  }
  std::tm tm{};
  if (!strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    return std::nullopt;
  }
  WallTime at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return Millis(0);
  return std::min<Millis>(std::chrono::duration_cast<Millis>(at - now),
                          std::chrono::hours(1));
}

}  // namespace stsync

#include "backoff.h"

#include <algorithm>
#include <ctime>

namespace stsync {

Millis BackoffDelay(const RetryOptions& options, int attempt,
                    double unit_random, std::optional<Millis> retry_after) {
  Millis cap = options.max_backoff;
  Millis d = options.initial_backoff;
  for (int i = 1; i < attempt && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  Millis jittered =
      d / 2 + Millis(static_cast<long long>((d.count() / 2.0) * unit_random));
  if (retry_after) jittered = std::max(jittered, *retry_after);
  return jittered;
}

std::optional<Millis> ParseRetryAfter(const std::string& value, WallTime now) {
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789 ") == std::string::npos) {
    long long secs = std::stoll(value.substr(0, 9));
    return Millis(std::min<long long>(secs, 3600) * 1000);
  }
  std::tm tm{};
  if (!strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    return std::nullopt;
  }
  WallTime at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return Millis(0);
  return std::min<Millis>(std::chrono::duration_cast<Millis>(at - now),
                          std::chrono::hours(1));
}

}  // namespace stsync

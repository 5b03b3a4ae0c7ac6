#include "base/duration.h"

#include <cstdint>

namespace stsync {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  constexpr int64_t kMax = 10LL * 365 * 24 * 3600 * 1000;  // ten years
  // A bare number is seconds, with the same bound as any other duration.
  const bool bare = s.find_first_not_of("0123456789") == std::string_view::npos;
  int64_t total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    int64_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      n = n * 10 + (s[pos] - '0');
      if (n > kMax) return std::nullopt;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    std::string_view unit = bare ? "s" : s.substr(pos, 2);
    int64_t scale;
    if (unit == "ms") {
      scale = 1;
    } else if (unit.substr(0, 1) == "s") {
      scale = 1000;
    } else if (unit.substr(0, 1) == "m") {
      scale = 60'000;
    } else if (unit.substr(0, 1) == "h") {
      scale = 3'600'000;
    } else if (unit.substr(0, 1) == "d") {
      scale = 86'400'000;
    } else {
      return std::nullopt;
    }
    if (!bare) pos += unit == "ms" ? 2 : 1;
    // n <= kMax and scale <= 8.64e7, but their product can overflow: compare
    // by division first.
    if (n > (kMax - total) / scale) return std::nullopt;
    total += n * scale;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
  if (h >= 48)
    return out + std::to_string(h / 24) + "d" +
           (h % 24 ? std::to_string(h % 24) + "h" : "");
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec || out.empty() || out == "-") out += std::to_string(sec) + "s";
  return out;
}

}  // namespace stsync

// Durations as written in config files and shown to users: "250ms", "30s",
// "5m", "1h", or combinations such as "1m30s". A bare number is seconds.
#ifndef STSYNC_BASE_DURATION_H_
#define STSYNC_BASE_DURATION_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace stsync {

// Parses `text`; nullopt if it is not a duration (or is negative or absurdly
// large).
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest readable form: "5m", "1h30m", "250ms", "0s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace stsync

#endif  // STSYNC_BASE_DURATION_H_

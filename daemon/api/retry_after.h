// Retry-After: how long a server asked us to wait (HTTP 429, 503, or a
// throttled token endpoint).
#ifndef STSYNC_API_RETRY_AFTER_H_
#define STSYNC_API_RETRY_AFTER_H_

#include <optional>
#include <string>

#include "base/clock.h"

namespace stsync {

// Parses a Retry-After header: delta-seconds (spaces around it allowed) or
// an HTTP-date, relative to `now`. Waits are capped at an hour. nullopt if
// the value is absent, blank or unreadable; it never throws.
std::optional<Millis> ParseRetryAfter(const std::string& value, WallTime now);

}  // namespace stsync

#endif  // STSYNC_API_RETRY_AFTER_H_

// Backoff: how long to wait before retrying a failed page.
//
// Capped exponential with "full jitter": attempt n waits a random time in
// [d/2, d] where d = min(initial * 2^(n-1), max). A server's Retry-After is a
// floor. Pure functions; the caller supplies the randomness.
#ifndef STSYNC_BACKOFF_H_
#define STSYNC_BACKOFF_H_

#include <optional>

#include "clock.h"
#include "config.h"

namespace stsync {

// `attempt` >= 1 counts failures in a row; `unit_random` is in [0, 1).
Millis BackoffDelay(const RetryOptions& options, int attempt,
                    double unit_random, std::optional<Millis> retry_after);

// Parses a Retry-After header: delta-seconds or an HTTP-date (relative to
// `now`). nullopt if absent or unreadable.
std::optional<Millis> ParseRetryAfter(const std::string& value, WallTime now);

}  // namespace stsync

#endif  // STSYNC_BACKOFF_H_

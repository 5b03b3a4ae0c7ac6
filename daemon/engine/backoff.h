// Backoff: how long to wait before retrying a failed page.
//
// Capped exponential with "full jitter": attempt n waits a random time in
// [d/2, d] where d = min(initial * 2^(n-1), max). A server's Retry-After is a
// floor (see api/retry_after.h). A pure function; the caller supplies the
// randomness.
#ifndef STSYNC_ENGINE_BACKOFF_H_
#define STSYNC_ENGINE_BACKOFF_H_

#include <optional>

#include "base/clock.h"
#include "config/config.h"

namespace stsync {

// `attempt` >= 1 counts failures in a row; `unit_random` is in [0, 1).
Millis BackoffDelay(const RetryOptions& options, int attempt,
                    double unit_random, std::optional<Millis> retry_after);

}  // namespace stsync

#endif  // STSYNC_ENGINE_BACKOFF_H_

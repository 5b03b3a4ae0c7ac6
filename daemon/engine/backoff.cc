#include "engine/backoff.h"

#include <algorithm>

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

}  // namespace stsync

// Health: whether a tenant's sync is keeping up, for `stsync health` (the
// container's HEALTHCHECK) and /healthz (ops/metrics_server.h).
//
// Healthy means every configured endpoint has committed a page (its cursor
// moved; a caught-up poll counts) within health.max_intervals of its
// interval plus retry.max_backoff: a scheduler that hangs, a feed that
// keeps failing, or a database that cannot be written all stop that. An
// endpoint the tenant lacks (its last answer HTTP 403) is left out.
//
// Plain functions: safe from any thread.
#ifndef STSYNC_OPS_HEALTH_H_
#define STSYNC_OPS_HEALTH_H_

#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"
#include "model/sink.h"

namespace stsync {

// Ok, or kUnhealthy with one line naming the stale endpoints (the first
// few) and how stale, judged on `states` (the sink's) at `now`.
Status CheckFreshness(const Config& config,
                      const std::vector<FeedState>& states, WallTime now);

// CheckFreshness on the database of `config`, opened read-only (a reader
// never blocks the writer). kUnhealthy also when the file does not exist
// yet.
Status CheckHealth(const Config& config, WallTime now);

}  // namespace stsync

#endif  // STSYNC_OPS_HEALTH_H_

#include "engine/log_observer.h"

#include <spdlog/spdlog.h>

#include "base/duration.h"
#include "base/status.h"

namespace stsync {
namespace {

long long Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<Millis>(d).count();
}

}  // namespace

std::string LogObserver::Name(const std::string& endpoint) const {
  return prefix_ + endpoint;
}

void LogObserver::OnFeedStart(const FeedStartEvent& e) {
  if (e.resumed) {
    spdlog::info("{}: resuming from its stored cursor", Name(e.endpoint));
  } else {
    spdlog::info("{}: no stored cursor, starting at {}", Name(e.endpoint),
                 e.from.Describe());
  }
}

void LogObserver::OnBatch(const BatchEvent& e) {
  forbidden_.erase(e.endpoint);
  spdlog::info(
      "{}: {} records ({} new, {} updated, {} unchanged), hasMore={}, {} ms",
      Name(e.endpoint), e.records, e.stats.inserted, e.stats.updated,
      e.stats.unchanged, !e.caught_up, Ms(e.finished - e.started));
  if (e.caught_up) {
    spdlog::debug("{}: caught up; next poll in {}", Name(e.endpoint),
                  FormatDuration(e.next_in));
  }
}

void LogObserver::OnFailure(const FailureEvent& e) {
  if (e.forbidden) {
    const bool first = forbidden_.insert(e.endpoint).second;
    const std::string next =
        e.retry_in ? "; trying again in " + FormatDuration(*e.retry_in) : "";
    spdlog::log(first ? spdlog::level::warn : spdlog::level::debug, "{}: {}{}",
                Name(e.endpoint), e.status.message(), next);
    return;
  }
  if (e.status.code() == Status::Code::kFenced) {
    // Another daemon writes the tenant now (a takeover, or this one gave it
    // up to even the shares out): no attempt failed.
    spdlog::warn("{}: stopped writing: {}", Name(e.endpoint),
                 e.status.message());
    return;
  }
  if (!e.retry_in) {
    spdlog::error("{}: giving up after {} failed attempt(s): {}",
                  Name(e.endpoint), e.attempt, e.status.message());
    return;
  }
  spdlog::warn("{}: attempt {} failed: {}; retrying in {}", Name(e.endpoint),
               e.attempt, e.status.message(), FormatDuration(*e.retry_in));
}

void LogObserver::OnReconciled(const ReconciledEvent& e) {
  const ReconcileOutcome& o = e.outcome;
  if (o.suspicious) {
    spdlog::warn(
        "{}: reconciliation saw only {} keys for {} rows not marked deleted "
        "(under reconcile_min_seen_percent {}%): marked nothing; the API may "
        "have answered an incomplete feed",
        Name(e.endpoint), o.seen, o.live,
        static_cast<int>(e.policy.min_seen_fraction * 100 + 0.5));
    return;
  }
  spdlog::info("{}: reconciliation saw {} keys for {} rows; marked {} deleted",
               Name(e.endpoint), o.seen, o.live, o.marked);
}

void LogObserver::OnSinkError(const std::string& endpoint,
                              const Status& status) {
  spdlog::warn("{}: could not record the failure: {}", Name(endpoint),
               status.message());
}

}  // namespace stsync

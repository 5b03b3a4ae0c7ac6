#include "ops/health.h"

#include <map>

#include "base/duration.h"
#include "base/timestamp.h"
#include "sink/damage_note.h"
#include "sink/open_destination.h"

namespace stsync {

Status CheckFreshness(const Config& config,
                      const std::vector<FeedState>& states, WallTime now) {
  std::map<std::string, const FeedState*> by_name;
  for (const auto& s : states) by_name[s.endpoint] = &s;
  std::vector<std::string> stale;
  for (const auto& ec : config.endpoints) {
    auto it = by_name.find(ec.endpoint.name);
    const FeedState* s = it == by_name.end() ? nullptr : it->second;
    if (s && s->last_error.rfind("HTTP 403", 0) == 0) continue;  // forbidden
    const Millis allowed =
        ec.interval * config.health.max_intervals + config.retry.max_backoff;
    auto last = s ? ParseNormalizedTimestamp(s->cursor_updated_at)
                  : std::optional<WallTime>();
    if (!last) {
      stale.push_back(ec.endpoint.name + " never synced");
      continue;
    }
    const auto age = std::chrono::duration_cast<Millis>(now - *last);
    if (age <= allowed) continue;
    std::string why =
        ec.endpoint.name + " last synced " +
        FormatDuration(std::chrono::duration_cast<Millis>(
            std::chrono::duration_cast<std::chrono::seconds>(age))) +
        " ago (allowed " + FormatDuration(allowed) + ")";
    if (!s->last_error.empty()) why += ": " + s->last_error;
    stale.push_back(why);
  }
  if (stale.empty()) return Status::Ok();
  std::string msg = std::to_string(stale.size()) + " of " +
                    std::to_string(config.endpoints.size()) +
                    " endpoint(s) behind";
  msg = "tenant " + config.tenant + ": " + msg;
  for (size_t i = 0; i < stale.size() && i < 3; ++i) {
    msg += (i ? "; " : ": ") + stale[i];
  }
  if (stale.size() > 3) msg += "; ...";
  for (char& c : msg) {
    if (c == '\n') c = ' ';
  }
  return Status::Unhealthy(msg);
}

Status CheckHealth(const Config& config, WallTime now) {
  if (!UsesPostgres(config)) {
    if (auto note = ReadDamageNote(config.database.path)) {
      return Status::Unhealthy("tenant " + config.tenant + ": " + *note);
    }
  }
  DestinationOptions options;
  options.read_only = true;
  auto sink = OpenDestination(config, options, RealClock::Get());
  if (!sink.ok()) {
    return Status::Unhealthy("tenant " + config.tenant + ": " +
                             sink.status().message());
  }
  auto states = (*sink)->LoadAll();
  if (!states.ok()) {
    return Status::Unhealthy("tenant " + config.tenant + ": " +
                             states.status().message());
  }
  return CheckFreshness(config, *states, now);
}

}  // namespace stsync

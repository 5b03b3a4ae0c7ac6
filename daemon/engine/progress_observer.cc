#include "engine/progress_observer.h"

#include <algorithm>
#include <cstdio>

#include "base/duration.h"
#include "base/timestamp.h"

namespace stsync {
namespace {

template <typename Duration>
double Seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// "1234 records/s"-style rate of `n` over `secs`.
std::string Rate(int64_t n, double secs) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f records/s", n / std::max(secs, 1e-3));
  return buf;
}

}  // namespace

ProgressObserver::ProgressObserver(Clock* clock, std::string prefix,
                                   Millis every,
                                   std::function<void(const std::string&)> line,
                                   Style style)
    : clock_(clock),
      prefix_(std::move(prefix)),
      every_(every),
      line_(std::move(line)),
      style_(style),
      last_line_(clock->Now()) {}

void ProgressObserver::OnFeedStart(const FeedStartEvent& e) {
  feeds_.emplace(e.endpoint, FeedProgress{});
}

void ProgressObserver::OnBatch(const BatchEvent& e) {
  FeedProgress& f = feeds_[e.endpoint];
  if (!first_batch_) first_batch_ = e.started;
  if (f.records == 0 && !f.caught_up) {
    f.started = e.started;
    f.first_version = e.oldest_version;
  }
  f.records += static_cast<int64_t>(e.records);
  // A split first sync's ranges come in any order: the newest so far.
  f.newest_version = std::max(f.newest_version, e.newest_version);
  f.owed_days = e.owed_days;
  records_ += static_cast<int64_t>(e.records);
  if (e.caught_up) f.caught_up = true;
  const SteadyTime now = clock_->Now();
  if (now - last_line_ >= every_) Report(now);
}

std::optional<double> HistoryShare(const std::string& first_version,
                                   const std::string& newest_version,
                                   double owed_days, WallTime now) {
  const auto first = ParseNormalizedTimestamp(first_version);
  const auto newest = ParseNormalizedTimestamp(newest_version);
  if (!first || !newest || now <= *first || *newest < *first) {
    return std::nullopt;
  }
  const double covered = Seconds(*newest - *first) - owed_days * 86400;
  return std::clamp(covered / Seconds(now - *first), 0.0, 1.0);
}

std::optional<Millis> TimeLeft(double share, Millis elapsed) {
  if (share < 0.01 || share >= 1) return std::nullopt;
  return Millis(static_cast<int64_t>(static_cast<double>(elapsed.count()) *
                                     (1 - share) / share));
}

std::optional<ProgressObserver::Position> ProgressObserver::PositionOf(
    const FeedProgress& f, SteadyTime now, WallTime wall_now) {
  auto share =
      HistoryShare(f.first_version, f.newest_version, f.owed_days, wall_now);
  if (!share) return std::nullopt;
  return Position{
      *share,
      TimeLeft(*share, std::chrono::duration_cast<Millis>(now - f.started))};
}

void ProgressObserver::Report(SteadyTime now) {
  int caught_up = 0;
  for (const auto& [name, f] : feeds_) caught_up += f.caught_up ? 1 : 0;
  if (style_ == Style::kStatusLine) return ReportStatusLine(now, caught_up);
  if (caught_up == static_cast<int>(feeds_.size())) {
    last_line_ = now;
    records_at_last_line_ = records_;
    return;  // steady polling: nothing to report
  }
  const double since = Seconds(now - last_line_);
  line_(prefix_ + "progress: " + std::to_string(records_) +
        " records this run (" + Rate(records_ - records_at_last_line_, since) +
        " in the last " +
        FormatDuration(std::chrono::ceil<Millis>(now - last_line_)) + "), " +
        std::to_string(caught_up) + " of " + std::to_string(feeds_.size()) +
        " endpoints caught up");
  const WallTime wall_now = clock_->WallNow();
  for (auto& [name, f] : feeds_) {
    if (f.caught_up || f.records == 0) continue;
    std::string text = prefix_ + name + ": " + std::to_string(f.records) +
                       " records (" +
                       Rate(f.records - f.records_at_last_line, since) + ")";
    if (auto at = PositionOf(f, now, wall_now)) {
      text += ", modifiedOn at " + f.newest_version.substr(0, 10) + ", " +
              std::to_string(static_cast<int>(at->share * 100)) +
              "% of the way from " + f.first_version.substr(0, 10) + " to now";
      if (at->left) {
        text += ", about " + FormatDuration(*at->left) + " left at this pace";
      }
    }
    line_(text);
    f.records_at_last_line = f.records;
  }
  last_line_ = now;
  records_at_last_line_ = records_;
}

void ProgressObserver::ReportStatusLine(SteadyTime now, int caught_up) {
  char rate[32];
  std::snprintf(
      rate, sizeof rate, "%.0f/s",
      records_ / std::max(Seconds(now - first_batch_.value_or(now)), 1e-3));
  std::string text = prefix_ + std::to_string(records_) + " records (" + rate +
                     "), " + std::to_string(caught_up) + "/" +
                     std::to_string(feeds_.size()) + " caught up";
  // Of the feeds behind, the one that will take longest.
  const WallTime wall_now = clock_->WallNow();
  std::string slowest;
  Millis most_left(-1);
  int behind = 0;
  for (const auto& [name, f] : feeds_) {
    if (f.caught_up || f.records == 0) continue;
    ++behind;
    const auto at = PositionOf(f, now, wall_now);
    if (!at || at->left.value_or(Millis(0)) <= most_left) continue;
    most_left = at->left.value_or(Millis(0));
    slowest = name + " at " + f.newest_version.substr(0, 10) + " (" +
              std::to_string(static_cast<int>(at->share * 100)) + "%";
    if (at->left) slowest += ", " + FormatDuration(*at->left) + " left";
    slowest += ")";
  }
  if (!slowest.empty()) {
    text += "; " + slowest;
    if (behind > 1) text += " +" + std::to_string(behind - 1) + " behind";
  }
  line_(text);
  last_line_ = now;
  records_at_last_line_ = records_;
}

}  // namespace stsync

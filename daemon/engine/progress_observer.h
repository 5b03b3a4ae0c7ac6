// ProgressObserver: how far long work has got, in the log at a modest rate.
//
// While any feed of the tenant has not caught up in this run (a first sync,
// a backfill, a long catch-up), it logs every `every` (a minute in the
// daemon):
//   - one line for the tenant: records stored this run, the rate since the
//     last line, and how many endpoints have caught up;
//   - one line per feed still behind: its records, rate, and how far its
//     newest modifiedOn has got from the first one it read this run towards
//     now, less the days a split first sync's ranges still owe, with the
//     time left at that pace.
// Nothing is logged once every feed has caught up (steady polling).
//
// In the status-line style (a terminal's live progress, cli/
// terminal_progress.h) it gives one line instead, every `every` while
// batches come, caught up or not: the tenant's records this run and their
// rate since the first batch, the endpoints caught up, and, of the feeds
// still behind, the one with the most time left: where its modifiedOn is,
// its share of the history and that time.
//
// Thread safety: called from one scheduler thread (see model/observer.h).
#ifndef STSYNC_ENGINE_PROGRESS_OBSERVER_H_
#define STSYNC_ENGINE_PROGRESS_OBSERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/clock.h"
#include "model/observer.h"

namespace stsync {

// How much of a feed's history is stored, 0 to 1: the time from its first
// version to its newest, less the days a split first sync's ranges still
// owe, over the time from its first version to `now`; nullopt if the
// versions are unreadable or not before `now`.
std::optional<double> HistoryShare(const std::string& first_version,
                                   const std::string& newest_version,
                                   double owed_days, WallTime now);
// The time left at the pace that stored `share` in `elapsed`; nullopt
// when the share is too small (under 1%) or complete to say.
std::optional<Millis> TimeLeft(double share, Millis elapsed);

class ProgressObserver : public Observer {
 public:
  enum class Style { kLogLines, kStatusLine };

  // `clock` is borrowed; `prefix` names the tenant in lines ("" alone,
  // "1111111/" among several); `line` receives each line (spdlog's info in
  // the daemon).
  ProgressObserver(Clock* clock, std::string prefix, Millis every,
                   std::function<void(const std::string&)> line,
                   Style style = Style::kLogLines);

  void OnFeedStart(const FeedStartEvent& e) override;
  void OnBatch(const BatchEvent& e) override;

 private:
  struct FeedProgress {
    bool caught_up = false;  // at least once in this run
    int64_t records = 0;
    int64_t records_at_last_line = 0;
    std::string first_version;   // the oldest of its first batch
    std::string newest_version;  // the newest of its batches
    double owed_days = 0;        // by its ranges, after its latest batch
    SteadyTime started{};        // its first batch's fetch
  };
  // How far a feed has got through its history, and the time left at its
  // pace (none when too early or done to say); nullopt if its versions
  // cannot say.
  struct Position {
    double share = 0;
    std::optional<Millis> left;
  };
  static std::optional<Position> PositionOf(const FeedProgress& f,
                                            SteadyTime now, WallTime wall_now);
  void Report(SteadyTime now);
  void ReportStatusLine(SteadyTime now, int caught_up);

  Clock* const clock_;
  const std::string prefix_;
  const Millis every_;
  const std::function<void(const std::string&)> line_;
  const Style style_;
  std::map<std::string, FeedProgress> feeds_;
  std::optional<SteadyTime> first_batch_;  // its fetch's start
  SteadyTime last_line_{};
  int64_t records_ = 0;
  int64_t records_at_last_line_ = 0;
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_PROGRESS_OBSERVER_H_

// ProgressObserver: how far long work has got, in the log at a modest rate.
//
// While any feed of the tenant has not caught up in this run (a first sync,
// a backfill, a long catch-up), it logs every `every` (a minute in the
// daemon):
//   - one line for the tenant: records stored this run, the rate since the
//     last line, and how many endpoints have caught up;
//   - one line per feed still behind: its records, rate, and how far its
//     newest modifiedOn has got from the first one it read this run towards
//     now, with the time left at that pace.
// Nothing is logged once every feed has caught up (steady polling).
//
// Thread safety: called from one scheduler thread (see model/observer.h).
#ifndef STSYNC_ENGINE_PROGRESS_OBSERVER_H_
#define STSYNC_ENGINE_PROGRESS_OBSERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/clock.h"
#include "model/observer.h"

namespace stsync {

class ProgressObserver : public Observer {
 public:
  // `clock` is borrowed; `prefix` names the tenant in lines ("" alone,
  // "1111111/" among several); `line` receives each line (spdlog's info in
  // the daemon).
  ProgressObserver(Clock* clock, std::string prefix, Millis every,
                   std::function<void(const std::string&)> line);

  void OnFeedStart(const FeedStartEvent& e) override;
  void OnBatch(const BatchEvent& e) override;

 private:
  struct FeedProgress {
    bool caught_up = false;  // at least once in this run
    int64_t records = 0;
    int64_t records_at_last_line = 0;
    std::string first_version;   // the oldest of its first batch
    std::string newest_version;  // of its latest batch
    SteadyTime started{};        // its first batch's fetch
  };
  void Report(SteadyTime now);

  Clock* const clock_;
  const std::string prefix_;
  const Millis every_;
  const std::function<void(const std::string&)> line_;
  std::map<std::string, FeedProgress> feeds_;
  SteadyTime last_line_{};
  int64_t records_ = 0;
  int64_t records_at_last_line_ = 0;
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_PROGRESS_OBSERVER_H_

// LogObserver: the scheduler's events as log lines (spdlog's default
// logger): one line per batch, each failure with its retry delay, and
// giving up. Progress over many batches is engine/progress_observer.h.
//
// Thread safety: called from one scheduler thread (see model/observer.h).
#ifndef STSYNC_ENGINE_LOG_OBSERVER_H_
#define STSYNC_ENGINE_LOG_OBSERVER_H_

#include <set>
#include <string>

#include "model/observer.h"

namespace stsync {

class LogObserver : public Observer {
 public:
  // `prefix` comes before each endpoint's name ("1111111/" for a tenant
  // when the daemon serves several).
  explicit LogObserver(std::string prefix = "") : prefix_(std::move(prefix)) {}

  void OnFeedStart(const FeedStartEvent& e) override;
  void OnBatch(const BatchEvent& e) override;
  void OnFailure(const FailureEvent& e) override;
  void OnReconciled(const ReconciledEvent& e) override;
  void OnSinkError(const std::string& endpoint, const Status& status) override;

 private:
  std::string Name(const std::string& endpoint) const;

  const std::string prefix_;
  // Feeds whose 403 was logged as a warning; later ones are debug lines.
  std::set<std::string> forbidden_;
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_LOG_OBSERVER_H_

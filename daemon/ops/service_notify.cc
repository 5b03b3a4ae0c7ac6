#include "ops/service_notify.h"

#include <systemd/sd-daemon.h>

namespace stsync {

void NotifyReady() { sd_notify(0, "READY=1"); }

void NotifyStatus(const std::string& status) {
  std::string line = status;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  sd_notify(0, ("STATUS=" + line).c_str());
}

void NotifyWatchdog() { sd_notify(0, "WATCHDOG=1"); }

void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

void NotifyReloading() { sd_notify(0, "RELOADING=1"); }

std::optional<Millis> WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::duration_cast<Millis>(std::chrono::microseconds(usec));
}

class StatusNotifier::TenantObserver : public Observer {
 public:
  TenantObserver(StatusNotifier* n, std::string prefix)
      : n_(n), prefix_(std::move(prefix)) {}
  void OnBatch(const BatchEvent& e) override {
    n_->OnBatch(prefix_ + e.endpoint, e.records, e.caught_up);
  }
  void OnFailure(const FailureEvent& e) override {
    n_->OnFailure(prefix_ + e.endpoint, e.retry_in && !e.forbidden);
  }

 private:
  StatusNotifier* const n_;
  const std::string prefix_;
};

StatusNotifier::~StatusNotifier() = default;

Observer* StatusNotifier::ForTenant(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  observers_.push_back(std::make_unique<TenantObserver>(this, prefix));
  return observers_.back().get();
}

void StatusNotifier::OnBatch(const std::string& endpoint, size_t records,
                             bool caught_up) {
  std::lock_guard<std::mutex> lock(mu_);
  pages_++;
  records_ += static_cast<int64_t>(records);
  retrying_.erase(endpoint);
  Send(endpoint, /*now_or_never=*/caught_up);
}

void StatusNotifier::OnFailure(const std::string& endpoint, bool retrying) {
  std::lock_guard<std::mutex> lock(mu_);
  if (retrying) retrying_.insert(endpoint);
}

void StatusNotifier::Send(const std::string& last, bool now_or_never) {
  const SteadyTime now = clock_->Now();
  if (sent_ && now - last_sent_ < every_ && !now_or_never) return;
  sent_ = true;
  last_sent_ = now;
  std::string line = std::to_string(pages_) + " pages, " +
                     std::to_string(records_) +
                     " records since start; last page: " + last;
  if (!retrying_.empty()) {
    line += "; " + std::to_string(retrying_.size()) +
            " endpoint(s) retrying, e.g. " + *retrying_.begin();
  }
  NotifyStatus(line);
}

}  // namespace stsync

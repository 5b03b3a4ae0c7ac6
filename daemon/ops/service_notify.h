// ServiceNotify: telling systemd how the service is doing (sd_notify, from
// Debian's libsystemd). Without $NOTIFY_SOCKET (not under systemd, or not
// Type=notify) every call does nothing.
//
// Thread safety: every function may be called from any thread.
#ifndef STSYNC_OPS_SERVICE_NOTIFY_H_
#define STSYNC_OPS_SERVICE_NOTIFY_H_

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "model/observer.h"

namespace stsync {

// READY=1: the config is valid and the databases are open.
void NotifyReady();
// STATUS=...: one line for `systemctl status`.
void NotifyStatus(const std::string& status);
// WATCHDOG=1 (see ops/watchdog.h for who may send it).
void NotifyWatchdog();
// STOPPING=1, on a stop signal.
void NotifyStopping();
// RELOADING=1, then READY=1 once a reload is done (or refused).
void NotifyReloading();
// The watchdog interval systemd expects pings within ($WATCHDOG_USEC), or
// nullopt when the watchdog is off.
std::optional<Millis> WatchdogInterval();

// Keeps systemd's STATUS= line current from the scheduler's events, at most
// every `every` while pages stream, and whenever a feed catches up: "1234
// pages, 560000 records since start; last page: jobs; 1 endpoint(s) retrying,
// e.g. customers". One for the whole process, fed by one observer per tenant
// (ForTenant). Thread-safe.
class StatusNotifier {
 public:
  explicit StatusNotifier(Clock* clock, Millis every = std::chrono::seconds(5))
      : clock_(clock), every_(every) {}
  ~StatusNotifier();

  // The observer of one tenant, whose endpoints are named with `prefix`
  // ("1111111/", or "" for a single tenant). Owned by this notifier.
  Observer* ForTenant(const std::string& prefix);

 private:
  class TenantObserver;
  void OnBatch(const std::string& endpoint, size_t records, bool caught_up);
  void OnFailure(const std::string& endpoint, bool retrying);
  // Sends the line unless one went out less than `every_` ago; a feed that
  // just caught up sends it anyway (it may wait long for its next page).
  // Requires mu_.
  void Send(const std::string& last, bool now_or_never);

  Clock* const clock_;
  const Millis every_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Observer>> observers_;
  int64_t pages_ = 0;
  int64_t records_ = 0;
  std::set<std::string> retrying_;
  SteadyTime last_sent_{};
  bool sent_ = false;
};

}  // namespace stsync

#endif  // STSYNC_OPS_SERVICE_NOTIFY_H_

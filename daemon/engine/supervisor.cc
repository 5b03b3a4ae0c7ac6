#include "engine/supervisor.h"

#include <thread>

namespace stsync {

Supervisor::Supervisor(std::vector<std::unique_ptr<Replicator>> replicators)
    : replicators_(std::move(replicators)) {}

std::vector<TenantReport> Supervisor::Run(Scheduler::Mode mode) {
  std::vector<TenantReport> reports(replicators_.size());
  auto run_one = [&](size_t i) {
    reports[i].tenant = replicators_[i]->tenant();
    reports[i].run = replicators_[i]->Run(mode);
  };
  // The last one runs on this thread; the others get one each.
  std::vector<std::thread> threads;
  for (size_t i = 0; i + 1 < replicators_.size(); ++i) {
    threads.emplace_back(run_one, i);
  }
  if (!replicators_.empty()) run_one(replicators_.size() - 1);
  for (auto& t : threads) t.join();
  return reports;
}

void Supervisor::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  for (auto& r : replicators_) r->Stop();
}

void Supervisor::CancelAgain() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopped_) return;
  for (auto& r : replicators_) r->CancelAgain();
}

}  // namespace stsync

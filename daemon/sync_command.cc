#include <spdlog/spdlog.h>

#include <chrono>

#include "cli.h"
#include "replicator.h"

namespace stsync {

int SyncCommand(const ArgSpec& spec, Scheduler::Mode mode, int argc,
                char** argv) {
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  auto config = LoadConfigForCommand(*args, &code);
  if (!config) return code;
  SetUpLogging(args->Option("--log-level").value_or(config->log_level));
  for (const auto& w : config->warnings) spdlog::warn("{}", w);

  Replicator* active = nullptr;
  std::atomic<bool> stop_requested{false};
  std::mutex mu;
  SignalWatcher signals(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        stop_requested = true;
        if (active) active->Stop();
      },
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        if (active) active->CancelAgain();
      });

  auto replicator = Replicator::Create(*config);
  if (!replicator.ok()) {
    spdlog::error("{}", replicator.status().message());
    return kExitFailure;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    active = replicator->get();
    if (stop_requested) active->Stop();
  }
  spdlog::info("stsync {} {}: {} endpoint(s), tenant {}, database {}",
               Version(), mode == Scheduler::Mode::kDrain ? "once" : "run",
               config->endpoints.size(), config->tenant, config->database_path);

  auto started = std::chrono::steady_clock::now();
  RunReport report = (*replicator)->Run(mode);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  {
    std::lock_guard<std::mutex> lock(mu);
    active = nullptr;
  }
  spdlog::info(
      "done: {} pages, {} records in {:.1f} s ({:.0f} records/s), "
      "{} endpoint(s) failed{}",
      report.Pages(), report.Records(), secs,
      report.Records() / std::max(secs, 1e-3), report.Failed(),
      report.stopped ? ", stopped by signal" : "");
  for (const auto& e : report.endpoints) {
    if (e.failed) spdlog::error("{}: failed: {}", e.name, e.last_error);
  }
  if (mode == Scheduler::Mode::kForever) {
    return report.stopped ? kExitOk : kExitFailure;
  }
  if (report.stopped) return kExitFailure;
  return report.Failed() > 0 ? kExitFailure : kExitOk;
}

}  // namespace stsync

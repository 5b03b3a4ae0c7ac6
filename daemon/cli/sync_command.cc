#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

#include "api/httplib_transport.h"
#include "cli/cli.h"
#include "engine/metrics.h"
#include "engine/metrics_server.h"
#include "engine/replicator.h"
#include "engine/service_notify.h"
#include "engine/supervisor.h"
#include "engine/watchdog.h"

namespace stsync {

int SyncCommand(const ArgSpec& spec, Scheduler::Mode mode, int argc,
                char** argv, const SyncHooks& hooks) {
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  auto level = args->Option("--log-level");
  if (level && !IsLogLevel(*level)) {
    std::fprintf(stderr,
                 "stsync %s: --log-level '%s' is not one of %s\n"
                 "Run 'stsync %s --help' for usage.\n",
                 spec.command.c_str(), level->c_str(), kLogLevels,
                 spec.command.c_str());
    return kExitUsage;
  }
  auto format = args->Option("--log-format");
  if (format && *format != "text" && *format != "json") {
    std::fprintf(stderr,
                 "stsync %s: --log-format '%s' is not one of text, json\n"
                 "Run 'stsync %s --help' for usage.\n",
                 spec.command.c_str(), format->c_str(), spec.command.c_str());
    return kExitUsage;
  }
  auto loaded = LoadConfigForCommand(*args, &code);
  if (!loaded) return code;
  // Replaced by a reload (SIGHUP); `tenants` point into it.
  auto config = std::make_unique<Config>(std::move(*loaded));
  // A backfill acts on one tenant; run and once on all, or the one named.
  auto selected = SelectTenants(*args, *config, hooks.create != nullptr, &code);
  if (!selected) return code;
  std::vector<const Config*> tenants = *selected;
  if (hooks.validate) {
    if (auto problem = hooks.validate(*args, *tenants[0])) {
      std::fprintf(stderr, "stsync %s: %s\nRun 'stsync %s --help' for usage.\n",
                   spec.command.c_str(), problem->c_str(),
                   spec.command.c_str());
      return kExitUsage;
    }
  }
  SetUpLogging(level.value_or(config->log_level),
               format.value_or(config->log_format));
  for (const auto& w : config->warnings) spdlog::warn("{}", w);

  std::unique_ptr<Supervisor> active;
  std::atomic<bool> stop_requested{false};
  std::mutex mu;
  // `run` reloads its config on SIGHUP: a valid new one replaces the
  // running one (the tenants' loops stop between batches and are rebuilt);
  // an invalid one is logged and the running one stays.
  std::unique_ptr<Config> reloaded;  // guarded by mu
  const bool daemon = mode == Scheduler::Mode::kForever && !hooks.create;
  std::function<void()> on_reload;
  const std::string config_file = config->file;
  if (daemon) {
    on_reload = [&] {
      NotifyReloading();
      auto next = LoadConfig(config_file);
      std::optional<std::vector<const Config*>> chosen;
      int ignored = 0;
      if (next.ok()) chosen = SelectTenants(*args, *next, false, &ignored);
      if (!next.ok() || !chosen) {
        spdlog::error("SIGHUP: not reloading, the running config stays: {}",
                      next.ok() ? "--tenant is not in the new config"
                                : next.status().message());
        NotifyReady();
        return;
      }
      spdlog::info("SIGHUP: reloading {}", config_file);
      std::lock_guard<std::mutex> lock(mu);
      reloaded = std::make_unique<Config>(std::move(*next));
      if (active) active->Stop();
    };
  }
  SignalWatcher signals(
      [&] {
        NotifyStopping();
        std::lock_guard<std::mutex> lock(mu);
        stop_requested = true;
        if (active) active->Stop();
      },
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        if (active) active->CancelAgain();
      },
      on_reload);
  StatusNotifier status_line(RealClock::Get());
  // While a reloaded config starts: the one it replaces, and its tenants,
  // to fall back on if the new one cannot start (a database it cannot
  // open, a metrics port in use).
  std::unique_ptr<Config> previous;
  std::vector<const Config*> previous_tenants;
  std::optional<bool> last_reload_ok;  // for the metrics, across turns
  WallTime last_reload_at{};
  // Ends this turn's start: nullopt to start `previous` again, else the
  // exit code (the first config, or the fallback itself, failed).
  auto start_failed = [&](const std::string& message) -> std::optional<int> {
    if (!previous) {
      spdlog::error("{}", message);
      return kExitFailure;
    }
    spdlog::error("reload failed, the running config stays: {}", message);
    NotifyStatus("reload failed: " + message);
    config = std::move(previous);
    tenants = previous_tenants;
    last_reload_ok = false;
    last_reload_at = RealClock::Get()->WallNow();
    return std::nullopt;
  };

  // Each turn serves one config: the first, then each reloaded one.
  for (;;) {
    // With metrics.listen, `run` counts every tenant's events and HTTP answers
    // through its seams and serves them (counters restart with a reload).
    const bool with_metrics = config->metrics_port != 0 && daemon;
    Metrics metrics(/*label_tenants=*/tenants.size() > 1);
    if (last_reload_ok) metrics.SetLastReload(*last_reload_ok, last_reload_at);
    std::vector<std::unique_ptr<MetricsObserver>> metric_observers;
    // Under systemd (Type=notify), `run` reports its progress in STATUS= and
    // each tenant's scheduler loop feeds the watchdog.
    std::unique_ptr<Watchdog> watchdog;
    if (auto interval = WatchdogInterval(); interval && daemon) {
      watchdog = std::make_unique<Watchdog>(tenants.size(), *interval,
                                            NotifyWatchdog, RealClock::Get());
    }

    // One Replicator per tenant (a backfill builds its own, for one).
    std::vector<std::unique_ptr<Replicator>> replicators;
    std::string failure;  // why one could not be built
    for (const Config* tenant : tenants) {
      ReplicatorSeams seams;
      if (tenants.size() > 1) seams.log_prefix = tenant->tenant + "/";
      if (daemon)
        seams.observers.push_back(status_line.ForTenant(seams.log_prefix));
      if (watchdog) {
        Watchdog* w = watchdog.get();
        const size_t loop = replicators.size();
        seams.heartbeat = [w, loop] { w->Beat(loop); };
        seams.heartbeat_every = w->beat_every();
      }
      if (with_metrics) {
        std::vector<std::string> names;
        for (const auto& ec : tenant->endpoints) {
          names.push_back(ec.endpoint.name);
        }
        metrics.AddTenant(tenant->tenant, tenant->database_path, names);
        metric_observers.push_back(std::make_unique<MetricsObserver>(
            &metrics, tenant->tenant, RealClock::Get()));
        seams.observers.push_back(metric_observers.back().get());
        seams.transport = std::make_unique<CountingTransport>(
            std::make_unique<HttplibTransport>(tenant->http), &metrics,
            tenant->tenant);
      }
      auto replicator = hooks.create
                            ? hooks.create(*args, *tenant)
                            : Replicator::Create(*tenant, std::move(seams));
      if (!replicator.ok()) {
        failure =
            (tenants.size() > 1 ? "tenant " + tenant->tenant + ": " : "") +
            replicator.status().message();
        break;
      }
      replicators.push_back(std::move(*replicator));
    }
    if (!failure.empty()) {
      replicators.clear();  // their files are let go before a fallback
      if (auto exit = start_failed(failure)) return *exit;
      continue;
    }
    std::unique_ptr<MetricsServer> metrics_server;
    if (with_metrics) {
      auto started = MetricsServer::Start(
          config->metrics_host, config->metrics_port, &metrics, tenants);
      if (!started.ok()) {
        replicators.clear();
        if (auto exit = start_failed(started.status().message())) return *exit;
        continue;
      }
      metrics_server = std::move(*started);
      spdlog::info("serving /metrics and /healthz on {}:{}",
                   config->metrics_host, metrics_server->port());
    }
    if (previous) {
      // The reloaded config started: the old one is gone for good.
      previous.reset();
      spdlog::info("reloaded: {} tenant(s)", tenants.size());
      last_reload_ok = true;
      last_reload_at = RealClock::Get()->WallNow();
      metrics.SetLastReload(true, last_reload_at);
    }
    Supervisor* supervisor = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu);
      active = std::make_unique<Supervisor>(std::move(replicators));
      supervisor = active.get();
      if (stop_requested || reloaded) active->Stop();
    }
    if (daemon) {
      NotifyReady();
      NotifyStatus("syncing " + std::to_string(tenants.size()) + " tenant(s)");
    }
    for (const Config* tenant : tenants) {
      spdlog::info("stsync {} {}: {} endpoint(s), tenant {}, database {}",
                   Version(), spec.command,
                   hooks.create ? 1 : tenant->endpoints.size(), tenant->tenant,
                   tenant->database_path);
    }

    auto started = std::chrono::steady_clock::now();
    std::vector<TenantReport> reports = supervisor->Run(mode);
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    int failed = 0;
    bool stopped = false;
    for (const TenantReport& t : reports) {
      const RunReport& report = t.run;
      failed += report.Failed();
      stopped = stopped || report.stopped;
      const std::string who =
          reports.size() > 1 ? "tenant " + t.tenant + ": " : "";
      spdlog::info(
          "{}done: {} pages, {} records in {:.1f} s ({:.0f} records/s), "
          "{} endpoint(s) failed{}",
          who, report.Pages(), report.Records(), secs,
          report.Records() / std::max(secs, 1e-3), report.Failed(),
          report.stopped ? ", stopped by signal" : "");
      std::string forbidden;
      for (const auto& f : report.feeds) {
        if (f.failed) {
          spdlog::error("{}{}: failed: {}", who, f.name, f.last_error);
        }
        if (f.forbidden) forbidden += (forbidden.empty() ? "" : ", ") + f.name;
      }
      if (!forbidden.empty()) {
        spdlog::warn(
            "{}forbidden (HTTP 403: the tenant lacks the module, or the app "
            "its "
            "access): {}",
            who, forbidden);
      }
    }
    {
      // The signal watcher may still touch the supervisor until it is gone.
      std::lock_guard<std::mutex> lock(mu);
      active.reset();
      if (reloaded && !stop_requested) {
        metrics_server.reset();  // it points at the old config's tenants
        auto next = SelectTenants(*args, *reloaded, false, &code);
        if (next) {
          previous = std::move(config);
          previous_tenants = tenants;
          config = std::move(reloaded);
          tenants = *next;
          for (const auto& w : config->warnings) spdlog::warn("{}", w);
          continue;
        }
      }
    }
    if (mode == Scheduler::Mode::kForever) {
      return stopped ? kExitOk : kExitFailure;
    }
    if (stopped) return kExitFailure;
    if (failed > 0) return kExitFailure;
    if (!hooks.done_note.empty()) spdlog::info("{}", hooks.done_note);
    return kExitOk;
  }
}

}  // namespace stsync

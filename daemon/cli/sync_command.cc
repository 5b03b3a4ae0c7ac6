#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "api/httplib_transport.h"
#include "cli/cli.h"
#include "cli/terminal_progress.h"
#include "engine/replicator.h"
#include "engine/supervisor.h"
#include "ops/metrics.h"
#include "ops/metrics_server.h"
#include "ops/service_notify.h"
#include "ops/watchdog.h"
#include "sink/open_destination.h"

namespace stsync {
namespace {

// A usage problem with --log-level or --log-format, or nullopt.
std::optional<std::string> LogFlagProblem(const Args& args) {
  auto level = args.Option("--log-level");
  if (level && !IsLogLevel(*level)) {
    return "--log-level '" + *level + "' is not one of " + kLogLevels;
  }
  auto format = args.Option("--log-format");
  if (format && *format != "text" && *format != "json") {
    return "--log-format '" + *format + "' is not one of text, json";
  }
  return std::nullopt;
}

// What the loop of SyncCommand shares with the signal watcher's thread: the
// supervisor serving now, a stop request, and a reloaded config waiting for
// that supervisor to stop. Every method takes the lock; none blocks.
class ActiveRun {
 public:
  // SIGTERM/SIGINT: the running supervisor stops, and no other starts.
  void RequestStop() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
    if (active_) active_->Stop();
  }
  // Re-issues the running supervisor's cancel (after a stop).
  void CancelAgain() {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_) active_->CancelAgain();
  }
  // SIGHUP with a valid config: the running supervisor stops, and `next`
  // is served after it (Finish).
  void OfferReload(std::unique_ptr<ConfigFile> next) {
    std::lock_guard<std::mutex> lock(mu_);
    reloaded_ = std::move(next);
    if (active_) active_->Stop();
  }
  // Makes `supervisor` the running one, stopped at once if a stop or a
  // reload came first. Returns it, valid until Finish.
  Supervisor* Start(std::unique_ptr<Supervisor> supervisor) {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = std::move(supervisor);
    if (stop_requested_ || reloaded_) active_->Stop();
    return active_.get();
  }
  // The running supervisor has returned and is destroyed. Returns the
  // reloaded config to serve next, or null (none, or a stop came).
  std::unique_ptr<ConfigFile> Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    active_.reset();
    if (stop_requested_) return nullptr;
    return std::move(reloaded_);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Supervisor> active_;
  bool stop_requested_ = false;
  std::unique_ptr<ConfigFile> reloaded_;
};

// What `run` adds to each tenant's replicator, besides the log.
struct RunSeams {
  bool daemon = false;                   // `run` itself (not once, backfill)
  StatusNotifier* status = nullptr;      // systemd STATUS=, with `daemon`
  TerminalProgress* terminal = nullptr;  // null: stderr is no terminal
  Watchdog* watchdog = nullptr;          // null: not under a systemd watchdog
  Metrics* metrics = nullptr;            // null: no metrics.listen
  // Owns the metrics observers of the replicators built.
  std::vector<std::unique_ptr<MetricsObserver>>* metric_observers = nullptr;
};

// One replicator per tenant (a backfill's from hooks.create). An error
// names the tenant when there are several.
Result<std::vector<std::unique_ptr<Replicator>>> BuildReplicators(
    const Args& args, const std::vector<const Config*>& tenants,
    const SyncHooks& hooks, const RunSeams& run) {
  std::vector<std::unique_ptr<Replicator>> replicators;
  for (const Config* tenant : tenants) {
    ReplicatorSeams seams;
    if (tenants.size() > 1) seams.log_prefix = tenant->tenant + "/";
    // A daemon sharing a PostgreSQL cluster waits for the tenants its peers
    // hold; `once` and `backfill` say who holds one instead.
    seams.wait_for_lease = run.daemon;
    if (run.daemon) {
      seams.observers.push_back(run.status->ForTenant(seams.log_prefix));
    }
    if (run.terminal) {
      seams.observers.push_back(
          run.terminal->ForTenant(seams.log_prefix, RealClock::Get()));
    }
    if (run.watchdog) {
      Watchdog* w = run.watchdog;
      const size_t loop = replicators.size();
      seams.heartbeat = [w, loop] { w->Beat(loop); };
      seams.heartbeat_every = w->beat_every();
    }
    if (run.metrics) {
      std::vector<std::string> names;
      for (const auto& ec : tenant->endpoints) {
        names.push_back(ec.endpoint.name);
      }
      run.metrics->AddTenant(tenant->tenant, tenant->database.path, names);
      if (tenant->database.path.empty()) {
        seams.database_size = [m = run.metrics,
                               t = tenant->tenant](int64_t bytes) {
          m->SetDatabaseSize(t, bytes);
        };
      }
      run.metric_observers->push_back(std::make_unique<MetricsObserver>(
          run.metrics, tenant->tenant, RealClock::Get()));
      seams.observers.push_back(run.metric_observers->back().get());
      seams.transport = std::make_unique<CountingTransport>(
          std::make_unique<HttplibTransport>(tenant->http), run.metrics,
          tenant->tenant);
    }
    auto replicator = hooks.create
                          ? hooks.create(args, *tenant)
                          : Replicator::Create(*tenant, std::move(seams));
    if (!replicator.ok()) {
      if (tenants.size() == 1) return replicator.status();
      return replicator.status().WithContext("tenant " + tenant->tenant);
    }
    replicators.push_back(std::move(*replicator));
  }
  return replicators;
}

struct RunOutcome {
  int failed = 0;  // feeds that failed, over all tenants
  bool stopped = false;
};

// Logs each tenant's summary of a run that took `secs`: pages, records,
// rate, failed feeds with their errors, forbidden ones.
RunOutcome LogSummary(const std::vector<TenantReport>& reports, double secs) {
  RunOutcome outcome;
  for (const TenantReport& t : reports) {
    const RunReport& report = t.run;
    outcome.failed += report.Failed();
    outcome.stopped = outcome.stopped || report.stopped;
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
      if (f.failed)
        spdlog::error("{}{}: failed: {}", who, f.name, f.last_error);
      if (f.forbidden) forbidden += (forbidden.empty() ? "" : ", ") + f.name;
    }
    if (!forbidden.empty()) {
      spdlog::warn(
          "{}forbidden (HTTP 403: the tenant lacks the module, or the app "
          "its access): {}",
          who, forbidden);
    }
  }
  return outcome;
}

// The config a SyncCommand serves, and after a reload the one it replaced,
// kept until the new one has started so that it can be served again.
class ServedConfig {
 public:
  ServedConfig(std::unique_ptr<ConfigFile> config,
               std::vector<const Config*> tenants)
      : config_(std::move(config)), tenants_(std::move(tenants)) {}

  const ConfigFile& config() const { return *config_; }
  // The tenants served: pointers into config().
  const std::vector<const Config*>& tenants() const { return tenants_; }

  // A reloaded config is served next; `tenants` point into it.
  void Replace(std::unique_ptr<ConfigFile> next,
               std::vector<const Config*> tenants) {
    previous_ = std::move(config_);
    previous_tenants_ = std::move(tenants_);
    config_ = std::move(next);
    tenants_ = std::move(tenants);
    for (const auto& w : config_->warnings) spdlog::warn("{}", w);
  }
  // The config served has started; a replaced one is let go.
  void Started() {
    if (!previous_) return;
    previous_.reset();
    spdlog::info("reloaded: {} tenant(s)", tenants_.size());
    NoteReload(true);
  }
  // The config served could not start (`message`, logged): the replaced one
  // is served again. False if there is none (the first config failed).
  bool FallBack(const std::string& message) {
    if (!previous_) {
      spdlog::error("{}", message);
      return false;
    }
    spdlog::error("reload failed, the running config stays: {}", message);
    NotifyStatus("reload failed: " + message);
    config_ = std::move(previous_);
    tenants_ = std::move(previous_tenants_);
    NoteReload(false);
    return true;
  }
  // How the last reload went, for the metrics; unset before any.
  void Report(Metrics& metrics) const {
    if (last_reload_ok_) metrics.SetLastReload(*last_reload_ok_, reload_at_);
  }

 private:
  void NoteReload(bool ok) {
    last_reload_ok_ = ok;
    reload_at_ = RealClock::Get()->WallNow();
  }

  std::unique_ptr<ConfigFile> config_;
  std::vector<const Config*> tenants_;
  std::unique_ptr<ConfigFile> previous_;
  std::vector<const Config*> previous_tenants_;
  std::optional<bool> last_reload_ok_;
  WallTime reload_at_{};
};

// SIGHUP for `run`: a valid new config (with the --tenant, if given) is
// offered to `active`; an invalid one is logged and the running one stays.
std::function<void()> ReloadHandler(const Args& args, std::string config_file,
                                    ActiveRun& active) {
  return [&args, &active, config_file] {
    NotifyReloading();
    auto next = LoadConfig(config_file);
    std::optional<std::vector<const Config*>> chosen;
    int ignored = 0;
    if (next.ok()) chosen = SelectTenants(args, *next, false, &ignored);
    if (!next.ok() || !chosen) {
      spdlog::error("SIGHUP: not reloading, the running config stays: {}",
                    next.ok() ? "--tenant is not in the new config"
                              : next.status().message());
      NotifyReady();
      return;
    }
    spdlog::info("SIGHUP: reloading {}", config_file);
    active.OfferReload(std::make_unique<ConfigFile>(std::move(*next)));
  };
}

// `run`'s /metrics and /healthz for `tenants` (borrowed, like `metrics`).
Result<std::unique_ptr<MetricsServer>> ServeMetrics(
    const ConfigFile& config, Metrics& metrics,
    const std::vector<const Config*>& tenants) {
  auto server = MetricsServer::Start(config.metrics.host, config.metrics.port,
                                     &metrics, tenants);
  if (server.ok()) {
    spdlog::info("serving /metrics and /healthz on {}:{}", config.metrics.host,
                 (*server)->port());
  }
  return server;
}

void LogStart(const std::string& command,
              const std::vector<const Config*>& tenants, bool backfill) {
  for (const Config* tenant : tenants) {
    spdlog::info("stsync {} {}: {} endpoint(s), tenant {}, database {}",
                 Version(), command, backfill ? 1 : tenant->endpoints.size(),
                 tenant->tenant, DescribeDestination(*tenant));
  }
}

// `run` ends well only when a signal stopped it; `once` and `backfill` when
// no signal came and no feed failed.
int SyncExitCode(Scheduler::Mode mode, const RunOutcome& outcome,
                 const SyncHooks& hooks) {
  if (mode == Scheduler::Mode::kForever) {
    return outcome.stopped ? kExitOk : kExitFailure;
  }
  if (outcome.stopped || outcome.failed > 0) return kExitFailure;
  if (!hooks.done_note.empty()) spdlog::info("{}", hooks.done_note);
  return kExitOk;
}

}  // namespace

int SyncCommand(const ArgSpec& spec, Scheduler::Mode mode, int argc,
                char** argv, const SyncHooks& hooks) {
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  if (auto problem = LogFlagProblem(*args)) {
    return UsageError(spec.command, *problem);
  }
  auto loaded = LoadConfigForCommand(*args, &code);
  if (!loaded) return code;
  // Replaced by a reload (SIGHUP); `tenants` point into it.
  auto config = std::make_unique<ConfigFile>(std::move(*loaded));
  // A backfill acts on one tenant; run and once on all, or the one named.
  auto selected = SelectTenants(*args, *config, hooks.create != nullptr, &code);
  if (!selected) return code;
  std::vector<const Config*> tenants = *selected;
  if (hooks.validate) {
    if (auto problem = hooks.validate(*args, *tenants[0])) {
      return UsageError(spec.command, *problem);
    }
  }
  const std::string log_format =
      args->Option("--log-format").value_or(config->log.format);
  // On a terminal, a live status line per tenant below the log.
  std::shared_ptr<TerminalProgress> terminal;
  if (!args->Has("--no-progress") && TerminalProgress::Wanted(log_format)) {
    terminal = TerminalProgress::OnStderr();
  }
  SetUpLogging(args->Option("--log-level").value_or(config->log.level),
               log_format, terminal ? terminal->LogSink() : nullptr);
  for (const auto& w : config->warnings) spdlog::warn("{}", w);

  ActiveRun active;
  // `run` reloads its config on SIGHUP: the tenants' loops stop between
  // batches and are rebuilt for the new one.
  const bool daemon = mode == Scheduler::Mode::kForever && !hooks.create;
  SignalWatcher signals(
      [&] {
        NotifyStopping();
        active.RequestStop();
      },
      [&] { active.CancelAgain(); },
      daemon ? ReloadHandler(*args, config->file, active) : nullptr);
  StatusNotifier status_line(RealClock::Get());
  ServedConfig served(std::move(config), std::move(tenants));

  // Each turn serves one config: the first, then each reloaded one.
  for (;;) {
    const std::vector<const Config*>& serving = served.tenants();
    // With metrics.listen, `run` counts every tenant's events and HTTP answers
    // through its seams and serves them (counters restart with a reload).
    const bool with_metrics = served.config().metrics.port != 0 && daemon;
    Metrics metrics(/*label_tenants=*/serving.size() > 1);
    served.Report(metrics);
    std::vector<std::unique_ptr<MetricsObserver>> metric_observers;
    // Under systemd (Type=notify), `run` reports its progress in STATUS= and
    // each tenant's scheduler loop feeds the watchdog.
    std::unique_ptr<Watchdog> watchdog;
    if (auto interval = WatchdogInterval(); interval && daemon) {
      watchdog = std::make_unique<Watchdog>(serving.size(), *interval,
                                            NotifyWatchdog, RealClock::Get());
    }
    if (terminal) terminal->Restart();  // the last turn's replicators are gone
    RunSeams run{daemon,
                 &status_line,
                 terminal.get(),
                 watchdog.get(),
                 with_metrics ? &metrics : nullptr,
                 &metric_observers};
    auto replicators = BuildReplicators(*args, serving, hooks, run);
    if (!replicators.ok()) {
      if (!served.FallBack(replicators.status().message())) {
        return kExitFailure;
      }
      continue;
    }
    auto metrics_server = with_metrics
                              ? ServeMetrics(served.config(), metrics, serving)
                              : Result<std::unique_ptr<MetricsServer>>(nullptr);
    if (!metrics_server.ok()) {
      replicators->clear();  // their files are let go before a fallback
      if (!served.FallBack(metrics_server.status().message())) {
        return kExitFailure;
      }
      continue;
    }
    served.Started();
    served.Report(metrics);
    Supervisor* supervisor =
        active.Start(std::make_unique<Supervisor>(std::move(*replicators)));
    if (daemon) {
      NotifyReady();
      NotifyStatus("syncing " + std::to_string(serving.size()) + " tenant(s)");
    }
    LogStart(spec.command, serving, hooks.create != nullptr);

    const auto started = std::chrono::steady_clock::now();
    std::vector<TenantReport> reports = supervisor->Run(mode);
    if (terminal) terminal->Restart();  // the summary replaces the lines
    const RunOutcome outcome =
        LogSummary(reports, std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - started)
                                .count());
    if (std::unique_ptr<ConfigFile> reloaded = active.Finish()) {
      metrics_server->reset();  // it points at the old config's tenants
      if (auto next = SelectTenants(*args, *reloaded, false, &code)) {
        served.Replace(std::move(reloaded), *next);
        continue;
      }
    }
    return SyncExitCode(mode, outcome, hooks);
  }
}

}  // namespace stsync

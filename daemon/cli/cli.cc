#include "cli/cli.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli/json_log_formatter.h"
#include "sink/sqlite_sink.h"

namespace stsync {

std::optional<std::string> Args::Option(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

const char* Version() { return STSYNC_VERSION; }

std::string VersionLine() {
  return std::string("stsync ") + Version() + " (SQLite " +
         SqliteSink::LibraryVersion() + ")";
}

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "stsync %s: %s\nRun 'stsync %s --help' for usage.\n",
               command.c_str(), message.c_str(), command.c_str());
  return kExitUsage;
}

std::optional<Args> ParseArgs(const ArgSpec& spec, int argc, char** argv,
                              int* exit_code) {
  Args args;
  auto usage_error = [&](const std::string& msg) {
    *exit_code = UsageError(spec.command, msg);
    return std::nullopt;
  };
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(spec.usage.c_str(), stdout);
      *exit_code = kExitOk;
      return std::nullopt;
    }
    if (a == "--version" || a == "-V") {
      std::printf("%s\n", VersionLine().c_str());
      *exit_code = kExitOk;
      return std::nullopt;
    }
    if (a == "-c") a = "--config";
    if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::string name = a, value;
      bool has_value = false;
      if (size_t eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
      if (spec.value_options.count(name)) {
        if (!has_value) {
          if (i + 1 >= argc) return usage_error(name + " needs a value");
          value = argv[++i];
        }
        args.options[name] = value;
      } else if (spec.flags.count(name) && !has_value) {
        args.flags.insert(name);
      } else {
        return usage_error("unknown option " + name);
      }
      continue;
    }
    args.positional.push_back(a);
  }
  if (args.positional.size() < spec.min_positional) {
    return usage_error("missing argument");
  }
  if (args.positional.size() > spec.max_positional) {
    return usage_error("unexpected argument '" +
                       args.positional[spec.max_positional] + "'");
  }
  return args;
}

std::optional<ConfigFile> LoadConfigForCommand(const Args& args,
                                               int* exit_code) {
  auto path = args.Option("--config");
  if (!path) {
    std::fprintf(stderr, "stsync: --config FILE is required\n");
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  auto config = LoadConfig(*path);
  if (!config.ok()) {
    std::fprintf(stderr, "stsync: config error: %s\n",
                 config.status().message().c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::move(config).value();
}

std::optional<std::vector<const Config*>> SelectTenants(
    const Args& args, const ConfigFile& config, bool one, int* exit_code) {
  std::vector<const Config*> all;
  for (const Config& t : config.tenants) all.push_back(&t);
  std::string ids;
  for (const Config* t : all) ids += (ids.empty() ? "" : ", ") + t->tenant;
  if (auto id = args.Option("--tenant")) {
    if (const Config* t = config.FindTenant(*id)) {
      return std::vector<const Config*>{t};
    }
    std::fprintf(stderr, "stsync: tenant %s is not in %s (tenants: %s)\n",
                 id->c_str(), config.file.c_str(), ids.c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  if (one && all.size() > 1) {
    std::fprintf(stderr,
                 "stsync: %s has %zu tenants (%s): say which with --tenant\n",
                 config.file.c_str(), all.size(), ids.c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return all;
}

std::unique_ptr<TenantCommand> LoadTenantCommand(const ArgSpec& spec, int argc,
                                                 char** argv, bool one,
                                                 int* exit_code) {
  auto c = std::make_unique<TenantCommand>();
  auto args = ParseArgs(spec, argc, argv, exit_code);
  if (!args) return nullptr;
  c->args = std::move(*args);
  auto config = LoadConfigForCommand(c->args, exit_code);
  if (!config) return nullptr;
  c->config = std::move(*config);
  auto tenants = SelectTenants(c->args, c->config, one, exit_code);
  if (!tenants) return nullptr;
  c->tenants = std::move(*tenants);
  return c;
}

void SetUpLogging(const std::string& level, const std::string& format,
                  std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = sink ? std::make_shared<spdlog::logger>("stsync", sink)
                     : spdlog::stderr_color_mt("stsync");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
  } else if (std::getenv("JOURNAL_STREAM")) {
    // Under systemd the journal stamps each line itself.
    logger->set_pattern("%-5l %v");
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

SignalWatcher::SignalWatcher(std::function<void()> on_signal,
                             std::function<void()> on_repeat,
                             std::function<void()> on_reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (on_reload) sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set, on_signal, on_repeat, on_reload] {
    timespec tick{0, 200'000'000};
    while (!done_) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (done_) break;  // woken by the destructor
      if (sig == SIGHUP) {
        if (!fired_) on_reload();
      } else if (sig > 0 && !fired_) {
        spdlog::info("received {}, stopping",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
        fired_ = true;
        on_signal();
      } else if (fired_) {
        on_repeat();
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  done_ = true;
  // A SIGTERM to the watcher's thread alone ends its wait at once, so that
  // no command's exit waits for the next tick.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
}

}  // namespace stsync

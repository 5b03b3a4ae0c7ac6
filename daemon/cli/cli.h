// Shared pieces of the command-line interface: exit codes, argument
// parsing, logging setup and signal handling. Each subcommand lives in its
// own cmd_*.cc file and is declared here.
#ifndef STSYNC_CLI_CLI_H_
#define STSYNC_CLI_CLI_H_

#include <spdlog/sinks/sink.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "engine/scheduler.h"

namespace stsync {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

// Parsed arguments of one subcommand.
struct Args {
  std::map<std::string, std::string> options;  // "--config" -> "x.yaml"
  std::set<std::string> flags;                 // "--json"
  std::vector<std::string> positional;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<std::string> Option(const std::string& name) const;
};

struct ArgSpec {
  std::string command;                  // for messages
  std::set<std::string> value_options;  // long names taking a value
  std::set<std::string> flags;          // long names without one
  size_t min_positional = 0;
  size_t max_positional = 0;
  std::string usage;  // the full --help text
};

// Prints "stsync COMMAND: MESSAGE" and where to find the usage to stderr;
// returns kExitUsage.
int UsageError(const std::string& command, const std::string& message);

// Parses argv (after the subcommand). Prints --help / --version itself.
// Returns nullopt with *exit_code set when the command should exit now.
std::optional<Args> ParseArgs(const ArgSpec& spec, int argc, char** argv,
                              int* exit_code);

// Loads --config (required); prints the error and sets *exit_code = 2 on
// failure. Logs the config's warnings.
std::optional<ConfigFile> LoadConfigForCommand(const Args& args,
                                               int* exit_code);

// The tenants a command acts on: the one --tenant names, else every one of
// `config`. With `one`, a config of several tenants needs --tenant. Prints
// the problem and sets *exit_code = 2 on failure.
std::optional<std::vector<const Config*>> SelectTenants(
    const Args& args, const ConfigFile& config, bool one, int* exit_code);

// ParseArgs, LoadConfigForCommand and SelectTenants in turn, for commands
// that read every selected tenant (`tenants` point into `config`, so the
// whole is returned on the heap). Null with *exit_code set to exit now.
struct TenantCommand {
  Args args;
  ConfigFile config;
  std::vector<const Config*> tenants;
};
std::unique_ptr<TenantCommand> LoadTenantCommand(const ArgSpec& spec, int argc,
                                                 char** argv, bool one,
                                                 int* exit_code);

// Logs to stderr at `level`, as text lines or (`format` "json") one JSON
// object per line; text lines drop their timestamp under systemd
// ($JOURNAL_STREAM set), since the journal adds its own. With `sink`, the
// lines go there instead (TerminalProgress's, below its status lines).
void SetUpLogging(const std::string& level, const std::string& format,
                  std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

const char* Version();
// "stsync 0.2.0 (SQLite 3.40.1)": what --version prints; the SQLite named is
// the library linked at run time.
std::string VersionLine();

// Waits for SIGTERM/SIGINT on its own thread (the signals are blocked in
// every other thread) and calls on_signal once; then calls on_repeat every
// 200 ms until destroyed. Construct before starting other threads. The
// destructor ends the thread at once (it wakes it with a SIGTERM of its own,
// which is not taken for a signal).
class SignalWatcher {
 public:
  // With `on_reload`, SIGHUP calls it (on the watcher's thread) as often as
  // it comes; without, SIGHUP keeps its default action.
  SignalWatcher(std::function<void()> on_signal,
                std::function<void()> on_repeat,
                std::function<void()> on_reload = nullptr);
  ~SignalWatcher();

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

class Replicator;

// What a command built on SyncCommand does differently (`backfill`).
struct SyncHooks {
  // A usage problem with the arguments, given the config: the message
  // (printed, exit 2), or nullopt.
  std::function<std::optional<std::string>(const Args&, const Config&)>
      validate;
  // Builds the replicator; null: Replicator::Create(config).
  std::function<Result<std::unique_ptr<Replicator>>(const Args&, const Config&)>
      create;
  // Printed (logged at info) after the summary of a run without failures.
  std::string done_note;
};

// The body of `run`, `once` and `backfill`: load config, set up logging and
// signals, sync in `mode`, print a summary. Returns the exit code.
int SyncCommand(const ArgSpec& spec, Scheduler::Mode mode, int argc,
                char** argv, const SyncHooks& hooks = {});

int RunCommand(int argc, char** argv);
int BackfillCommand(int argc, char** argv);
int OnceCommand(int argc, char** argv);
int StatusCommand(int argc, char** argv);
int HealthCommand(int argc, char** argv);
int ResetCommand(int argc, char** argv);
int EndpointsCommand(int argc, char** argv);
int CheckConfigCommand(int argc, char** argv);
int VerifyCommand(int argc, char** argv);

}  // namespace stsync

#endif  // STSYNC_CLI_CLI_H_

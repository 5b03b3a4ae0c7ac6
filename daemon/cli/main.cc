// stsync: replicates ServiceTitan export feeds into SQLite.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/cli.h"

namespace {

constexpr const char* kUsage =
    "Usage: stsync COMMAND [OPTIONS]\n"
    "\n"
    "Keeps an SQLite database in sync with ServiceTitan's Data Export API\n"
    "(and its list endpoints, for the entities without an export).\n"
    "\n"
    "Commands:\n"
    "  run           poll the configured endpoints until stopped (the daemon)\n"
    "  once          sync every endpoint until it is caught up, then exit\n"
    "  status        show rows, cursor age and last error per endpoint\n"
    "  health        exit 0 if the daemon runs and keeps up, else 1 and why\n"
    "  verify        check each database file for damage (integrity_check)\n"
    "  reset         forget an endpoint's cursor so it re-exports\n"
    "  backfill      re-export a date range of an endpoint, cursor untouched\n"
    "  endpoints     list the built-in endpoints\n"
    "  check-config  validate a config file without running\n"
    "\n"
    "Run 'stsync COMMAND --help' for a command's options.\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.\n";

}  // namespace

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Page bodies are megabytes, allocated on one thread and freed on another.
  // A fixed threshold keeps them in mmap'ed blocks that go back to the
  // system when freed; glibc's default raises the threshold after the first
  // free, after which they fragment per-thread heaps and RSS creeps up.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return stsync::kExitUsage;
  }
  std::string cmd = argv[1];
  int rest_argc = argc - 2;
  char** rest = argv + 2;
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return stsync::kExitOk;
  }
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    std::printf("%s\n", stsync::VersionLine().c_str());
    return stsync::kExitOk;
  }
  if (cmd == "run") return stsync::RunCommand(rest_argc, rest);
  if (cmd == "once") return stsync::OnceCommand(rest_argc, rest);
  if (cmd == "status") return stsync::StatusCommand(rest_argc, rest);
  if (cmd == "health") return stsync::HealthCommand(rest_argc, rest);
  if (cmd == "verify") return stsync::VerifyCommand(rest_argc, rest);
  if (cmd == "reset") return stsync::ResetCommand(rest_argc, rest);
  if (cmd == "backfill") return stsync::BackfillCommand(rest_argc, rest);
  if (cmd == "endpoints") return stsync::EndpointsCommand(rest_argc, rest);
  if (cmd == "check-config") return stsync::CheckConfigCommand(rest_argc, rest);
  std::fprintf(stderr, "stsync: unknown command '%s'\n\n%s", cmd.c_str(),
               kUsage);
  return stsync::kExitUsage;
}

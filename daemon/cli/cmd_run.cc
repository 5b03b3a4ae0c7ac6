// stsync run: the daemon.
#include "cli/cli.h"

namespace stsync {

int RunCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "run";
  spec.value_options = {"--config", "--log-level", "--log-format", "--tenant"};
  spec.flags = {"--no-progress"};
  spec.usage =
      "Usage: stsync run -c FILE [--tenant ID] [--log-level LEVEL]\n"
      "       [--log-format text|json] [--no-progress]\n"
      "\n"
      "Polls every configured endpoint until SIGTERM or SIGINT: pages with\n"
      "hasMore=true are fetched at once, then each endpoint waits its\n"
      "interval. Failures are retried with backoff; nothing gives up.\n"
      "A signal stops it within 5 s, with exit code 0. SIGHUP re-reads the\n"
      "config: a valid one replaces the running one, an invalid one is\n"
      "logged and ignored.\n"
      "\n"
      "  -c, --config FILE    the YAML config (see "
      "config/stsync.example.yaml)\n"
      "      --tenant ID      only this tenant (default: every one)\n"
      "      --log-level L    trace, debug, info, warn, error (overrides "
      "log.level)\n"
      "      --log-format F   text (default) or json: one object per line\n"
      "      --no-progress    no live progress line on a terminal\n";
  return SyncCommand(spec, Scheduler::Mode::kForever, argc, argv);
}

}  // namespace stsync

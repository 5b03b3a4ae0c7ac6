// stsync once: drain every endpoint, then exit.
#include "cli/cli.h"

namespace stsync {

int OnceCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "once";
  spec.value_options = {"--config", "--log-level", "--log-format", "--tenant"};
  spec.flags = {"--no-progress"};
  spec.usage =
      "Usage: stsync once -c FILE [--tenant ID] [--log-level LEVEL]\n"
      "       [--log-format text|json] [--no-progress]\n"
      "\n"
      "Fetches pages of every configured endpoint until each answers\n"
      "hasMore=false, then exits: 0 if all succeeded, 1 if any endpoint\n"
      "failed retry.max_attempts times in a row (or a signal stopped it).\n"
      "An endpoint answered with HTTP 403 (the tenant lacks its module) is\n"
      "listed as forbidden and is not a failure.\n"
      "\n"
      "  -c, --config FILE    the YAML config\n"
      "      --tenant ID      only this tenant (default: every one)\n"
      "      --log-level L    trace, debug, info, warn, error\n"
      "      --log-format F   text (default) or json: one object per line\n"
      "      --no-progress    no live progress line on a terminal\n";
  return SyncCommand(spec, Scheduler::Mode::kDrain, argc, argv);
}

}  // namespace stsync

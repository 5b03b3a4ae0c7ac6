// stsync backfill: re-export a range of one endpoint without moving its
// cursor.
#include "cli/cli.h"
#include "engine/backfill.h"

namespace stsync {
namespace {

BackfillRange RangeOf(const Args& args) {
  return {args.positional[0], args.Option("--from").value_or(""),
          args.Option("--to")};
}

}  // namespace

int BackfillCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "backfill";
  spec.value_options = {"--config",    "--from",       "--to",
                        "--log-level", "--log-format", "--tenant"};
  spec.min_positional = 1;
  spec.max_positional = 1;
  spec.flags = {"--no-progress"};
  spec.usage =
      "Usage: stsync backfill -c FILE [--tenant ID] ENDPOINT --from DATE\n"
      "                      [--to DATE] [--no-progress]\n"
      "\n"
      "Exports ENDPOINT again from DATE (YYYY-MM-DD: records modified on or\n"
      "after it) until it is caught up, or until a page reaches --to, and\n"
      "upserts the records into its table (never replacing a newer version).\n"
      "The endpoint's cursor is not moved: the live feed goes on where it\n"
      "was. Use it after a bug, or to fill history that start_from skipped.\n"
      "Refused while a daemon (run or once) writes the same database: stop\n"
      "it, backfill, start it again. Exit codes as for once.\n"
      "\n"
      "  -c, --config FILE    the YAML config (ENDPOINT must be in it)\n"
      "      --from DATE      the first day of the range\n"
      "      --to DATE        the day after the range (default: up to now)\n"
      "      --tenant ID      the tenant (required if the config has several)\n"
      "      --log-level L    trace, debug, info, warn, error\n"
      "      --log-format F   text (default) or json: one object per line\n"
      "      --no-progress    no live progress line on a terminal\n";
  SyncHooks hooks;
  hooks.validate = [](const Args& args,
                      const Config& config) -> std::optional<std::string> {
    if (!args.Option("--from")) return "--from DATE is required";
    Status s = CheckBackfillRange(config, RangeOf(args));
    if (!s.ok()) return s.message();
    return std::nullopt;
  };
  hooks.create = [](const Args& args, const Config& config) {
    return CreateBackfill(config, RangeOf(args));
  };
  hooks.done_note =
      "backfill done; the endpoint's cursor was not moved (the next run "
      "goes on where it was)";
  return SyncCommand(spec, Scheduler::Mode::kDrain, argc, argv, hooks);
}

}  // namespace stsync

// stsync reset: move or forget an endpoint's cursor.
#include <cstdio>

#include "base/timestamp.h"
#include "cli/cli.h"
#include "engine/replicator.h"
#include "sink/open_destination.h"

namespace stsync {

int ResetCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "reset";
  spec.value_options = {"--config", "--from", "--tenant"};
  spec.min_positional = 1;
  spec.max_positional = 1;
  spec.usage =
      "Usage: stsync reset -c FILE [--tenant ID] ENDPOINT [--from DATE]\n"
      "\n"
      "Forgets ENDPOINT's cursor, so that the next run exports it again:\n"
      "from DATE (YYYY-MM-DD) if given, else from the configured start_from\n"
      "or the first record. Stored rows are kept and upserted over.\n"
      "Refused while a daemon (run or once) writes the same database: stop\n"
      "it first, since a running daemon keeps its own position.\n"
      "\n"
      "  -c, --config FILE    the YAML config\n"
      "      --from DATE      restart the feed at this date\n"
      "      --tenant ID      the tenant (required if the config has "
      "several)\n";
  int code = kExitOk;
  auto command = LoadTenantCommand(spec, argc, argv, /*one=*/true, &code);
  if (!command) return code;
  const Args* args = &command->args;
  const Config* config = command->tenants[0];
  const std::string& name = args->positional[0];
  if (!config->FindEndpoint(name)) {
    std::fprintf(stderr, "stsync reset: endpoint '%s' is not in %s\n",
                 name.c_str(), config->file.c_str());
    return kExitUsage;
  }
  auto from = args->Option("--from");
  if (from && !IsCalendarDate(*from)) {
    std::fprintf(stderr,
                 "stsync reset: --from '%s' is not a date (YYYY-MM-DD)\n",
                 from->c_str());
    return kExitUsage;
  }
  auto store = OpenDestination(*config, {}, RealClock::Get());
  if (!store.ok()) {
    std::fprintf(stderr, "stsync: %s\n", store.status().message().c_str());
    return kExitFailure;
  }
  std::optional<Cursor> to;
  if (from) to = Cursor::Date(*from);
  Status s = (*store)->ResetCursor(name, to);
  if (!s.ok()) {
    std::fprintf(stderr, "stsync: %s\n", s.message().c_str());
    return kExitFailure;
  }
  std::printf("%s: cursor reset; the next run starts %s\n", name.c_str(),
              from ? ("from " + *from).c_str()
                   : "from the configured start_from, or the first record");
  return kExitOk;
}

}  // namespace stsync

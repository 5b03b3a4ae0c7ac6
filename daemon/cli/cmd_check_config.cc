// stsync check-config: validate a config file.
#include <cstdio>

#include "base/duration.h"
#include "cli/cli.h"
#include "sink/open_destination.h"

namespace stsync {

int CheckConfigCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "check-config";
  spec.value_options = {"--config"};
  spec.max_positional = 1;
  spec.usage =
      "Usage: stsync check-config -c FILE\n"
      "       stsync check-config FILE\n"
      "\n"
      "Validates the config without contacting ServiceTitan: exit 0 and a\n"
      "summary if it is usable, exit 2 and the problem otherwise.\n";
  int code = kExitOk;
  auto args = ParseArgs(spec, argc, argv, &code);
  if (!args) return code;
  if (!args->positional.empty() && !args->Option("--config")) {
    args->options["--config"] = args->positional[0];
  }
  auto config = LoadConfigForCommand(*args, &code);
  if (!config) return code;
  for (const auto& w : config->warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  std::printf("%s: ok\n", config->file.c_str());
  for (const Config& t : config->tenants) {
    std::printf("  tenant %s (%s), API %s\n", t.tenant.c_str(),
                t.environment.c_str(), t.api_url.c_str());
    std::printf("  database %s\n", DescribeDestination(t).c_str());
    std::printf("  %zu endpoint(s):\n", t.endpoints.size());
    for (const auto& ec : t.endpoints) {
      std::string notes;
      if (ec.endpoint.kind == EndpointKind::kList) {
        notes += ec.endpoint.modified_filter ? ", list" : ", list read in full";
      } else if (ec.include_recent_changes) {
        notes += ", includeRecentChanges";
      }
      if (ec.start_from) notes += ", from " + *ec.start_from;
      if (ec.reconcile_every) {
        notes += ", reconciled every " + FormatDuration(*ec.reconcile_every);
      }
      if (!ec.endpoint.indexed_fields.empty()) {
        notes += ", index";
        for (const auto& f : ec.endpoint.indexed_fields) notes += " " + f;
      }
      std::printf("    %-26s every %s%s\n", ec.endpoint.name.c_str(),
                  FormatDuration(ec.interval).c_str(), notes.c_str());
    }
  }
  return kExitOk;
}

}  // namespace stsync

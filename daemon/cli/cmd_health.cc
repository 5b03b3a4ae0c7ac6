// stsync health: whether the daemon is running and keeping up (for a
// container's HEALTHCHECK, or a monitoring script).
#include <cstdio>

#include "cli/cli.h"
#include "ops/health.h"
#include "sink/open_destination.h"
#include "sink/writer_lock.h"

namespace stsync {

int HealthCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "health";
  spec.value_options = {"--config", "--tenant"};
  spec.usage =
      "Usage: stsync health -c FILE [--tenant ID]\n"
      "\n"
      "Exits 0 and prints 'ok' when a daemon (`stsync run`) holds each\n"
      "tenant's database and every endpoint has committed a page within\n"
      "health.max_intervals (3) of its interval plus retry.max_backoff.\n"
      "Otherwise exits 1 with one line saying why. An endpoint the tenant\n"
      "lacks (HTTP 403) is not counted. Reads the databases without locking\n"
      "out the daemon.\n"
      "\n"
      "  -c, --config FILE    the YAML config\n"
      "      --tenant ID      only this tenant (default: every one)\n";
  int code = kExitOk;
  auto command = LoadTenantCommand(spec, argc, argv, /*one=*/false, &code);
  if (!command) return code;
  const WallTime now = RealClock::Get()->WallNow();
  for (const Config* t : command->tenants) {
    if (UsesPostgres(*t)) {
      // No lock file: a daemon holds the tenant's lease.
      DestinationOptions read_only;
      read_only.read_only = true;
      auto d = OpenDestination(*t, read_only, RealClock::Get());
      auto by =
          d.ok() ? (*d)->WrittenBy() : Result<Destination::Writer>(d.status());
      if (!by.ok() || !by->live) {
        std::printf(
            "unhealthy: tenant %s: no stsync daemon holds its lease (%s)\n",
            t->tenant.c_str(),
            by.ok() ? by->description.c_str() : by.status().message().c_str());
        return kExitFailure;
      }
    } else if (!WriterLock::IsHeld(t->database.path)) {
      std::printf("unhealthy: tenant %s: no stsync process is writing %s\n",
                  t->tenant.c_str(), t->database.path.c_str());
      return kExitFailure;
    }
    Status health = CheckHealth(*t, now);
    if (!health.ok()) {
      std::printf("unhealthy: %s\n", health.message().c_str());
      return kExitFailure;
    }
  }
  std::printf("ok\n");
  return kExitOk;
}

}  // namespace stsync

// stsync verify: PRAGMA integrity_check of each tenant's database, on
// demand (and after a recovery, to let the daemon write the file again).
#include <cstdio>

#include "cli/cli.h"
#include "sink/damage_note.h"
#include "sink/integrity_check.h"
#include "sink/open_destination.h"

namespace stsync {

int VerifyCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "verify";
  spec.value_options = {"--config", "--tenant"};
  spec.usage =
      "Usage: stsync verify -c FILE [--tenant ID]\n"
      "\n"
      "Runs SQLite's PRAGMA integrity_check on each tenant's database (or\n"
      "the one --tenant names) and prints 'ok' or the problems found (at\n"
      "most 20). Exits 0 when every file is sound, 1 otherwise. Reads the\n"
      "files without locking out the daemon; on a large file it takes about\n"
      "as long as reading it once.\n"
      "\n"
      "When stsync finds a file damaged while writing, it stops writing it\n"
      "and leaves FILE-damaged beside it; `run` and `once` then refuse the\n"
      "file. Once verify finds the file sound again (restored or rebuilt),\n"
      "it removes that note.\n"
      "\n"
      "  -c, --config FILE    the YAML config\n"
      "      --tenant ID      only this tenant (default: every one)\n";
  int code = kExitOk;
  auto command = LoadTenantCommand(spec, argc, argv, /*one=*/false, &code);
  if (!command) return code;
  int result = kExitOk;
  for (const Config* t : command->tenants) {
    if (UsesPostgres(*t)) {
      std::printf(
          "tenant %s: %s is PostgreSQL, which checks its own pages; "
          "nothing to verify\n",
          t->tenant.c_str(), DescribeDestination(*t).c_str());
      continue;
    }
    const std::string& path = t->database.path;
    auto problems = IntegrityCheck(path, 20);
    if (!problems.ok()) {
      std::printf("%s: cannot check: %s\n", path.c_str(),
                  problems.status().message().c_str());
      result = kExitFailure;
      continue;
    }
    if (problems->empty()) {
      std::printf("%s: ok\n", path.c_str());
      if (ReadDamageNote(path)) {
        RemoveDamageNote(path);
        std::printf(
            "%s: the earlier damage note (%s-damaged) is removed; "
            "stsync writes the file again\n",
            path.c_str(), path.c_str());
      }
      continue;
    }
    result = kExitFailure;
    std::printf("%s: DAMAGED\n", path.c_str());
    for (const auto& p : *problems) std::printf("  %s\n", p.c_str());
    std::printf(
        "To recover: stop stsync; restore a backup, or rebuild the file with\n"
        "  sqlite3 %s .recover | sqlite3 %s.recovered\n"
        "and put that in its place (or move the file away: stsync then syncs\n"
        "everything again from the start); then run stsync verify again.\n",
        path.c_str(), path.c_str());
  }
  return result;
}

}  // namespace stsync

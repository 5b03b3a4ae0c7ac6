// The schema migrations in migrations/NNNN_name.sql, embedded into the binary
// at build time. The Store applies those newer than the database's
// PRAGMA user_version, in order.
#ifndef STSYNC_SINK_MIGRATIONS_H_
#define STSYNC_SINK_MIGRATIONS_H_

#include <vector>

namespace stsync {

struct Migration {
  int version;       // NNNN; consecutive from 1
  const char* name;  // file name without .sql
  const char* sql;
};

// In version order. Defined in the generated migrations.cc.
const std::vector<Migration>& EmbeddedMigrations();

}  // namespace stsync

#endif  // STSYNC_SINK_MIGRATIONS_H_

// OpenDestination: the database a tenant's config names, opened as the
// commands need it: SQLite for database.path, PostgreSQL for database.url.
// The one place that maps the config's `database:` onto a sink's options.
//
// Errors: as SqliteSink::Open's and PgSink::Open's; for a read-only open of
// a database not written yet, kNotFound.
//
// Thread safety: a plain function; the Destination is used by one thread
// at a time.
#ifndef STSYNC_SINK_OPEN_DESTINATION_H_
#define STSYNC_SINK_OPEN_DESTINATION_H_

#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "base/stop_signal.h"
#include "config/config.h"
#include "model/destination.h"

namespace stsync {

struct DestinationOptions {
  // For status and health: never creates, migrates or locks anything.
  bool read_only = false;
  // Ends a wait for another writer's lock (SqliteSinkOptions::stop).
  // Borrowed; may be null.
  StopSignal* stop = nullptr;
  // Told about long steps of the open (converting a table), and of a
  // PostgreSQL tenant's lease taken, waited for or lost; may be empty.
  std::function<void(const std::string&)> notice;
  // PostgreSQL: when another daemon holds the tenant, wait to take it over
  // (`run`) rather than fail with kBusy; `while_waiting` is called at every
  // step of the wait (a watchdog's beat) and may be empty.
  bool wait_for_lease = false;
  std::function<void()> while_waiting;
};

// Opens `config`'s database for its tenant. `clock` must outlive it.
Result<std::unique_ptr<Destination>> OpenDestination(
    const Config& config, const DestinationOptions& options, Clock* clock);

// Where `config`'s data is, fit for logs and status: the file's path, or
// the server (without password) and schema.
std::string DescribeDestination(const Config& config);

// Whether `config` replicates into PostgreSQL.
inline bool UsesPostgres(const Config& config) {
  return !config.database.url.empty();
}

}  // namespace stsync

#endif  // STSYNC_SINK_OPEN_DESTINATION_H_

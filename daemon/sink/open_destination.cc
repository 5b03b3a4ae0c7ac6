#include "sink/open_destination.h"

#include "sink/pg_sink.h"
#include "sink/sqlite_sink.h"

namespace stsync {

Result<std::unique_ptr<Destination>> OpenDestination(
    const Config& config, const DestinationOptions& options, Clock* clock) {
  if (UsesPostgres(config)) {
    PgSinkOptions o;
    o.schema = config.database.schema;
    o.read_only = options.read_only;
    o.tenant = config.tenant;
    o.environment = config.environment;
    if (!options.read_only) {
      // One id for the whole process: its tenants count as one daemon's.
      static const std::string daemon_id = NewDaemonId();
      LeaseTerms terms;
      terms.owner = daemon_id;
      terms.lease = config.database.lease;
      terms.tenants = config.tenants_in_file;
      terms.max_tenants = config.database.max_tenants;
      terms.peer = options.wait_for_lease;  // `run`
      o.lease = terms;
    }
    o.wait_for_lease = options.wait_for_lease;
    o.stop = options.stop;
    o.notice = options.notice;
    o.while_waiting = options.while_waiting;
    auto sink = PgSink::Open(config.database.url, o, clock);
    if (!sink.ok()) return sink.status();
    return std::unique_ptr<Destination>(std::move(*sink));
  }
  SqliteSinkOptions o;
  o.read_only = options.read_only;
  o.busy_timeout = config.database.busy_timeout;
  o.tenant = config.tenant;
  o.environment = config.environment;
  o.max_size = config.database.max_size;
  o.wal_size = config.database.wal_size;
  o.cache_size = config.database.cache_size;
  o.notice = options.notice;
  o.stop = options.stop;
  auto sink = SqliteSink::Open(config.database.path, o, clock);
  if (!sink.ok()) return sink.status();
  return std::unique_ptr<Destination>(std::move(*sink));
}

std::string DescribeDestination(const Config& config) {
  if (!UsesPostgres(config)) return config.database.path;
  return DescribePgSchema(config.database.url, config.database.schema);
}

}  // namespace stsync

// Config: a YAML file turned into a validated, immutable settings object.
//
// Every problem is reported as Status::Invalid with a message of the form
// `FILE:LINE: key.path: what is wrong`, so a user can fix the file without
// guessing. Values may use ${VAR} (replaced from the environment; an unset
// variable is an error) and the secret may come from a file. Secrets are held
// only in Config::client_secret and never appear in error messages.
#ifndef STSYNC_CONFIG_CONFIG_H_
#define STSYNC_CONFIG_CONFIG_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "config/catalog.h"

namespace stsync {

struct EndpointConfig {
  Endpoint endpoint;
  // The pause after a caught-up batch (hasMore=false): the endpoint's own
  // `interval`, else the one in `defaults`, else 5 minutes; but 1 hour for
  // a list endpoint read in full on every pass (its cost control) unless
  // its own entry sets one.
  Millis interval{std::chrono::minutes(5)};
  bool interval_set = false;  // in the endpoint's own entry
  bool include_recent_changes = false;
  // Export endpoints: a first sync (no stored cursor) fetches date ranges
  // side by side (engine/scheduler.h).
  bool split_first_sync = true;
  std::optional<std::string> start_from;  // first `from` without a cursor
  // on_rejected_cursor: restart_from_last_seen. When the server answers 400
  // to a stored continuation token, restart the feed from a date before the
  // newest version it stored (engine/rejected_cursor.h) instead of failing
  // until someone runs `stsync reset`.
  bool restart_rejected_cursor = false;
  // List endpoints: how far before the newest version seen a pass starts
  // (api/list_feed.h).
  Millis list_overlap{std::chrono::minutes(5)};
  // List endpoints: records per request; 0 for the largest the endpoint
  // takes (Endpoint::max_page_size).
  int page_size = 0;
  // Hard deletes (engine/reconciler.h): how often a reconciliation pass
  // re-reads the endpoint from its start and marks the rows it no longer
  // finds; none: never.
  std::optional<Millis> reconcile_every;
  // A pass that sees fewer keys than this share of the rows not marked
  // deleted marks nothing and warns.
  int reconcile_min_seen_percent = 50;
};

struct HttpOptions {
  // Requests in flight at once for a tenant, each for a different endpoint
  // (engine/scheduler.h); 1 to 32.
  int concurrency = 8;
  Millis connect_timeout{std::chrono::seconds(10)};
  // Above ServiceTitan's own 100 s timeout, so that a slow page ends with
  // the server's answer rather than a cut connection.
  Millis read_timeout{std::chrono::seconds(120)};
  // The whole request, from connecting to the last byte: a server that
  // trickles bytes cannot hold a request longer than this. Above the
  // server's own 100 s, and twice it (a token request, then a page) stays
  // under the systemd unit's WatchdogSec=5min.
  Millis request_timeout{std::chrono::seconds(130)};
  size_t max_page_bytes = size_t{256} << 20;  // larger bodies are refused
  std::string ca_bundle;                      // "" = system default
  bool allow_insecure_http = false;           // http:// to a non-loopback host
};

struct RetryOptions {
  Millis initial_backoff{std::chrono::seconds(1)};
  Millis max_backoff{std::chrono::minutes(5)};
  // `once` gives up on an endpoint after this many failures in a row.
  int max_attempts = 8;
  // After an HTTP 403 (the tenant lacks the endpoint's module, or the app
  // its access), the endpoint is tried again only after this long.
  Millis forbidden_interval{std::chrono::hours(24)};
};

// `database:`. The sink's options (sink/sqlite_sink.h) use the same names.
// Exactly one of path (SQLite, the default) and url (PostgreSQL) is set.
struct DatabaseOptions {
  std::string path;  // {tenant} replaced by the tenant's id
  // A libpq URI (postgresql://...). Secret: may hold a password; show it
  // only through DescribePgUrl (sink/pg_connection.h).
  std::string url;
  std::string schema = "st_{tenant}";  // {tenant} replaced; PostgreSQL only
  // PostgreSQL: how long a daemon's hold on a tenant lasts unrenewed
  // (sink/pg_lease.h), and how many tenants one daemon takes (0: its
  // balanced share alone).
  Millis lease{std::chrono::seconds(60)};
  int max_tenants = 0;
  Millis busy_timeout{std::chrono::seconds(5)};
  int64_t max_size = 0;           // bytes; 0: no cap
  int64_t wal_size = 64 << 20;    // see SqliteSinkOptions::wal_size
  int64_t cache_size = 16 << 20;  // see SqliteSinkOptions::cache_size
};

// `log:`.
struct LogOptions {
  std::string level = "info";   // one of kLogLevels
  std::string format = "text";  // text or json
};

// `metrics:`. listen (host:port): where /metrics and /healthz are served;
// port 0: off (the default).
struct MetricsOptions {
  std::string host = "127.0.0.1";
  int port = 0;
};

// `health:`.
struct HealthOptions {
  // An endpoint is unhealthy once its last committed page is older than
  // this many of its intervals plus retry.max_backoff (ops/health.h).
  int max_intervals = 3;
};

// One tenant's settings: what a Replicator needs. The process-wide ones
// (log, metrics) are in ConfigFile.
struct Config {
  std::string file;  // where it was loaded from, for messages
  std::string environment = "production";
  std::string tenant;  // digits only
  // How many tenants the file lists: daemons sharing a PostgreSQL cluster
  // divide them (sink/pg_lease.h).
  int tenants_in_file = 1;
  std::string client_id;
  std::string client_secret;  // secret: never log
  std::string app_key;
  std::string auth_url;      // full token URL
  std::string api_url;       // scheme://host[:port], no trailing slash
  DatabaseOptions database;  // path: {tenant} already replaced
  double rate_limit = 60;    // http.rate_limit: calls per second, all endpoints
  HttpOptions http;
  RetryOptions retry;
  HealthOptions health;
  std::vector<EndpointConfig> endpoints;

  // The configured endpoint called `name`, or nullptr.
  const EndpointConfig* FindEndpoint(const std::string& name) const;
};

// A loaded config file: the process-wide settings and every tenant.
struct ConfigFile {
  std::string file;  // where it was loaded from, for messages
  LogOptions log;
  MetricsOptions metrics;
  // Never empty (LoadConfig fails otherwise): servicetitan.tenant first when
  // given, then those of `tenants:` in their order, each with the shared
  // settings unless its entry overrides credentials or endpoints.
  std::vector<Config> tenants;
  // Non-fatal findings (e.g. a world-readable secret file), to be logged.
  std::vector<std::string> warnings;

  // The tenant `id`, or nullptr.
  const Config* FindTenant(const std::string& id) const;
};

using EnvLookup =
    std::function<std::optional<std::string>(const std::string& name)>;

// Reads and validates `path`, taking ${VAR} values from the process
// environment.
Result<ConfigFile> LoadConfig(const std::string& path);

// Validates YAML text; `file` names it in messages. For tests.
Result<ConfigFile> ParseConfig(const std::string& yaml_text,
                               const std::string& file, const EnvLookup& env);

// The log levels log.level and --log-level accept, as listed in messages.
constexpr const char* kLogLevels = "trace, debug, info, warn, error, off";
bool IsLogLevel(const std::string& level);

// True for a literal address in 127.0.0.0/8, ::1 (bracketed or not) and
// "localhost"; never for a name that merely starts with "127.".
bool IsLoopbackHost(const std::string& host);

}  // namespace stsync

#endif  // STSYNC_CONFIG_CONFIG_H_

#include "replicator.h"

#include "httplib_transport.h"

namespace stsync {

Result<std::unique_ptr<Replicator>> Replicator::Create(
    const Config& config, std::unique_ptr<Transport> transport, Clock* clock) {
  std::unique_ptr<Replicator> r(new Replicator(config));
  StoreOptions options;
  options.busy_timeout = config.busy_timeout;
  options.max_bytes = config.max_database_bytes;
  options.wal_bytes = config.wal_bytes;
  auto store = Store::Open(config.database_path, options, clock);
  if (!store.ok()) return store.status();
  r->store_ = std::move(*store);
  r->transport_ = transport ? std::move(transport)
                            : std::make_unique<HttplibTransport>(config.http);
  r->tokens_ = std::make_unique<TokenSource>(
      Credentials{config.auth_url, config.client_id, config.client_secret},
      r->transport_.get(), clock);
  r->limiter_ = std::make_unique<RateLimiter>(config.rate_limit, clock);
  r->client_ = std::make_unique<ExportClient>(
      r->config_, r->transport_.get(), r->tokens_.get(), r->limiter_.get(),
      &r->stop_, clock);
  r->scheduler_ = std::make_unique<Scheduler>(
      r->config_, r->client_.get(), r->store_.get(), &r->stop_, clock);
  Transport* t = r->transport_.get();
  r->stop_.OnStop([t] { t->Cancel(); });
  return r;
}

}  // namespace stsync

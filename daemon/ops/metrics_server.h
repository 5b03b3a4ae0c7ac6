// MetricsServer: the optional listener of `metrics.listen` (off by default,
// loopback by default). GET /metrics answers the Prometheus text format
// 0.0.4 (ops/metrics.h); GET /healthz answers 200 "ok", or 503 with the
// reason when a tenant's sync is behind (ops/health.h). Nothing else is
// served, and nothing it serves carries a secret. Connections are served
// by up to 64 threads started on demand, and one may idle for a second: a
// crowd of idle connections delays a scrape by seconds at most.
//
// Thread safety: Start and the destructor from one thread; requests are
// answered on the server's own threads.
#ifndef STSYNC_OPS_METRICS_SERVER_H_
#define STSYNC_OPS_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "ops/metrics.h"

namespace httplib {
class Server;
}

namespace stsync {

class MetricsServer {
 public:
  // Binds `host`:`port` (0: any free port) and serves until destroyed.
  // `metrics` and `tenants` are borrowed and must outlive it. kIo when the
  // address cannot be bound (in use, or not this machine's).
  static Result<std::unique_ptr<MetricsServer>> Start(
      const std::string& host, int port, Metrics* metrics,
      std::vector<const Config*> tenants);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace stsync

#endif  // STSYNC_OPS_METRICS_SERVER_H_

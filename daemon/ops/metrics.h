// Metrics: what the daemon counts, rendered for Prometheus
// (ops/metrics_server.h serves it at /metrics).
//
// One Metrics serves every tenant of the process. It is fed through the
// seams, never from inside the loop: a MetricsObserver per tenant turns the
// scheduler's events into counters, and a CountingTransport around each
// tenant's transport counts every HTTP answer by status class. Samples
// carry an `endpoint` label, and a `tenant` label when the config has
// several tenants; nothing else (no ids, no URLs), so the series count
// stays at endpoints x tenants.
//
// Thread safety: every method may be called from any thread.
#ifndef STSYNC_OPS_METRICS_H_
#define STSYNC_OPS_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/transport.h"
#include "base/clock.h"
#include "model/observer.h"

namespace stsync {

class Metrics {
 public:
  // `label_tenants`: samples carry a tenant label (several tenants).
  explicit Metrics(bool label_tenants) : label_tenants_(label_tenants) {}

  // A tenant's database file (its size and WAL size are reported; "" for
  // none, as PostgreSQL) and its endpoints (their counters start at 0).
  void AddTenant(const std::string& tenant, const std::string& database_path,
                 const std::vector<std::string>& endpoints);

  // A tenant's database size where there is no file to read (PostgreSQL).
  void SetDatabaseSize(const std::string& tenant, int64_t bytes);

  void OnBatch(const std::string& tenant, const std::string& endpoint,
               int64_t upserted, int64_t rejected, double commit_seconds,
               WallTime now);
  void OnRetry(const std::string& tenant, const std::string& endpoint);
  // An HTTP answer with `status`, or 0 for none (network error, timeout).
  void OnHttp(const std::string& tenant, int status);

  // The outcome of the last config reload (SIGHUP) of this process.
  void SetLastReload(bool successful, WallTime at);

  // Every metric in the text format, ages computed at `now`.
  std::string Render(WallTime now) const;

  // The page commit histogram's upper bounds, in seconds.
  static const std::vector<double>& CommitBuckets();

 private:
  struct EndpointCounts {
    double records = 0;
    double rejected = 0;
    double pages = 0;
    double retries = 0;
    double last_success = 0;  // Unix seconds; 0: never
  };
  struct Tenant {
    std::string database_path;
    double database_size = -1;  // SetDatabaseSize's; -1: none
    std::map<std::string, EndpointCounts> endpoints;
    std::map<std::string, double> http;  // by class: 2xx ... 5xx, error
    double throttled = 0;
    std::vector<uint64_t> commit_counts;
    double commit_sum = 0;
  };
  Tenant& TenantOf(const std::string& tenant);  // requires mu_

  const bool label_tenants_;
  mutable std::mutex mu_;
  std::map<std::string, Tenant> tenants_;
  bool reload_successful_ = true;
  double reload_at_ = 0;  // Unix seconds; 0: never reloaded
};

// One tenant's scheduler events into `metrics` (borrowed).
class MetricsObserver : public Observer {
 public:
  MetricsObserver(Metrics* metrics, std::string tenant, Clock* clock)
      : metrics_(metrics), tenant_(std::move(tenant)), clock_(clock) {}
  void OnBatch(const BatchEvent& e) override;
  void OnFailure(const FailureEvent& e) override;

 private:
  Metrics* const metrics_;
  const std::string tenant_;
  Clock* const clock_;
};

// A Transport that counts each answer of `inner` into `metrics` (borrowed).
class CountingTransport : public Transport {
 public:
  CountingTransport(std::unique_ptr<Transport> inner, Metrics* metrics,
                    std::string tenant)
      : inner_(std::move(inner)),
        metrics_(metrics),
        tenant_(std::move(tenant)) {}
  Result<HttpResponse> Get(const std::string& url,
                           const HttpHeaders& headers) override;
  Result<HttpResponse> PostForm(const std::string& url, const HttpHeaders& form,
                                const HttpHeaders& headers) override;
  void Cancel() override { inner_->Cancel(); }

 private:
  Result<HttpResponse> Count(Result<HttpResponse> r);
  const std::unique_ptr<Transport> inner_;
  Metrics* const metrics_;
  const std::string tenant_;
};

}  // namespace stsync

#endif  // STSYNC_OPS_METRICS_H_

#include "ops/metrics.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>

#include "base/prometheus_text.h"

namespace stsync {
namespace {

double UnixSeconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

double FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0;
}

}  // namespace

const std::vector<double>& Metrics::CommitBuckets() {
  static const std::vector<double> kBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBounds;
}

Metrics::Tenant& Metrics::TenantOf(const std::string& tenant) {
  Tenant& t = tenants_[tenant];
  if (t.commit_counts.empty()) {
    t.commit_counts.assign(CommitBuckets().size() + 1, 0);
  }
  return t;
}

void Metrics::AddTenant(const std::string& tenant,
                        const std::string& database_path,
                        const std::vector<std::string>& endpoints) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  t.database_path = database_path;
  for (const auto& e : endpoints) t.endpoints[e];
}

void Metrics::SetDatabaseSize(const std::string& tenant, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  TenantOf(tenant).database_size = static_cast<double>(bytes);
}

void Metrics::OnBatch(const std::string& tenant, const std::string& endpoint,
                      int64_t upserted, int64_t rejected, double commit_seconds,
                      WallTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  EndpointCounts& e = t.endpoints[endpoint];
  e.records += static_cast<double>(upserted);
  e.rejected += static_cast<double>(rejected);
  e.pages += 1;
  e.last_success = UnixSeconds(now);
  const auto& bounds = CommitBuckets();
  size_t i = 0;
  while (i < bounds.size() && commit_seconds > bounds[i]) ++i;
  t.commit_counts[i]++;
  t.commit_sum += commit_seconds;
}

void Metrics::OnRetry(const std::string& tenant, const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  TenantOf(tenant).endpoints[endpoint].retries += 1;
}

void Metrics::OnHttp(const std::string& tenant, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  std::string cls = status >= 100 && status < 600
                        ? std::to_string(status / 100) + "xx"
                        : std::string("error");
  t.http[cls] += 1;
  if (status == 429) t.throttled += 1;
}

std::string Metrics::Render(WallTime now) const {
  std::lock_guard<std::mutex> lock(mu_);
  PrometheusText out;
  auto labels = [this](const std::string& tenant) {
    MetricLabels l;
    if (label_tenants_) l.emplace_back("tenant", tenant);
    return l;
  };
  auto with = [&](const std::string& tenant, const std::string& key,
                  const std::string& value) {
    MetricLabels l = labels(tenant);
    l.emplace_back(key, value);
    return l;
  };
  // One family per endpoint field, every tenant's samples under it.
  auto per_endpoint = [&](const char* name, const char* type, const char* help,
                          auto value) {
    out.Family(name, type, help);
    for (const auto& [tenant, t] : tenants_) {
      for (const auto& [endpoint, e] : t.endpoints) {
        if (auto v = value(e))
          out.Sample(name, with(tenant, "endpoint", endpoint), *v);
      }
    }
  };
  per_endpoint(
      "stsync_records_upserted_total", "counter",
      "Records written (new or newer versions), per endpoint.",
      [](const EndpointCounts& e) { return std::optional<double>(e.records); });
  per_endpoint(
      "stsync_records_rejected_total", "counter",
      "Records quarantined in _stsync_rejects (they could not be rows), per "
      "endpoint.",
      [](const EndpointCounts& e) {
        return std::optional<double>(e.rejected);
      });
  per_endpoint(
      "stsync_pages_committed_total", "counter",
      "Pages committed with their cursor, per endpoint.",
      [](const EndpointCounts& e) { return std::optional<double>(e.pages); });
  per_endpoint(
      "stsync_retries_total", "counter",
      "Failed attempts that will be retried, per endpoint.",
      [](const EndpointCounts& e) { return std::optional<double>(e.retries); });
  per_endpoint(
      "stsync_last_success_timestamp_seconds", "gauge",
      "When the endpoint last committed a page (Unix time); absent before.",
      [](const EndpointCounts& e) {
        return e.last_success > 0 ? std::optional<double>(e.last_success)
                                  : std::nullopt;
      });
  const double now_s = UnixSeconds(now);
  per_endpoint(
      "stsync_cursor_age_seconds", "gauge",
      "Seconds since the endpoint's cursor last moved (its last committed "
      "page); absent before.",
      [now_s](const EndpointCounts& e) {
        return e.last_success > 0 ? std::optional<double>(
                                        std::max(0.0, now_s - e.last_success))
                                  : std::nullopt;
      });

  out.Family("stsync_http_requests_total", "counter",
             "HTTP requests to ServiceTitan by answer class (error: none).");
  for (const auto& [tenant, t] : tenants_) {
    for (const auto& [cls, n] : t.http) {
      out.Sample("stsync_http_requests_total", with(tenant, "class", cls), n);
    }
  }
  out.Family("stsync_http_throttled_total", "counter",
             "HTTP 429 answers (the tenant pauses).");
  for (const auto& [tenant, t] : tenants_) {
    out.Sample("stsync_http_throttled_total", labels(tenant), t.throttled);
  }
  out.Family("stsync_page_commit_duration_seconds", "histogram",
             "Time to write a page and its cursor in one transaction.");
  for (const auto& [tenant, t] : tenants_) {
    out.Histogram("stsync_page_commit_duration_seconds", labels(tenant),
                  CommitBuckets(), t.commit_counts, t.commit_sum);
  }
  out.Family("stsync_database_size_bytes", "gauge",
             "Size of the database file, or of the tenant's PostgreSQL "
             "schema (tables, indexes and TOAST).");
  for (const auto& [tenant, t] : tenants_) {
    if (!t.database_path.empty()) {
      out.Sample("stsync_database_size_bytes", labels(tenant),
                 FileSize(t.database_path));
    } else if (t.database_size >= 0) {
      out.Sample("stsync_database_size_bytes", labels(tenant), t.database_size);
    }
  }
  out.Family("stsync_wal_size_bytes", "gauge",
             "Size of the database's write-ahead log.");
  for (const auto& [tenant, t] : tenants_) {
    if (t.database_path.empty()) continue;
    out.Sample("stsync_wal_size_bytes", labels(tenant),
               FileSize(t.database_path + "-wal"));
  }
  out.Family("stsync_config_last_reload_successful", "gauge",
             "Whether the last SIGHUP's config started: 0 when it could not "
             "(the config before it kept running).");
  out.Sample("stsync_config_last_reload_successful", {},
             reload_successful_ ? 1 : 0);
  out.Family("stsync_config_last_reload_timestamp_seconds", "gauge",
             "When the config was last reloaded (0: never).");
  out.Sample("stsync_config_last_reload_timestamp_seconds", {}, reload_at_);
  out.Family("stsync_build_info", "gauge",
             "Always 1; the labels name the stsync and SQLite versions.");
  out.Sample("stsync_build_info",
             {{"version", STSYNC_VERSION}, {"sqlite", sqlite3_libversion()}},
             1);
  return out.text();
}

void Metrics::SetLastReload(bool successful, WallTime at) {
  std::lock_guard<std::mutex> lock(mu_);
  reload_successful_ = successful;
  reload_at_ = std::chrono::duration<double>(at.time_since_epoch()).count();
}

void MetricsObserver::OnBatch(const BatchEvent& e) {
  metrics_->OnBatch(
      tenant_, e.endpoint, e.stats.inserted + e.stats.updated, e.stats.rejected,
      std::chrono::duration<double>(e.finished - e.apply_started).count(),
      clock_->WallNow());
}

void MetricsObserver::OnFailure(const FailureEvent& e) {
  if (e.retry_in) metrics_->OnRetry(tenant_, e.endpoint);
}

Result<HttpResponse> CountingTransport::Count(Result<HttpResponse> r) {
  if (r.ok()) {
    metrics_->OnHttp(tenant_, r->status);
  } else if (r.status().code() != Status::Code::kCancelled) {
    metrics_->OnHttp(tenant_, 0);
  }
  return r;
}

Result<HttpResponse> CountingTransport::Get(const std::string& url,
                                            const HttpHeaders& headers) {
  return Count(inner_->Get(url, headers));
}

Result<HttpResponse> CountingTransport::PostForm(const std::string& url,
                                                 const HttpHeaders& form,
                                                 const HttpHeaders& headers) {
  return Count(inner_->PostForm(url, form, headers));
}

}  // namespace stsync

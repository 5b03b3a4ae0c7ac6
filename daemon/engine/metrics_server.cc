#include "engine/metrics_server.h"

#include <httplib.h>

#include "base/prometheus_text.h"
#include "engine/health.h"

namespace stsync {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, int port, Metrics* metrics,
    std::vector<const Config*> tenants) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->server_ = std::make_unique<httplib::Server>();
  s->server_->Get(
      "/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics->Render(RealClock::Get()->WallNow()),
                        PrometheusText::kContentType);
      });
  s->server_->Get("/healthz",
                  [tenants](const httplib::Request&, httplib::Response& res) {
                    const WallTime now = RealClock::Get()->WallNow();
                    for (const Config* t : tenants) {
                      Status health = CheckHealth(*t, now);
                      if (!health.ok()) {
                        res.status = 503;
                        res.set_content(health.message() + "\n", "text/plain");
                        return;
                      }
                    }
                    res.set_content("ok\n", "text/plain");
                  });
  if (port == 0) {
    s->port_ = s->server_->bind_to_any_port(host);
    if (s->port_ < 0) s->port_ = 0;
  } else if (s->server_->bind_to_port(host, port)) {
    s->port_ = port;
  }
  if (s->port_ == 0) {
    return Status::Io("metrics.listen: cannot listen on " + host + ":" +
                      std::to_string(port) +
                      " (in use, or not an address of this machine)");
  }
  httplib::Server* server = s->server_.get();
  s->thread_ = std::thread([server] { server->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stsync

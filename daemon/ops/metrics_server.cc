#include "ops/metrics_server.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "base/prometheus_text.h"
#include "ops/health.h"

namespace stsync {
namespace {

// Runs each connection on a worker thread, starting workers on demand up
// to `max_workers` (idle ones wait for the next connection). httplib's own
// pool has a fixed handful of workers, each held by an idle keep-alive
// connection until it times out: a few hundred idle connections then
// starve a scraper for minutes.
class OnDemandTaskQueue : public httplib::TaskQueue {
 public:
  explicit OnDemandTaskQueue(size_t max_workers) : max_workers_(max_workers) {}
  ~OnDemandTaskQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
    if (tasks_.size() > idle_ && workers_.size() < max_workers_) {
      workers_.emplace_back([this] { Work(); });
    } else {
      ready_.notify_one();
    }
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& w : workers_) {
      if (w.joinable()) w.join();
    }
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping, with nothing left to serve
      std::function<void()> fn = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  const size_t max_workers_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> workers_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

// Connections served at once, and how long one may idle (seconds).
constexpr size_t kMaxWorkers = 64;
constexpr int kIdleSeconds = 1;

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, int port, Metrics* metrics,
    std::vector<const Config*> tenants) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->server_ = std::make_unique<httplib::Server>();
  s->server_->new_task_queue = [] {
    return new OnDemandTaskQueue(kMaxWorkers);
  };
  s->server_->set_keep_alive_timeout(kIdleSeconds);
  s->server_->set_keep_alive_max_count(10);
  s->server_->set_read_timeout(kIdleSeconds, 0);
  s->server_->set_write_timeout(5, 0);
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

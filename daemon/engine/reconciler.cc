#include "engine/reconciler.h"

#include "base/timestamp.h"
#include "model/sink_decorator.h"

namespace stsync {
namespace {

// The endpoint's feed, except that a pass that reads to the end is followed
// by one from the start.
class ReconcileFeed : public FeedDecorator {
 public:
  ReconcileFeed(std::shared_ptr<const Feed> feed, Cursor start)
      : FeedDecorator(std::move(feed)), start_(std::move(start)) {}

  Result<Batch> Read(std::string body, const Cursor& from) const override {
    auto batch = inner().Read(std::move(body), from);
    if (batch.ok() && batch->caught_up) batch->next = start_;
    return batch;
  }

 private:
  const Cursor start_;
};

// One endpoint's pass as the Scheduler sees a feed's sink: its state is the
// pass's (_stsync_reconcile), not the live feed's.
class ReconcileSink : public SinkDecorator {
 public:
  ReconcileSink(Sink* sink, SideFeedStore* store, Endpoint endpoint,
                ReconcilePolicy policy, std::vector<Observer*> observers,
                Clock* clock)
      : SinkDecorator(sink),
        store_(store),
        endpoint_(std::move(endpoint)),
        policy_(policy),
        observers_(std::move(observers)),
        clock_(clock) {}

  Result<ApplyStats> Apply(const Endpoint& e, const Batch& batch) override {
    auto r = store_->ApplyReconcile(e, batch, policy_);
    if (!r.ok()) return r.status();
    if (r->finished) {
      for (Observer* o : observers_) {
        o->OnReconciled({endpoint_.name, *r->finished, policy_});
      }
    }
    return r->applied;
  }

  // The pass in progress as a cursor; between passes, the last one's end
  // as caught_up_at (the Scheduler's background schedule).
  Result<std::optional<FeedState>> Load(const std::string& label) override {
    auto r = store_->LoadReconcile(endpoint_.name);
    if (!r.ok()) return r.status();
    FeedState f;
    f.endpoint = label;
    if (*r && !(*r)->pass_started_at.empty()) {
      f.cursor = (*r)->cursor.value_or(Cursor::Start());
      return std::optional<FeedState>(f);
    }
    if (*r && !(*r)->last_finished_at.empty()) {
      f.caught_up_at = (*r)->last_finished_at;
      return std::optional<FeedState>(f);
    }
    // Never reconciled: as if when the table's first row was stored.
    auto first = store_->FirstStoredAt(endpoint_);
    if (!first.ok()) return first.status();
    f.caught_up_at = first->value_or(FormatTimestamp(clock_->WallNow()));
    return std::optional<FeedState>(f);
  }

  // The pass restarts from the beginning, not from a date.
  Result<std::optional<std::string>> NewestVersion(const Endpoint&) override {
    return std::optional<std::string>();
  }
  Status RecordFailure(const std::string&, const std::string& m) override {
    return store_->RecordReconcileFailure(endpoint_.name, m);
  }
  Status ResetCursor(const std::string&,
                     const std::optional<Cursor>&) override {
    return store_->RestartReconcile(endpoint_.name);
  }

 private:
  SideFeedStore* const store_;
  const Endpoint endpoint_;
  const ReconcilePolicy policy_;
  const std::vector<Observer*> observers_;
  Clock* const clock_;
};

}  // namespace

std::string ReconcileLabel(const std::string& endpoint) {
  return endpoint + " (reconcile)";
}

ReconcileFeeds ReconcileFeedsOf(const Config& config,
                                const std::vector<ScheduledFeed>& live,
                                Sink* sink, SideFeedStore* store,
                                std::vector<Observer*> observers,
                                Clock* clock) {
  ReconcileFeeds out;
  for (size_t i = 0; i < config.endpoints.size() && i < live.size(); ++i) {
    const EndpointConfig& ec = config.endpoints[i];
    if (!ec.reconcile_every) continue;
    ReconcilePolicy policy;
    policy.min_seen_fraction = ec.reconcile_min_seen_percent / 100.0;
    ScheduledFeed f;
    f.feed = std::make_shared<ReconcileFeed>(live[i].feed, live[i].start);
    auto adapter = std::make_unique<ReconcileSink>(
        sink, store, live[i].feed->endpoint(), policy, observers, clock);
    f.interval = *ec.reconcile_every;
    f.start = live[i].start;
    f.restart_rejected_cursor = true;  // a new pass from the start
    f.sink = adapter.get();
    f.background = true;
    f.label = ReconcileLabel(ec.endpoint.name);
    out.sinks.push_back(std::move(adapter));
    out.feeds.push_back(std::move(f));
  }
  return out;
}

}  // namespace stsync

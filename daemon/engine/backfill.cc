#include "engine/backfill.h"

#include "base/timestamp.h"
#include "model/sink_decorator.h"

namespace stsync {
namespace {

// Writes rows only: the live feed's cursor and state stay as they are, and
// the feed always starts at its configured start (the range's).
class RowsOnlySink : public SinkDecorator {
 public:
  RowsOnlySink(Sink* sink, SideFeedStore* store)
      : SinkDecorator(sink), store_(store) {}

  Result<ApplyStats> Apply(const Endpoint& e, const Batch& batch) override {
    return store_->ApplyRows(e, batch);
  }
  // A split backfill's ranges live in the scheduler only: an interrupted
  // backfill is run again whole.
  Result<ApplyStats> ApplySplit(const Endpoint& e, const Batch& batch,
                                const SplitChange&) override {
    return store_->ApplyRows(e, batch);
  }
  Result<std::optional<FeedState>> Load(const std::string&) override {
    return std::optional<FeedState>();
  }
  Status RecordFailure(const std::string&, const std::string&) override {
    return Status::Ok();  // logged; the live feed's state is not ours
  }
  Status ResetCursor(const std::string&,
                     const std::optional<Cursor>&) override {
    return Status::Invalid("a backfill does not move the cursor");
  }

 private:
  SideFeedStore* const store_;
};

// Ends the feed at the first batch that reaches `end` (a normalised
// timestamp, exclusive).
class BoundedFeed : public FeedDecorator {
 public:
  BoundedFeed(std::shared_ptr<const Feed> inner, std::string end)
      : FeedDecorator(std::move(inner)), end_(std::move(end)) {}

  Result<Batch> Read(std::string body, const Cursor& from) const override {
    auto batch = inner().Read(std::move(body), from);
    if (!batch.ok()) return batch;
    for (const Row& row : batch->rows) {
      if (row.version >= end_) batch->caught_up = true;
    }
    return batch;
  }

 private:
  const std::string end_;
};

}  // namespace

Status CheckBackfillRange(const Config& config, const BackfillRange& range) {
  if (!config.FindEndpoint(range.endpoint)) {
    return Status::NotFound("endpoint '" + range.endpoint + "' is not in " +
                            config.file);
  }
  if (!IsCalendarDate(range.from)) {
    return Status::Invalid("--from '" + range.from +
                           "' is not a date (YYYY-MM-DD)");
  }
  if (range.to && !IsCalendarDate(*range.to)) {
    return Status::Invalid("--to '" + *range.to +
                           "' is not a date (YYYY-MM-DD)");
  }
  if (range.to && *range.to <= range.from) {
    return Status::Invalid("--to " + *range.to + " is not after --from " +
                           range.from);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Replicator>> CreateBackfill(const Config& config,
                                                   const BackfillRange& range,
                                                   ReplicatorSeams seams) {
  Status valid = CheckBackfillRange(config, range);
  if (!valid.ok()) return valid;
  const EndpointConfig* ec = config.FindEndpoint(range.endpoint);
  std::string end;
  if (range.to) end = *NormalizeTimestamp(*range.to);
  Config one = config;
  one.endpoints = {*ec};
  one.endpoints[0].start_from = range.from;
  one.endpoints[0].reconcile_every.reset();  // a backfill only backfills
  seams.wrap_sink = [](Sink* sink, SideFeedStore* store) {
    return std::make_unique<RowsOnlySink>(sink, store);
  };
  if (!end.empty()) {
    seams.adjust_feed = [end, until = *range.to](ScheduledFeed& f) {
      f.feed = std::make_shared<BoundedFeed>(std::move(f.feed), end);
      f.split_until = until;
    };
  }
  return Replicator::Create(one, std::move(seams));
}

}  // namespace stsync

// SinkDecorator: a Sink that forwards every call to another (its target),
// so that an adapter overrides only what it changes (LevelDB's EnvWrapper).
// The backfill's and the reconciliation's adapters are SinkDecorators.
//
// Ownership: the target is borrowed and must outlive the decorator.
// Thread safety: as the target's.
#ifndef STSYNC_MODEL_SINK_DECORATOR_H_
#define STSYNC_MODEL_SINK_DECORATOR_H_

#include "model/sink.h"

namespace stsync {

class SinkDecorator : public Sink {
 public:
  explicit SinkDecorator(Sink* target) : target_(target) {}

  Status Prepare(const Endpoint& e) override { return target_->Prepare(e); }
  Result<ApplyStats> Apply(const Endpoint& e, const Batch& batch) override {
    return target_->Apply(e, batch);
  }
  Result<ApplyStats> ApplySplit(const Endpoint& e, const Batch& batch,
                                const SplitChange& change) override {
    return target_->ApplySplit(e, batch, change);
  }
  Result<std::optional<FeedState>> Load(const std::string& endpoint) override {
    return target_->Load(endpoint);
  }
  Result<std::optional<std::string>> NewestVersion(const Endpoint& e) override {
    return target_->NewestVersion(e);
  }
  Result<std::vector<FeedState>> LoadAll() override {
    return target_->LoadAll();
  }
  Status RecordFailure(const std::string& endpoint,
                       const std::string& message) override {
    return target_->RecordFailure(endpoint, message);
  }
  void Idle() override { target_->Idle(); }
  void Quiet() override { target_->Quiet(); }
  Status ResetCursor(const std::string& endpoint,
                     const std::optional<Cursor>& to) override {
    return target_->ResetCursor(endpoint, to);
  }

 protected:
  Sink* target() const { return target_; }

 private:
  Sink* const target_;
};

}  // namespace stsync

#endif  // STSYNC_MODEL_SINK_DECORATOR_H_

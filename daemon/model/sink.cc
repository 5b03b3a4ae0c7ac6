#include "model/sink.h"

namespace stsync {
namespace {

Status CannotReconcile() {
  return Status::Invalid("this sink cannot reconcile hard deletes");
}

}  // namespace

Result<std::optional<ReconcileState>> Sink::LoadReconcile(const std::string&) {
  return CannotReconcile();
}

Result<std::vector<ReconcileState>> Sink::LoadAllReconciles() {
  return std::vector<ReconcileState>();
}

Result<ReconcileStats> Sink::ApplyReconcile(const Endpoint&, const Batch&,
                                            const ReconcilePolicy&) {
  return CannotReconcile();
}

Status Sink::RecordReconcileFailure(const std::string&, const std::string&) {
  return CannotReconcile();
}

Status Sink::RestartReconcile(const std::string&) { return CannotReconcile(); }

Result<std::optional<std::string>> Sink::FirstStoredAt(const Endpoint&) {
  return CannotReconcile();
}

}  // namespace stsync

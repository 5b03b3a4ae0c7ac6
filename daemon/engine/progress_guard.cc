#include "engine/progress_guard.h"

#include <functional>
#include <string_view>

namespace stsync {
namespace {

uint64_t PositionHash(const Batch& batch) {
  return std::hash<std::string>()(batch.next.value());
}

// Of the records' bytes, in order; 0 for a page without records.
uint64_t PageHash(const Batch& batch) {
  uint64_t h = 0;
  for (const Row& row : batch.rows) {
    h = h * 1000003 ^ std::hash<std::string_view>()(batch.Data(row));
  }
  return h;
}

}  // namespace

Status ProgressGuard::Check(const Batch& batch) const {
  if (batch.caught_up) return Status::Ok();
  if (positions_.count(PositionHash(batch))) {
    return Status::BadResponse(
        "the server leads the feed in a circle: hasMore=true with a position "
        "already passed in this drain; nothing of the page is stored");
  }
  if (!batch.rows.empty() && pages_.count(PageHash(batch))) {
    return Status::BadResponse(
        "the server serves a page already stored in this drain again under a "
        "new position (hasMore=true); nothing of the page is stored");
  }
  if (batch.rows.empty() && empty_in_a_row_ + 1 >= kMaxEmptyPages) {
    return Status::BadResponse("the server answered " +
                               std::to_string(kMaxEmptyPages) +
                               " empty pages in a row with hasMore=true");
  }
  return Status::Ok();
}

void ProgressGuard::Applied(const Batch& batch) {
  if (batch.caught_up) {
    positions_.clear();
    pages_.clear();
    empty_in_a_row_ = 0;
    return;
  }
  positions_.insert(PositionHash(batch));
  if (batch.rows.empty()) {
    ++empty_in_a_row_;
  } else {
    empty_in_a_row_ = 0;
    pages_.insert(PageHash(batch));
  }
}

}  // namespace stsync

// ProgressGuard: ends a feed's attempt when the server leads it in circles.
//
// A feed pages on while the server says hasMore=true. A server that
// answers positions A -> B -> A ..., or serves the same page again under a
// fresh position, or sends empty pages for ever, would keep `once` running
// and `run` polling flat out. Within one drain (from one caught-up batch to
// the next), the guard refuses a batch that
//  - leads to a position the drain has already passed, or
//  - holds exactly the records of a page the drain has already applied, or
//  - is the kMaxEmptyPages-th empty page in a row with hasMore=true.
// The caller fails the attempt with the error instead of applying the
// batch (nothing of it is stored), and retries with backoff as usual.
//
// Memory: 8 bytes per position and per page of the drain (a drain of 10^7
// records in pages of 500 holds 320 KB), freed when the feed catches up.
//
// Thread safety: one guard per feed, used by the scheduler's thread.
#ifndef STSYNC_ENGINE_PROGRESS_GUARD_H_
#define STSYNC_ENGINE_PROGRESS_GUARD_H_

#include <cstdint>
#include <unordered_set>

#include "base/status.h"
#include "model/batch.h"

namespace stsync {

class ProgressGuard {
 public:
  static constexpr int kMaxEmptyPages = 100;

  // kBadResponse naming the cycle if `batch` must not be applied; Ok if it
  // may. Changes nothing.
  Status Check(const Batch& batch) const;
  // Records `batch` once it was applied; a caught-up batch ends the drain.
  void Applied(const Batch& batch);

 private:
  std::unordered_set<uint64_t> positions_;
  std::unordered_set<uint64_t> pages_;
  int empty_in_a_row_ = 0;
};

}  // namespace stsync

#endif  // STSYNC_ENGINE_PROGRESS_GUARD_H_

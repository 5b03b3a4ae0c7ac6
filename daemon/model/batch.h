// Batch: one response of a feed, read into rows, with where the feed
// resumes after it.
//
// A Batch owns the response body; every Row points into it, so the record's
// JSON reaches the sink exactly as the server sent it. A Batch is only ever
// built whole: a response that fails to read yields an error, never a
// partial Batch.
#ifndef STSYNC_MODEL_BATCH_H_
#define STSYNC_MODEL_BATCH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/cursor.h"

namespace stsync {

constexpr size_t kMaxKeyFields = 4;

struct Row {
  std::array<int64_t, kMaxKeyFields> key{};  // first key_fields.size() used
  bool has_parent = false;
  int64_t parent = 0;        // Endpoint::parent_field, if has_parent
  std::string version;       // normalised timestamp, "" if the record has none
  int active = -1;           // 1, 0, or -1 for absent/null
  uint32_t data_offset = 0;  // the record's bytes: Batch::body.substr(...)
  uint32_t data_size = 0;
};

// A record that cannot be stored as a queryable row (its key missing or
// null, its version unreadable, nested deeper than SQLite's JSON functions
// read): quarantined by the sink in the page's transaction, never dropped
// silently and never allowed to block the feed.
struct Reject {
  size_t index = 0;          // its place in the page's `data` array
  std::string reason;        // why, naming the field
  std::string position;      // the feed position the page was asked from
  uint32_t data_offset = 0;  // the record's bytes: Batch::body.substr(...)
  uint32_t data_size = 0;
};

struct Batch {
  std::string body;  // owns the bytes every Row and Reject points into
  std::vector<Row> rows;
  std::vector<Reject> rejects;
  size_t records = 0;  // records received (rows may be more: job-history)
  // Where the feed resumes after this batch; stored with its rows.
  Cursor next;
  // The feed has nothing more for now (an export's hasMore=false): poll
  // again after the endpoint's interval rather than at once.
  bool caught_up = false;

  std::string_view Data(const Row& r) const {
    return std::string_view(body).substr(r.data_offset, r.data_size);
  }
  std::string_view Data(const Reject& r) const {
    return std::string_view(body).substr(r.data_offset, r.data_size);
  }
};

}  // namespace stsync

#endif  // STSYNC_MODEL_BATCH_H_

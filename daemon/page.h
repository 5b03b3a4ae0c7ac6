// Page: one export response, validated and split into rows.
//
// ParsePage is strict: a body that is not a JSON object with `data` (an array
// of objects), `hasMore` (a bool) and `continueFrom` (a non-empty string), or
// any record without its key or with an unreadable version, fails as a whole
// with Status::BadResponse naming the problem. A failed page must not be
// written; nothing in it can be trusted.
#ifndef STSYNC_PAGE_H_
#define STSYNC_PAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog.h"
#include "status.h"

namespace stsync {

constexpr size_t kMaxKeyFields = 4;

struct Row {
  std::array<int64_t, kMaxKeyFields> key{};  // first key_fields.size() used
  bool has_parent = false;
  int64_t parent = 0;        // Endpoint::parent_field, if has_parent
  std::string version;       // normalised timestamp, "" if the record has none
  int active = -1;           // 1, 0, or -1 for absent/null
  uint32_t data_offset = 0;  // the record's bytes: Page::body.substr(...)
  uint32_t data_size = 0;
};

struct Page {
  std::string body;  // owns the bytes every Row points into
  std::vector<Row> rows;
  size_t records = 0;  // records in `data` (rows may be more, for job-history)
  bool has_more = false;
  std::string continue_from;

  std::string_view Data(const Row& r) const {
    return std::string_view(body).substr(r.data_offset, r.data_size);
  }
};

// Parses and validates `body` for `endpoint`.
Result<Page> ParsePage(std::string body, const Endpoint& endpoint);

// The key given to a row whose key field is null, for endpoints with
// fallback_key_fields: a negative 63-bit FNV-1a hash of `identity` (the
// fallback fields' values, joined by the caller). Never 0, never positive.
int64_t FallbackKey(std::string_view identity);

}  // namespace stsync

#endif  // STSYNC_PAGE_H_

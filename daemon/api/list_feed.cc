#include "api/list_feed.h"

#include <algorithm>
#include <charconv>

#include "api/page_parser.h"
#include "base/timestamp.h"

namespace stsync {
namespace {

// The position texts, fields separated by '|':
//   "list|pass|<since>|<page>|<newest>|<started>"  within a pass
//   "list|done|<mark>"                             after a pass
// <since> is the pass's modifiedOnOrAfter ("" for none), <newest> the
// newest version seen so far ("" for none), <started> when the pass began
// (local time), <mark> where the next pass starts before; all normalised
// timestamps.
constexpr char kSep = '|';

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == kSep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool IsTimestampOrEmpty(const std::string& s) {
  return s.empty() || ParseNormalizedTimestamp(s).has_value();
}

}  // namespace

struct ListFeed::Pass {
  std::string since;    // modifiedOnOrAfter, "" for none
  int64_t page = 1;     // 1-based
  std::string newest;   // high-water mark so far, "" if none
  std::string started;  // "" until the pass's first page is read
};

ListFeed::ListFeed(Endpoint endpoint, std::string tenant, Millis overlap,
                   int page_size, Clock* clock)
    : endpoint_(std::move(endpoint)),
      tenant_(std::move(tenant)),
      overlap_(overlap),
      page_size_(std::min(page_size, endpoint_.max_page_size)),
      clock_(clock) {}

bool ListFeed::PagesByKey() const {
  return endpoint_.modified_filter && endpoint_.order != ListOrder::kDefault;
}

ListFeed::Pass ListFeed::PassAt(const Cursor& from) const {
  Pass pass;
  if (from.kind() == Cursor::Kind::kDate) {
    pass.since = NormalizeTimestamp(from.value()).value_or("");
    return pass;
  }
  if (from.kind() != Cursor::Kind::kPosition) return pass;
  const std::vector<std::string> f = Split(from.value());
  if (f.size() == 6 && f[0] == "list" && f[1] == "pass" &&
      IsTimestampOrEmpty(f[2]) && IsTimestampOrEmpty(f[4]) &&
      IsTimestampOrEmpty(f[5])) {
    int64_t page = 0;
    auto [end, ec] =
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), page);
    if (ec == std::errc() && end == f[3].data() + f[3].size() && page >= 1) {
      return Pass{f[2], page, f[4], f[5]};
    }
  } else if (f.size() == 3 && f[0] == "list" && f[1] == "done" &&
             IsTimestampOrEmpty(f[2])) {
    // A new pass, from the high-water mark less the overlap.
    pass.newest = f[2];
    if (auto newest = ParseNormalizedTimestamp(f[2])) {
      pass.since = FormatTimestamp(*newest - overlap_);
    }
  }
  return pass;  // unreadable: from the first record
}

FeedRequest ListFeed::Request(const Cursor& from) const {
  const Pass pass = PassAt(from);
  FeedRequest r;
  r.path = endpoint_.PathFor(tenant_);
  r.params = endpoint_.params;
  r.params.emplace_back("page", std::to_string(pass.page));
  r.params.emplace_back("pageSize", std::to_string(page_size_));
  if (endpoint_.modified_filter && !pass.since.empty()) {
    r.params.emplace_back("modifiedOnOrAfter", pass.since);
  }
  switch (endpoint_.order) {
    case ListOrder::kSortParam:
      r.params.emplace_back("sort", "+ModifiedOn");
      break;
    case ListOrder::kOrderBy:
      r.params.emplace_back("orderBy", "modifiedOn");
      r.params.emplace_back("orderByDirection", "asc");
      break;
    case ListOrder::kDefault:
      break;
  }
  return r;
}

Result<Batch> ListFeed::Read(std::string body, const Cursor& from) const {
  std::optional<int64_t> echoed;
  auto batch = ParseListPage(std::move(body), endpoint_, &echoed);
  if (!batch.ok()) return batch;
  for (Reject& r : batch->rejects) r.position = from.value();
  Pass pass = PassAt(from);
  if (echoed && *echoed != pass.page) {
    // Paging on would never reach the end the server claims to have.
    return Status::BadResponse(
        "the server answered page " + std::to_string(*echoed) +
        " to a request for page " + std::to_string(pass.page));
  }
  if (!batch->caught_up && batch->rows.empty()) {
    // Paging on would ask for ever more empty pages.
    return Status::BadResponse(
        "the server answered hasMore=true with no "
        "records");
  }
  if (pass.started.empty()) pass.started = FormatTimestamp(clock_->WallNow());
  // The newest version of the page, and whether the page came in ascending
  // version order (so that nothing older than its newest is still to come).
  std::string page_newest;
  bool ascending = true;
  for (const Row& row : batch->rows) {
    if (row.version < page_newest) ascending = false;
    if (row.version > page_newest) page_newest = row.version;
  }
  const std::string newest = std::max(pass.newest, page_newest);
  std::string next;
  if (batch->caught_up) {
    // Paged by offset, a pass misses changes to pages it has read; they
    // are newer than its start, so the next pass starts no later.
    std::string mark = newest;
    if (!PagesByKey() && !mark.empty()) mark = std::min(mark, pass.started);
    next = std::string("list") + kSep + "done" + kSep + mark;
  } else {
    Pass after{pass.since, pass.page + 1, newest, pass.started};
    if (PagesByKey() && ascending && page_newest > pass.since) {
      after.since = page_newest;
      after.page = 1;
    }
    next = std::string("list") + kSep + "pass" + kSep + after.since + kSep +
           std::to_string(after.page) + kSep + after.newest + kSep +
           after.started;
  }
  batch->next = Cursor::Position(next);
  return batch;
}

}  // namespace stsync

// ListFeed: a regular list endpoint (page and pageSize) as a Feed, for the
// entities that have no Data Export endpoint.
//
// A feed is read in passes. A pass asks for the records modified on or
// after a time (modifiedOnOrAfter; every record if the endpoint has no such
// filter, or on the first pass), page by page with the largest pageSize the
// endpoint takes, until hasMore is false. Then the feed is caught up, and
// the next pass starts from the newest version seen (the high-water mark)
// less `overlap`, because the API's clock and the records' timestamps are
// not exact; the records served again are absorbed by the sink.
//
// Offset paging skips records when the result shifts under it: with the
// records in modification order, a record changed during a pass moves to
// the end, and every record behind it moves up one place, so the first
// record of the next page slips onto a page already read. Where the
// endpoint can sort by modification time, the feed therefore pages by key:
// after a page in ascending version order, the next request asks for the
// records modified on or after the page's newest version, from page 1. Only
// records sharing one timestamp across more than a page are paged by
// offset. Endpoints that cannot sort are paged by offset within a pass
// (their default order, by id, does not move a changed record); a record
// changed on a page the pass has read comes with the next pass, which
// therefore starts no later than this pass began (by the Clock, less the
// overlap). Endpoints without modifiedOnOrAfter are read in full each pass.
//
// The Cursor of a list feed is a position only this class reads: the pass's
// filter, its page and the high-water mark so far, or the high-water mark
// of a finished pass. It is stored with each page's rows, so a crash
// resumes mid-pass at the page after the last one stored. A position this
// class cannot read (one an export wrote, say) restarts from the first
// record, which skips nothing.
//
// Thread safety: immutable after construction; see model/feed.h.
#ifndef STSYNC_API_LIST_FEED_H_
#define STSYNC_API_LIST_FEED_H_

#include <string>

#include "base/clock.h"
#include "model/feed.h"

namespace stsync {

class ListFeed : public Feed {
 public:
  // `tenant` replaces {tenant} in the endpoint's path; `overlap` is how far
  // before the high-water mark a pass starts; `page_size` is the pageSize
  // asked for (at most endpoint.max_page_size). `clock` (borrowed, must
  // outlive this) dates the start of a pass.
  ListFeed(Endpoint endpoint, std::string tenant, Millis overlap, int page_size,
           Clock* clock);

  const Endpoint& endpoint() const override { return endpoint_; }
  FeedRequest Request(const Cursor& from) const override;
  Result<Batch> Read(std::string body, const Cursor& from) const override;

 private:
  struct Pass;
  Pass PassAt(const Cursor& from) const;
  // Whether pages are followed by modifiedOnOrAfter (else by page number).
  bool PagesByKey() const;

  const Endpoint endpoint_;
  const std::string tenant_;
  const Millis overlap_;
  const int page_size_;
  Clock* const clock_;
};

}  // namespace stsync

#endif  // STSYNC_API_LIST_FEED_H_

// ExportFeed: a Data Export endpoint as a Feed.
//
// The request is GET {path}?{params}&from={cursor}[&includeRecentChanges=
// true]; the body is the export envelope (api/page_parser.h). A page that
// says hasMore=true but hands back the position it was asked for would be
// fetched forever, so Read refuses it (kBadResponse).
//
// Thread safety: immutable after construction; see model/feed.h.
#ifndef STSYNC_API_EXPORT_FEED_H_
#define STSYNC_API_EXPORT_FEED_H_

#include <string>

#include "model/feed.h"

namespace stsync {

class ExportFeed : public Feed {
 public:
  // `tenant` replaces {tenant} in the endpoint's path.
  ExportFeed(Endpoint endpoint, std::string tenant,
             bool include_recent_changes);

  const Endpoint& endpoint() const override { return endpoint_; }
  FeedRequest Request(const Cursor& from) const override;
  Result<Batch> Read(std::string body, const Cursor& from) const override;

 private:
  const Endpoint endpoint_;
  const std::string tenant_;
  const bool include_recent_changes_;
};

}  // namespace stsync

#endif  // STSYNC_API_EXPORT_FEED_H_

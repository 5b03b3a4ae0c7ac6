#include "api/export_feed.h"

#include "api/page_parser.h"

namespace stsync {

ExportFeed::ExportFeed(Endpoint endpoint, std::string tenant,
                       bool include_recent_changes)
    : endpoint_(std::move(endpoint)),
      tenant_(std::move(tenant)),
      include_recent_changes_(include_recent_changes) {}

FeedRequest ExportFeed::Request(const Cursor& from) const {
  FeedRequest r;
  r.path = endpoint_.PathFor(tenant_);
  r.params = endpoint_.params;
  if (!from.at_start()) r.params.emplace_back("from", from.value());
  if (include_recent_changes_) {
    r.params.emplace_back("includeRecentChanges", "true");
  }
  return r;
}

Result<Batch> ExportFeed::Read(std::string body, const Cursor& from) const {
  auto batch = ParseExportPage(std::move(body), endpoint_);
  if (!batch.ok()) return batch;
  for (Reject& r : batch->rejects) r.position = from.value();
  // hasMore=true with the position we sent would fetch the same page forever.
  if (!batch->caught_up && !from.at_start() &&
      batch->next.value() == from.value()) {
    return Status::BadResponse(
        "the server answered hasMore=true without advancing continueFrom");
  }
  return batch;
}

}  // namespace stsync

// Feed: one endpoint's stream of records, as a request/response protocol.
//
// A Feed knows how to ask for the batch that follows a Cursor and how to
// read the answer into rows, the next Cursor and a caught-up flag. It makes
// no call itself: the caller (api/api_client.h) adds the host,
// authentication, pacing and HTTP error handling, so every kind of feed
// (ExportFeed, ListFeed) shares them.
//
// Errors: Read returns kBadResponse for a body that is not a usable batch,
// including one that would not move the feed forward (the same position
// again with more to come), which would otherwise loop forever. Nothing of
// a failed batch may be stored.
//
// Thread safety: Request and Read are const and may be called from several
// threads at once.
#ifndef STSYNC_MODEL_FEED_H_
#define STSYNC_MODEL_FEED_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/batch.h"
#include "model/cursor.h"
#include "model/endpoint.h"

namespace stsync {

struct FeedRequest {
  std::string path;  // below the API host, tenant filled in
  std::vector<std::pair<std::string, std::string>> params;  // query
};

class Feed {
 public:
  virtual ~Feed() = default;

  // The endpoint this feed fills.
  virtual const Endpoint& endpoint() const = 0;

  // The GET request for the batch that follows `from`.
  virtual FeedRequest Request(const Cursor& from) const = 0;

  // Reads the body of a 200 answer to Request(from).
  virtual Result<Batch> Read(std::string body, const Cursor& from) const = 0;
};

// A Feed that changes how another's answers are read (a backfill's end, a
// reconciliation's restart): the endpoint and requests are the inner feed's;
// a subclass overrides Read and calls inner().Read.
class FeedDecorator : public Feed {
 public:
  explicit FeedDecorator(std::shared_ptr<const Feed> inner)
      : inner_(std::move(inner)) {}

  const Endpoint& endpoint() const override { return inner_->endpoint(); }
  FeedRequest Request(const Cursor& from) const override {
    return inner_->Request(from);
  }

 protected:
  const Feed& inner() const { return *inner_; }

 private:
  const std::shared_ptr<const Feed> inner_;
};

}  // namespace stsync

#endif  // STSYNC_MODEL_FEED_H_

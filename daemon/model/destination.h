// Destination: a database stsync replicates a tenant into, as the commands
// open it: the live feeds' Sink and the side feeds' SideFeedStore in one,
// plus what `status` reads. Where it is, fit for logs, comes from the
// config (DescribeDestination). SqliteSink and PgSink are the two
// (sink/open_destination.h picks one from the config).
//
// Errors and thread safety: as Sink's.
#ifndef STSYNC_MODEL_DESTINATION_H_
#define STSYNC_MODEL_DESTINATION_H_

#include <optional>
#include <string>

#include "model/side_feed_store.h"
#include "model/sink.h"

namespace stsync {

class Destination : public Sink, public SideFeedStore {
 public:
  // The smallest version (modified_on) among the endpoint's rows, or
  // nullopt if it has none with a version (NewestVersion's counterpart;
  // `status` shows how far a first sync has got).
  virtual Result<std::optional<std::string>> OldestVersion(
      const Endpoint& endpoint) = 0;
  // Called while no page is written for a while (at least every third of a
  // lease): renews what the destination holds (a PostgreSQL lease). kFenced
  // if it was lost: the next write fails the same way. Optional.
  virtual Status KeepAlive() { return Status::Ok(); }
  // Which process writes it, for `status` ("" when there is nothing to
  // say, as for a file, whose lock tells).
  virtual Result<std::string> WrittenBy() { return std::string(); }
};

}  // namespace stsync

#endif  // STSYNC_MODEL_DESTINATION_H_

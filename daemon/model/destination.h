// Destination: a database stsync replicates a tenant into, as the commands
// open it: the live feeds' Sink and the side feeds' SideFeedStore in one,
// plus what `status` reads. Where it is, fit for logs, comes from the
// config (DescribeDestination). SqliteSink and PgSink are the two
// (sink/open_destination.h picks one from the config).
//
// Errors and thread safety: as Sink's.
#ifndef STSYNC_MODEL_DESTINATION_H_
#define STSYNC_MODEL_DESTINATION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"
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
  // How often KeepAlive must be called while no page is written (a third
  // of a PostgreSQL lease); 0: it need not be.
  virtual Millis keep_alive_every() const { return Millis(0); }
  // Renews what the destination holds (a PostgreSQL lease) if no page or
  // earlier call did within keep_alive_every; cheap otherwise. kFenced if it
  // was lost (taken over, expired, or given up to a peer holding fewer
  // tenants): every write fails the same way until Prepare takes it back,
  // and a feed's state Loaded before then must be Loaded again. Optional.
  virtual Status KeepAlive() { return Status::Ok(); }
  // The bytes the tenant's data takes, for the metrics, where they cannot
  // read a file's size themselves (a PostgreSQL schema: its tables, indexes
  // and TOAST); nullopt when unknown. Called between pages.
  virtual std::optional<int64_t> SizeBytes() { return std::nullopt; }

  // Which process writes it, for `status` and `health`.
  struct Writer {
    bool live = false;        // a process holds it now
    std::string description;  // "" when there is nothing to say (a file,
                              // whose lock tells)
  };
  virtual Result<Writer> WrittenBy() { return Writer{}; }
};

}  // namespace stsync

#endif  // STSYNC_MODEL_DESTINATION_H_

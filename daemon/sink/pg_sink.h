// PgSink: a tenant's replica in a PostgreSQL schema (pg_schema.h), for
// users past one machine: BI tools elsewhere, many tenants, a warehouse they
// already run. The same contract as SqliteSink (model/sink.h,
// model/side_feed_store.h), which the shared contract tests hold both to.
//
// A page is one transaction: its rows go in one statement, each column
// bound as one array (PgArray) and read back through unnest. Only the row
// the page would leave goes, per key (the newest version; on a tie the later
// position). The statement skips rows whose stored version and bytes would
// not change before writing, so that a page applied again writes next to
// nothing, and upserts the rest by the rule of SqliteSink: a newer version
// wins, the same version with other bytes replaces, an older never does, a
// row marked deleted that comes back is cleared. The cursor follows in the
// same transaction.
//
// Errors: kBusy for what retrying may get past (the server unreachable or
// restarting, a lost connection: the next call reconnects); kInvalid when
// the schema holds another tenant's data, or for misuse; kIo for the rest.
// On any error of a write nothing of it was stored. Messages never hold the
// URL's password.
//
// Thread safety: one thread at a time.
#ifndef STSYNC_SINK_PG_SINK_H_
#define STSYNC_SINK_PG_SINK_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/stop_signal.h"
#include "model/destination.h"
#include "sink/pg_array.h"
#include "sink/pg_connection.h"
#include "sink/pg_lease.h"

namespace stsync {

struct PgSinkOptions {
  std::string schema;      // the tenant's schema, created if missing
  bool read_only = false;  // never creates or migrates (status, health)
  // Whose data the schema holds: recorded on first use, and a schema
  // recorded for another is refused (kInvalid). Empty: not checked.
  std::string tenant;
  std::string environment;
  // Shared tenants (sink/pg_lease.h): the schema is written only under its
  // lease, taken at the first use and checked in every write transaction.
  // Nullopt: no lease (tests, status).
  std::optional<LeaseTerms> lease;
  // When another daemon holds the lease: wait for it (`run`), or fail with
  // kBusy naming the holder (`once`, `reset`).
  bool wait_for_lease = false;
  // Ends that wait (kCancelled). Borrowed; may be null.
  StopSignal* stop = nullptr;
  // Told when the lease is taken, waited for or lost. May be empty.
  std::function<void(const std::string&)> notice;
  // Called at every step of that wait (a watchdog's beat). May be empty.
  std::function<void()> while_waiting;
};

class PgSink : public Destination {
 public:
  // Connects to `url` and, unless read_only, creates and migrates the
  // schema; with a lease and not wait_for_lease, takes it (kBusy naming the
  // holder if another daemon has it). A read-only open of a schema that
  // does not exist is kNotFound.
  // `clock` must outlive the sink.
  static Result<std::unique_ptr<PgSink>> Open(const std::string& url,
                                              const PgSinkOptions& options,
                                              Clock* clock);
  ~PgSink() override;

  // Sink.
  Status Prepare(const Endpoint& endpoint) override;
  Result<ApplyStats> Apply(const Endpoint& endpoint,
                           const Batch& batch) override;
  Result<ApplyStats> ApplySplit(const Endpoint& endpoint, const Batch& batch,
                                const SplitChange& change) override;
  Result<std::optional<FeedState>> Load(const std::string& endpoint) override;
  Result<std::vector<FeedState>> LoadAll() override;
  Result<std::optional<std::string>> NewestVersion(
      const Endpoint& endpoint) override;
  Status RecordFailure(const std::string& endpoint,
                       const std::string& message) override;
  Status ResetCursor(const std::string& endpoint,
                     const std::optional<Cursor>& to) override;

  // SideFeedStore.
  Result<ApplyStats> ApplyRows(const Endpoint& endpoint,
                               const Batch& batch) override;
  Result<std::optional<ReconcileState>> LoadReconcile(
      const std::string& endpoint) override;
  Result<std::vector<ReconcileState>> LoadAllReconciles() override;
  Result<ReconcileStats> ApplyReconcile(const Endpoint& endpoint,
                                        const Batch& batch,
                                        const ReconcilePolicy& policy) override;
  Status RecordReconcileFailure(const std::string& endpoint,
                                const std::string& message) override;
  Status RestartReconcile(const std::string& endpoint) override;
  Result<std::optional<std::string>> FirstStoredAt(
      const Endpoint& endpoint) override;

  // Destination. KeepAlive renews the lease, if any.
  Result<std::optional<std::string>> OldestVersion(
      const Endpoint& endpoint) override;
  Millis keep_alive_every() const override;
  Status KeepAlive() override;
  Result<Writer> WrittenBy() override;
  std::optional<int64_t> SizeBytes() override;

  int schema_version() const { return schema_version_; }
  // For tests: the connection the sink writes through.
  PgConnection* TEST_connection() { return c_.get(); }

 private:
  PgSink(std::unique_ptr<PgConnection> c, PgSinkOptions options, Clock* clock);
  // Apply, ApplySplit and ApplyRows (see SqliteSink::ApplyBatch).
  Result<ApplyStats> ApplyBatch(const Endpoint& e, const Batch& batch,
                                const Cursor* cursor, const SplitChange* split);
  // Inside a transaction: the batch's rejects and rows; with `seen`, also
  // notes each key as seen by the reconciliation pass and adds the keys new
  // to it to *seen.
  Status UpsertRows(const Endpoint& e, const Batch& batch,
                    const std::string& now, ApplyStats& stats, int64_t* seen);
  Status Writable(const Endpoint& e) const;
  // Takes the lease if it is not held (waiting, or kBusy, per the options);
  // Ok at once without one.
  Status Hold();
  // Hold, then begins `tx` and checks the lease as its first statement
  // (kFenced drops it). kFenced at once after a loss: the caller must read
  // its state again, which takes the lease back.
  Status BeginWrite(PgTransaction& tx);
  // kFenced if the state of `key` (see read_at_) was read under an earlier
  // take of the lease than the current one.
  Status ReadUnderThisLease(const std::string& key) const;
  // Every keep_alive_every: gives the tenant up (kFenced) if this daemon
  // holds more than its share while a peer holds fewer (OverShare).
  Status KeepShare();
  // Notes the lease as lost for `why` (kFenced).
  void Lose(const Status& why);
  Result<std::optional<std::string>> VersionBound(const Endpoint& e,
                                                  const char* bound);
  Status RecordFailureIn(const char* table, const std::string& endpoint,
                         const std::string& message);
  std::string Now() const;
  // The schema, quoted, with its dot: every statement names it, since a
  // session's search_path does not survive PgBouncer's transaction pooling.
  const std::string& In() const { return in_; }

  std::unique_ptr<PgConnection> c_;
  const PgSinkOptions options_;
  Clock* const clock_;
  const std::string in_;
  int schema_version_ = 0;
  bool held_ = false;  // the lease, at epoch_
  int64_t epoch_ = 0;
  SteadyTime renewed_{};  // when the lease was last taken or renewed
  SteadyTime weighed_{};  // when KeepShare last asked OverShare
  // Why the lease was lost (taken over, expired, given up); "" while held
  // or never lost. Writes are refused until Prepare or Load takes it back.
  std::string lost_;
  // How many times the lease was taken, and at which of those times each
  // feed's state was read ("reconcile:" + endpoint for a pass's): a state
  // read before a loss may be behind what another daemon wrote since.
  int64_t takes_ = 0;
  std::map<std::string, int64_t> read_at_;
  bool counted_ = false;  // among its daemon's open sinks (open_peers)
  // Each prepared endpoint's upsert statement, by name.
  std::map<std::string, std::string> upserts_;
  // UpsertRows' memory, kept from page to page: the rows each key keeps,
  // and the statement's columns.
  std::vector<uint32_t> winners_;
  struct Columns {
    std::vector<PgArray> keys;
    PgArray parents{PgArray::kInt8}, versions{PgArray::kText},
        actives{PgArray::kBool}, data{PgArray::kText};
  };
  Columns columns_;
};

// "postgresql://user@host/db (schema st_1)": where a PgSink writes, without
// the password.
std::string DescribePgSchema(const std::string& url, const std::string& schema);

}  // namespace stsync

#endif  // STSYNC_SINK_PG_SINK_H_

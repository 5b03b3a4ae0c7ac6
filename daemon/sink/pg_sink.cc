#include "sink/pg_sink.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <thread>

#include "base/timestamp.h"
#include "sink/pg_array.h"
#include "sink/pg_schema.h"
#include "sink/reconcile_table.h"

namespace stsync {
namespace {

// An attempt succeeded: a state table's failure columns, cleared.
constexpr const char* kClearFailure =
    "last_error = NULL, last_error_at = NULL, consecutive_failures = 0";

// `in`: the schema, quoted, with its dot (PgSink::In).
std::string FeedStateQuery(const std::string& in) {
  return "SELECT endpoint, cursor, cursor_updated_at, caught_up_at, "
         "row_count, pages, last_error, last_error_at, consecutive_failures, "
         "(SELECT count(*) FROM " +
         in + "_stsync_rejects r WHERE r.endpoint = c.endpoint) FROM " + in +
         "_stsync_cursors c";
}

std::string ReconcileQuery(const std::string& in) {
  return "SELECT endpoint, cursor, pass_started_at, seen, pages, "
         "last_started_at, last_finished_at, last_seen, last_live, "
         "last_marked, last_outcome, last_error, last_error_at, "
         "consecutive_failures FROM " +
         in + "_stsync_reconcile";
}

constexpr const char* kByName = " ORDER BY endpoint COLLATE \"C\"";

std::optional<Cursor> CursorAt(const PgRows& rows, int row, int col) {
  if (rows.IsNull(row, col)) return std::nullopt;
  return Cursor::FromStored(rows.Text(row, col));
}

PgParam StoredOrNull(const std::optional<Cursor>& c) {
  if (!c) return nullptr;
  if (auto stored = c->ToStored()) return *stored;
  return nullptr;
}

FeedState ReadFeedState(const PgRows& r, int i) {
  FeedState s;
  s.endpoint = r.Text(i, 0);
  s.cursor = CursorAt(r, i, 1);
  s.cursor_updated_at = r.Text(i, 2);
  s.caught_up_at = r.Text(i, 3);
  s.row_count = r.Int(i, 4);
  s.pages = r.Int(i, 5);
  s.last_error = r.Text(i, 6);
  s.last_error_at = r.Text(i, 7);
  s.consecutive_failures = r.Int(i, 8);
  s.rejected = r.Int(i, 9);
  return s;
}

ReconcileState ReadReconcileState(const PgRows& r, int i) {
  ReconcileState s;
  s.endpoint = r.Text(i, 0);
  s.cursor = CursorAt(r, i, 1);
  s.pass_started_at = r.Text(i, 2);
  s.seen = r.Int(i, 3);
  s.pages = r.Int(i, 4);
  s.last_started_at = r.Text(i, 5);
  s.last_finished_at = r.Text(i, 6);
  s.last_seen = r.Int(i, 7);
  s.last_live = r.Int(i, 8);
  s.last_marked = r.Int(i, 9);
  s.last_outcome = r.Text(i, 10);
  s.last_error = r.Text(i, 11);
  s.last_error_at = r.Text(i, 12);
  s.consecutive_failures = r.Int(i, 13);
  return s;
}

// Whether an incoming row (`version`, `data` as text) replaces the stored
// one (`stored_version`, `stored_data`): SqliteSink's rule. A newer version
// wins, a version beats none, and the same version (or none) with other
// bytes replaces.
std::string Replaces(const std::string& version, const std::string& data,
                     const std::string& stored_version,
                     const std::string& stored_data) {
  return "(coalesce(" + version + " > " + stored_version + ", " + version +
         " IS NOT NULL) OR (" + version + " IS NOT DISTINCT FROM " +
         stored_version + " AND " + stored_data + " IS DISTINCT FROM " + data +
         "))";
}

// The statement that upserts a page (see the header): $1 the time, then one
// array per key column, the parent column if any, the versions, the active
// flags and the records' bytes, one element per key (PageWinners). Returns
// the keys inserted, and those updated or revived.
//
// The arrays are unnested in the select list, which reads them in step
// without copying the page into a tuple store, and the stored row is joined
// once: rows that would not change are dropped before the insert, and the
// update checks the rule again, so that a row marked deleted that comes back
// unchanged is only revived.
std::string UpsertSql(const std::string& in, const Endpoint& e) {
  const std::string table = in + PgQuote(e.TableName());
  const std::vector<std::string> keys = e.KeyColumns();
  const std::string parent =
      e.ParentColumn().empty() ? "" : PgQuote(e.ParentColumn());
  std::string input, join, cols, vals, pk;
  int param = 2;
  auto column = [&](const std::string& type, const std::string& name) {
    input += std::string(input.empty() ? "" : ", ") + "unnest($" +
             std::to_string(param++) + "::" + type + "[]) AS " + name;
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string k = "k" + std::to_string(i + 1);
    column("bigint", k);
    join +=
        std::string(i ? " AND " : "") + "o." + PgQuote(keys[i]) + " = i." + k;
    cols += PgQuote(keys[i]) + ", ";
    vals += "i." + k + ", ";
    pk += (i ? ", " : "") + PgQuote(keys[i]);
  }
  std::vector<std::string> replaced = {"modified_on", "active", "data",
                                       "synced_at"};
  if (!parent.empty()) {
    column("bigint", "parent");
    cols += parent + ", ";
    vals += "i.parent, ";
    replaced.push_back(parent);
  }
  column("text", "version");
  column("boolean", "active");
  column("text", "data");
  const std::string replaces_stored =
      Replaces("EXCLUDED.modified_on", "EXCLUDED.data::text", "t.modified_on",
               "t.data::text");
  std::string set;
  for (const std::string& c : replaced) {
    set += c + " = CASE WHEN " + replaces_stored + " THEN EXCLUDED." + c +
           " ELSE t." + c + " END, ";
  }
  return "WITH up AS (INSERT INTO " + table + " AS t (" + cols +
         "modified_on, active, data, first_seen_at, synced_at) SELECT " + vals +
         "i.version, i.active, i.data::json, $1, $1 FROM (SELECT " + input +
         ") i LEFT JOIN " + table + " o ON " + join + " WHERE o." +
         PgQuote(keys[0]) + " IS NULL OR o.deleted_at IS NOT NULL OR " +
         Replaces("i.version COLLATE \"C\"", "i.data", "o.modified_on",
                  "o.data::text") +
         " ON CONFLICT (" + pk + ") DO UPDATE SET " + set +
         "deleted_at = NULL RETURNING (t.xmax = 0) AS inserted) SELECT "
         "count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT "
         "inserted) FROM up";
}

// What a writer's transactions set (PgConnection::set_transaction_settings).
std::string WriterSettings(const PgSinkOptions& options) {
  // A page's columns are parameters. A custom plan, PostgreSQL's choice for
  // an unnamed statement, folds them into the plan as constants and copies
  // those megabytes several times while planning: a fifth of the server's
  // time in a backfill. The generic plan reads them where they were bound.
  std::string sql = "SET LOCAL plan_cache_mode = force_generic_plan";
  if (options.lease) {
    // A daemon paused inside a transaction (SIGSTOP, a partition) holds its
    // locks until the server ends its session: after half a lease, so that
    // a takeover is never held up for long.
    sql +=
        "; SET LOCAL idle_in_transaction_session_timeout = " +
        std::to_string(std::max<int64_t>(1, options.lease->lease.count() / 2));
  }
  return sql;
}

// The rows of `batch` that a page leaves, in page order, one per key: the
// newest version (a version beats none), the later row among equals. So
// SqliteSink, applying the rows one by one, ends; the statement then needs
// no sort of its own.
void PageWinners(const Batch& batch, size_t key_count,
                 std::vector<uint32_t>& out) {
  const std::vector<Row>& rows = batch.rows;
  out.resize(rows.size());
  for (uint32_t i = 0; i < out.size(); ++i) out[i] = i;
  auto same_key = [&](uint32_t a, uint32_t b) {
    return std::equal(rows[a].key.begin(), rows[a].key.begin() + key_count,
                      rows[b].key.begin());
  };
  // By key, the winner of each first.
  std::sort(out.begin(), out.end(), [&](uint32_t a, uint32_t b) {
    const Row& x = rows[a];
    const Row& y = rows[b];
    for (size_t k = 0; k < key_count; ++k) {
      if (x.key[k] != y.key[k]) return x.key[k] < y.key[k];
    }
    if (x.version.empty() != y.version.empty()) return y.version.empty();
    if (x.version != y.version) return x.version > y.version;
    return a > b;
  });
  out.erase(std::unique(out.begin(), out.end(), same_key), out.end());
  std::sort(out.begin(), out.end());
}

// The key columns `e` lacks (up to four) as SQL "0" constants for the
// keys-seen table.
std::string SeenSql(const std::string& in, size_t key_count) {
  std::string arrays, names, cols;
  for (size_t i = 0; i < key_count; ++i) {
    arrays += (i ? ", " : "") + std::string("$") + std::to_string(i + 2) +
              "::bigint[]";
    names += (i ? ", " : "") + std::string("k") + std::to_string(i + 1);
  }
  for (size_t i = 0; i < kMaxKeyFields; ++i) {
    cols += ", " + (i < key_count ? "k" + std::to_string(i + 1) : "0");
  }
  return "INSERT INTO " + in +
         "_stsync_seen (endpoint, k1, k2, k3, k4) SELECT $1" + cols +
         " FROM unnest(" + arrays + ") AS s(" + names +
         ") ON CONFLICT DO NOTHING";
}

// Daemons started together note themselves when they open their first
// schema, then wait a moment before taking tenants, so that each counts the
// others in its share: a quarter of a lease, at most 2 s, from that note.
std::mutex started_mu;
std::optional<std::chrono::steady_clock::time_point> settled_at;

Status NoteStarted(PgConnection* c, const LeaseTerms& terms) {
  std::lock_guard<std::mutex> lock(started_mu);
  if (settled_at) return Status::Ok();
  Status s = NoteDaemon(c, terms);
  if (s.ok()) {
    settled_at = std::chrono::steady_clock::now() +
                 std::min<Millis>(terms.lease / 4, std::chrono::seconds(2));
  }
  return s;
}

std::chrono::steady_clock::time_point SettledAt() {
  std::lock_guard<std::mutex> lock(started_mu);
  return settled_at.value_or(std::chrono::steady_clock::time_point{});
}

// Each daemon's open sinks in this process (a test opens several
// daemons'): the last to close takes its daemon out of stsync.daemons, so
// that peers count it out of their shares at once.
std::mutex peers_mu;
std::map<std::string, int> open_peers;

// Runs a statement whose rows are of no interest.
Status RunOnly(PgConnection* c, const std::string& sql,
               const std::vector<PgParam>& params, const std::string& what) {
  auto rows = c->Run(sql, params, what);
  return rows.ok() ? Status::Ok() : rows.status();
}

}  // namespace

PgSink::PgSink(std::unique_ptr<PgConnection> c, PgSinkOptions options,
               Clock* clock)
    : c_(std::move(c)),
      options_(std::move(options)),
      clock_(clock),
      in_(PgQuote(options_.schema) + ".") {}

PgSink::~PgSink() {
  // A clean stop hands the tenant over at once, not after the lease.
  if (held_)
    (void)ReleaseLease(c_.get(), options_.schema, *options_.lease, epoch_);
  if (!counted_) return;
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(peers_mu);
    last = --open_peers[options_.lease->owner] == 0;
    if (last) open_peers.erase(options_.lease->owner);
  }
  if (last) (void)ForgetDaemon(c_.get(), *options_.lease);
}

Status PgSink::Hold() {
  if (!options_.lease || held_ || options_.read_only) return Status::Ok();
  const LeaseTerms& terms = *options_.lease;
  // Waits until `t` (true: stopped), beating the watchdog.
  auto wait = [&](std::chrono::steady_clock::time_point t) {
    if (options_.while_waiting) options_.while_waiting();
    if (options_.stop) return !options_.stop->WaitUntil(t);
    std::this_thread::sleep_until(t);
    return false;
  };
  const auto settled = SettledAt();
  while (options_.wait_for_lease &&
         std::chrono::steady_clock::now() < settled) {
    if (wait(std::min(settled, std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(500)))) {
      return Status::Cancelled();
    }
  }
  bool told = false;
  for (;;) {
    LeaseHolder holder;
    auto taken = TryAcquireLease(c_.get(), options_.schema, terms, &holder);
    if (!taken.ok() && (!options_.wait_for_lease ||
                        taken.status().code() != Status::Code::kBusy)) {
      return taken.status();
    }
    if (taken.ok() && *taken) {
      held_ = true;
      epoch_ = **taken;
      renewed_ = weighed_ = clock_->Now();
      lost_.clear();
      ++takes_;
      if (options_.notice) {
        options_.notice("took the lease of schema " + options_.schema +
                        " (epoch " + std::to_string(epoch_) + ")");
      }
      return Status::Ok();
    }
    // Not taken; or the server is away, or a peer holds a lock too long.
    const std::string why =
        !taken.ok()   ? "cannot be taken now (" + taken.status().message() + ")"
        : holder.live ? "is held by daemon " + holder.owner + " (renewed at " +
                            holder.heartbeat_at + ")"
                      : "is free, but this daemon holds its share of tenants";
    if (!options_.wait_for_lease) {
      return Status::Busy("schema " + options_.schema + " " + why +
                          "; stop that daemon, or wait for its lease "
                          "(database.lease) to expire");
    }
    if (!told && options_.notice) {
      options_.notice("schema " + options_.schema + " " + why +
                      "; waiting to take it over");
      told = true;
    }
    // A few tries per lease: a dead holder's tenant is taken within about a
    // lease plus this.
    const auto step = std::max<Millis>(Millis(100), terms.lease / 4);
    if (wait(std::chrono::steady_clock::now() + step)) {
      return Status::Cancelled();
    }
  }
}

Status PgSink::BeginWrite(PgTransaction& tx) {
  if (options_.read_only) {
    return Status::Invalid("the schema is open read-only");
  }
  // What the caller is about to write follows from a state read under the
  // lost lease: taking the lease back here would write it over a peer's.
  if (!lost_.empty()) return Status::Fenced(lost_);
  // The lease is taken (which commits transactions of its own) before the
  // write's transaction begins, then checked as its first statement.
  Status s = Hold();
  if (s.ok()) s = KeepShare();
  if (s.ok()) s = tx.Begin();
  if (!s.ok() || !options_.lease) return s;
  s = CheckLease(c_.get(), options_.schema, *options_.lease, epoch_);
  if (s.ok()) renewed_ = clock_->Now();  // as good as a KeepAlive
  if (s.code() == Status::Code::kFenced) Lose(s);
  return s;
}

void PgSink::Lose(const Status& why) {
  held_ = false;
  lost_ = why.message();
  if (options_.notice) options_.notice(why.message());
}

Status PgSink::ReadUnderThisLease(const std::string& key) const {
  auto read = read_at_.find(key);
  if (!options_.lease || read == read_at_.end() || read->second == takes_) {
    return Status::Ok();
  }
  return Status::Fenced("the lease of schema " + options_.schema +
                        " was lost and taken again since this daemon read " +
                        key + "'s state; it reads it again");
}

Status PgSink::KeepShare() {
  if (!held_ || clock_->Now() - weighed_ < keep_alive_every()) {
    return Status::Ok();
  }
  weighed_ = clock_->Now();
  auto over = OverShare(c_.get(), options_.schema, *options_.lease);
  // Not known now (the server away, say): weighed again later.
  if (!over.ok() || !*over) return Status::Ok();
  Status s = ReleaseLease(c_.get(), options_.schema, *options_.lease, epoch_);
  if (!s.ok()) return Status::Ok();
  Lose(Status::Fenced(
      "gave schema " + options_.schema +
      " up to a daemon holding fewer tenants: this one held more than its "
      "share"));
  return Status::Fenced(lost_);
}

Result<Destination::Writer> PgSink::WrittenBy() {
  const Millis lease = options_.lease ? options_.lease->lease : Millis(60000);
  auto holder = ReadLease(c_.get(), options_.schema, lease);
  if (!holder.ok()) return holder.status();
  Writer w;
  if (!*holder) return w;
  const LeaseHolder& h = **holder;
  w.live = h.live && !h.owner.empty();
  if (h.owner.empty()) {
    w.description = "no daemon (released)";
    return w;
  }
  w.description = (h.live ? "daemon " : "no daemon: the lease of ") + h.owner +
                  " (epoch " + std::to_string(h.epoch) + ", taken at " +
                  h.acquired_at +
                  (h.live ? ", renewed at " : ", expired; last renewed at ") +
                  h.heartbeat_at + ")";
  return w;
}

Millis PgSink::keep_alive_every() const {
  return options_.lease ? options_.lease->lease / 3 : Millis(0);
}

Status PgSink::KeepAlive() {
  if (!held_ || clock_->Now() - renewed_ < keep_alive_every()) {
    return Status::Ok();
  }
  renewed_ = clock_->Now();
  Status s = RenewLease(c_.get(), options_.schema, *options_.lease, epoch_);
  if (s.code() == Status::Code::kFenced) Lose(s);
  if (s.ok()) s = KeepShare();
  return s;
}

std::optional<int64_t> PgSink::SizeBytes() {
  auto bytes = c_->QueryText(
      "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
      "c.relkind IN ('r', 'm')",
      {options_.schema}, "measuring schema " + options_.schema);
  if (!bytes.ok() || !*bytes) return std::nullopt;
  return std::stoll(**bytes);
}

std::string PgSink::Now() const { return FormatTimestamp(clock_->WallNow()); }

std::string DescribePgSchema(const std::string& url,
                             const std::string& schema) {
  return DescribePgUrl(url) + " (schema " + schema + ")";
}

Result<std::unique_ptr<PgSink>> PgSink::Open(const std::string& url,
                                             const PgSinkOptions& options,
                                             Clock* clock) {
  // Peers and operators see which daemon a session is (pg_stat_activity).
  auto connected = PgConnection::Connect(
      url, options.lease ? "stsync " + options.lease->owner : "stsync");
  if (!connected.ok()) return connected.status();
  std::unique_ptr<PgSink> sink(
      new PgSink(std::move(*connected), options, clock));
  PgConnection* c = sink->c_.get();
  const std::string& schema = options.schema;
  if (options.read_only) {
    auto version = PgSchemaVersion(c, schema);
    if (!version.ok()) return version.status();
    if (*version == 0) {
      return Status::NotFound("schema " + schema + " at " + DescribePgUrl(url) +
                              " does not exist yet (run stsync first)");
    }
    sink->schema_version_ = *version;
    // Writes are refused before they start (BeginWrite); the server refuses
    // any in a transaction as well.
    c->set_transaction_settings("SET TRANSACTION READ ONLY");
    Status s = CheckPgOwner(c, schema, options.tenant, options.environment,
                            false, sink->Now());
    if (!s.ok()) return s;
    return sink;
  }
  Status s = MigratePgSchema(c, schema, &sink->schema_version_);
  if (s.ok() && options.lease) s = PrepareLeases(c);
  if (s.ok()) c->set_transaction_settings(WriterSettings(options));
  if (s.ok() && options.lease) s = NoteStarted(c, *options.lease);
  // A command that does not wait (once, reset, backfill) takes the tenant
  // now, or fails at once naming who holds it, as a locked file does.
  if (s.ok() && options.lease && !options.wait_for_lease) s = sink->Hold();
  if (s.ok()) {
    s = CheckPgOwner(c, schema, options.tenant, options.environment, true,
                     sink->Now());
  }
  if (!s.ok()) return s;
  if (options.lease && options.lease->peer) {
    std::lock_guard<std::mutex> lock(peers_mu);
    ++open_peers[options.lease->owner];
    sink->counted_ = true;
  }
  return sink;
}

Status PgSink::Prepare(const Endpoint& e) {
  if (e.key_fields.empty() || e.key_fields.size() > kMaxKeyFields) {
    return Status::Invalid(e.name + ": an endpoint needs 1 to 4 key fields");
  }
  if (options_.read_only) {
    return Status::Invalid("the schema is open read-only");
  }
  // Tables are made, and states read, by the tenant's writer alone: this
  // takes a lost lease back.
  Status s = Hold();
  if (!s.ok() || upserts_.count(e.name)) return s;
  s = PreparePgTable(c_.get(), options_.schema, e);
  if (!s.ok()) return s;
  upserts_[e.name] = UpsertSql(In(), e);
  return Status::Ok();
}

Status PgSink::Writable(const Endpoint& e) const {
  if (options_.read_only)
    return Status::Invalid("the schema is open read-only");
  if (!upserts_.count(e.name)) {
    return Status::Invalid(e.name + ": Prepare was not called");
  }
  return Status::Ok();
}

Status PgSink::UpsertRows(const Endpoint& e, const Batch& batch,
                          const std::string& now, ApplyStats& stats,
                          int64_t* seen) {
  for (const Reject& r : batch.rejects) {
    const std::string_view data = batch.Data(r);
    Status s = RunOnly(
        c_.get(),
        "INSERT INTO " + In() +
            "_stsync_rejects (endpoint, position, record_index, "
            "reason, data, record_hash, rejected_at) VALUES ($1, $2, $3, $4, "
            "$5, $6, $7) ON CONFLICT (endpoint, record_hash) DO NOTHING",
        {e.name, r.position, static_cast<int64_t>(r.index), r.reason,
         PgParam::Binary(std::string(data)),
         static_cast<int64_t>(std::hash<std::string_view>()(data)), now},
        e.name + ": quarantining records");
    if (!s.ok()) return s;
  }
  stats.rejected += static_cast<int64_t>(batch.rejects.size());
  if (batch.rows.empty()) return Status::Ok();

  const size_t key_count = e.key_fields.size();
  const bool has_parent = !e.ParentColumn().empty();
  PageWinners(batch, key_count, winners_);
  const size_t n = winners_.size();
  size_t bytes = 0;
  for (uint32_t i : winners_) bytes += batch.rows[i].data_size;
  Columns& c = columns_;
  c.keys.resize(key_count, PgArray(PgArray::kInt8));
  for (PgArray* a : {&c.parents, &c.versions, &c.actives, &c.data}) a->Clear();
  for (PgArray& k : c.keys) {
    k.Clear();
    k.Reserve(n, 8 * n);
  }
  if (has_parent) c.parents.Reserve(n, 8 * n);
  c.versions.Reserve(n, 28 * n);
  c.actives.Reserve(n, n);
  c.data.Reserve(n, bytes);
  for (uint32_t i : winners_) {
    const Row& row = batch.rows[i];
    for (size_t k = 0; k < key_count; ++k) c.keys[k].AddInt(row.key[k]);
    if (has_parent) {
      if (row.has_parent) {
        c.parents.AddInt(row.parent);
      } else {
        c.parents.AddNull();
      }
    }
    if (row.version.empty()) {
      c.versions.AddNull();
    } else {
      c.versions.AddText(row.version);
    }
    if (row.active < 0) {
      c.actives.AddNull();
    } else {
      c.actives.AddBool(row.active != 0);
    }
    c.data.AddText(batch.Data(row));
  }
  std::vector<PgParam> params = {now};
  for (PgArray& k : c.keys) params.push_back(PgParam::Borrowed(k.Bytes()));
  if (has_parent) params.push_back(PgParam::Borrowed(c.parents.Bytes()));
  params.push_back(PgParam::Borrowed(c.versions.Bytes()));
  params.push_back(PgParam::Borrowed(c.actives.Bytes()));
  params.push_back(PgParam::Borrowed(c.data.Bytes()));
  auto counts = c_->Run(upserts_[e.name], params, e.name + ": upserting");
  if (!counts.ok()) return counts.status();
  stats.inserted += counts->Int(0, 0);
  stats.updated += counts->Int(0, 1);
  stats.unchanged += static_cast<int64_t>(batch.rows.size()) -
                     counts->Int(0, 0) - counts->Int(0, 1);

  if (seen) {
    std::vector<PgParam> seen_params = {e.name};
    for (PgArray& k : c.keys) {
      seen_params.push_back(PgParam::Borrowed(k.Bytes()));
    }
    auto noted = c_->Run(SeenSql(In(), key_count), seen_params,
                         e.name + ": noting keys seen");
    if (!noted.ok()) return noted.status();
    *seen += noted->affected();
  }
  return Status::Ok();
}

Result<ApplyStats> PgSink::Apply(const Endpoint& e, const Batch& batch) {
  return ApplyBatch(e, batch, &batch.next, nullptr);
}

Result<ApplyStats> PgSink::ApplySplit(const Endpoint& e, const Batch& batch,
                                      const SplitChange& change) {
  return ApplyBatch(e, batch, change.cursor ? &*change.cursor : nullptr,
                    &change);
}

Result<ApplyStats> PgSink::ApplyRows(const Endpoint& e, const Batch& batch) {
  return ApplyBatch(e, batch, nullptr, nullptr);
}

Result<ApplyStats> PgSink::ApplyBatch(const Endpoint& e, const Batch& batch,
                                      const Cursor* cursor,
                                      const SplitChange* split) {
  Status s = Writable(e);
  if (!s.ok()) return s;
  const std::string now = Now();
  ApplyStats stats;
  PgTransaction tx(c_.get());
  s = BeginWrite(tx);
  // A backfill's rows (no cursor) hold on their own; a feed's position
  // must be the one this lease read.
  if (s.ok() && (cursor || split)) s = ReadUnderThisLease(e.name);
  if (s.ok()) s = UpsertRows(e, batch, now, stats, nullptr);
  if (s.ok() && cursor) {
    s = RunOnly(
        c_.get(),
        std::string("INSERT INTO " + In() +
                    "_stsync_cursors AS c (endpoint, "
                    "cursor, cursor_updated_at, caught_up_at, "
                    "row_count, pages) VALUES ($1, $2, $3, $4, $5, 1) "
                    "ON CONFLICT (endpoint) DO UPDATE SET cursor = $2, "
                    "cursor_updated_at = $3, caught_up_at = "
                    "coalesce($4, c.caught_up_at), row_count = "
                    "c.row_count + $5, pages = c.pages + 1, ") +
            kClearFailure,
        {e.name, StoredOrNull(*cursor), now,
         batch.caught_up ? PgParam(now) : PgParam(nullptr), stats.inserted},
        e.name + ": writing cursor");
  } else if (s.ok()) {
    // A split first sync's range counts its pages as its feed's.
    s = RunOnly(c_.get(),
                "INSERT INTO " + In() +
                    "_stsync_cursors AS c (endpoint, row_count, pages) "
                    "VALUES ($1, $2, $3) ON CONFLICT (endpoint) DO UPDATE SET "
                    "row_count = c.row_count + $2, pages = c.pages + $3",
                {e.name, stats.inserted, int64_t{split ? 1 : 0}},
                e.name + ": counting rows");
  }
  if (s.ok() && split) {
    for (int64_t id : split->done) {
      s = RunOnly(c_.get(),
                  "DELETE FROM " + In() +
                      "_stsync_ranges WHERE endpoint = $1 AND id = $2",
                  {e.name, id}, e.name + ": removing a split range");
      if (!s.ok()) break;
    }
    for (const SplitRange& r : split->put) {
      if (!s.ok()) break;
      s = RunOnly(
          c_.get(),
          "INSERT INTO " + In() +
              "_stsync_ranges (endpoint, id, range_end, "
              "position, reached) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
              "(endpoint, id) DO UPDATE SET range_end = $3, position = $4, "
              "reached = $5",
          {e.name, r.id, r.end, r.position.ToStored().value_or(""), r.reached},
          e.name + ": storing a split range");
    }
  }
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) return s;
  return stats;
}

Result<std::optional<FeedState>> PgSink::Load(const std::string& endpoint) {
  auto all = LoadAll();
  if (!all.ok()) return all.status();
  read_at_[endpoint] = takes_;
  for (FeedState& s : *all) {
    if (s.endpoint == endpoint) return std::optional<FeedState>(std::move(s));
  }
  return std::optional<FeedState>();
}

Result<std::vector<FeedState>> PgSink::LoadAll() {
  // A new owner reads the state its predecessor left.
  Status held = Hold();
  if (!held.ok()) return held;
  auto rows =
      c_->Run(FeedStateQuery(In()) + kByName, {}, "reading feed states");
  if (!rows.ok()) return rows.status();
  std::vector<FeedState> states;
  std::map<std::string, size_t> index;
  for (int i = 0; i < rows->size(); ++i) {
    states.push_back(ReadFeedState(*rows, i));
    index[states.back().endpoint] = states.size() - 1;
  }
  auto ranges =
      c_->Run("SELECT endpoint, id, range_end, position, reached FROM " + In() +
                  "_stsync_ranges "
                  "ORDER BY endpoint COLLATE \"C\", id",
              {}, "reading split ranges");
  if (!ranges.ok()) return ranges.status();
  for (int i = 0; i < ranges->size(); ++i) {
    auto it = index.find(ranges->Text(i, 0));
    if (it == index.end()) continue;
    SplitRange r;
    r.id = ranges->Int(i, 1);
    r.end = ranges->Text(i, 2);
    r.position = Cursor::FromStored(ranges->Text(i, 3));
    r.reached = ranges->Text(i, 4);
    states[it->second].ranges.push_back(std::move(r));
  }
  return states;
}

Result<std::optional<std::string>> PgSink::VersionBound(const Endpoint& e,
                                                        const char* bound) {
  return c_->QueryText(
      std::string("SELECT ") + bound + "(modified_on) FROM " + In() +
          PgQuote(e.TableName()),
      {}, "reading the " + std::string(bound) + " version of " + e.name);
}

Result<std::optional<std::string>> PgSink::NewestVersion(const Endpoint& e) {
  return VersionBound(e, "max");
}

Result<std::optional<std::string>> PgSink::OldestVersion(const Endpoint& e) {
  return VersionBound(e, "min");
}

Status PgSink::RecordFailureIn(const char* table, const std::string& endpoint,
                               const std::string& message) {
  PgTransaction tx(c_.get());
  Status s = BeginWrite(tx);
  if (!s.ok()) return s;
  s = RunOnly(c_.get(),
              "INSERT INTO " + In() + table +
                  " AS s (endpoint, last_error, last_error_at, "
                  "consecutive_failures) VALUES ($1, $2, $3, 1) ON "
                  "CONFLICT (endpoint) DO UPDATE SET last_error = $2, "
                  "last_error_at = $3, consecutive_failures = "
                  "s.consecutive_failures + 1",
              {endpoint, message.substr(0, 1000), Now()},
              "recording a failure of " + endpoint);
  if (s.ok()) s = tx.Commit();
  return s;
}

Status PgSink::RecordFailure(const std::string& endpoint,
                             const std::string& message) {
  return RecordFailureIn("_stsync_cursors", endpoint, message);
}

Status PgSink::ResetCursor(const std::string& endpoint,
                           const std::optional<Cursor>& to) {
  PgTransaction tx(c_.get());
  Status s = BeginWrite(tx);
  if (s.ok()) {
    s = RunOnly(c_.get(),
                std::string("INSERT INTO " + In() +
                            "_stsync_cursors (endpoint, cursor, "
                            "cursor_updated_at) VALUES ($1, $2, $3) ON "
                            "CONFLICT (endpoint) DO UPDATE SET cursor = $2, "
                            "cursor_updated_at = $3, caught_up_at = NULL, ") +
                    kClearFailure,
                {endpoint, StoredOrNull(to), Now()}, "resetting cursor");
  }
  if (s.ok()) {
    s = RunOnly(c_.get(),
                "DELETE FROM " + In() + "_stsync_ranges WHERE endpoint = $1",
                {endpoint}, endpoint + ": forgetting split ranges");
  }
  if (s.ok()) s = tx.Commit();
  return s;
}

Result<std::optional<ReconcileState>> PgSink::LoadReconcile(
    const std::string& endpoint) {
  auto rows = c_->Run(ReconcileQuery(In()) + " WHERE endpoint = $1", {endpoint},
                      "reading reconciliation state");
  if (!rows.ok()) return rows.status();
  read_at_["reconcile:" + endpoint] = takes_;
  if (rows->size() == 0) return std::optional<ReconcileState>();
  return std::optional<ReconcileState>(ReadReconcileState(*rows, 0));
}

Result<std::vector<ReconcileState>> PgSink::LoadAllReconciles() {
  auto rows = c_->Run(ReconcileQuery(In()) + kByName, {},
                      "reading reconciliation states");
  if (!rows.ok()) return rows.status();
  std::vector<ReconcileState> states;
  for (int i = 0; i < rows->size(); ++i) {
    states.push_back(ReadReconcileState(*rows, i));
  }
  return states;
}

Result<ReconcileStats> PgSink::ApplyReconcile(const Endpoint& e,
                                              const Batch& batch,
                                              const ReconcilePolicy& policy) {
  Status s = Writable(e);
  if (!s.ok()) return s;
  const std::string now = Now();
  ReconcileStats stats;
  PgTransaction tx(c_.get());
  s = BeginWrite(tx);
  if (s.ok()) s = ReadUnderThisLease("reconcile:" + e.name);
  if (!s.ok()) return s;
  auto state = LoadReconcile(e.name);
  if (!state.ok()) return state.status();
  // The pass in progress, or one that starts with this batch.
  const bool in_pass = *state && !(*state)->pass_started_at.empty();
  const std::string started = in_pass ? (*state)->pass_started_at : now;
  int64_t seen = in_pass ? (*state)->seen : 0;
  const int64_t pages = (in_pass ? (*state)->pages : 0) + 1;

  s = UpsertRows(e, batch, now, stats.applied, &seen);
  if (s.ok()) {
    s = RunOnly(c_.get(),
                "INSERT INTO " + In() +
                    "_stsync_cursors AS c (endpoint, row_count) "
                    "VALUES ($1, $2) ON CONFLICT (endpoint) DO UPDATE SET "
                    "row_count = c.row_count + $2",
                {e.name, stats.applied.inserted}, e.name + ": counting rows");
  }
  if (s.ok() && batch.caught_up) {
    const std::string table = In() + PgQuote(e.TableName());
    ReconcileOutcome o;
    o.seen = seen;
    o.finished_at = now;
    auto live = c_->QueryText(
        "SELECT count(*) FROM " + table + " WHERE deleted_at IS NULL", {},
        e.name + ": counting live rows");
    if (!live.ok()) return live.status();
    o.live = std::stoll(live->value_or("0"));
    o.suspicious = policy.SawTooFew(seen, o.live);
    if (!o.suspicious) {
      auto cutoff = policy.MarkBefore(started);
      if (!cutoff.ok()) return cutoff.status().WithContext(e.name);
      auto marked = c_->Run(
          "UPDATE " + table +
              " r SET deleted_at = $1 WHERE NOT EXISTS (SELECT 1 FROM " + In() +
              "_stsync_seen s WHERE s.endpoint = $2" + SeenKeyMatch(e) +
              ") AND deleted_at IS NULL AND synced_at < $3 AND "
              "(modified_on IS NULL OR modified_on < $4)",
          {now, e.name, started, *cutoff}, e.name + ": marking deleted rows");
      if (!marked.ok()) return marked.status();
      o.marked = marked->affected();
    }
    s = RunOnly(c_.get(),
                "DELETE FROM " + In() + "_stsync_seen WHERE endpoint = $1",
                {e.name}, e.name + ": dropping the keys seen");
    if (s.ok()) {
      stats.finished = o;
      s = RunOnly(
          c_.get(),
          std::string(
              "INSERT INTO " + In() +
              "_stsync_reconcile AS r (endpoint, last_started_at, "
              "last_finished_at, last_seen, last_live, last_marked, "
              "last_outcome) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT "
              "(endpoint) DO UPDATE SET cursor = NULL, pass_started_at = "
              "NULL, seen = 0, pages = 0, last_started_at = $2, "
              "last_finished_at = $3, last_seen = $4, last_live = $5, "
              "last_marked = $6, last_outcome = $7, ") +
              kClearFailure,
          {e.name, started, o.finished_at, o.seen, o.live, o.marked,
           o.suspicious ? "suspicious: saw too few keys, marked nothing"
                        : "marked"},
          e.name + ": saving the pass");
    }
  } else if (s.ok()) {
    s = RunOnly(c_.get(),
                std::string("INSERT INTO " + In() +
                            "_stsync_reconcile (endpoint, cursor, "
                            "pass_started_at, seen, pages) VALUES ($1, $2, "
                            "$3, $4, $5) ON CONFLICT (endpoint) DO UPDATE SET "
                            "cursor = $2, pass_started_at = $3, seen = $4, "
                            "pages = $5, ") +
                    kClearFailure,
                {e.name, StoredOrNull(batch.next), started, seen, pages},
                e.name + ": saving the pass");
  }
  if (s.ok()) s = tx.Commit();
  if (!s.ok()) return s;
  return stats;
}

Status PgSink::RecordReconcileFailure(const std::string& endpoint,
                                      const std::string& message) {
  return RecordFailureIn("_stsync_reconcile", endpoint, message);
}

Status PgSink::RestartReconcile(const std::string& endpoint) {
  const std::string what = endpoint + ": restarting the reconciliation";
  PgTransaction tx(c_.get());
  Status s = BeginWrite(tx);
  if (s.ok()) {
    s = RunOnly(c_.get(),
                "DELETE FROM " + In() + "_stsync_seen WHERE endpoint = $1",
                {endpoint}, what);
  }
  if (s.ok()) {
    s = RunOnly(c_.get(),
                "UPDATE " + In() +
                    "_stsync_reconcile SET cursor = NULL, pass_started_at "
                    "= NULL, seen = 0, pages = 0 WHERE endpoint = $1",
                {endpoint}, what);
  }
  if (s.ok()) s = tx.Commit();
  return s;
}

Result<std::optional<std::string>> PgSink::FirstStoredAt(const Endpoint& e) {
  return c_->QueryText(
      "SELECT min(first_seen_at) FROM " + In() + PgQuote(e.TableName()), {},
      "reading the first row of " + e.name);
}

}  // namespace stsync

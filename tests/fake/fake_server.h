// FakeServer: a ServiceTitan stand-in on loopback, for the tests and the demo.
//
// It implements the OAuth2 token endpoint and every catalog endpoint with
// the real envelope: an export's {"hasMore", "continueFrom", "data"}, a list
// endpoint's {"page", "pageSize", "hasMore", "totalCount", "data"} with its
// filters and sort orders (ServeList), serving
// deterministic records shaped like the OpenAPI documents' (record_shapes).
// Each endpoint's feed is a log ordered by version: an update appends a new
// version and retires the old one, as the real feed does. With
// includeRecentChanges=true a page starts a few entries early, so the
// previous page's tail (stale versions included) comes back as duplicates.
//
// Tests drive it in-process: mutate data, inject faults, read the truth (the
// rows a perfect replica holds) and the request log. Over HTTP, /admin/...
// routes do the same for a running stsync-fake:
//   GET  /admin/faults                      rates and counts injected (JSON)
//   GET  /admin/requests                    {"export":N,"token":M} so far
//   POST /admin/faults   body "throttle=0.05,hang=0.01,..."  (see FaultRates)
//   POST /admin/mutate?endpoint=jobs&updates=5&inserts=2
//   POST /admin/delete?endpoint=jobs&count=3  hard deletes
//   POST /admin/token-lifetime?seconds=5
//   POST /admin/revoke-tokens
//   POST /admin/expire-cursors
//
// Thread safety: all public methods are thread-safe.
#ifndef STSYNC_TESTS_FAKE_FAKE_SERVER_H_
#define STSYNC_TESTS_FAKE_FAKE_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "config/catalog.h"
#include "fake/record_shapes.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace stsync::fake {

struct FakeOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string tenant = "1234567";
  std::string client_id = "demo-client";
  std::string client_secret = "demo-secret";
  std::string app_key = "demo-app-key";
  int records_per_endpoint = 1000;
  // Endpoints with another record count than records_per_endpoint: a skewed
  // tenant, where a few endpoints hold most records.
  std::map<std::string, int> records_of;
  // Every API answer (token, export, list) waits this long first: a remote
  // server's round trip.
  int latency_ms = 0;
  // 0: the records are a second apart from 2024-01-01 (FakeTimestamp). N:
  // the initial records span the N days before the server started, more of
  // them each day (as a real tenant's history grows), and later changes
  // are a second apart from then: date ranges of a split first sync hold
  // different amounts.
  int history_days = 0;
  int page_size = 500;
  int token_lifetime_seconds = 900;
  // How far back a page starts with includeRecentChanges=true.
  int recent_overlap = 3;
  // More tenant ids served, each with the same data (a daemon of many
  // tenants against one fake).
  std::vector<std::string> extra_tenants;
  // Catalog endpoints to serve; empty means all of them.
  std::vector<std::string> endpoints;
  // Custom endpoints to serve as well (generic records).
  std::vector<Endpoint> extra_endpoints;
  // The share of the initial records (0 to 1) that were modified after
  // they were created, so that they appear later in the feed than their
  // id says, each at a random later point. 0: ids come in feed order (every
  // insert an append); 1: every record's modification is random.
  double modified_later = 0;
  // Items in every array field, each a small object as customFields' are
  // ({"typeId", "name", "value"}): real records are 1 to 2 KB with nested
  // arrays. 0: arrays are empty.
  int array_items = 0;
  uint64_t seed = 1;
  // Serve HTTPS with this certificate and key (PEM files) instead of HTTP.
  std::string tls_cert;
  std::string tls_key;
};

// A scripted misbehaviour: the next `count` matching requests get it.
struct Fault {
  enum class Target { kExport, kToken };
  Target target = Target::kExport;
  std::string path_contains;  // "" matches every path of the target
  int skip = 0;               // let this many matching requests through first
  int count = 1;
  int status = 500;  // 0: only delay, then answer normally
  // "{authorization}", "{app-key}" and "{request-body}" are replaced by
  // what the request carried: a server that echoes its request.
  std::string body =
      "<html><body><h1>500 Internal Server Error</h1></body></html>";
  // If not empty, the bodies of the answers in turn, round and round
  // (instead of `body`).
  std::vector<std::string> bodies;
  size_t served = 0;  // answers given, for `bodies`
  std::string content_type = "text/html";
  std::string retry_after;  // Retry-After header value, if not empty
  int delay_ms = 0;         // before answering (cut short by Stop)
  // If set, the answer's body is this many bytes of 'x', chunked (no
  // Content-Length), in pieces of `stream_piece` bytes `stream_piece_ms`
  // apart (cut short by Stop).
  size_t stream_bytes = 0;
  size_t stream_piece = 64 << 10;
  int stream_piece_ms = 0;
};

// Random misbehaviour: each export request suffers at most one fault, drawn
// with these probabilities from the server's seeded generator.
struct FaultRates {
  double throttle = 0;      // 429 with Retry-After: 1
  double maintenance = 0;   // 409 "suspended for maintenance"
  double server_error = 0;  // 500 with a JSON problem body
  double unavailable = 0;   // 503 with an HTML body
  double slow = 0;          // answers after slow_ms
  double hang = 0;          // never answers (until Stop)
  double truncate = 0;      // Content-Length promises more than is sent
  double reset = 0;         // headers, then the connection closes
  double broken_json = 0;   // 200 with syntactically broken JSON
  double bad_envelope = 0;  // 200, valid JSON, wrong envelope
  double unauthorized = 0;  // 401 for a valid token
  double token_error = 0;   // the token endpoint answers 503
  int slow_ms = 300;

  // Parses "throttle=0.05,hang=0.01,slow_ms=200". The names are the fields'
  // with '_' or '-'. Returns false (and names the bad item) on error.
  bool Parse(const std::string& text, std::string* error);
  std::string ToString() const;
};

// The fault kinds, in FaultRates order; FaultCounts() uses these names.
const std::vector<std::string>& FaultKinds();

struct RequestRecord {
  std::string path;
  std::string from;  // the `from` parameter, "" if absent
  std::multimap<std::string, std::string> params;  // the whole query
  bool recent = false;
  int status = 0;
  int records = 0;  // records in `data` of a 200 answer
  std::chrono::steady_clock::time_point at;
};

class FakeServer {
 public:
  explicit FakeServer(FakeOptions options);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Binds and starts serving on a background thread.
  Status Start();
  void Stop();
  int port() const { return port_; }
  // http(s)://host:port
  std::string BaseUrl() const;
  const FakeOptions& options() const { return options_; }

  // Updates `updates` existing records (a new version each; every third one
  // becomes inactive) and appends `inserts` new ones.
  void Mutate(const std::string& endpoint, int updates, int inserts);
  // Deletes `count` records at random outright, as a hard delete in
  // ServiceTitan: they stop appearing in the feed, with no deleted flag.
  // Returns their indices (fewer if fewer exist). A later Update or Mutate
  // of one brings it back with a new version.
  std::vector<int64_t> Delete(const std::string& endpoint, int count);
  // The rows a correct replica of `endpoint` holds: each row's JSON text,
  // sorted.
  std::vector<std::string> TruthRows(const std::string& endpoint) const;
  // The rows a replica whose checkpoint is `token` must hold at least: the
  // current versions of everything the feed served up to that token.
  std::vector<std::string> RowsUpTo(const std::string& endpoint,
                                    const std::string& token) const;
  // The same for a split first sync: up to `cursor` (a token, or a date:
  // what is before it), less what each of `owed` still owes, a range as
  // {its position (token or date), its end date}: after the one, before
  // the other.
  std::vector<std::string> RowsUpTo(
      const std::string& endpoint, const std::string& cursor,
      const std::vector<std::pair<std::string, std::string>>& owed) const;
  // Every served endpoint's name.
  std::vector<std::string> EndpointNames() const;
  // The record indices (ids less a constant) in the order `endpoint`'s feed
  // first served them.
  std::vector<int64_t> IndicesInFeedOrder(const std::string& endpoint) const;

  void AddFault(const Fault& fault);
  void SetFaultRates(const FaultRates& rates);
  // How many faults of each kind (FaultKinds) were injected so far.
  std::map<std::string, int> FaultCounts() const;
  void ClearFaults();
  // Makes every issued token invalid (the API then answers 401).
  void RevokeTokens();
  void SetTokenLifetime(int seconds);
  // Gives record `index` of `endpoint` a new version (modifiedOn now), as
  // an edit in ServiceTitan would.
  void Update(const std::string& endpoint, int64_t index, bool active);
  // Called after each list-endpoint request is answered, with the endpoint
  // and how many list requests it has had; it may call Update (a change in
  // the middle of a pass). Set before Start.
  void SetAfterListRequest(
      std::function<void(const std::string& endpoint, int requests)> hook);
  // Makes every continueFrom handed out so far invalid: a request from one
  // gets a 400, as an expired continuation token might.
  void ExpireCursors();

  // Export requests answered so far (a hanging one is not, yet).
  std::vector<RequestRecord> Requests() const;
  // Export requests received so far, answered or not.
  int RequestsStarted() const { return requests_started_.load(); }
  int TokenRequests() const;

  // Renders every page of every feed (without includeRecentChanges) ahead of
  // the first request, so that serving one is a send of cached bytes. The
  // cache is dropped by any change to the data (Mutate).
  void Prerender();

 private:
  struct Entry {
    int64_t seq;
    int64_t index;
    std::string json;  // the record as served
    // The rows it yields in a replica when these differ from `json` (the
    // exploded entries of job-history); empty when the record is its row.
    std::vector<std::string> rows;
    bool live;
    bool active = true;
  };
  struct Feed {
    Endpoint endpoint;
    std::vector<Field> shape;
    std::vector<Entry> log;               // in seq order
    std::map<int64_t, size_t> latest;     // index -> position in log
    std::map<int64_t, int64_t> revision;  // index -> current revision
    int64_t next_index = 0;
  };

  void Append(Feed& feed, int64_t index, bool active);  // requires mu_
  // The rows of live entries with seq <= last_seq, sorted; none of those
  // with seq in one of the half-open spans (after, up to] of `except`.
  std::vector<std::string> LiveRows(
      const std::string& endpoint, int64_t last_seq,
      const std::vector<std::pair<int64_t, int64_t>>& except = {}) const;
  // The last sequence number a feed at `cursor` has passed: a token's, or
  // the last before a date. Requires mu_.
  int64_t PassedSeq(const Feed& feed, const std::string& cursor) const;
  void Render(const Feed& feed, int64_t index, int64_t revision,
              const std::string& version, bool active, Entry* entry) const;
  bool TakeFault(Fault::Target target, const std::string& path, Fault* out);
  // Sleeps for options().latency_ms (cut short by Stop).
  void Lag();
  // Sleeps for the fault's delay; true if the fault then answered `res`.
  bool ApplyFault(const Fault& f, const httplib::Request& req,
                  httplib::Response& res);
  // The routes (fake_routes.cc), added by Start.
  void AddTokenRoute();
  void AddAdminRoutes();
  void AddExportRoutes();
  // Draws a random fault kind for one request of `target` ("" for none) and
  // sets *response to what to answer instead (status 0: answer normally,
  // perhaps after a delay; the body faults are applied by the caller).
  std::string DrawFault(Fault::Target target, Fault* response);
  // Whether an Authorization header carries a live token.
  bool TokenValid(const std::string& authorization) const;
  struct CachedPage {
    std::string body;
    int records = 0;
    std::string continue_from;
    bool has_more = false;
  };
  // The page of `feed_name` after `from`, from the cache or rendered; null
  // if `from` is unreadable.
  std::shared_ptr<const CachedPage> PageAfter(const std::string& feed_name,
                                              const std::string& from,
                                              bool recent) const;
  // Renders that page; false if `from` is unreadable. Requires mu_.
  bool RenderPage(const std::string& feed_name, const std::string& from,
                  bool recent, std::string* body, int* records,
                  std::string* continue_from, bool* has_more) const;
  // Answers a list endpoint's request (page, pageSize, modifiedOnOrAfter,
  // active, sort/orderBy), with the list envelope. Takes mu_.
  void ServeList(const std::string& feed_name, const httplib::Request& req,
                 httplib::Response& res, int* records);
  // The version of sequence number `seq` (FakeOptions::history_days).
  std::string Stamp(int64_t seq) const;
  // The index in `feed.log` of the first entry stamped on or after `date`
  // (normalised): a binary search.
  size_t FirstOnOrAfter(const Feed& feed, const std::string& date) const;
  // Appends to the request log. Takes mu_: never call with it held.
  void Record(const RequestRecord& r);

  const FakeOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;
  std::map<std::string, Feed> feeds_;
  int64_t next_seq_ = 0;
  // With history_days: the initial records' count, and when they end
  // (seconds after 2024-01-01).
  int64_t history_records_ = 0;
  int64_t history_end_ = 0;
  std::mt19937_64 rng_;
  std::vector<Fault> faults_;
  FaultRates rates_;
  std::map<std::string, int> fault_counts_;
  std::atomic<int> envelope_variant_{0};
  std::atomic<int> requests_started_{0};
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;
  int token_lifetime_seconds_;
  int token_requests_ = 0;
  int64_t token_counter_ = 0;
  std::atomic<int> cursor_epoch_{1};  // see ExpireCursors
  std::function<void(const std::string&, int)> after_list_request_;
  std::map<std::string, int> list_requests_;  // by endpoint
  std::vector<RequestRecord> requests_;
  // Rendered pages by feed, `from` and includeRecentChanges; cleared by
  // Append.
  mutable std::map<std::string, std::shared_ptr<const CachedPage>> page_cache_;
};

// The timestamp of feed sequence number `seq`: one second apart from
// 2024-01-01, with 0 to 7 fractional digits and varying zone notation, as
// the real API sends them.
std::string FakeTimestamp(int64_t seq);
// The same notation for `seconds` after 2024-01-01 (negative: before),
// varied by `seq`.
std::string FakeTimestampAt(int64_t seconds, int64_t seq);

}  // namespace stsync::fake

#endif  // STSYNC_TESTS_FAKE_FAKE_SERVER_H_

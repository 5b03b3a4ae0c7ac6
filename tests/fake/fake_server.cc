#include "fake/fake_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <string_view>

#include "base/timestamp.h"

namespace stsync::fake {
namespace {

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t HashName(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Continuation tokens: "v<epoch>.<12 hex digits of seq>". ExpireCursors
// moves to the next epoch, and tokens of older ones are refused.
std::string Token(int64_t seq, int epoch) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "v%d.%012llx", epoch,
                static_cast<long long>(seq));
  return buf;
}

// Parses a continuation token made by Token(_, epoch); -1 if it is not one.
int64_t ParseToken(const std::string& s, int epoch) {
  const std::string prefix = "v" + std::to_string(epoch) + ".";
  if (s.size() != prefix.size() + 12 || s.compare(0, prefix.size(), prefix)) {
    return -1;
  }
  int64_t v = 0;
  for (size_t i = prefix.size(); i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The record indices (and so ids) 0..n-1 in the order the feed first
// serves them. A share `later` of them was modified after creation: each
// moves to a random point between its creation and the end.
std::vector<int64_t> FeedOrder(int n, double later, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5eedf00dULL);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<std::pair<double, int64_t>> keyed;
  for (int64_t i = 0; i < n; ++i) {
    double at = static_cast<double>(i);
    if (later > 0 && unit(rng) < later) at += unit(rng) * (n - i);
    keyed.emplace_back(at, i);
  }
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<int64_t> order;
  for (const auto& k : keyed) order.push_back(k.second);
  return order;
}

}  // namespace

std::string FakeTimestamp(int64_t seq) { return FakeTimestampAt(seq, seq); }

std::string FakeTimestampAt(int64_t seconds, int64_t seq) {
  // 2024-01-01T00:00:00Z + seconds.
  auto t = WallTime(std::chrono::seconds(1704067200LL + seconds));
  std::string ts = FormatTimestamp(t);  // ...SS.0000000Z
  int digits = static_cast<int>(seq % 8);
  std::string frac = std::to_string(1000000 + Mix(seq, 7) % 9000000);
  std::string out = ts.substr(0, 19);
  if (digits > 0) out += "." + frac.substr(0, digits);
  if (seq % 13 == 0) {
    out += "+00:00";
  } else if (seq % 17 == 0) {
    // no zone: UTC by convention
  } else {
    out += "Z";
  }
  return out;
}

FakeServer::FakeServer(FakeOptions options)
    : options_(std::move(options)),
      rng_(options_.seed),
      token_lifetime_seconds_(options_.token_lifetime_seconds) {
  std::vector<Endpoint> endpoints;
  for (const auto& e : Catalog()) {
    if (options_.endpoints.empty() ||
        std::find(options_.endpoints.begin(), options_.endpoints.end(),
                  e.name) != options_.endpoints.end()) {
      endpoints.push_back(e);
    }
  }
  for (const auto& e : options_.extra_endpoints) endpoints.push_back(e);
  for (const auto& e : endpoints) {
    Feed& feed = feeds_[e.name];
    feed.endpoint = e;
    feed.shape = RecordShape(e.name);
  }
  // Interleave the endpoints' initial records so sequence numbers (and so
  // timestamps) advance across all feeds together.
  auto count = [this](const std::string& name) -> int64_t {
    auto it = options_.records_of.find(name);
    return it == options_.records_of.end() ? options_.records_per_endpoint
                                           : it->second;
  };
  int64_t most = 0;
  for (const auto& [name, feed] : feeds_) {
    most = std::max(most, count(name));
    history_records_ += count(name);
  }
  history_end_ = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count() -
                 1704067200LL;
  const std::vector<int64_t> order =
      FeedOrder(static_cast<int>(most), options_.modified_later, options_.seed);
  for (int64_t index : order) {
    for (auto& [name, feed] : feeds_) {
      if (index < count(name)) Append(feed, index, true);
    }
  }
  for (auto& [name, feed] : feeds_) feed.next_index = count(name);
}

FakeServer::~FakeServer() { Stop(); }

std::string FakeServer::Stamp(int64_t seq) const {
  if (options_.history_days <= 0) return FakeTimestamp(seq);
  if (seq > history_records_) {
    return FakeTimestampAt(history_end_ + seq - history_records_, seq);
  }
  // The share of the history before record `seq` grows with the square of
  // its time: a day near the end holds more records than one near the start.
  const int64_t span = int64_t{options_.history_days} * 86400;
  const double share = std::sqrt(static_cast<double>(seq) /
                                 static_cast<double>(history_records_));
  return FakeTimestampAt(
      history_end_ - span +
          static_cast<int64_t>(share * static_cast<double>(span)),
      seq);
}

void FakeServer::Render(const Feed& feed, int64_t index, int64_t revision,
                        const std::string& version, bool active,
                        Entry* entry) const {
  const Endpoint& e = feed.endpoint;
  const uint64_t salt = HashName(e.name);
  auto value = [&](const Field& f, int64_t idx, int64_t rev) -> std::string {
    uint64_t h = Mix(Mix(salt, HashName(f.name)), idx * 1000 + rev);
    switch (f.kind) {
      case FieldKind::kInteger:
        // A reference to another record (jobTypeId, customerId, ...) names
        // one that exists: every endpoint's ids start at 1000, so joins on
        // the demo data find rows.
        if (f.name.size() > 2 &&
            f.name.compare(f.name.size() - 2, 2, "Id") == 0) {
          return std::to_string(1000 +
                                h % std::max(1, options_.records_per_endpoint));
        }
        return std::to_string(h % 900000 + 100);
      case FieldKind::kNumber:
        return std::to_string(h % 100000 / 100) + "." +
               std::to_string(h % 90 + 10);
      case FieldKind::kBool:
        return h & 1 ? "true" : "false";
      case FieldKind::kDateTime:
        // Dates such as soldOn or completedOn are often not set yet.
        if (h % 4 == 0) return "null";
        return "\"" + FakeTimestamp(static_cast<int64_t>(h % 50'000'000)) +
               "\"";
      case FieldKind::kEnum:
        return "\"" + f.enum_values[h % f.enum_values.size()] + "\"";
      case FieldKind::kArray: {
        std::string items;
        for (int i = 0; i < options_.array_items; ++i) {
          const uint64_t g = Mix(h, static_cast<uint64_t>(i));
          items += std::string(i ? "," : "") +
                   "{\"typeId\":" + std::to_string(g % 90000 + 100) +
                   ",\"name\":\"" + f.name + " " + std::to_string(i) +
                   "\",\"value\":\"value " + std::to_string(g % 1000000) +
                   "\"}";
        }
        return "[" + items + "]";
      }
      case FieldKind::kObject:
        return h % 3 == 0 ? "null"
                          : "{\"id\":" + std::to_string(h % 5000) + "}";
      case FieldKind::kString:
        if (h % 11 == 0) return "null";
        // Escapes and non-ASCII text must survive byte for byte.
        if (h % 7 == 0) {
          return "\"" + f.name + " " + std::to_string(idx) +
                 " \\\"quoted\\\" caf\\u00e9 \xE2\x9C\x93 r" +
                 std::to_string(rev) + "\"";
        }
        return "\"" + f.name + " " + std::to_string(idx) + " r" +
               std::to_string(rev) + "\"";
    }
    return "null";
  };

  auto render_object = [&](const std::vector<Field>& shape, int64_t idx,
                           int64_t rev, const std::string& ver,
                           int64_t key_base) {
    std::string out = "{";
    auto add = [&](const std::string& name, const std::string& v) {
      if (out.size() > 1) out += ',';
      out += "\"" + name + "\":" + v;
    };
    std::vector<std::string> done;
    for (size_t k = 0; k < e.key_fields.size(); ++k) {
      const std::string& f = e.key_fields[k];
      int64_t v = k == 0 ? key_base + idx : 50 + idx % 7;
      bool null_id = !e.fallback_key_fields.empty() && idx % 10 == 3;
      if (e.string_key) {  // a GUID-like text
        add(f, "\"0000" + std::to_string(v) + "-aa-bb\"");
      } else {
        add(f, null_id ? "null" : std::to_string(v));
      }
      done.push_back(f);
    }
    // A feed versioned by createdOn keeps its version when a record
    // changes, as job-canceled-logs does.
    if (!e.version_field.empty()) {
      add(e.version_field,
          "\"" + (e.version_field == "createdOn" ? FakeTimestamp(idx) : ver) +
              "\"");
      done.push_back(e.version_field);
    }
    for (const Field& f : shape) {
      if (std::find(done.begin(), done.end(), f.name) != done.end()) continue;
      if (f.name == "active") {
        add("active", active ? "true" : "false");
      } else if (f.name == "createdOn") {
        add("createdOn", "\"" + FakeTimestamp(idx) + "\"");
      } else if (std::find(e.fallback_key_fields.begin(),
                           e.fallback_key_fields.end(),
                           f.name) != e.fallback_key_fields.end()) {
        // Identity fields of rows without an id: unique per record, and the
        // same in every version of it.
        add(f.name, f.kind == FieldKind::kInteger ? std::to_string(700000 + idx)
                                                  : value(f, idx, 0));
      } else {
        add(f.name, value(f, idx, rev));
      }
    }
    if (shape.empty()) {
      add("active", active ? "true" : "false");
      add("name", "\"record " + std::to_string(idx) + " r" +
                      std::to_string(rev) + "\"");
    }
    return out + "}";
  };

  entry->rows.clear();
  if (e.explode_field.empty()) {
    // The record is its own row: `rows` stays empty (see Entry).
    entry->json = render_object(feed.shape, index, revision, version, 1000);
    return;
  }
  // job-history: {"jobId": J, "history": [one entry per revision]}.
  std::string list;
  for (int64_t r = 0; r <= revision; ++r) {
    std::string row = render_object(feed.shape, index * 100 + r, 0,
                                    FakeTimestamp(index * 100 + r), 1000);
    entry->rows.push_back(row);
    list += (r ? "," : "") + row;
  }
  entry->json = "{\"" + e.parent_field + "\":" + std::to_string(1000 + index) +
                ",\"" + e.explode_field + "\":[" + list + "]}";
}

void FakeServer::Append(Feed& feed, int64_t index, bool active) {
  int64_t seq = ++next_seq_;
  int64_t revision = 0;
  auto latest = feed.latest.find(index);
  if (latest != feed.latest.end()) {
    feed.log[latest->second].live = false;
    revision = ++feed.revision[index];
  } else {
    feed.revision[index] = 0;
  }
  Entry entry{seq, index, "", {}, true, active};
  Render(feed, index, revision, Stamp(seq), active, &entry);
  feed.latest[index] = feed.log.size();
  feed.log.push_back(std::move(entry));
  page_cache_.clear();
}

void FakeServer::Mutate(const std::string& endpoint, int updates, int inserts) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end()) return;
  Feed& feed = it->second;
  for (int i = 0; i < updates && feed.next_index > 0; ++i) {
    int64_t index = static_cast<int64_t>(rng_() % feed.next_index);
    Append(feed, index, i % 3 != 2);
  }
  for (int i = 0; i < inserts; ++i) Append(feed, feed.next_index++, true);
}

std::vector<int64_t> FakeServer::Delete(const std::string& endpoint,
                                        int count) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> deleted;
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end()) return deleted;
  Feed& feed = it->second;
  std::vector<size_t> live;
  for (const auto& [index, pos] : feed.latest) {
    if (feed.log[pos].live) live.push_back(pos);
  }
  while (static_cast<int>(deleted.size()) < count && !live.empty()) {
    const size_t pick = static_cast<size_t>(rng_() % live.size());
    feed.log[live[pick]].live = false;
    deleted.push_back(feed.log[live[pick]].index);
    live[pick] = live.back();
    live.pop_back();
  }
  page_cache_.clear();
  return deleted;
}

std::vector<std::string> FakeServer::LiveRows(
    const std::string& endpoint, int64_t last_seq,
    const std::vector<std::pair<int64_t, int64_t>>& except) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> rows;
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end()) return rows;
  for (const Entry& e : it->second.log) {
    if (e.seq > last_seq) break;
    if (!e.live) continue;
    if (std::any_of(except.begin(), except.end(), [&](const auto& span) {
          return span.first < e.seq && e.seq <= span.second;
        })) {
      continue;
    }
    if (e.rows.empty()) {
      rows.push_back(e.json);
    } else {
      rows.insert(rows.end(), e.rows.begin(), e.rows.end());
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> FakeServer::TruthRows(
    const std::string& endpoint) const {
  return LiveRows(endpoint, INT64_MAX);
}

std::vector<std::string> FakeServer::RowsUpTo(const std::string& endpoint,
                                              const std::string& token) const {
  int64_t last = ParseToken(token, cursor_epoch_);
  return last < 0 ? std::vector<std::string>() : LiveRows(endpoint, last);
}

int64_t FakeServer::PassedSeq(const Feed& feed,
                              const std::string& cursor) const {
  const int64_t seq = ParseToken(cursor, cursor_epoch_);
  if (seq >= 0) return seq;
  const auto date = NormalizeTimestamp(cursor);
  const size_t first = date ? FirstOnOrAfter(feed, *date) : feed.log.size();
  return first > 0 ? feed.log[first - 1].seq : 0;
}

size_t FakeServer::FirstOnOrAfter(const Feed& feed,
                                  const std::string& date) const {
  // Stamps grow with seq, and the log is in seq order.
  return std::partition_point(feed.log.begin(), feed.log.end(),
                              [&](const Entry& e) {
                                return *NormalizeTimestamp(Stamp(e.seq)) < date;
                              }) -
         feed.log.begin();
}

std::vector<std::string> FakeServer::RowsUpTo(
    const std::string& endpoint, const std::string& cursor,
    const std::vector<std::pair<std::string, std::string>>& owed) const {
  int64_t last = 0;
  std::vector<std::pair<int64_t, int64_t>> except;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Feed& feed = feeds_.at(endpoint);
    last = PassedSeq(feed, cursor);
    for (const auto& [position, end] : owed) {
      except.emplace_back(PassedSeq(feed, position), PassedSeq(feed, end));
    }
  }
  return LiveRows(endpoint, last, except);
}

std::vector<int64_t> FakeServer::IndicesInFeedOrder(
    const std::string& endpoint) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end()) return out;
  for (const Entry& e : it->second.log) {
    if (seen.insert(e.index).second) out.push_back(e.index);
  }
  return out;
}

std::vector<std::string> FakeServer::EndpointNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, feed] : feeds_) names.push_back(name);
  return names;
}

void FakeServer::RevokeTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.clear();
}

void FakeServer::Update(const std::string& endpoint, int64_t index,
                        bool active) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end() || !it->second.latest.count(index)) return;
  Append(it->second, index, active);
}

void FakeServer::SetAfterListRequest(
    std::function<void(const std::string& endpoint, int requests)> hook) {
  after_list_request_ = std::move(hook);
}

void FakeServer::ServeList(const std::string& feed_name,
                           const httplib::Request& req, httplib::Response& res,
                           int* records) {
  auto error = [&](const std::string& title) {
    res.status = 400;
    res.set_content(
        "{\"type\":\"error\",\"title\":\"" + title + "\",\"status\":400}",
        "application/json");
  };
  auto number = [&](const char* name, int64_t fallback) -> int64_t {
    if (!req.has_param(name)) return fallback;
    const std::string v = req.get_param_value(name);
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos ||
        v.size() > 9) {
      return -1;
    }
    return std::stoll(v);
  };
  int requests = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Feed& feed = feeds_.at(feed_name);
    const Endpoint& e = feed.endpoint;
    const int64_t page = number("page", 1);
    const int64_t page_size = number("pageSize", 50);
    // The catalog sends `active` by choice and every other parameter of its
    // entry because the endpoint's document requires it.
    for (const auto& [name, value] : e.params) {
      if (name != "active" && !req.has_param(name)) {
        return error(name + " is required");
      }
    }
    if (page < 1) return error("page must be a positive integer");
    if (page_size < 1 || page_size > e.max_page_size) {
      return error("pageSize must be between 1 and " +
                   std::to_string(e.max_page_size));
    }
    std::string since;
    if (req.has_param("modifiedOnOrAfter")) {
      auto t = NormalizeTimestamp(req.get_param_value("modifiedOnOrAfter"));
      if (!t) return error("modifiedOnOrAfter is not a date-time");
      since = *t;
    }
    // The endpoints with an `active` parameter return active records only,
    // unless asked for False or Any.
    const bool has_active =
        std::any_of(e.params.begin(), e.params.end(),
                    [](const auto& p) { return p.first == "active"; });
    std::string active = has_active ? "true" : "any";
    if (req.has_param("active")) {
      active = req.get_param_value("active");
      for (char& c : active) c = static_cast<char>(std::tolower(c));
    }
    const bool by_modified = req.get_param_value("sort") == "+ModifiedOn" ||
                             (req.get_param_value("orderBy") == "modifiedOn" &&
                              req.get_param_value("orderByDirection") == "asc");
    // The live records that match, in the order asked for: the log is in
    // modification order; the default is by id.
    std::vector<const Entry*> match;
    for (const Entry& entry : feed.log) {
      if (!entry.live) continue;
      if (!since.empty() && *NormalizeTimestamp(Stamp(entry.seq)) < since) {
        continue;
      }
      if ((active == "true" && !entry.active) ||
          (active == "false" && entry.active)) {
        continue;
      }
      match.push_back(&entry);
    }
    if (!by_modified) {
      std::sort(match.begin(), match.end(), [](const Entry* a, const Entry* b) {
        return a->index < b->index;
      });
    }
    const size_t first = static_cast<size_t>((page - 1) * page_size);
    std::string data;
    *records = 0;
    for (size_t i = first;
         i < match.size() && i < first + static_cast<size_t>(page_size); ++i) {
      if (!data.empty()) data += ',';
      data += match[i]->json;
      ++*records;
    }
    const bool more = first + static_cast<size_t>(page_size) < match.size();
    res.status = 200;
    res.set_content("{\"page\":" + std::to_string(page) +
                        ",\"pageSize\":" + std::to_string(page_size) +
                        ",\"hasMore\":" + (more ? "true" : "false") +
                        ",\"totalCount\":" + std::to_string(match.size()) +
                        ",\"data\":[" + data + "]}",
                    "application/json; charset=utf-8");
    requests = ++list_requests_[feed_name];
  }
  if (after_list_request_) after_list_request_(feed_name, requests);
}

void FakeServer::ExpireCursors() {
  std::lock_guard<std::mutex> lock(mu_);
  ++cursor_epoch_;
  page_cache_.clear();
}

void FakeServer::SetTokenLifetime(int seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  token_lifetime_seconds_ = seconds;
}

std::vector<RequestRecord> FakeServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeServer::TokenRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_requests_;
}

void FakeServer::Record(const RequestRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(r);
}

std::string FakeServer::BaseUrl() const {
  return (options_.tls_cert.empty() ? "http://" : "https://") + options_.host +
         ":" + std::to_string(port_);
}

bool FakeServer::TokenValid(const std::string& authorization) const {
  if (authorization.rfind("Bearer ", 0) != 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto tok = tokens_.find(authorization.substr(7));
  return tok != tokens_.end() && tok->second > std::chrono::steady_clock::now();
}

std::shared_ptr<const FakeServer::CachedPage> FakeServer::PageAfter(
    const std::string& feed_name, const std::string& from, bool recent) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string cache_key =
      feed_name + '\n' + from + '\n' + (recent ? "recent" : "");
  auto cached = page_cache_.find(cache_key);
  if (cached != page_cache_.end()) return cached->second;
  auto page = std::make_shared<CachedPage>();
  if (!RenderPage(feed_name, from, recent, &page->body, &page->records,
                  &page->continue_from, &page->has_more)) {
    return nullptr;
  }
  page_cache_[cache_key] = page;
  return page;
}

void FakeServer::Prerender() {
  for (const std::string& name : EndpointNames()) {
    std::string from;
    for (;;) {
      auto page = PageAfter(name, from, false);
      if (!page || !page->has_more) break;
      from = page->continue_from;
    }
  }
}

bool FakeServer::RenderPage(const std::string& feed_name,
                            const std::string& from, bool recent,
                            std::string* body, int* records,
                            std::string* continue_from, bool* has_more) const {
  const Feed& feed = feeds_.at(feed_name);
  // Where the page starts: the first entry after the token's, or the first
  // at or after a date.
  size_t pos = 0;
  if (!from.empty()) {
    int64_t seq = ParseToken(from, cursor_epoch_);
    if (seq >= 0) {
      pos = std::upper_bound(
                feed.log.begin(), feed.log.end(), seq,
                [](int64_t s, const Entry& e) { return s < e.seq; }) -
            feed.log.begin();
    } else if (auto date = NormalizeTimestamp(from)) {
      pos = FirstOnOrAfter(feed, *date);
    } else {
      return false;
    }
  }
  size_t start = pos;
  if (recent) {
    start = pos >= static_cast<size_t>(options_.recent_overlap)
                ? pos - options_.recent_overlap
                : 0;
  }
  std::string data;
  *records = 0;
  int served_live = 0;
  int64_t last_seq = pos > 0 ? feed.log[pos - 1].seq : 0;
  size_t i = start;
  for (; i < feed.log.size() && served_live < options_.page_size; ++i) {
    const Entry& e = feed.log[i];
    bool replay = i < pos;  // includeRecentChanges duplicates
    if (!e.live && !replay) continue;
    if (!data.empty()) data += ',';
    data += e.json;
    ++*records;
    if (!replay) {
      ++served_live;
      last_seq = e.seq;
    }
  }
  bool more = false;
  for (; i < feed.log.size() && !more; ++i) more = feed.log[i].live;
  *has_more = more;
  *continue_from = Token(last_seq, cursor_epoch_);
  *body = "{\"hasMore\":" + std::string(more ? "true" : "false") +
          ",\"continueFrom\":\"" + *continue_from + "\",\"data\":[" + data +
          "]}";
  return true;
}

Status FakeServer::Start() {
  if (options_.tls_cert.empty()) {
    server_ = std::make_unique<httplib::Server>();
  } else {
    server_ = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(),
                                                   options_.tls_key.c_str());
    if (!server_->is_valid()) {
      return Status::Io("fake server: cannot load " + options_.tls_cert);
    }
  }
  AddTokenRoute();
  AddAdminRoutes();
  AddExportRoutes();
  // A thread per connection: clients that keep connections open (one per
  // request in flight) must not starve each other.
  server_->new_task_queue = [] { return new httplib::ThreadPool(64); };

  // cpp-httplib's default is SO_REUSEPORT, which lets a second server share
  // the port and receive part of its connections. Refuse a busy port.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  port_ =
      options_.port == 0
          ? server_->bind_to_any_port(options_.host)
          : (server_->bind_to_port(options_.host, options_.port) ? options_.port
                                                                 : -1);
  if (port_ <= 0) {
    return Status::Io("fake server: cannot listen on " + options_.host + ":" +
                      std::to_string(options_.port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // The socket already accepts connections; wait until the loop runs so
  // that Stop() cannot race its start.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void FakeServer::Stop() {
  stopping_ = true;
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stsync::fake

#include "fake/fake_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
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

std::string Token(int64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "v1.%012llx", static_cast<long long>(seq));
  return buf;
}

// Parses a continuation token made by Token(); -1 if it is not one.
int64_t ParseToken(const std::string& s) {
  if (s.size() != 15 || s.compare(0, 3, "v1.") != 0) return -1;
  int64_t v = 0;
  for (size_t i = 3; i < s.size(); ++i) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// A valid JSON page with a wrong envelope: `hasMore` missing, `data` not an
// array, or a record without its key, by `variant`.
std::string MangleEnvelope(const std::string& page, int variant) {
  switch (variant % 3) {
    case 0: {
      std::string out = page;
      out.replace(out.find("\"hasMore\""), 9, "\"hasmore\"");
      return out;
    }
    case 1:
      return page.substr(0, page.find("\"data\":[")) + "\"data\":{}}";
    default:
      return page.substr(0, page.size() - 2) +
             (page[page.size() - 3] == '[' ? "" : ",") + "{\"keyless\":true}]}";
  }
}

// The route regex for an endpoint path: `{tenant}` captures digits, and
// characters special to regular expressions are escaped.
std::string PathPattern(const std::string& path) {
  const std::string tenant = "{tenant}";
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path.compare(i, tenant.size(), tenant) == 0) {
      out += "([0-9]+)";
      i += tenant.size() - 1;
    } else {
      if (std::string_view(".-+*?()[]{}|^$\\").find(path[i]) !=
          std::string_view::npos) {
        out += '\\';
      }
      out += path[i];
    }
  }
  return out;
}

}  // namespace

namespace {

// The FaultRates field of each kind, in FaultKinds() order.
double FaultRates::*const kRateFields[] = {
    &FaultRates::throttle,     &FaultRates::maintenance,
    &FaultRates::server_error, &FaultRates::unavailable,
    &FaultRates::slow,         &FaultRates::hang,
    &FaultRates::truncate,     &FaultRates::reset,
    &FaultRates::broken_json,  &FaultRates::bad_envelope,
    &FaultRates::unauthorized, &FaultRates::token_error};

}  // namespace

const std::vector<std::string>& FaultKinds() {
  static const auto* kinds = new std::vector<std::string>{
      "throttle",    "maintenance",  "server_error", "unavailable",
      "slow",        "hang",         "truncate",     "reset",
      "broken_json", "bad_envelope", "unauthorized", "token_error"};
  return *kinds;
}

bool FaultRates::Parse(const std::string& text, std::string* error) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    std::replace(name.begin(), name.end(), '-', '_');
    char* end = nullptr;
    double value =
        eq == std::string::npos ? -1 : std::strtod(item.c_str() + eq + 1, &end);
    if (eq == std::string::npos || !end || *end || value < 0) {
      *error = "bad fault setting '" + item + "'";
      return false;
    }
    if (name == "slow_ms") {
      slow_ms = static_cast<int>(value);
      continue;
    }
    auto it = std::find(FaultKinds().begin(), FaultKinds().end(), name);
    if (it == FaultKinds().end() || value > 1) {
      *error = "unknown fault kind or rate out of [0, 1]: '" + item + "'";
      return false;
    }
    this->*kRateFields[it - FaultKinds().begin()] = value;
  }
  return true;
}

std::string FaultRates::ToString() const {
  std::string out;
  for (size_t i = 0; i < FaultKinds().size(); ++i) {
    double v = this->*kRateFields[i];
    if (v > 0) out += FaultKinds()[i] + "=" + std::to_string(v) + ",";
  }
  return out + "slow_ms=" + std::to_string(slow_ms);
}

std::string FakeTimestamp(int64_t seq) {
  // 2024-01-01T00:00:00Z + seq seconds.
  auto t = WallTime(std::chrono::seconds(1704067200LL + seq));
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
  for (int i = 0; i < options_.records_per_endpoint; ++i) {
    for (auto& [name, feed] : feeds_) Append(feed, feed.next_index++, true);
  }
}

FakeServer::~FakeServer() { Stop(); }

void FakeServer::Render(const Feed& feed, int64_t index, int64_t revision,
                        const std::string& version, bool active,
                        Entry* entry) const {
  const Endpoint& e = feed.endpoint;
  const uint64_t salt = HashName(e.name);
  auto value = [&](const Field& f, int64_t idx, int64_t rev) -> std::string {
    uint64_t h = Mix(Mix(salt, HashName(f.name)), idx * 1000 + rev);
    switch (f.kind) {
      case FieldKind::kInteger:
        return std::to_string(h % 900000 + 100);
      case FieldKind::kNumber:
        return std::to_string(h % 100000 / 100) + "." +
               std::to_string(h % 90 + 10);
      case FieldKind::kBool:
        return h & 1 ? "true" : "false";
      case FieldKind::kDateTime:
        return "\"" + FakeTimestamp(static_cast<int64_t>(h % 50'000'000)) +
               "\"";
      case FieldKind::kEnum:
        return "\"" + f.enum_values[h % f.enum_values.size()] + "\"";
      case FieldKind::kArray:
        return "[]";
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
      add(f, null_id ? "null" : std::to_string(v));
      done.push_back(f);
    }
    add(e.version_field, "\"" + ver + "\"");
    done.push_back(e.version_field);
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
  Entry entry{seq, index, "", {}, true};
  Render(feed, index, revision, FakeTimestamp(seq), active, &entry);
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

std::vector<std::string> FakeServer::LiveRows(const std::string& endpoint,
                                              int64_t last_seq) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> rows;
  auto it = feeds_.find(endpoint);
  if (it == feeds_.end()) return rows;
  for (const Entry& e : it->second.log) {
    if (e.seq > last_seq) break;
    if (!e.live) continue;
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
  int64_t last = ParseToken(token);
  return last < 0 ? std::vector<std::string>() : LiveRows(endpoint, last);
}

std::vector<std::string> FakeServer::EndpointNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, feed] : feeds_) names.push_back(name);
  return names;
}

void FakeServer::AddFault(const Fault& fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(fault);
}

void FakeServer::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
  rates_ = FaultRates();
}

void FakeServer::SetFaultRates(const FaultRates& rates) {
  std::lock_guard<std::mutex> lock(mu_);
  rates_ = rates;
}

std::map<std::string, int> FakeServer::FaultCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int> counts;
  for (const auto& kind : FaultKinds()) {
    auto it = fault_counts_.find(kind);
    counts[kind] = it == fault_counts_.end() ? 0 : it->second;
  }
  return counts;
}

std::string FakeServer::DrawFault(Fault::Target target, Fault* response) {
  std::lock_guard<std::mutex> lock(mu_);
  *response = Fault();
  response->status = 0;  // by default: answer normally
  double r = std::uniform_real_distribution<double>(0, 1)(rng_);
  const size_t token_kind = FaultKinds().size() - 1;
  for (size_t i = 0; i < FaultKinds().size(); ++i) {
    if ((target == Fault::Target::kToken) != (i == token_kind)) continue;
    r -= rates_.*kRateFields[i];
    if (r < 0) {
      const std::string& kind = FaultKinds()[i];
      ++fault_counts_[kind];
      Fault& f = *response;
      f.content_type = "application/json";
      if (kind == "throttle") {
        f.status = 429;
        f.retry_after = "1";
        f.body = R"({"title":"Too Many Requests","status":429})";
      } else if (kind == "maintenance") {
        f.status = 409;
        f.body = R"({"title":"Tenant is suspended for maintenance"})";
      } else if (kind == "server_error") {
        f.status = 500;
        f.body = R"({"title":"Internal Server Error","status":500})";
      } else if (kind == "unavailable" || kind == "token_error") {
        f.status = 503;
        f.content_type = "text/html";
        f.body = "<html><body><h1>503 Service Unavailable</h1></body></html>";
      } else if (kind == "unauthorized") {
        f.status = 401;
        f.body = "";
      } else if (kind == "slow") {
        f.delay_ms = rates_.slow_ms;
      } else if (kind == "hang") {
        f.status = 504;  // if Stop() ever ends the wait
        f.delay_ms = 3'600'000;
      }
      return kind;
    }
  }
  return "";
}

void FakeServer::RevokeTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.clear();
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

bool FakeServer::TakeFault(Fault::Target target, const std::string& path,
                           Fault* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : faults_) {
    if (f.target != target || f.count <= 0) continue;
    if (!f.path_contains.empty() &&
        path.find(f.path_contains) == std::string::npos) {
      continue;
    }
    if (f.skip > 0) {
      --f.skip;
      return false;
    }
    --f.count;
    *out = f;
    return true;
  }
  return false;
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
    int64_t seq = ParseToken(from);
    if (seq >= 0) {
      pos = std::upper_bound(
                feed.log.begin(), feed.log.end(), seq,
                [](int64_t s, const Entry& e) { return s < e.seq; }) -
            feed.log.begin();
    } else if (auto date = NormalizeTimestamp(from)) {
      while (pos < feed.log.size() &&
             *NormalizeTimestamp(FakeTimestamp(feed.log[pos].seq)) < *date) {
        ++pos;
      }
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
  *continue_from = Token(last_seq);
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
  // Sleeps for the fault's delay; true if the fault then answers itself.
  auto apply_fault = [this](const Fault& f, httplib::Response& res) {
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(f.delay_ms);
    while (!stopping_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (f.status == 0) return false;
    res.status = f.status;
    if (!f.retry_after.empty()) res.set_header("Retry-After", f.retry_after);
    res.set_content(f.body, f.content_type.c_str());
    return true;
  };

  server_->Post("/connect/token", [this, apply_fault](
                                      const httplib::Request& req,
                                      httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++token_requests_;
    }
    Fault f;
    if (TakeFault(Fault::Target::kToken, req.path, &f) && apply_fault(f, res)) {
      return;
    }
    DrawFault(Fault::Target::kToken, &f);
    if (apply_fault(f, res)) return;
    if (req.get_param_value("grant_type") != "client_credentials") {
      res.status = 400;
      res.set_content(R"({"error":"unsupported_grant_type"})",
                      "application/json");
      return;
    }
    if (req.get_param_value("client_id") != options_.client_id ||
        req.get_param_value("client_secret") != options_.client_secret) {
      res.status = 400;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    std::string token;
    int lifetime;
    {
      std::lock_guard<std::mutex> lock(mu_);
      lifetime = token_lifetime_seconds_;
      char buf[64];
      std::snprintf(buf, sizeof buf, "fake-access-%lld-%016llx",
                    static_cast<long long>(++token_counter_),
                    static_cast<unsigned long long>(rng_()));
      token = buf;
      tokens_[token] =
          std::chrono::steady_clock::now() + std::chrono::seconds(lifetime);
    }
    res.set_content("{\"access_token\":\"" + token +
                        "\",\"expires_in\":" + std::to_string(lifetime) +
                        ",\"token_type\":\"Bearer\",\"scope\":\"api\"}",
                    "application/json");
  });

  server_->Get("/admin/faults", [this](const httplib::Request&,
                                       httplib::Response& res) {
    std::string counts;
    for (const auto& [kind, n] : FaultCounts()) {
      counts += (counts.empty() ? "" : ",") + ("\"" + kind + "\":") +
                std::to_string(n);
    }
    std::string rates;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rates = rates_.ToString();
    }
    res.set_content("{\"rates\":\"" + rates + "\",\"counts\":{" + counts + "}}",
                    "application/json");
  });
  server_->Get("/admin/requests", [this](const httplib::Request&,
                                         httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    res.set_content("{\"export\":" + std::to_string(requests_.size()) +
                        ",\"token\":" + std::to_string(token_requests_) + "}",
                    "application/json");
  });
  server_->Post("/admin/faults",
                [this](const httplib::Request& req, httplib::Response& res) {
                  FaultRates rates;
                  std::string error;
                  if (!rates.Parse(req.body, &error)) {
                    res.status = 400;
                    res.set_content(error + "\n", "text/plain");
                    return;
                  }
                  SetFaultRates(rates);
                  res.set_content(rates.ToString() + "\n", "text/plain");
                });
  server_->Post("/admin/mutate", [this](const httplib::Request& req,
                                        httplib::Response& res) {
    std::string endpoint = req.get_param_value("endpoint");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!feeds_.count(endpoint)) {
        res.status = 404;
        res.set_content("unknown endpoint\n", "text/plain");
        return;
      }
    }
    Mutate(endpoint, std::atoi(req.get_param_value("updates").c_str()),
           std::atoi(req.get_param_value("inserts").c_str()));
    res.set_content("ok\n", "text/plain");
  });
  server_->Post("/admin/token-lifetime",
                [this](const httplib::Request& req, httplib::Response& res) {
                  SetTokenLifetime(std::max(
                      1, std::atoi(req.get_param_value("seconds").c_str())));
                  res.set_content("ok\n", "text/plain");
                });
  server_->Post("/admin/revoke-tokens",
                [this](const httplib::Request&, httplib::Response& res) {
                  RevokeTokens();
                  res.set_content("ok\n", "text/plain");
                });

  for (auto& [name, feed_ref] : feeds_) {
    const std::string feed_name = name;
    server_->Get(
        PathPattern(feed_ref.endpoint.path),
        [this, feed_name, apply_fault](const httplib::Request& req,
                                       httplib::Response& res) {
          ++requests_started_;
          RequestRecord rec;
          rec.path = req.path;
          rec.from = req.get_param_value("from");
          rec.params.insert(req.params.begin(), req.params.end());
          rec.recent = req.get_param_value("includeRecentChanges") == "true";
          rec.at = std::chrono::steady_clock::now();
          auto finish = [&] {
            rec.status = res.status;
            Record(rec);
          };
          Fault f;
          if (TakeFault(Fault::Target::kExport, req.path, &f) &&
              apply_fault(f, res)) {
            return finish();
          }
          auto json_error = [&](int status, const std::string& title) {
            res.status = status;
            res.set_content("{\"type\":\"error\",\"title\":\"" + title +
                                "\",\"status\":" + std::to_string(status) + "}",
                            "application/json");
          };
          const std::string random = DrawFault(Fault::Target::kExport, &f);
          if (apply_fault(f, res)) return finish();
          if (!TokenValid(req.get_header_value("Authorization"))) {
            res.status = 401;
            res.set_header("WWW-Authenticate",
                           "Bearer error=\"invalid_token\"");
            return finish();
          }
          if (req.get_header_value("ST-App-Key") != options_.app_key) {
            json_error(401, "App key is missing or invalid");
            return finish();
          }
          if (req.matches[1] != options_.tenant) {
            json_error(404, "Tenant not found");
            return finish();
          }
          auto page = PageAfter(feed_name, rec.from, rec.recent);
          if (!page) {
            json_error(400, "Invalid 'from' value");
            return finish();
          }
          rec.records = page->records;
          res.status = 200;
          const char* type = "application/json; charset=utf-8";
          if (random.empty()) {
            // The common case: send the cached bytes without a copy.
            res.set_content_provider(
                page->body.size(), type,
                [page](size_t offset, size_t, httplib::DataSink& sink) {
                  return sink.write(page->body.data() + offset,
                                    page->body.size() - offset);
                });
            return finish();
          }
          std::string body = page->body;
          if (random == "truncate" || random == "reset") {
            // Promise the whole body, send half (or nothing), then close.
            size_t send = random == "truncate" ? body.size() / 2 : 0;
            res.set_content_provider(
                body.size(), type,
                [body, send](size_t, size_t, httplib::DataSink& sink) {
                  if (send > 0) sink.write(body.data(), send);
                  return false;
                });
            rec.records = 0;
            return finish();
          }
          if (random == "broken_json") {
            body.resize(body.size() / 2);
            rec.records = 0;
          } else if (random == "bad_envelope") {
            body = MangleEnvelope(body, ++envelope_variant_);
            rec.records = 0;
          }
          res.set_content(body, type);
          finish();
        });
  }

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

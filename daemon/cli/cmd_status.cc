// stsync status: what the database holds, per configured endpoint.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "base/duration.h"
#include "base/timestamp.h"
#include "cli/cli.h"
#include "engine/progress_observer.h"
#include "engine/split_days.h"
#include "sink/damage_note.h"
#include "sink/open_destination.h"

namespace stsync {
namespace {

// "3m ago", or "never".
std::string Age(const std::string& ts, WallTime now) {
  auto t = ParseNormalizedTimestamp(ts);
  if (!t) return "never";
  auto d = std::chrono::duration_cast<std::chrono::seconds>(now - *t);
  return FormatDuration(std::max<Millis>(Millis(0), d)) + " ago";
}

std::optional<long long> AgeSeconds(const std::string& ts, WallTime now) {
  auto t = ParseNormalizedTimestamp(ts);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
}

// Whether the endpoint's last attempt got HTTP 403 (see ApiClient): the
// tenant lacks its module, and it is tried again only rarely.
bool IsForbidden(const FeedState& state) {
  return state.last_error.rfind("HTTP 403", 0) == 0;
}

// How far a first sync (a feed never caught up, or with split ranges
// owed) has got: what its table holds.
struct FirstSync {
  std::string oldest, newest;  // versions stored
  std::string first_stored;    // when its first row was stored
};

// A first sync's share of its history stored, rate and time left.
struct FirstSyncProgress {
  std::optional<double> share;
  std::optional<double> rows_per_second;
  std::optional<Millis> left;
};

FirstSyncProgress ProgressOf(const FeedState& s, const FirstSync& f,
                             WallTime now) {
  FirstSyncProgress p;
  double owed = 0;
  for (const SplitRange& r : s.ranges) owed += OwedDays(r);
  p.share = HistoryShare(f.oldest, f.newest, owed, now);
  auto first = ParseNormalizedTimestamp(f.first_stored);
  auto last = ParseNormalizedTimestamp(s.cursor_updated_at);
  if (first && last && *last > *first) {
    const auto elapsed = std::chrono::duration_cast<Millis>(*last - *first);
    p.rows_per_second = static_cast<double>(s.row_count) * 1000 /
                        static_cast<double>(elapsed.count());
    if (p.share) p.left = TimeLeft(*p.share, elapsed);
  }
  return p;
}

// What the database of one tenant says of its feeds.
struct TenantStates {
  bool exists = true;
  // Why its feeds cannot be shown or trusted: the file is damaged (its
  // DamageNote) or holds another tenant's data. "" if neither.
  std::string problem;
  // Which daemon writes it (PostgreSQL's lease); "" for a file.
  std::string written_by;
  std::vector<FeedState> states;
  std::vector<ReconcileState> reconciles;
  std::map<std::string, FirstSync> first_syncs;  // by endpoint

  const ReconcileState& ReconcileOf(const std::string& endpoint) const {
    static const ReconcileState kNone;
    for (const auto& r : reconciles) {
      if (r.endpoint == endpoint) return r;
    }
    return kNone;
  }

  // Rows and pages of `config`'s endpoints together, and how many of them
  // failed at their last attempt (403s apart).
  struct Totals {
    int64_t rows = 0;
    int64_t pages = 0;
    int64_t failing = 0;
  };
  Totals TotalsOf(const Config& config) const {
    Totals t;
    for (const auto& ec : config.endpoints) {
      const FeedState& s = Of(ec.endpoint.name);
      t.rows += s.row_count;
      t.pages += s.pages;
      if (!s.last_error.empty() && !IsForbidden(s)) ++t.failing;
    }
    return t;
  }

  const FeedState& Of(const std::string& endpoint) const {
    static const FeedState kNone;
    for (const auto& c : states) {
      if (c.endpoint == endpoint) return c;
    }
    return kNone;
  }
};

Result<TenantStates> LoadStates(const Config& config) {
  TenantStates out;
  if (!UsesPostgres(config)) {
    if (auto note = ReadDamageNote(config.database.path)) {
      out.problem = "DAMAGED: " + *note;
    }
  }
  DestinationOptions options;
  options.read_only = true;
  auto store = OpenDestination(config, options, RealClock::Get());
  if (!store.ok()) {
    const Status::Code code = store.status().code();
    if (code == Status::Code::kInvalid || code == Status::Code::kCorrupt) {
      // Another tenant's file, or one too damaged to read.
      if (out.problem.empty()) out.problem = store.status().message();
      return out;
    }
    if (code != Status::Code::kNotFound) return store.status();
    out.exists = false;
    return out;
  }
  auto all = (*store)->LoadAll();
  if (!all.ok() && all.status().code() == Status::Code::kCorrupt) {
    if (out.problem.empty()) out.problem = all.status().message();
    return out;
  }
  if (!all.ok()) return all.status();
  out.states = std::move(*all);
  auto by = (*store)->WrittenBy();
  if (!by.ok()) return by.status();
  out.written_by = by->description;
  auto reconciles = (*store)->LoadAllReconciles();
  if (!reconciles.ok()) return reconciles.status();
  out.reconciles = std::move(*reconciles);
  for (const auto& ec : config.endpoints) {
    const FeedState& s = out.Of(ec.endpoint.name);
    if (s.row_count == 0 || (!s.caught_up_at.empty() && s.ranges.empty())) {
      continue;
    }
    auto oldest = (*store)->OldestVersion(ec.endpoint);
    auto newest = (*store)->NewestVersion(ec.endpoint);
    auto first = (*store)->FirstStoredAt(ec.endpoint);
    if (!oldest.ok()) return oldest.status();
    if (!newest.ok()) return newest.status();
    if (!first.ok()) return first.status();
    out.first_syncs[ec.endpoint.name] = {
        oldest->value_or(""), newest->value_or(""), first->value_or("")};
  }
  return out;
}

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// `key`: the text `v`, or null if it is empty.
void StringOrNull(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v.c_str());
  }
}

void WriteReconcileJson(JsonWriter& w, const EndpointConfig& ec,
                        const ReconcileState& r) {
  w.Key("reconcile");
  if (!ec.reconcile_every) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("every_seconds");
  w.Int64(std::chrono::duration_cast<std::chrono::seconds>(*ec.reconcile_every)
              .count());
  w.Key("in_progress");
  w.Bool(!r.pass_started_at.empty());
  StringOrNull(w, "pass_started_at", r.pass_started_at);
  w.Key("pass_pages");
  w.Int64(r.pages);
  w.Key("pass_seen");
  w.Int64(r.seen);
  StringOrNull(w, "last_finished_at", r.last_finished_at);
  w.Key("last_seen");
  w.Int64(r.last_seen);
  w.Key("last_marked");
  w.Int64(r.last_marked);
  StringOrNull(w, "last_outcome", r.last_outcome);
  StringOrNull(w, "last_error", r.last_error);
  w.EndObject();
}

void WriteJson(JsonWriter& w, const Config& config, const TenantStates& t,
               WallTime now) {
  w.StartObject();
  w.Key("tenant");
  w.String(config.tenant.c_str());
  w.Key("database");
  w.String(DescribeDestination(config).c_str());
  w.Key("exists");
  w.Bool(t.exists);
  StringOrNull(w, "problem", t.problem);
  StringOrNull(w, "written_by", t.written_by);
  const TenantStates::Totals totals = t.TotalsOf(config);
  w.Key("totals");
  w.StartObject();
  w.Key("rows");
  w.Int64(totals.rows);
  w.Key("pages");
  w.Int64(totals.pages);
  w.Key("failing_endpoints");
  w.Int64(totals.failing);
  w.EndObject();
  w.Key("endpoints");
  w.StartArray();
  for (const auto& ec : config.endpoints) {
    const FeedState& cp = t.Of(ec.endpoint.name);
    w.StartObject();
    w.Key("endpoint");
    w.String(ec.endpoint.name.c_str());
    w.Key("table");
    w.String(ec.endpoint.TableName().c_str());
    w.Key("rows");
    w.Int64(cp.row_count);
    w.Key("pages");
    w.Int64(cp.pages);
    w.Key("has_cursor");
    w.Bool(cp.cursor.has_value());
    StringOrNull(w, "cursor_updated_at", cp.cursor_updated_at);
    w.Key("cursor_age_seconds");
    if (auto a = AgeSeconds(cp.cursor_updated_at, now)) {
      w.Int64(*a);
    } else {
      w.Null();
    }
    StringOrNull(w, "caught_up_at", cp.caught_up_at);
    StringOrNull(w, "last_error", cp.last_error);
    StringOrNull(w, "last_error_at", cp.last_error_at);
    w.Key("consecutive_failures");
    w.Int64(cp.consecutive_failures);
    w.Key("forbidden");
    w.Bool(IsForbidden(cp));
    w.Key("rejected");
    w.Int64(cp.rejected);
    w.Key("first_sync");
    auto f = t.first_syncs.find(ec.endpoint.name);
    if (f == t.first_syncs.end()) {
      w.Null();
    } else {
      const FirstSyncProgress p = ProgressOf(cp, f->second, now);
      w.StartObject();
      StringOrNull(w, "oldest_version", f->second.oldest);
      StringOrNull(w, "newest_version", f->second.newest);
      w.Key("share");
      p.share ? w.Double(*p.share) : w.Null();
      w.Key("rows_per_second");
      p.rows_per_second ? w.Double(*p.rows_per_second) : w.Null();
      w.Key("seconds_left");
      p.left ? w.Int64(p.left->count() / 1000) : w.Null();
      w.EndObject();
    }
    w.Key("split_ranges");
    w.StartArray();
    for (const SplitRange& r : cp.ranges) {
      w.StartObject();
      w.Key("end");
      w.String(r.end.c_str());
      StringOrNull(w, "reached", r.reached);
      w.EndObject();
    }
    w.EndArray();
    WriteReconcileJson(w, ec, t.ReconcileOf(ec.endpoint.name));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

// The endpoints with reconcile_every: their pass in progress and last one.
void PrintReconciles(const Config& config, const TenantStates& t,
                     WallTime now) {
  bool header = false;
  for (const auto& ec : config.endpoints) {
    if (!ec.reconcile_every) continue;
    if (!header) {
      std::printf("\n%-26s %-8s %s\n", "RECONCILE", "EVERY", "STATE");
      header = true;
    }
    const ReconcileState& r = t.ReconcileOf(ec.endpoint.name);
    std::string state;
    if (r.last_finished_at.empty()) {
      state = "no pass finished yet";
    } else {
      state = "last pass " + Age(r.last_finished_at, now) + ": saw " +
              std::to_string(r.last_seen) + " keys, marked " +
              std::to_string(r.last_marked) + " deleted";
      if (r.last_outcome != "marked") state += " (" + r.last_outcome + ")";
    }
    if (!r.pass_started_at.empty()) {
      state += "; pass in progress since " + Age(r.pass_started_at, now) +
               ": " + std::to_string(r.pages) + " pages, " +
               std::to_string(r.seen) + " keys";
    }
    if (!r.last_error.empty()) state += "; last error: " + r.last_error;
    if (state.size() > 160) state = state.substr(0, 157) + "...";
    std::printf("%-26s %-8s %s\n", ec.endpoint.name.c_str(),
                FormatDuration(*ec.reconcile_every).c_str(), state.c_str());
  }
}

// Where a split first sync's range stands: the day its chain has reached
// (or the date it starts from), and the day it ends at.
std::string DescribeRange(const SplitRange& r) {
  std::string at =
      r.reached.empty() ? r.position.Describe() : r.reached.substr(0, 10);
  if (r.reached.empty() && r.position.kind() == Cursor::Kind::kPosition) {
    at = "?";
  }
  return at + ".." + r.end;
}

// The endpoints whose first sync is not done: how far each has got, and
// the date ranges a split one still owes.
void PrintFirstSyncs(const Config& config, const TenantStates& t,
                     WallTime now) {
  bool header = false;
  for (const auto& ec : config.endpoints) {
    const FeedState& cp = t.Of(ec.endpoint.name);
    auto f = t.first_syncs.find(ec.endpoint.name);
    if (f == t.first_syncs.end()) continue;
    if (!header) {
      std::printf("\n%-26s %s\n", "FIRST SYNC", "PROGRESS");
      header = true;
    }
    const FirstSyncProgress p = ProgressOf(cp, f->second, now);
    std::string text;
    if (p.share) {
      text = std::to_string(static_cast<int>(*p.share * 100)) +
             "% of the way from " + f->second.oldest.substr(0, 10) + " to now";
    }
    if (p.rows_per_second) {
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.0f rows/s", *p.rows_per_second);
      text += (text.empty() ? "" : ", ") + std::string(rate);
    }
    if (p.left) text += ", about " + FormatDuration(*p.left) + " left";
    if (!cp.ranges.empty()) {
      std::string ranges;
      for (const SplitRange& r : cp.ranges) {
        ranges += (ranges.empty() ? "" : ", ") + DescribeRange(r);
      }
      text += (text.empty() ? "" : "; ") + std::to_string(cp.ranges.size()) +
              " date range(s) left (at..end): " + ranges;
    }
    if (text.size() > 200) text = text.substr(0, 197) + "...";
    std::printf("%-26s %s\n", ec.endpoint.name.c_str(), text.c_str());
  }
}

void PrintText(const Config& config, const TenantStates& t, bool name_tenant,
               WallTime now) {
  if (name_tenant) std::printf("tenant: %s\n", config.tenant.c_str());
  std::printf("database: %s%s\n", DescribeDestination(config).c_str(),
              t.exists ? "" : " (not created yet)");
  if (!t.written_by.empty()) {
    std::printf("written by: %s\n", t.written_by.c_str());
  }
  if (!t.problem.empty()) std::printf("PROBLEM: %s\n", t.problem.c_str());
  std::printf("\n");
  std::printf("%-26s %10s %7s  %-12s %-12s %s\n", "ENDPOINT", "ROWS", "PAGES",
              "CURSOR", "CAUGHT UP", "LAST ERROR");
  for (const auto& ec : config.endpoints) {
    const FeedState& cp = t.Of(ec.endpoint.name);
    std::string error = cp.last_error.empty() ? "-" : cp.last_error;
    if (IsForbidden(cp)) error = "forbidden: " + error;
    if (!cp.last_error.empty() && cp.consecutive_failures > 1) {
      error = "(" + std::to_string(cp.consecutive_failures) + "x) " + error;
    }
    if (error.size() > 100) error = error.substr(0, 97) + "...";
    std::printf("%-26s %10lld %7lld  %-12s %-12s %s\n",
                ec.endpoint.name.c_str(), static_cast<long long>(cp.row_count),
                static_cast<long long>(cp.pages),
                Age(cp.cursor_updated_at, now).c_str(),
                Age(cp.caught_up_at, now).c_str(), error.c_str());
  }
  const TenantStates::Totals totals = t.TotalsOf(config);
  std::printf("%-26s %10lld %7lld  %lld of %zu endpoint(s) failing\n", "TOTAL",
              static_cast<long long>(totals.rows),
              static_cast<long long>(totals.pages),
              static_cast<long long>(totals.failing), config.endpoints.size());
  std::string rejected;
  for (const auto& ec : config.endpoints) {
    const FeedState& cp = t.Of(ec.endpoint.name);
    if (cp.rejected == 0) continue;
    rejected += (rejected.empty() ? "" : ", ") + ec.endpoint.name + " " +
                std::to_string(cp.rejected);
  }
  if (!rejected.empty()) {
    std::printf("QUARANTINED records (in _stsync_rejects): %s\n",
                rejected.c_str());
  }
  PrintFirstSyncs(config, t, now);
  PrintReconciles(config, t, now);
}

}  // namespace

int StatusCommand(int argc, char** argv) {
  ArgSpec spec;
  spec.command = "status";
  spec.value_options = {"--config", "--tenant"};
  spec.flags = {"--json"};
  spec.usage =
      "Usage: stsync status -c FILE [--tenant ID] [--json]\n"
      "\n"
      "Shows, per configured endpoint: rows stored, pages committed, the age\n"
      "of its cursor, when it last caught up, and its last error, then the\n"
      "totals; for a first sync not done, how far it has got (its share of\n"
      "the history, rows/s, time left) and the date ranges a split one still\n"
      "owes; for endpoints with reconcile_every, the reconciliation in\n"
      "progress and the last one; for every tenant of the config, or the one\n"
      "--tenant names. Reads the databases without locking out the daemon.\n"
      "Exits 1, naming the problem, if a database is damaged or holds\n"
      "another tenant's data.\n"
      "\n"
      "  -c, --config FILE    the YAML config\n"
      "      --tenant ID      only this tenant\n"
      "      --json           machine-readable output: one tenant's object,\n"
      "                       or {\"tenants\": [...]} for several\n";
  int code = kExitOk;
  auto command = LoadTenantCommand(spec, argc, argv, /*one=*/false, &code);
  if (!command) return code;
  const Args* args = &command->args;
  const std::vector<const Config*>* tenants = &command->tenants;
  std::vector<TenantStates> states;
  for (const Config* t : *tenants) {
    auto loaded = LoadStates(*t);
    if (!loaded.ok()) {
      std::fprintf(stderr, "stsync: %s\n", loaded.status().message().c_str());
      return kExitFailure;
    }
    states.push_back(std::move(*loaded));
  }
  const WallTime now = RealClock::Get()->WallNow();
  const bool several = tenants->size() > 1;
  // A damaged file or another tenant's is shown, and the exit code says so.
  const int exit_code =
      std::any_of(states.begin(), states.end(),
                  [](const TenantStates& t) { return !t.problem.empty(); })
          ? kExitFailure
          : kExitOk;
  if (args->Has("--json")) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    if (several) {
      w.StartObject();
      w.Key("tenants");
      w.StartArray();
    }
    for (size_t i = 0; i < tenants->size(); ++i) {
      WriteJson(w, *(*tenants)[i], states[i], now);
    }
    if (several) {
      w.EndArray();
      w.EndObject();
    }
    std::printf("%s\n", buf.GetString());
    return exit_code;
  }
  for (size_t i = 0; i < tenants->size(); ++i) {
    if (i > 0) std::printf("\n");
    PrintText(*(*tenants)[i], states[i], several, now);
  }
  return exit_code;
}

}  // namespace stsync

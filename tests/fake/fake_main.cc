// stsync-fake: the bundled fake ServiceTitan, for the demo and manual tests.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "base/duration.h"
#include "fake/fake_server.h"

namespace {

constexpr const char* kUsage =
    "Usage: stsync-fake [OPTIONS]\n"
    "\n"
    "Serves a fake ServiceTitan (token endpoint and every export endpoint) on\n"
    "loopback, with deterministic records, until SIGTERM or SIGINT.\n"
    "\n"
    "  --host HOST            listen address (default 127.0.0.1)\n"
    "  --port N               port (default 8089; 0 picks a free one)\n"
    "  --records N            records per endpoint (default 1000)\n"
    "  --records-of NAME=N,.. other counts for some endpoints (a skewed\n"
    "                         tenant), e.g. jobs=100000,customers=20000\n"
    "  --latency MS           wait MS before every answer (a round trip)\n"
    "  --history-days N       date the records over the N days before the\n"
    "                         start, more of them each day (default: a\n"
    "                         second apart from 2024-01-01)\n"
    "  --page-size N          records per page (default 500)\n"
    "  --token-lifetime SECS  access token lifetime (default 900)\n"
    "  --endpoints a,b,c      serve only these (default: all)\n"
    "  --mutate-every DUR     update and add records periodically, e.g. 30s\n"
    "  --ready-file PATH      write the port here once listening\n"
    "  --faults RATES         random faults, e.g. throttle=0.05,hang=0.01\n"
    "                         (kinds: throttle maintenance server_error\n"
    "                         unavailable slow hang truncate reset "
    "broken_json\n"
    "                         bad_envelope unauthorized token_error; "
    "slow_ms=N)\n"
    "  --modified-later F     share of records (0 to 1) modified after\n"
    "                         creation, so they come later in the feed than\n"
    "                         their id: 0 (default) serves ids in order, 0.3\n"
    "                         is a realistic tenant, 1 fully random\n"
    "  --array-items N        fill every array field with N small objects\n"
    "                         (default 0: empty arrays; 2 makes jobs records\n"
    "                         about 1.5 KB)\n"
    "  --tenants a,b,c        more tenant ids to serve (the same data)\n"
    "  --seed N               seed for faults and mutations (default 1)\n"
    "  --prerender            render every page before listening, so that\n"
    "                         serving is a send of cached bytes (benchmarks)\n"
    "\n"
    "Admin routes (loopback): GET/POST /admin/faults, POST /admin/mutate,\n"
    "POST /admin/delete?endpoint=E&count=N (hard deletes),\n"
    "POST /admin/token-lifetime, POST /admin/revoke-tokens,\n"
    "POST /admin/expire-cursors.\n"
    "\n"
    "Credentials: client id demo-client, secret demo-secret, app key\n"
    "demo-app-key, tenant 1234567 (as in config/demo.yaml).\n";

int ToInt(const char* s, const char* what) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!end || *end || v < 0 || v > 100'000'000) {
    std::fprintf(stderr, "stsync-fake: bad %s '%s'\n", what, s);
    std::exit(2);
  }
  return static_cast<int>(v);
}

// "a,b,c" -> {"a", "b", "c"}; empty items are skipped.
std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= list.size();) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  stsync::fake::FakeOptions options;
  options.port = 8089;
  std::string ready_file;
  std::chrono::milliseconds mutate_every{0};
  stsync::fake::FaultRates rates;
  bool prerender = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--prerender") {
      prerender = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "stsync-fake: unknown or incomplete option %s\n%s",
                   a.c_str(), kUsage);
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--host") {
      options.host = v;
    } else if (a == "--port") {
      options.port = ToInt(v, "port");
    } else if (a == "--records") {
      options.records_per_endpoint = ToInt(v, "record count");
    } else if (a == "--records-of") {
      for (const std::string& item : SplitList(v)) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos) {
          std::fprintf(stderr,
                       "stsync-fake: --records-of '%s' is not NAME=N\n%s",
                       item.c_str(), kUsage);
          return 2;
        }
        options.records_of[item.substr(0, eq)] =
            ToInt(item.substr(eq + 1).c_str(), "record count");
      }
    } else if (a == "--history-days") {
      options.history_days = ToInt(v, "history-days");
    } else if (a == "--latency") {
      options.latency_ms = ToInt(v, "latency");
    } else if (a == "--page-size") {
      options.page_size = std::max(1, ToInt(v, "page size"));
    } else if (a == "--token-lifetime") {
      options.token_lifetime_seconds = std::max(1, ToInt(v, "token lifetime"));
    } else if (a == "--tenants") {
      options.extra_tenants = SplitList(v);
    } else if (a == "--endpoints") {
      options.endpoints = SplitList(v);
    } else if (a == "--mutate-every") {
      auto d = stsync::ParseDuration(v);
      if (!d || d->count() == 0) {
        std::fprintf(stderr, "stsync-fake: bad duration '%s'\n", v);
        return 2;
      }
      mutate_every = *d;
    } else if (a == "--ready-file") {
      ready_file = v;
    } else if (a == "--faults") {
      std::string error;
      if (!rates.Parse(v, &error)) {
        std::fprintf(stderr, "stsync-fake: %s\n", error.c_str());
        return 2;
      }
    } else if (a == "--modified-later") {
      char* end = nullptr;
      double share = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(share >= 0 && share <= 1)) {
        std::fprintf(stderr,
                     "stsync-fake: --modified-later '%s' is not a share "
                     "from 0 to 1\n",
                     v);
        return 2;
      }
      options.modified_later = share;
    } else if (a == "--array-items") {
      options.array_items = ToInt(v, "array item count");
    } else if (a == "--seed") {
      options.seed = static_cast<uint64_t>(ToInt(v, "seed"));
    } else {
      std::fprintf(stderr, "stsync-fake: unknown option %s\n%s", a.c_str(),
                   kUsage);
      return 2;
    }
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  stsync::fake::FakeServer server(options);
  server.SetFaultRates(rates);
  if (prerender) server.Prerender();
  stsync::Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "stsync-fake: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "stsync-fake: listening on %s (%zu endpoints, %d records "
               "each, pages of %d)\n",
               server.BaseUrl().c_str(), server.EndpointNames().size(),
               options.records_per_endpoint, options.page_size);
  if (!ready_file.empty()) {
    std::ofstream(ready_file) << server.port() << "\n";
  }
  auto next_mutation = std::chrono::steady_clock::now() + mutate_every;
  for (;;) {
    timespec tick{0, 100'000'000};
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) break;
    if (mutate_every.count() > 0 &&
        std::chrono::steady_clock::now() >= next_mutation) {
      for (const auto& name : server.EndpointNames()) {
        server.Mutate(name, 5, 2);
      }
      next_mutation += mutate_every;
    }
  }
  std::fprintf(stderr, "stsync-fake: stopping\n");
  server.Stop();
  return 0;
}

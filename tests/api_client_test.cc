#include "api/api_client.h"

#include <doctest/doctest.h>

#include "api/export_feed.h"
#include "config/catalog.h"
#include "fake_clock.h"
#include "test_util.h"

namespace stsync {
namespace {

const char* kPage =
    R"({"hasMore":true,"continueFrom":"next","data":[{"id":1}]})";

struct Harness {
  test::ScriptedTransport transport;
  FakeClock clock;
  StopSignal stop;
  std::unique_ptr<TokenSource> tokens;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<ApiClient> client;

  Harness() {
    tokens = std::make_unique<TokenSource>(
        Credentials{"https://auth.example/t", "c", "s3cr3t-value"}, &transport,
        &clock);
    limiter = std::make_unique<RateLimiter>(60, &clock);
    client = std::make_unique<ApiClient>("https://api.example", "app-key-1",
                                         &transport, tokens.get(),
                                         limiter.get(), &stop, &clock);
  }

  // Tenant 42's export feed of the built-in endpoint `name`.
  static ExportFeed Feed(const std::string& name, bool recent = false) {
    return ExportFeed(*FindEndpoint(name), "42", recent);
  }

  std::vector<test::ScriptedTransport::Call> Gets() {
    std::vector<test::ScriptedTransport::Call> out;
    for (auto& c : transport.calls()) {
      if (c.method == "GET") out.push_back(c);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("page requests carry the token, the app key and the right URL") {
  Harness h;
  h.transport.Push(200, kPage);
  auto page = h.client->Fetch(Harness::Feed("jobs", true),
                              Cursor::Position("2020-01-01 x&y"));
  REQUIRE(page.ok());
  CHECK(page->next == Cursor::Position("next"));
  CHECK_FALSE(page->caught_up);
  auto gets = h.Gets();
  REQUIRE(gets.size() == 1);
  CHECK(
      gets[0].url ==
      "https://api.example/jpm/v2/tenant/42/export/jobs?from=2020-01-01%20x%26y"
      "&includeRecentChanges=true");
  CHECK(gets[0].headers == HttpHeaders{{"Authorization", "Bearer tok-1"},
                                       {"ST-App-Key", "app-key-1"},
                                       {"Accept", "application/json"}});
  CHECK(h.client->Url(Harness::Feed("appointments"), Cursor::Start()) ==
        "https://api.example/jpm/v2/tenant/42/export/appointments?active=Any");
}

TEST_CASE(
    "continueFrom from a response cannot change the host or path called") {
  Harness h;
  h.transport.Push(200, kPage);
  std::string hostile =
      "x/../../admin?tenant=1&from=y#frag https://evil.example/";
  REQUIRE(
      h.client->Fetch(Harness::Feed("jobs"), Cursor::Position(hostile)).ok());
  std::string url = h.Gets()[0].url;
  CHECK(url.rfind("https://api.example/jpm/v2/tenant/42/export/jobs?from=",
                  0) == 0);
  CHECK(url.find('#') == std::string::npos);
  CHECK(url.find("/..") == std::string::npos);
  CHECK(url.find("evil.example/") == std::string::npos);
  CHECK(url.find("&tenant=") == std::string::npos);
}

TEST_CASE("a 401 gets one fresh token and one retry") {
  Harness h;
  h.transport.Push(401, "");
  h.transport.Push(200, kPage);
  REQUIRE(h.client->Fetch(Harness::Feed("jobs"), Cursor::Start()).ok());
  CHECK(h.transport.token_calls() == 2);
  auto gets = h.Gets();
  REQUIRE(gets.size() == 2);
  CHECK(gets[1].headers[0].second == "Bearer tok-2");

  h.transport.Push(401, "");
  h.transport.Push(401, "");
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().code() == Status::Code::kAuth);
  // Fresh tokens rejected: the likely cause is the app key or the tenant.
  CHECK(r.status().message().find("check servicetitan.app_key") !=
        std::string::npos);
  CHECK(r.status().message().find("servicetitan.tenant") != std::string::npos);
}

TEST_CASE("a 429 reports Retry-After and pauses every later call") {
  Harness h;
  h.transport.Push(429, R"({"title":"Too many requests"})",
                   {{"retry-after", "3"}});
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().http_status() == 429);
  REQUIRE(r.status().retry_after().has_value());
  CHECK(*r.status().retry_after() == Millis(3000));
  Millis wait = h.limiter->Reserve();
  CHECK(wait >= Millis(2900));
}

TEST_CASE("a 400 reports the status and the body") {
  Harness h;
  h.transport.Push(400, R"({"title":"Invalid continuation token"})");
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("old"));
  REQUIRE(r.status().http_status() == 400);
  CHECK(r.status().message() ==
        R"(HTTP 400: {"title":"Invalid continuation token"})");
}

TEST_CASE(
    "an error body that echoes the token, the app key or the client secret "
    "is redacted before it is cut") {
  Harness h;
  auto token = h.tokens->Token();
  REQUIRE(token.ok());
  // The token starts past the excerpt's cut, so a prefix would survive a
  // cut made before redacting.
  const std::string echo = R"({"title":")" + std::string(150, 'x') +
                           " Authorization: Bearer " + *token +
                           " ST-App-Key: app-key-1 secret: s3cr3t-value\"}";
  h.transport.Push(400, echo);
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("old"));
  REQUIRE(r.status().http_status() == 400);
  const std::string& m = r.status().message();
  CHECK(m.find(token->substr(0, 6)) == std::string::npos);
  CHECK(m.size() < 200);
  CHECK(m.substr(m.size() - 3) == "...");
  h.transport.Push(404, "Bearer " + *token + " app-key-1 s3cr3t-value");
  auto whole = h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("old"));
  CHECK(whole.status().message() ==
        "HTTP 404: Bearer [redacted] [redacted] [redacted]");
}

TEST_CASE(
    "a 429 without Retry-After pauses the tenant for 1 s, doubling while they "
    "come in a row, until a success") {
  Harness h;
  for (Millis expected : {Millis(1000), Millis(2000), Millis(4000)}) {
    h.transport.Push(429, "");
    auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
    REQUIRE(r.status().http_status() == 429);
    REQUIRE(r.status().retry_after().has_value());
    CHECK(*r.status().retry_after() == expected);
    // Every feed of the tenant waits: the limiter is paused.
    Millis wait = h.limiter->Reserve();
    CHECK(wait >= expected - Millis(20));
    CHECK(wait <= expected);
    h.clock.Advance(wait);
  }
  h.transport.Push(200, kPage);
  REQUIRE(h.client->Fetch(Harness::Feed("customers"), Cursor::Start()).ok());
  h.clock.Advance(Millis(1000));
  h.transport.Push(429, "");
  auto again = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(*again.status().retry_after() == Millis(1000));  // reset
  // Many in a row stay at 60 s.
  for (int i = 0; i < 10; ++i) {
    h.clock.Advance(Millis(61'000));
    h.transport.Push(429, "");
    again = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  }
  CHECK(*again.status().retry_after() == Millis(60'000));
}

TEST_CASE(
    "server errors, HTML bodies, bad pages and network failures are errors, "
    "not pages") {
  Harness h;
  h.transport.Push(
      503,
      "<html><head><title>503</title></head><body><h1>Service Unavailable"
      "</h1></body></html>");
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().http_status() == 503);
  CHECK(r.status().message().find("Service Unavailable") != std::string::npos);
  CHECK(r.status().message().find("<h1>") == std::string::npos);

  h.transport.Push(409, R"({"title":"Tenant is suspended for maintenance"})");
  r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().http_status() == 409);
  CHECK(r.status().message().find("maintenance") != std::string::npos);

  h.transport.Push(200, R"({"hasMore":true,"continueFrom":"x","data":[{"id":)");
  r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().code() == Status::Code::kBadResponse);
  CHECK(r.status().message().find("invalid page: malformed JSON") == 0);

  h.transport.PushError(Status::Network("connection reset"));
  r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().code() == Status::Code::kNetwork);
}

TEST_CASE(
    "hasMore=true with the position that was asked for is refused, not "
    "fetched forever") {
  Harness h;
  const char* stuck =
      R"({"hasMore":true,"continueFrom":"same","data":[{"id":1}]})";
  h.transport.Push(200, stuck);
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("same"));
  CHECK(r.status().code() == Status::Code::kBadResponse);
  CHECK(r.status().message().find("without advancing continueFrom") !=
        std::string::npos);
  // The same answer is fine when it is the last page, or from elsewhere.
  h.transport.Push(200, R"({"hasMore":false,"continueFrom":"same","data":[]})");
  CHECK(h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("same")).ok());
  h.transport.Push(200, stuck);
  CHECK(
      h.client->Fetch(Harness::Feed("jobs"), Cursor::Position("before")).ok());
}

TEST_CASE("a stopped client makes no request") {
  Harness h;
  h.stop.Stop();
  h.transport.Push(200, kPage);
  auto r = h.client->Fetch(Harness::Feed("jobs"), Cursor::Start());
  CHECK(r.status().code() == Status::Code::kCancelled);
  CHECK(h.Gets().empty());
}

}  // namespace stsync

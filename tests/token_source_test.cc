#include "api/token_source.h"

#include <doctest/doctest.h>

#include <thread>

#include "fake_clock.h"
#include "test_util.h"

namespace stsync {
namespace {

Credentials Creds() {
  return {"https://auth.example/connect/token", "cid", "very-secret"};
}

}  // namespace

TEST_CASE(
    "a token is fetched once and cached until shortly before it expires") {
  test::ScriptedTransport t;
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  auto a = tokens.Token();
  REQUIRE(a.ok());
  CHECK(*a == "tok-1");
  CHECK(*tokens.Token() == "tok-1");
  clock.Advance(std::chrono::seconds(800));
  CHECK(*tokens.Token() == "tok-1");
  CHECK(t.token_calls() == 1);
  // 900 s tokens are refreshed a minute early.
  clock.Advance(std::chrono::seconds(41));
  CHECK(*tokens.Token() == "tok-2");
  CHECK(t.token_calls() == 2);

  auto call = t.calls().front();
  CHECK(call.method == "POST");
  CHECK(call.url == "https://auth.example/connect/token");
  CHECK(call.form == HttpHeaders{{"grant_type", "client_credentials"},
                                 {"client_id", "cid"},
                                 {"client_secret", "very-secret"}});
}

TEST_CASE(
    "short-lived tokens are refreshed a quarter of their lifetime early") {
  test::ScriptedTransport t;
  t.SetTokenResponse(200, R"({"access_token":"short","expires_in":4})");
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  REQUIRE(tokens.Token().ok());
  clock.Advance(std::chrono::milliseconds(2900));
  REQUIRE(tokens.Token().ok());
  CHECK(t.token_calls() == 1);
  clock.Advance(std::chrono::milliseconds(200));
  REQUIRE(tokens.Token().ok());
  CHECK(t.token_calls() == 2);
}

TEST_CASE("Invalidate forces a new token only if it names the cached one") {
  test::ScriptedTransport t;
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  REQUIRE(tokens.Token().ok());
  tokens.Invalidate("some-older-token");
  CHECK(*tokens.Token() == "tok-1");
  tokens.Invalidate("tok-1");
  CHECK(*tokens.Token() == "tok-2");
}

TEST_CASE("concurrent callers share a single token request") {
  test::ScriptedTransport t;
  t.token_delay = std::chrono::milliseconds(100);
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (tokens.Token().ok()) ++ok;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == 8);
  CHECK(t.token_calls() == 1);
}

TEST_CASE(
    "rejected credentials are an auth error that never shows the secret") {
  test::ScriptedTransport t;
  t.SetTokenResponse(400, R"({"error":"invalid_client","echo":"very-secret"})");
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  auto r = tokens.Token();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kAuth);
  CHECK(r.status().message().find("invalid_client") != std::string::npos);
  CHECK(r.status().message().find("very-secret") == std::string::npos);
  // Nor when the server echoes it in the field that is shown.
  t.SetTokenResponse(400, R"({"error":"invalid_client very-secret"})");
  auto echoed = tokens.Token();
  CHECK(echoed.status().message().find("very-secret") == std::string::npos);
  CHECK(echoed.status().message().find("invalid_client [redacted]") !=
        std::string::npos);
}

TEST_CASE("a throttled token endpoint's Retry-After reaches the caller") {
  test::ScriptedTransport t;
  t.SetTokenResponse(429, "", {{"retry-after", "7"}});
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  auto r = tokens.Token();
  CHECK(r.status().http_status() == 429);
  CHECK(r.status().retry_after() == Millis(7000));
}

TEST_CASE("token endpoint trouble is reported as retryable") {
  test::ScriptedTransport t;
  FakeClock clock;
  TokenSource tokens(Creds(), &t, &clock);
  t.SetTokenResponse(503, "<html>down</html>");
  CHECK(tokens.Token().status().code() == Status::Code::kHttp);
  CHECK_FALSE(tokens.Token().status().retry_after().has_value());
  t.SetTokenResponse(200, R"({"token_type":"Bearer"})");
  CHECK(tokens.Token().status().code() == Status::Code::kBadResponse);
  t.SetTokenResponse(200, "not json");
  CHECK(tokens.Token().status().code() == Status::Code::kBadResponse);
  t.SetTokenResponse(200, R"({"access_token":"ok","expires_in":900})");
  CHECK(*tokens.Token() == "ok");
}

}  // namespace stsync

#include "engine/backoff.h"

#include <doctest/doctest.h>

#include "api/rate_limiter.h"
#include "api/retry_after.h"
#include "fake_clock.h"

namespace stsync {

TEST_CASE(
    "backoff doubles per attempt, is capped, and jitters within [d/2, d]") {
  RetryOptions o;
  o.initial_backoff = Millis(1000);
  o.max_backoff = Millis(10'000);
  CHECK(BackoffDelay(o, 1, 0.0, std::nullopt) == Millis(500));
  CHECK(BackoffDelay(o, 1, 0.999, std::nullopt) <= Millis(1000));
  CHECK(BackoffDelay(o, 3, 0.0, std::nullopt) == Millis(2000));
  CHECK(BackoffDelay(o, 3, 0.5, std::nullopt) == Millis(3000));
  // Capped: attempt 50 waits at most max_backoff, without overflowing.
  CHECK(BackoffDelay(o, 50, 0.999, std::nullopt) <= Millis(10'000));
  CHECK(BackoffDelay(o, 50, 0.0, std::nullopt) == Millis(5000));
}

TEST_CASE("Retry-After is a floor for the backoff") {
  RetryOptions o;
  o.initial_backoff = Millis(100);
  o.max_backoff = Millis(1000);
  CHECK(BackoffDelay(o, 1, 0.5, Millis(7000)) == Millis(7000));
  CHECK(BackoffDelay(o, 1, 0.5, Millis(10)) == Millis(75));
}

TEST_CASE("Retry-After parses seconds and HTTP dates") {
  WallTime now = std::chrono::system_clock::from_time_t(1'700'000'000);
  CHECK(ParseRetryAfter("3", now) == Millis(3000));
  CHECK(ParseRetryAfter("", now) == std::nullopt);
  CHECK(ParseRetryAfter("soon", now) == std::nullopt);
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  CHECK(ParseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now) ==
        Millis(10'000));
  CHECK(ParseRetryAfter("Tue, 14 Nov 2023 22:13:00 GMT", now) == Millis(0));
  // Blank or garbled values are ignored, never thrown on; spaces around a
  // number are allowed.
  CHECK_FALSE(ParseRetryAfter("  ", now).has_value());
  CHECK_FALSE(ParseRetryAfter("1 2", now).has_value());
  CHECK_FALSE(ParseRetryAfter("soon", now).has_value());
  CHECK(ParseRetryAfter(" 5 ", now) == Millis(5000));
  // Absurd values are capped at an hour.
  CHECK(ParseRetryAfter("999999999", now) == Millis(3'600'000));
}

TEST_CASE("the rate limiter lets a second's worth go, then waits, and pauses") {
  FakeClock clock;
  RateLimiter limiter(10, &clock);
  int immediate = 0;
  for (int i = 0; i < 20; ++i) {
    if (limiter.Reserve() == Millis(0)) ++immediate;
  }
  // Ten go at once; the next ten wait until a second after the first.
  CHECK(immediate == 10);
  clock.Advance(Millis(10'000));
  CHECK(limiter.Reserve() == Millis(0));
  limiter.PauseUntil(clock.Now() + Millis(5000));
  Millis wait = limiter.Reserve();
  CHECK(wait >= Millis(5000));
  CHECK(wait <= Millis(5100));
}

TEST_CASE(
    "no second holds more than sixty calls, also right after an idle spell") {
  FakeClock clock;
  RateLimiter limiter(60, &clock);
  clock.Advance(Millis(60'000));  // idle
  // Callers that always wait what they are told.
  std::vector<SteadyTime> starts;
  for (int i = 0; i < 300; ++i) {
    clock.Advance(limiter.Reserve());
    starts.push_back(clock.Now());
  }
  int in_first_second = 0;
  for (SteadyTime t : starts) {
    if (t < starts[0] + Millis(1000)) ++in_first_second;
  }
  CHECK(in_first_second == 60);
  for (size_t i = 0; i + 60 < starts.size(); ++i) {
    INFO("call ", i + 60);
    CHECK(starts[i + 60] - starts[i] >= Millis(1000));
  }
  // 300 calls take about four seconds, not less.
  CHECK(starts.back() - starts.front() >= Millis(4000));
}

TEST_CASE(
    "background calls take at most three quarters of the rate, leaving the "
    "rest to live calls") {
  FakeClock clock;
  RateLimiter limiter(60, &clock);
  int immediate = 0;
  for (int i = 0; i < 60; ++i) {
    if (limiter.Reserve(/*background=*/true) == Millis(0)) ++immediate;
  }
  CHECK(immediate == 45);
  // The live feeds still get their quarter at once.
  immediate = 0;
  FakeClock clock2;
  RateLimiter shared(60, &clock2);
  for (int i = 0; i < 45; ++i) shared.Reserve(/*background=*/true);
  for (int i = 0; i < 15; ++i) immediate += shared.Reserve() == Millis(0);
  CHECK(immediate == 15);
  // And background calls wait while the window holds 45 calls of any kind.
  CHECK(shared.Reserve(/*background=*/true) > Millis(0));
}

TEST_CASE("a rate below one call per second spaces single calls") {
  FakeClock clock;
  RateLimiter limiter(0.5, &clock);
  CHECK(limiter.Reserve() == Millis(0));
  CHECK(limiter.Reserve() == Millis(2000));
}

}  // namespace stsync

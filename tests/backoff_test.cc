#include "engine/backoff.h"

#include <doctest/doctest.h>

#include "api/rate_limiter.h"
#include "api/retry_after.h"

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

TEST_CASE("the rate limiter spaces calls and honours a pause") {
  FakeClock clock;
  RateLimiter limiter(10, &clock);  // one call per 100 ms, burst of 1 s
  int immediate = 0;
  for (int i = 0; i < 20; ++i) {
    if (limiter.Reserve() == Millis(0)) ++immediate;
  }
  // The burst allowance lets about one second's worth go at once; the rest
  // must wait in 100 ms steps.
  CHECK(immediate >= 9);
  CHECK(immediate <= 11);
  clock.Advance(Millis(10'000));
  CHECK(limiter.Reserve() == Millis(0));
  limiter.PauseUntil(clock.Now() + Millis(5000));
  Millis wait = limiter.Reserve();
  CHECK(wait >= Millis(5000));
  CHECK(wait <= Millis(5100));
}

TEST_CASE("sixty calls per second are never exceeded over a window") {
  FakeClock clock;
  RateLimiter limiter(60, &clock);
  // Simulate callers that always wait what they are told: the 181st call
  // cannot start before about 2 s (60/s plus a 1 s burst of 60).
  Millis total(0);
  for (int i = 0; i < 181; ++i) {
    Millis w = limiter.Reserve();
    clock.Advance(w);
    total += w;
  }
  CHECK(total >= Millis(1950));
}

}  // namespace stsync

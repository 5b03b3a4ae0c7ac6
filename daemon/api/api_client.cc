#include "api/api_client.h"

#include <algorithm>
#include <optional>

#include "api/retry_after.h"
#include "base/redact.h"
#include "base/url.h"

namespace stsync {

ApiClient::ApiClient(std::string api_url, std::string app_key,
                     Transport* transport, TokenSource* tokens,
                     RateLimiter* limiter, StopSignal* stop, Clock* clock)
    : api_url_(std::move(api_url)),
      app_key_(std::move(app_key)),
      transport_(transport),
      tokens_(tokens),
      limiter_(limiter),
      stop_(stop),
      clock_(clock) {}

std::string ApiClient::Url(const Feed& feed, const Cursor& from) const {
  FeedRequest request = feed.Request(from);
  std::string url = api_url_ + request.path;
  if (!request.params.empty()) {
    // Appended in two steps: GCC 12 at -O3 reports a false -Wrestrict for
    // `"?" + std::string` (GCC bug 105329).
    url += '?';
    url += BuildQuery(request.params);
  }
  return url;
}

namespace {
constexpr Millis kMaxPause{60'000};
}  // namespace

Result<Batch> ApiClient::Fetch(const Feed& feed, const Cursor& from,
                               bool background) {
  const std::string url = Url(feed, from);
  for (int auth_try = 0;; ++auth_try) {
    Millis wait = limiter_->Reserve(background);
    if (wait.count() > 0 && !clock_->WaitFor(wait, *stop_)) {
      return Status::Cancelled();
    }
    if (stop_->stopped()) return Status::Cancelled();

    auto token = tokens_->Token();
    if (!token.ok()) return token.status();
    auto r = transport_->Get(url, {{"Authorization", "Bearer " + *token},
                                   {"ST-App-Key", app_key_},
                                   {"Accept", "application/json"}});
    if (!r.ok()) return r.status();
    const HttpResponse& resp = *r;
    if (resp.status == 200) {
      throttled_in_a_row_ = 0;
      auto batch = feed.Read(std::move(r->body), from);
      if (!batch.ok()) return batch.status().WithContext("invalid page");
      return batch;
    }
    if (resp.status == 401 && auth_try == 0) {
      tokens_->Invalidate(*token);  // expired or revoked early: get a new one
      continue;
    }
    if (resp.status == 401) {
      return Status::Auth(
          "the API rejected a freshly issued token (HTTP 401): check "
          "servicetitan.app_key (it must belong to the app of client_id) and "
          "servicetitan.tenant (the app must be connected to it)");
    }
    if (resp.status == 403) {
      return Status::Http(403,
                          "HTTP 403 forbidden: the tenant lacks the "
                          "module of " +
                              feed.endpoint().name +
                              ", or the app has no access to it");
    }
    // A 400 on a stored position is told apart by the scheduler
    // (engine/rejected_cursor.h).
    // A server may echo the request: no secret leaves in its text.
    const std::string text =
        ServerText(tokens_->Redact(resp.body), {*token, app_key_});
    Status s = Status::Http(resp.status, "HTTP " + std::to_string(resp.status) +
                                             (text.empty() ? "" : ": " + text));
    std::optional<Millis> pause =
        ParseRetryAfter(resp.Header("retry-after"), clock_->WallNow());
    if (resp.status == 429) {
      // The limit is per tenant: every feed pauses. Without Retry-After,
      // for 1 s, 2 s, 4 s ... up to 60 s while 429s come in a row.
      const int n = std::min(++throttled_in_a_row_, 7);
      if (!pause) pause = std::min(Millis(1000 * (1 << (n - 1))), kMaxPause);
      limiter_->PauseUntil(clock_->Now() + *pause);
    }
    if (pause) s.set_retry_after(*pause);
    return s;
  }
}

}  // namespace stsync

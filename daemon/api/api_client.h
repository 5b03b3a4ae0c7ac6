// ApiClient: makes a Feed's requests against the ServiceTitan API.
//
// It adds what every feed shares: the API host, pacing through the tenant's
// RateLimiter, authentication through the TokenSource (refreshing once and
// retrying on a 401), the ST-App-Key header, and turning HTTP errors into
// Status values. The Feed builds the request and reads the body. It never
// retries anything else: the scheduler decides when to try again.
//
// Errors: kCancelled (stop requested), kHttp (non-200; a 429 carries
// retry_after and pauses the RateLimiter for the whole tenant: for its
// Retry-After, or without one for 1 s, doubling with each 429 in a row up to
// 60 s, until a call succeeds), kNetwork,
// kBadResponse (the feed could not read the body), kAuth (credentials
// rejected). Messages hold no secrets: the excerpt of an error body has
// the token, the app key and the client secret redacted. Nothing is written by
// this class.
//
// Thread safety: Fetch may be called from several threads at once.
#ifndef STSYNC_API_API_CLIENT_H_
#define STSYNC_API_API_CLIENT_H_

#include <atomic>
#include <string>

#include "api/rate_limiter.h"
#include "api/token_source.h"
#include "api/transport.h"
#include "base/clock.h"
#include "base/stop_signal.h"
#include "model/batch.h"
#include "model/cursor.h"
#include "model/feed.h"

namespace stsync {

class ApiClient {
 public:
  // `api_url` is scheme://host[:port]; `app_key` goes into ST-App-Key.
  // Pointers are borrowed and must outlive this object.
  ApiClient(std::string api_url, std::string app_key, Transport* transport,
            TokenSource* tokens, RateLimiter* limiter, StopSignal* stop,
            Clock* clock);

  // Fetches and reads the batch of `feed` that follows `from`. A
  // `background` fetch (a reconciliation pass) takes the rate limiter's
  // background share.
  Result<Batch> Fetch(const Feed& feed, const Cursor& from,
                      bool background = false);

  // The full URL of `feed`'s request for `from` (no secrets in it).
  std::string Url(const Feed& feed, const Cursor& from) const;

 private:
  const std::string api_url_;
  const std::string app_key_;
  Transport* const transport_;
  TokenSource* const tokens_;
  RateLimiter* const limiter_;
  StopSignal* const stop_;
  Clock* const clock_;
  std::atomic<int> throttled_in_a_row_{0};  // 429s without a success between
};

}  // namespace stsync

#endif  // STSYNC_API_API_CLIENT_H_

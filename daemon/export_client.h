// ExportClient: fetches one validated page of an export feed.
//
// It paces the call through the RateLimiter, authenticates through the
// TokenSource (refreshing once and retrying on a 401), and parses the body
// with ParsePage. It never retries anything else: the Scheduler decides when
// to try again.
//
// Errors: kCancelled (stop requested), kHttp (non-200; a 429 carries
// retry_after and pauses the RateLimiter), kNetwork, kBadResponse (the body
// failed validation), kAuth (credentials rejected). Nothing is written by
// this class.
//
// Thread safety: FetchPage may be called from several threads at once.
#ifndef STSYNC_EXPORT_CLIENT_H_
#define STSYNC_EXPORT_CLIENT_H_

#include <optional>
#include <string>

#include "config.h"
#include "page.h"
#include "rate_limiter.h"
#include "stop_signal.h"
#include "token_source.h"
#include "transport.h"

namespace stsync {

class ExportClient {
 public:
  // Pointers are borrowed and must outlive this object.
  ExportClient(const Config& config, Transport* transport, TokenSource* tokens,
               RateLimiter* limiter, StopSignal* stop, Clock* clock);

  Result<Page> FetchPage(const EndpointConfig& endpoint,
                         const std::optional<std::string>& from);

  // The URL of a page request (no secrets in it). Exposed for tests and logs.
  std::string PageUrl(const EndpointConfig& endpoint,
                      const std::optional<std::string>& from) const;

 private:
  const std::string api_url_;
  const std::string tenant_;
  const std::string app_key_;
  Transport* const transport_;
  TokenSource* const tokens_;
  RateLimiter* const limiter_;
  StopSignal* const stop_;
  Clock* const clock_;
};

// A short, printable excerpt of an error body (HTML tags dropped).
std::string BodyExcerpt(const std::string& body);

}  // namespace stsync

#endif  // STSYNC_EXPORT_CLIENT_H_

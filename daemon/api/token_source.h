// TokenSource: OAuth2 client-credentials tokens, cached until shortly before
// they expire.
//
// ServiceTitan tokens last 900 s and the token endpoint is throttled, so a
// token is fetched only when none is cached, when it is about to expire, or
// after the API rejected it (Invalidate). At most one token request is in
// flight: concurrent callers wait for it and share the result.
//
// Errors: kAuth when the endpoint rejects the credentials (retrying will not
// help until the config changes), kHttp/kNetwork/kBadResponse for transient
// trouble. Messages never contain the secret or a token.
//
// Thread safety: all methods are thread-safe.
#ifndef STSYNC_API_TOKEN_SOURCE_H_
#define STSYNC_API_TOKEN_SOURCE_H_

#include <mutex>
#include <string>

#include "api/transport.h"
#include "base/clock.h"
#include "base/status.h"

namespace stsync {

struct Credentials {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
};

class TokenSource {
 public:
  // `transport` and `clock` must outlive this object.
  TokenSource(Credentials credentials, Transport* transport, Clock* clock);

  // A valid access token.
  Result<std::string> Token();

  // `text` with the client secret and the cached token redacted (see
  // base/redact.h).
  std::string Redact(std::string text) const;

  // Forgets `token` if it is the cached one (the API answered 401 to it).
  void Invalidate(const std::string& token);

 private:
  Status Fetch();  // requires mu_ held

  const Credentials credentials_;
  Transport* const transport_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::string token_;
  SteadyTime refresh_at_{};
};

}  // namespace stsync

#endif  // STSYNC_API_TOKEN_SOURCE_H_

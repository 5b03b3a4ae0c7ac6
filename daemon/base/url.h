// URL pieces: just enough to split the configured hosts and to build query
// strings safely.
#ifndef STSYNC_BASE_URL_H_
#define STSYNC_BASE_URL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace stsync {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "/..." (may include ?query), "/" if none

  // scheme://host:port
  std::string Origin() const;
};

// Parses an absolute http(s) URL. Userinfo, fragments and odd characters in
// the host are refused.
Result<Url> ParseUrl(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(std::string_view s);

// "a=1&b=x%20y"
std::string BuildQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace stsync

#endif  // STSYNC_BASE_URL_H_

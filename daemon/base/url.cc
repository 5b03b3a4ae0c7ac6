#include "base/url.h"

namespace stsync {

std::string Url::Origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

Result<Url> ParseUrl(std::string_view text) {
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Status::Invalid("'" + std::string(text) +
                           "' is not an absolute URL");
  }
  u.scheme = std::string(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    return Status::Invalid("URL scheme must be http or https");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  u.path =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.path.find('#') != std::string::npos) {
    return Status::Invalid("URL must not have a fragment");
  }
  if (u.path[0] == '?') u.path = "/" + u.path;
  if (authority.find('@') != std::string_view::npos) {
    return Status::Invalid("URL must not contain user info");
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::Invalid("bad IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::Invalid("bad host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return Status::Invalid("URL has no host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':';
    if (!ok) return Status::Invalid("URL host has an invalid character");
  }
  u.host = std::string(host);
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return Status::Invalid("URL port is not a number");
    }
    u.port = std::stoi(std::string(port));
    if (u.port < 1 || u.port > 65535) {
      return Status::Invalid("URL port is out of range");
    }
  }
  return u;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string BuildQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    q += UrlEncode(k) + "=" + UrlEncode(v);
  }
  return q;
}

}  // namespace stsync

#include "export_client.h"

#include "backoff.h"
#include "url.h"

namespace stsync {

ExportClient::ExportClient(const Config& config, Transport* transport,
                           TokenSource* tokens, RateLimiter* limiter,
                           StopSignal* stop, Clock* clock)
    : api_url_(config.api_url),
      tenant_(config.tenant),
      app_key_(config.app_key),
      transport_(transport),
      tokens_(tokens),
      limiter_(limiter),
      stop_(stop),
      clock_(clock) {}

std::string ExportClient::PageUrl(
    const EndpointConfig& ec, const std::optional<std::string>& from) const {
  std::string path = ec.endpoint.path;
  const std::string placeholder = "{tenant}";
  for (size_t pos; (pos = path.find(placeholder)) != std::string::npos;) {
    path.replace(pos, placeholder.size(), tenant_);
  }
  std::vector<std::pair<std::string, std::string>> params = ec.endpoint.params;
  if (from) params.emplace_back("from", *from);
  if (ec.include_recent_changes) {
    params.emplace_back("includeRecentChanges", "true");
  }
  std::string url = api_url_ + path;
  if (!params.empty()) url += "?" + BuildQuery(params);
  return url;
}

Result<Page> ExportClient::FetchPage(const EndpointConfig& ec,
                                     const std::optional<std::string>& from) {
  const std::string url = PageUrl(ec, from);
  for (int auth_try = 0;; ++auth_try) {
    Millis wait = limiter_->Reserve();
    if (wait.count() > 0 && !stop_->WaitFor(wait)) return Status::Cancelled();
    if (stop_->stopped()) return Status::Cancelled();

    auto token = tokens_->Token();
    if (!token.ok()) return token.status();
    auto r = transport_->Get(url, {{"Authorization", "Bearer " + *token},
                                   {"ST-App-Key", app_key_},
                                   {"Accept", "application/json"}});
    if (!r.ok()) return r.status();
    const HttpResponse& resp = *r;
    if (resp.status == 200) {
      auto page = ParsePage(std::move(r->body), ec.endpoint);
      if (!page.ok()) return page.status().WithContext("invalid page");
      return page;
    }
    if (resp.status == 401 && auth_try == 0) {
      tokens_->Invalidate(*token);  // expired or revoked early: get a new one
      continue;
    }
    if (resp.status == 401) {
      return Status::Auth("the API rejected a freshly issued token (HTTP 401)");
    }
    if (resp.status == 403) {
      return Status::Http(403,
                          "HTTP 403 forbidden: check the app key and that "
                          "the app has access to " +
                              ec.endpoint.name);
    }
    Status s = Status::Http(
        resp.status, "HTTP " + std::to_string(resp.status) +
                         (resp.body.empty() ? std::string()
                                            : ": " + BodyExcerpt(resp.body)));
    if (auto ra =
            ParseRetryAfter(resp.Header("retry-after"), clock_->WallNow())) {
      s.set_retry_after(*ra);
      if (resp.status == 429) limiter_->PauseUntil(clock_->Now() + *ra);
    }
    return s;
  }
}

std::string BodyExcerpt(const std::string& body) {
  std::string out;
  bool in_tag = false;
  for (char c : body) {
    if (c == '<') {
      in_tag = true;
    } else if (c == '>') {
      in_tag = false;
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (!in_tag) {
      char p = (c >= 32 && c < 127) ? c : ' ';
      if (p == ' ' && (out.empty() || out.back() == ' ')) continue;
      out += p;
    }
    if (out.size() >= 160) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace stsync

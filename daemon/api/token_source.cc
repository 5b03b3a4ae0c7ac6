#include "api/token_source.h"

#include <rapidjson/document.h>

#include <algorithm>

#include "api/retry_after.h"
#include "base/redact.h"

namespace stsync {

TokenSource::TokenSource(Credentials credentials, Transport* transport,
                         Clock* clock)
    : credentials_(std::move(credentials)),
      transport_(transport),
      clock_(clock) {}

Result<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_.empty() || clock_->Now() >= refresh_at_) {
    Status s = Fetch();
    if (!s.ok()) return s;
  }
  return token_;
}

std::string TokenSource::Redact(std::string text) const {
  std::lock_guard<std::mutex> lock(mu_);
  return stsync::Redact(std::move(text), {credentials_.client_secret, token_});
}

void TokenSource::Invalidate(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (token == token_) token_.clear();
}

Status TokenSource::Fetch() {
  token_.clear();
  SteadyTime started = clock_->Now();
  auto r = transport_->PostForm(credentials_.token_url,
                                {{"grant_type", "client_credentials"},
                                 {"client_id", credentials_.client_id},
                                 {"client_secret", credentials_.client_secret}},
                                {{"Accept", "application/json"}});
  if (!r.ok()) return r.status().WithContext("token request");
  rapidjson::Document doc;
  doc.Parse(r->body.data(), r->body.size());
  bool is_json = !doc.HasParseError() && doc.IsObject();
  if (r->status == 400 || r->status == 401 || r->status == 403) {
    std::string detail;
    if (is_json && doc.HasMember("error") && doc["error"].IsString()) {
      detail = ": " + ServerText(doc["error"].GetString(),
                                 {credentials_.client_secret});
    }
    return Status::Auth(
        "token endpoint rejected the client credentials (HTTP " +
        std::to_string(r->status) + detail +
        "); check client_id and client_secret");
  }
  if (r->status != 200) {
    Status s = Status::Http(
        r->status, "token endpoint answered HTTP " + std::to_string(r->status));
    // The token endpoint is throttled: its Retry-After delays the retry.
    if (auto ra =
            ParseRetryAfter(r->Header("retry-after"), clock_->WallNow())) {
      s.set_retry_after(*ra);
    }
    return s;
  }
  if (!is_json || !doc.HasMember("access_token") ||
      !doc["access_token"].IsString() ||
      doc["access_token"].GetStringLength() == 0) {
    return Status::BadResponse("token response has no access_token");
  }
  long long expires_in = 900;
  if (doc.HasMember("expires_in") && doc["expires_in"].IsInt64()) {
    expires_in = doc["expires_in"].GetInt64();
  }
  if (expires_in <= 0) {
    return Status::BadResponse("token response has a non-positive expires_in");
  }
  // Refresh a little early: a quarter of the lifetime, at most one minute.
  Millis lifetime = std::chrono::seconds(expires_in);
  Millis margin = std::min<Millis>(lifetime / 4, std::chrono::minutes(1));
  token_ = doc["access_token"].GetString();
  refresh_at_ = started + lifetime - margin;
  return Status::Ok();
}

}  // namespace stsync

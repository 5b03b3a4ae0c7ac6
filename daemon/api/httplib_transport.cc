#include "api/httplib_transport.h"

#include <httplib.h>

#include <cctype>

#include "base/url.h"

namespace stsync {
namespace {

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

httplib::Headers ToHeaders(const HttpHeaders& headers) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  return h;
}

}  // namespace

HttplibTransport::HttplibTransport(const HttpOptions& options)
    : options_(options) {}

HttplibTransport::~HttplibTransport() = default;

std::shared_ptr<httplib::Client> HttplibTransport::ClientFor(
    const std::string& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = clients_[origin];
  if (!slot) {
    slot = std::make_shared<httplib::Client>(origin);
    slot->set_connection_timeout(options_.connect_timeout);
    slot->set_read_timeout(options_.read_timeout);
    slot->set_write_timeout(options_.read_timeout);
    slot->set_keep_alive(true);
    slot->set_follow_location(false);
    slot->enable_server_certificate_verification(true);
    if (!options_.ca_bundle.empty()) slot->set_ca_cert_path(options_.ca_bundle);
  }
  return slot;
}

void HttplibTransport::DropClient(const std::string& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.erase(origin);
}

void HttplibTransport::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [origin, client] : clients_) client->stop();
}

Result<Url> HttplibTransport::Target(const std::string& url) const {
  if (cancelled_) return Status::Cancelled();
  return ParseUrl(url);
}

Result<HttpResponse> HttplibTransport::Get(const std::string& url,
                                           const HttpHeaders& headers) {
  auto parsed = Target(url);
  if (!parsed.ok()) return parsed.status();
  const std::string origin = parsed->Origin();
  auto client = ClientFor(origin);

  HttpResponse out;
  bool too_large = false;
  auto result = client->Get(
      parsed->path, ToHeaders(headers),
      [&](const httplib::Response& r) {
        out.status = r.status;
        for (const auto& [k, v] : r.headers) out.headers[Lower(k)] = v;
        // A declared length over the limit is refused before reading it.
        auto len = out.headers.find("content-length");
        if (len != out.headers.end()) {
          const unsigned long long declared =
              std::strtoull(len->second.c_str(), nullptr, 10);
          if (declared > options_.max_page_bytes) {
            too_large = true;
            return false;
          }
          // One allocation instead of a doubling series of copies.
          out.body.reserve(declared);
        }
        return true;
      },
      [&](const char* data, size_t n) {
        if (out.body.size() + n > options_.max_page_bytes) {
          too_large = true;
          return false;
        }
        out.body.append(data, n);
        return !cancelled_;
      });
  if (cancelled_) return Status::Cancelled();
  if (too_large) {
    DropClient(origin);
    return Status::BadResponse("response body exceeds http.max_page_bytes (" +
                               std::to_string(options_.max_page_bytes) +
                               " bytes)");
  }
  if (!result) {
    DropClient(origin);
    return Status::Network("GET " + origin +
                           parsed->path.substr(0, parsed->path.find('?')) +
                           ": " + httplib::to_string(result.error()));
  }
  return out;
}

Result<HttpResponse> HttplibTransport::PostForm(const std::string& url,
                                                const HttpHeaders& form,
                                                const HttpHeaders& headers) {
  auto parsed = Target(url);
  if (!parsed.ok()) return parsed.status();
  const std::string origin = parsed->Origin();
  auto client = ClientFor(origin);
  auto result = client->Post(parsed->path, ToHeaders(headers), BuildQuery(form),
                             "application/x-www-form-urlencoded");
  if (cancelled_) return Status::Cancelled();
  if (!result) {
    DropClient(origin);
    return Status::Network("POST " + origin + parsed->path + ": " +
                           httplib::to_string(result.error()));
  }
  HttpResponse out;
  out.status = result->status;
  for (const auto& [k, v] : result->headers) out.headers[Lower(k)] = v;
  if (result->body.size() > options_.max_page_bytes) {
    return Status::BadResponse("token response too large");
  }
  out.body = std::move(result->body);
  return out;
}

}  // namespace stsync

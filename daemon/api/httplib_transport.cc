#include "api/httplib_transport.h"

#include <httplib.h>
#include <sys/mman.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <thread>
#include <vector>

#include "base/duration.h"
#include "base/url.h"

namespace stsync {
namespace {

using SteadyClock = std::chrono::steady_clock;

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

// A response body, refused past `limit` bytes while it streams. A declared
// length takes one allocation. An unknown one goes into blocks mapped from
// the kernel, each given back as soon as it is copied into the final
// string, so the peak is the body plus one block rather than the twice the
// body that a doubling std::string would reach.
class BodyBuffer {
 public:
  explicit BodyBuffer(size_t limit) : limit_(limit) {}
  ~BodyBuffer() {
    for (char* b : blocks_) ::munmap(b, kBlock);
  }
  BodyBuffer(const BodyBuffer&) = delete;
  BodyBuffer& operator=(const BodyBuffer&) = delete;

  // False if `declared` is over the limit.
  bool Expect(size_t declared) {
    if (declared > limit_) return false;
    body_.reserve(declared);
    declared_ = true;
    return true;
  }
  // False past the limit, or if no memory could be mapped.
  bool Append(const char* data, size_t n) {
    if (n > limit_ - size_) return false;
    size_ += n;
    if (declared_) {
      body_.append(data, n);
      return true;
    }
    while (n > 0) {
      if (used_ == kBlock) {
        void* block = ::mmap(nullptr, kBlock, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) return false;
        blocks_.push_back(static_cast<char*>(block));
        used_ = 0;
      }
      const size_t k = std::min(n, kBlock - used_);
      std::memcpy(blocks_.back() + used_, data, k);
      used_ += k;
      data += k;
      n -= k;
    }
    return true;
  }
  std::string Take() {
    if (blocks_.empty()) return std::move(body_);
    std::string out;
    out.reserve(size_);  // pages are touched only as they are filled
    for (size_t i = 0; i < blocks_.size(); ++i) {
      out.append(blocks_[i], i + 1 == blocks_.size() ? used_ : kBlock);
      ::munmap(blocks_[i], kBlock);
    }
    blocks_.clear();
    return out;
  }

 private:
  static constexpr size_t kBlock = size_t{4} << 20;
  const size_t limit_;
  bool declared_ = false;
  size_t size_ = 0;
  std::string body_;
  std::vector<char*> blocks_;
  size_t used_ = kBlock;  // in the last block; kBlock: none open
};

// Stops `client` at `deadline` unless destroyed first, so that a request
// cannot outlive it however slowly the server sends.
class RequestWatch {
 public:
  RequestWatch(httplib::Client* client, SteadyClock::time_point deadline)
      : thread_([this, client, deadline] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!done_cv_.wait_until(lock, deadline, [this] { return done_; })) {
            expired_ = true;
            client->stop();
          }
        }) {}
  ~RequestWatch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }
  // Whether the deadline passed while the request ran. Call after the
  // request returned.
  bool expired() {
    std::lock_guard<std::mutex> lock(mu_);
    return expired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  bool expired_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

HttplibTransport::HttplibTransport(const HttpOptions& options)
    : options_(options) {}

HttplibTransport::~HttplibTransport() = default;

std::shared_ptr<httplib::Client> HttplibTransport::CheckOut(
    const std::string& origin) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<httplib::Client> client;
  if (auto it = idle_.find(origin); it != idle_.end()) {
    client = std::move(it->second);
    idle_.erase(it);
  } else {
    client = std::make_shared<httplib::Client>(origin);
    client->set_connection_timeout(options_.connect_timeout);
    client->set_read_timeout(options_.read_timeout);
    client->set_write_timeout(options_.read_timeout);
    client->set_keep_alive(true);
    client->set_follow_location(false);
    client->enable_server_certificate_verification(true);
    if (!options_.ca_bundle.empty()) {
      client->set_ca_cert_path(options_.ca_bundle);
    }
  }
  busy_.insert(client);
  return client;
}

void HttplibTransport::CheckIn(const std::string& origin,
                               const std::shared_ptr<httplib::Client>& client,
                               bool reuse) {
  std::lock_guard<std::mutex> lock(mu_);
  busy_.erase(client);
  if (reuse && !cancelled_) idle_.emplace(origin, client);
}

void HttplibTransport::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& client : busy_) client->stop();
  idle_.clear();
}

Result<Url> HttplibTransport::Target(const std::string& url) const {
  if (cancelled_) return Status::Cancelled();
  return ParseUrl(url);
}

Result<HttpResponse> HttplibTransport::Send(const std::string& url,
                                            httplib::Request& request,
                                            size_t max_body,
                                            const std::string& limit_name) {
  auto parsed = Target(url);
  if (!parsed.ok()) return parsed.status();
  const std::string origin = parsed->Origin();
  auto client = CheckOut(origin);
  request.path = parsed->path;

  HttpResponse out;
  BodyBuffer body(max_body);
  bool too_large = false;
  const auto deadline = SteadyClock::now() + options_.request_timeout;
  request.response_handler = [&](const httplib::Response& r) {
    out.status = r.status;
    for (const auto& [k, v] : r.headers) out.headers[Lower(k)] = v;
    // A declared length over the limit is refused before reading it.
    auto len = out.headers.find("content-length");
    if (len != out.headers.end() &&
        !body.Expect(std::strtoull(len->second.c_str(), nullptr, 10))) {
      too_large = true;
      return false;
    }
    return true;
  };
  request.content_receiver = [&](const char* data, size_t n, uint64_t,
                                 uint64_t) {
    if (!body.Append(data, n)) {
      too_large = true;
      return false;
    }
    return !cancelled_ && SteadyClock::now() < deadline;
  };
  httplib::Result result{nullptr, httplib::Error::Unknown};
  bool expired = false;
  {
    RequestWatch watch(client.get(), deadline);
    result = client->send(request);
    expired = watch.expired() || SteadyClock::now() >= deadline;
  }
  CheckIn(origin, client, result && !too_large);
  if (cancelled_) return Status::Cancelled();
  const std::string what = request.method + " " + origin +
                           parsed->path.substr(0, parsed->path.find('?'));
  if (too_large) {
    return Status::BadResponse(what + ": response body exceeds " + limit_name +
                               " (" + std::to_string(max_body) + " bytes)");
  }
  if (!result) {
    if (expired) {
      return Status::Network(what + ": no complete answer within " +
                             "http.request_timeout (" +
                             FormatDuration(options_.request_timeout) + ")");
    }
    return Status::Network(what + ": " + httplib::to_string(result.error()));
  }
  out.body = body.Take();
  return out;
}

Result<HttpResponse> HttplibTransport::Get(const std::string& url,
                                           const HttpHeaders& headers) {
  httplib::Request request;
  request.method = "GET";
  request.headers = ToHeaders(headers);
  return Send(url, request, options_.max_page_bytes, "http.max_page_bytes");
}

Result<HttpResponse> HttplibTransport::PostForm(const std::string& url,
                                                const HttpHeaders& form,
                                                const HttpHeaders& headers) {
  httplib::Request request;
  request.method = "POST";
  request.headers = ToHeaders(headers);
  request.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
  request.body = BuildQuery(form);
  return Send(url, request, kMaxTokenBytes,
              "the token answer's limit of 64 KiB");
}

}  // namespace stsync

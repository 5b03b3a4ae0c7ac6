// HttplibTransport: the real Transport, on cpp-httplib with OpenSSL.
//
// TLS certificates are verified (against `ca_bundle` if set, the system store
// otherwise). Bodies larger than `max_body_bytes` are refused. One client per
// origin is kept for connection reuse.
#ifndef STSYNC_API_HTTPLIB_TRANSPORT_H_
#define STSYNC_API_HTTPLIB_TRANSPORT_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "api/transport.h"
#include "base/url.h"
#include "config/config.h"

namespace httplib {
class Client;
}

namespace stsync {

class HttplibTransport : public Transport {
 public:
  explicit HttplibTransport(const HttpOptions& options);
  ~HttplibTransport() override;

  Result<HttpResponse> Get(const std::string& url,
                           const HttpHeaders& headers) override;
  Result<HttpResponse> PostForm(const std::string& url, const HttpHeaders& form,
                                const HttpHeaders& headers) override;
  void Cancel() override;

 private:
  // The parsed `url`, or kCancelled once Cancel() ran.
  Result<Url> Target(const std::string& url) const;
  // The client for `origin`, created on first use. Never null.
  std::shared_ptr<httplib::Client> ClientFor(const std::string& origin);
  // Drops a client after a failure so the next call reconnects.
  void DropClient(const std::string& origin);

  const HttpOptions options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<httplib::Client>> clients_;
};

}  // namespace stsync

#endif  // STSYNC_API_HTTPLIB_TRANSPORT_H_

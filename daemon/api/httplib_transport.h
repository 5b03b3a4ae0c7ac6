// HttplibTransport: the real Transport, on cpp-httplib with OpenSSL.
//
// TLS certificates are verified (against `ca_bundle` if set, the system store
// otherwise). One client per origin is kept for connection reuse.
//
// Bounds: a request that has not finished `request_timeout` after it began
// is cancelled (however slowly the server trickles bytes) and fails as
// kNetwork. A page body over `max_page_bytes` and a token answer over
// kMaxTokenBytes are refused while they stream, so memory stays within the
// limit plus a constant: a body of declared length is read into one
// allocation of that length; one of unknown length (chunked) into blocks
// mapped from the kernel, assembled at the end block by block.
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
struct Request;
}  // namespace httplib

namespace stsync {

class HttplibTransport : public Transport {
 public:
  // A token answer is a few hundred bytes; more is refused.
  static constexpr size_t kMaxTokenBytes = 64 << 10;

  explicit HttplibTransport(const HttpOptions& options);
  ~HttplibTransport() override;

  Result<HttpResponse> Get(const std::string& url,
                           const HttpHeaders& headers) override;
  Result<HttpResponse> PostForm(const std::string& url, const HttpHeaders& form,
                                const HttpHeaders& headers) override;
  void Cancel() override;

 private:
  // Sends `request` to `url`'s origin, reading at most `max_body` bytes.
  Result<HttpResponse> Send(const std::string& url, httplib::Request& request,
                            size_t max_body, const std::string& limit_name);
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

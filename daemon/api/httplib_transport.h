// HttplibTransport: the real Transport, on cpp-httplib with OpenSSL.
//
// TLS certificates are verified (against `ca_bundle` if set, the system store
// otherwise). Connections are reused: each call takes an idle client (one
// connection) for its origin, or opens a new one, and gives it back when it
// ends well, so concurrent calls each have a connection of their own (an
// httplib::Client serves one request at a time).
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
#include <set>

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
  // A client for `origin` that no other call uses: an idle one, else a new
  // one. Never null.
  std::shared_ptr<httplib::Client> CheckOut(const std::string& origin);
  // The call on `client` has ended: kept for reuse if `reuse`, else closed
  // (after a failure, so that the next call reconnects).
  void CheckIn(const std::string& origin,
               const std::shared_ptr<httplib::Client>& client, bool reuse);

  const HttpOptions options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::multimap<std::string, std::shared_ptr<httplib::Client>> idle_;
  std::set<std::shared_ptr<httplib::Client>> busy_;  // stopped by Cancel
};

}  // namespace stsync

#endif  // STSYNC_API_HTTPLIB_TRANSPORT_H_

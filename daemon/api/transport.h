// Transport: the HTTP seam. The daemon makes every network call through this
// interface, so tests can substitute scripted failures.
//
// A returned Status is a transport failure (connect, read, reset, timeout,
// body over the size limit, cancelled); any HTTP answer, including 4xx and
// 5xx, is a successful HttpResponse.
//
// Thread safety: implementations must allow concurrent calls and a Cancel()
// from another thread at any time.
#ifndef STSYNC_API_TRANSPORT_H_
#define STSYNC_API_TRANSPORT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace stsync {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  // Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> Get(const std::string& url,
                                   const HttpHeaders& headers) = 0;
  // POSTs `form` as application/x-www-form-urlencoded.
  virtual Result<HttpResponse> PostForm(const std::string& url,
                                        const HttpHeaders& form,
                                        const HttpHeaders& headers) = 0;
  // Aborts calls in flight and makes every later call fail with kCancelled.
  virtual void Cancel() = 0;
};

}  // namespace stsync

#endif  // STSYNC_API_TRANSPORT_H_

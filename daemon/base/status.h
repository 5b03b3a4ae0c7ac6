// Status and Result<T>: errors as values at module boundaries.
//
// A Status is either ok or carries a code and a human-readable message that
// names the problem. Messages never contain secrets; callers may log them.
// Exceptions stay inside adapters (yaml-cpp, cpp-httplib); every public
// function of the daemon's modules reports failure through these types.
#ifndef STSYNC_BASE_STATUS_H_
#define STSYNC_BASE_STATUS_H_

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace stsync {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalid,      // bad input: config, arguments, a malformed page
    kNotFound,     // a named thing does not exist
    kIo,           // the local database or file system failed
    kCorrupt,      // the database file is damaged: permanent, stop writing
    kBusy,         // the database is locked by another process
    kNetwork,      // the HTTP transport failed (connect, read, reset)
    kHttp,         // the server answered with a non-success status
    kBadResponse,  // the server answered 200 with an unusable body
    kAuth,         // credentials were rejected
    kCancelled,    // stop was requested
    kUnhealthy,    // a health check failed (ops/health.h)
    kFenced,       // another process took the destination over: stop
                   // writing it (sink/pg_lease.h)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) {
    return {Code::kInvalid, std::move(m)};
  }
  static Status NotFound(std::string m) {
    return {Code::kNotFound, std::move(m)};
  }
  static Status Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status Corrupt(std::string m) {
    return {Code::kCorrupt, std::move(m)};
  }
  static Status Network(std::string m) {
    return {Code::kNetwork, std::move(m)};
  }
  static Status Http(int http_status, std::string m) {
    Status s(Code::kHttp, std::move(m));
    s.http_status_ = http_status;
    return s;
  }
  static Status BadResponse(std::string m) {
    return {Code::kBadResponse, std::move(m)};
  }
  static Status Auth(std::string m) { return {Code::kAuth, std::move(m)}; }
  static Status Unhealthy(std::string m) {
    return {Code::kUnhealthy, std::move(m)};
  }
  static Status Fenced(std::string m) { return {Code::kFenced, std::move(m)}; }
  static Status Cancelled(std::string m = "stop requested") {
    return {Code::kCancelled, std::move(m)};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The HTTP status for kHttp errors, 0 otherwise.
  int http_status() const { return http_status_; }
  // A server-requested wait (Retry-After), if any.
  std::optional<std::chrono::milliseconds> retry_after() const {
    return retry_after_;
  }
  Status& set_retry_after(std::chrono::milliseconds d) {
    retry_after_ = d;
    return *this;
  }
  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(const std::string& context) const {
    Status s = *this;
    s.message_ = context + ": " + message_;
    return s;
  }
  std::string ToString() const { return ok() ? "ok" : message_; }

 private:
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
  int http_status_ = 0;
  std::optional<std::chrono::milliseconds> retry_after_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace stsync

#endif  // STSYNC_BASE_STATUS_H_

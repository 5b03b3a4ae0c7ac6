// JsonLogFormatter: log lines as one JSON object each, for log shippers
// (`--log-format json`, `log.format: json`):
//   {"time":"2026-11-30T08:00:00.123Z","level":"info","message":"..."}
// Time is UTC; the message is escaped as JSON strings require.
//
// Thread safety: as any spdlog formatter (one per sink, used under its lock).
#ifndef STSYNC_CLI_JSON_LOG_FORMATTER_H_
#define STSYNC_CLI_JSON_LOG_FORMATTER_H_

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace stsync {

class JsonLogFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }

  // `s` as the inside of a JSON string.
  static std::string Escape(std::string_view s);
};

}  // namespace stsync

#endif  // STSYNC_CLI_JSON_LOG_FORMATTER_H_

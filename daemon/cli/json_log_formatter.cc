#include "cli/json_log_formatter.h"

#include <spdlog/common.h>

#include <cstdio>
#include <ctime>

namespace stsync {

std::string JsonLogFormatter::Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg,
                              spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto since = msg.time.time_since_epoch();
  const std::time_t secs = duration_cast<seconds>(since).count();
  const int ms =
      static_cast<int>(duration_cast<milliseconds>(since).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char time[96];
  std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, ms);
  const auto level = spdlog::level::to_string_view(msg.level);
  std::string line =
      std::string("{\"time\":\"") + time + "\",\"level\":\"" +
      std::string(level.data(), level.size()) + "\",\"message\":\"" +
      Escape(std::string_view(msg.payload.data(), msg.payload.size())) +
      "\"}\n";
  dest.append(line.data(), line.data() + line.size());
}

}  // namespace stsync

#include "engine/rejected_cursor.h"

#include "base/timestamp.h"

namespace stsync {

bool IsRejectedCursor(const Status& status, const Cursor& from,
                      const Endpoint& endpoint) {
  return status.http_status() == 400 &&
         from.kind() == Cursor::Kind::kPosition &&
         endpoint.kind == EndpointKind::kExport;
}

Cursor RestartCursor(const std::optional<std::string>& newest_version,
                     const Cursor& start) {
  if (!newest_version) return start;
  std::optional<WallTime> newest = ParseNormalizedTimestamp(*newest_version);
  if (!newest) return start;
  // "YYYY-MM-DD" of the normalised form.
  std::string day = FormatTimestamp(*newest - kRestartOverlap).substr(0, 10);
  if (start.kind() == Cursor::Kind::kDate && day < start.value()) return start;
  return Cursor::Date(day);
}

namespace {
std::string Rejected(const Status& rejected) {
  return "the server rejected the stored cursor (" + rejected.message() + ")";
}
}  // namespace

Status RejectedCursorError(const Status& rejected, const std::string& endpoint,
                           const std::string& why_not_restarted) {
  std::string message = Rejected(rejected) + "; ";
  if (!why_not_restarted.empty()) message += why_not_restarted + "; ";
  message +=
      "to restart the feed, stop stsync and run: stsync reset -c CONFIG " +
      endpoint +
      " --from YYYY-MM-DD (a date at or before the newest modified_on of its "
      "table; repeats are absorbed), or set on_rejected_cursor: "
      "restart_from_last_seen";
  return Status::Http(rejected.http_status(), message);
}

Status RestartedCursorNote(const Status& rejected, const Cursor& to) {
  return Status::Http(rejected.http_status(),
                      Rejected(rejected) + "; restarted the feed from " +
                          to.Describe() +
                          " (on_rejected_cursor: restart_from_last_seen)");
}

}  // namespace stsync

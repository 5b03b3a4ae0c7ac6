// A stored continuation token that the server refuses, and where a feed
// restarts when the config allows it.
//
// Whether ServiceTitan's continueFrom tokens expire is not documented. If
// the server answers 400 to a request from a stored position, retrying the
// same position cannot help; only moving the cursor does. By default the
// feed keeps failing, with a message naming the `stsync reset` to run. With
// `on_rejected_cursor: restart_from_last_seen` the scheduler moves the
// cursor itself, to RestartCursor(): a date before the newest version the
// feed stored, so nothing after it is skipped; the records served again are
// absorbed by the sink (same version and bytes: nothing written).
//
// Plain functions of values: safe from any thread.
#ifndef STSYNC_ENGINE_REJECTED_CURSOR_H_
#define STSYNC_ENGINE_REJECTED_CURSOR_H_

#include <chrono>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/cursor.h"
#include "model/endpoint.h"

namespace stsync {

// True if `status`, the answer to `endpoint`'s request from `from`, is the
// server refusing a position it handed out (HTTP 400 to an export feed's
// continueFrom). A 400 from the start or a date, or to a list endpoint
// (whose positions are stsync's own), is about something else.
bool IsRejectedCursor(const Status& status, const Cursor& from,
                      const Endpoint& endpoint);

// How far before the newest stored version a restart begins. The date is
// already rounded down to the day; the extra day covers records older than
// the newest stored one that had not been delivered yet (the export's
// ~15-minute delay, late commits on ServiceTitan's side).
constexpr std::chrono::hours kRestartOverlap{24};

// Where a feed whose cursor was rejected restarts: the UTC day of
// `newest_version` (a normalised timestamp, the largest version the feed
// stored) less kRestartOverlap; not before `start` when that is a date.
// Without a usable newest version (nothing stored), `start` itself.
Cursor RestartCursor(const std::optional<std::string>& newest_version,
                     const Cursor& start);

// The error to report for a rejected cursor of `endpoint` that was not
// moved: what the server said and the reset to run. `why_not_restarted` is
// "" or a sentence on why the automatic restart did not happen.
Status RejectedCursorError(const Status& rejected, const std::string& endpoint,
                           const std::string& why_not_restarted);

// The error to report after the cursor was moved to `to`.
Status RestartedCursorNote(const Status& rejected, const Cursor& to);

}  // namespace stsync

#endif  // STSYNC_ENGINE_REJECTED_CURSOR_H_

// Export pages: one Data Export API response, validated and read into a
// Batch.
//
// ParseExportPage is strict: a body that is not a JSON object with `data`
// (an array of objects), `hasMore` (a bool) and `continueFrom` (a non-empty
// string), or any record without its key or with an unreadable version,
// fails as a whole with Status::BadResponse naming the problem. A failed
// page must not be written; nothing in it can be trusted.
//
// The reader makes one pass of RapidJSON's SAX parser over the body and
// builds no document: each Row records its record's byte range, so the
// record reaches the sink exactly as the server sent it.
#ifndef STSYNC_API_EXPORT_PAGE_H_
#define STSYNC_API_EXPORT_PAGE_H_

#include <string>

#include "base/status.h"
#include "model/batch.h"
#include "model/endpoint.h"

namespace stsync {

// Parses and validates `body` for `endpoint`. The Batch's `next` is the
// continueFrom position and `caught_up` is !hasMore.
Result<Batch> ParseExportPage(std::string body, const Endpoint& endpoint);

}  // namespace stsync

#endif  // STSYNC_API_EXPORT_PAGE_H_

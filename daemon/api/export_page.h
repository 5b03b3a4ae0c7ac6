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
#include <string_view>

#include "base/status.h"
#include "model/batch.h"
#include "model/endpoint.h"

namespace stsync {

// Parses and validates `body` for `endpoint`. The Batch's `next` is the
// continueFrom position and `caught_up` is !hasMore.
Result<Batch> ParseExportPage(std::string body, const Endpoint& endpoint);

// The key given to a row whose key field is null, for endpoints with
// fallback_key_fields: a negative 63-bit FNV-1a hash of `identity` (the
// fallback fields' values, joined by the caller). Never 0, never positive.
int64_t FallbackKey(std::string_view identity);

}  // namespace stsync

#endif  // STSYNC_API_EXPORT_PAGE_H_

// Pages: one response of an export or a list endpoint, validated and read
// into a Batch.
//
// Both parsers are strict: a body that is not a JSON object with `data` (an
// array of objects) and `hasMore` (a bool), plus for an export page
// `continueFrom` (a non-empty string), or any record without its key or
// with an unreadable version, fails as a whole with Status::BadResponse
// naming the problem. A failed page must not be written; nothing in it can
// be trusted. A list page's `page` is handed to the caller to compare with
// the page it asked for; its other members (pageSize, totalCount) are not
// needed and not checked.
//
// The reader makes one pass of RapidJSON's SAX parser over the body and
// builds no document: each Row records its record's byte range, so the
// record reaches the sink exactly as the server sent it.
#ifndef STSYNC_API_PAGE_PARSER_H_
#define STSYNC_API_PAGE_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/batch.h"
#include "model/endpoint.h"

namespace stsync {

// Parses and validates `body` for `endpoint`. The Batch's `next` is the
// continueFrom position and `caught_up` is !hasMore.
Result<Batch> ParseExportPage(std::string body, const Endpoint& endpoint);

// Parses and validates a list endpoint's `body`. The Batch's `caught_up` is
// !hasMore; its `next` is left for the caller (api/list_feed.h). If
// `echoed_page` is given, it receives the envelope's `page` (if an integer).
Result<Batch> ParseListPage(std::string body, const Endpoint& endpoint,
                            std::optional<int64_t>* echoed_page = nullptr);

}  // namespace stsync

#endif  // STSYNC_API_PAGE_PARSER_H_

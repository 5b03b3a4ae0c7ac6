// Byte ranges inside JSON text, so that records can be stored exactly as the
// server sent them instead of re-serialised.
//
// These functions walk text that a real parser has already accepted; they
// never read outside `json` and return false on anything unexpected.
#ifndef STSYNC_JSON_SLICE_H_
#define STSYNC_JSON_SLICE_H_

#include <string_view>
#include <vector>

namespace stsync {

// `object` starts (after optional white space) with '{'. Sets `*value` to the
// text of the first member called `key` (compared without unescaping).
bool FindJsonMember(std::string_view object, std::string_view key,
                    std::string_view* value);

// `array` starts (after optional white space) with '['. Appends the text of
// every element to `*elements`.
bool SplitJsonArray(std::string_view array,
                    std::vector<std::string_view>* elements);

}  // namespace stsync

#endif  // STSYNC_JSON_SLICE_H_

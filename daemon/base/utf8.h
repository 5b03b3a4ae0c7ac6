// Whether bytes are text that every destination can store and read back.
#ifndef STSYNC_BASE_UTF8_H_
#define STSYNC_BASE_UTF8_H_

#include <string_view>

namespace stsync {

// Whether `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF, which a lone `\udc00` escape decodes to), nothing
// past U+10FFFF. The same rule as PostgreSQL's UTF8 server encoding.
bool IsUtf8(std::string_view s);

}  // namespace stsync

#endif  // STSYNC_BASE_UTF8_H_

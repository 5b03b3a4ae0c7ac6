// Redact: keeps secrets out of text that came from a server.
//
// A hostile or buggy server may echo what it was sent (the Authorization
// header, the token request's form) in an error body. Every excerpt of a
// server's text that stsync logs or stores goes through ServerText first.
//
// Thread safety: pure functions.
#ifndef STSYNC_BASE_REDACT_H_
#define STSYNC_BASE_REDACT_H_

#include <initializer_list>
#include <string>
#include <string_view>

namespace stsync {

// `text` with every occurrence of each non-empty secret replaced by
// "[redacted]".
std::string Redact(std::string text,
                   std::initializer_list<std::string_view> secrets);

// A short, printable excerpt of a server's text (an error body, say): the
// secrets redacted first, then HTML tags and control characters dropped,
// runs of blanks folded, and cut at about `max_chars` characters.
std::string ServerText(const std::string& body,
                       std::initializer_list<std::string_view> secrets,
                       size_t max_chars = 160);

}  // namespace stsync

#endif  // STSYNC_BASE_REDACT_H_

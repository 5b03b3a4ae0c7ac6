#include "base/utf8.h"

#include <doctest/doctest.h>

#include <string>

namespace stsync {

TEST_CASE("well-formed UTF-8 passes") {
  CHECK(IsUtf8(""));
  CHECK(IsUtf8("plain ASCII, longer than one eight-byte word"));
  CHECK(IsUtf8("caf\xC3\xA9"));              // U+00E9
  CHECK(IsUtf8("\xE2\x82\xAC 12"));          // U+20AC
  CHECK(IsUtf8("\xF0\x9F\x94\xA7 wrench"));  // U+1F527
  CHECK(IsUtf8("\xED\x9F\xBF"));             // U+D7FF, below surrogates
  CHECK(IsUtf8("\xEE\x80\x80"));             // U+E000, above them
  CHECK(IsUtf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF, the last
  CHECK(IsUtf8(std::string("a\0b", 3)));     // NUL is UTF-8
  CHECK(
      IsUtf8("0123456\xC3\xA9"
             "0123456789"));  // across a word boundary
}

TEST_CASE("malformed UTF-8 fails wherever it is") {
  CHECK_FALSE(IsUtf8("\xE9"));                // Latin-1, not UTF-8
  CHECK_FALSE(IsUtf8("01234567890123\xE9"));  // after whole words
  CHECK_FALSE(IsUtf8("\x80"));                // a lone continuation
  CHECK_FALSE(IsUtf8("\xC3"));                // cut short
  CHECK_FALSE(IsUtf8("\xE2\x82"));            // cut short
  CHECK_FALSE(IsUtf8("\xC3\x28"));            // bad continuation
  CHECK_FALSE(IsUtf8("\xF0\x9F\x94\x28"));    // bad last continuation
  CHECK_FALSE(IsUtf8("\xC0\xAF"));            // overlong '/'
  CHECK_FALSE(IsUtf8("\xE0\x80\xAF"));        // overlong, 3 bytes
  CHECK_FALSE(IsUtf8("\xF0\x80\x80\xAF"));    // overlong, 4 bytes
  CHECK_FALSE(IsUtf8("\xED\xA0\x80"));        // U+D800, a surrogate
  CHECK_FALSE(IsUtf8("\xED\xB0\x80"));        // U+DC00: what "\udc00" reads as
  CHECK_FALSE(IsUtf8("\xF4\x90\x80\x80"));    // past U+10FFFF
  CHECK_FALSE(IsUtf8("\xF8\x88\x80\x80\x80"));  // 5-byte forms are gone
  CHECK_FALSE(IsUtf8("\xFF"));
}

}  // namespace stsync

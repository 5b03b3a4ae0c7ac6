#include "json_slice.h"

namespace stsync {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}

// Returns the position just past the string starting at s[pos] == '"', or
// npos.
size_t SkipString(std::string_view s, size_t pos) {
  for (++pos; pos < s.size(); ++pos) {
    if (s[pos] == '\\') {
      ++pos;
    } else if (s[pos] == '"') {
      return pos + 1;
    }
  }
  return std::string_view::npos;
}

// Returns the position just past the value starting at s[pos], or npos.
size_t SkipValue(std::string_view s, size_t pos) {
  if (pos >= s.size()) return std::string_view::npos;
  char c = s[pos];
  if (c == '"') return SkipString(s, pos);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (pos < s.size()) {
      char d = s[pos];
      if (d == '"') {
        pos = SkipString(s, pos);
        if (pos == std::string_view::npos) return pos;
        continue;
      }
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') {
        if (--depth == 0) return pos + 1;
      }
      ++pos;
    }
    return std::string_view::npos;
  }
  while (pos < s.size() && s[pos] != ',' && s[pos] != '}' && s[pos] != ']' &&
         !IsSpace(s[pos])) {
    ++pos;
  }
  return pos;
}

}  // namespace

bool FindJsonMember(std::string_view s, std::string_view key,
                    std::string_view* value) {
  size_t pos = SkipSpace(s, 0);
  if (pos >= s.size() || s[pos] != '{') return false;
  pos = SkipSpace(s, pos + 1);
  if (pos < s.size() && s[pos] == '}') return false;
  while (pos < s.size()) {
    if (s[pos] != '"') return false;
    size_t key_end = SkipString(s, pos);
    if (key_end == std::string_view::npos) return false;
    std::string_view k = s.substr(pos + 1, key_end - pos - 2);
    pos = SkipSpace(s, key_end);
    if (pos >= s.size() || s[pos] != ':') return false;
    pos = SkipSpace(s, pos + 1);
    size_t end = SkipValue(s, pos);
    if (end == std::string_view::npos) return false;
    if (k == key) {
      *value = s.substr(pos, end - pos);
      return true;
    }
    pos = SkipSpace(s, end);
    if (pos >= s.size() || s[pos] != ',') return false;
    pos = SkipSpace(s, pos + 1);
  }
  return false;
}

bool SplitJsonArray(std::string_view s,
                    std::vector<std::string_view>* elements) {
  size_t pos = SkipSpace(s, 0);
  if (pos >= s.size() || s[pos] != '[') return false;
  pos = SkipSpace(s, pos + 1);
  if (pos < s.size() && s[pos] == ']') return true;
  while (pos < s.size()) {
    size_t end = SkipValue(s, pos);
    if (end == std::string_view::npos || end == pos) return false;
    elements->push_back(s.substr(pos, end - pos));
    pos = SkipSpace(s, end);
    if (pos >= s.size()) return false;
    if (s[pos] == ']') return true;
    if (s[pos] != ',') return false;
    pos = SkipSpace(s, pos + 1);
  }
  return false;
}

}  // namespace stsync

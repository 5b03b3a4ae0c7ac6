#include "model/cursor.h"

namespace stsync {
namespace {

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

Cursor Cursor::Position(std::string position) {
  if (position.empty()) return Start();
  return Cursor(Kind::kPosition, std::move(position));
}

Cursor Cursor::FromStored(const std::optional<std::string>& text) {
  if (!text || text->empty()) return Start();
  if (IsDate(*text)) return Date(*text);
  return Position(*text);
}

std::optional<std::string> Cursor::ToStored() const {
  if (at_start()) return std::nullopt;
  return value_;
}

std::string Cursor::Describe() const {
  switch (kind_) {
    case Kind::kStart:
      return "the first record";
    case Kind::kDate:
      return value_;
    case Kind::kPosition:
      break;
  }
  return "the stored position";
}

}  // namespace stsync

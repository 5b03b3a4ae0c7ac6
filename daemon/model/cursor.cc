#include "model/cursor.h"

#include "base/timestamp.h"

namespace stsync {

Cursor Cursor::Position(std::string position) {
  if (position.empty()) return Start();
  return Cursor(Kind::kPosition, std::move(position));
}

Cursor Cursor::FromStored(const std::optional<std::string>& text) {
  if (!text || text->empty()) return Start();
  if (IsCalendarDate(*text)) return Date(*text);
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

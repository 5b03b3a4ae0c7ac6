#include "model/cursor.h"

#include <doctest/doctest.h>

namespace stsync {

TEST_CASE("a cursor survives being stored, and knows what it holds") {
  CHECK(Cursor().at_start());
  CHECK(Cursor::Start().value().empty());
  CHECK_FALSE(Cursor::Start().ToStored().has_value());
  CHECK(Cursor::FromStored(std::nullopt) == Cursor::Start());
  CHECK(Cursor::FromStored(std::string()) == Cursor::Start());

  Cursor date = Cursor::Date("2024-05-06");
  CHECK(date.kind() == Cursor::Kind::kDate);
  CHECK(Cursor::FromStored(date.ToStored()) == date);
  CHECK(date.Describe() == "2024-05-06");

  Cursor pos = Cursor::Position("eyJ0b2tlbiI6MTIzfQ==");
  CHECK(pos.kind() == Cursor::Kind::kPosition);
  CHECK(pos.value() == "eyJ0b2tlbiI6MTIzfQ==");
  CHECK(Cursor::FromStored(pos.ToStored()) == pos);
  CHECK(pos.Describe() == "the stored position");
  // An empty position is the start; near-dates are positions.
  CHECK(Cursor::Position("").at_start());
  CHECK(Cursor::FromStored(std::string("2024-05-06x")).kind() ==
        Cursor::Kind::kPosition);
  CHECK(Cursor::FromStored(std::string("2024/05/06")).kind() ==
        Cursor::Kind::kPosition);
  CHECK_FALSE(pos == Cursor::Position("other"));
}

}  // namespace stsync

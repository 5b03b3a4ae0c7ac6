#include "sink/pg_array.h"

namespace stsync {
namespace {

void Put32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

}  // namespace

void PgArray::Element(std::string_view bytes) {
  Put32(elements_, static_cast<uint32_t>(bytes.size()));
  elements_.append(bytes);
  ++count_;
}

void PgArray::AddInt(int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  std::string b;
  Put32(b, static_cast<uint32_t>(u >> 32));
  Put32(b, static_cast<uint32_t>(u));
  Element(b);
}

void PgArray::AddText(std::string_view v) { Element(v); }

void PgArray::AddBool(bool v) {
  Element(v ? "\x01" : std::string_view("\0", 1));
}

void PgArray::AddNull() {
  Put32(elements_, 0xFFFFFFFFu);
  has_null_ = true;
  ++count_;
}

std::string PgArray::Bytes() const {
  std::string out;
  out.reserve(20 + elements_.size());
  Put32(out, count_ ? 1 : 0);
  Put32(out, has_null_ ? 1 : 0);
  Put32(out, oid_);
  if (count_) {
    Put32(out, static_cast<uint32_t>(count_));
    Put32(out, 1);
  }
  out += elements_;
  return out;
}

}  // namespace stsync

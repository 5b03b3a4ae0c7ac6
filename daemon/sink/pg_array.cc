#include "sink/pg_array.h"

namespace stsync {
namespace {

// The header of a one-dimensional array; an empty one has no dimension.
constexpr size_t kHeader = 20;
constexpr size_t kEmptyHeader = 12;

void Put32(char* out, uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

void Append32(std::string& out, uint32_t v) {
  char b[4];
  Put32(b, v);
  out.append(b, 4);
}

}  // namespace

PgArray::PgArray(uint32_t element_oid) : oid_(element_oid) { Clear(); }

void PgArray::Clear() {
  bytes_.assign(kHeader, '\0');
  count_ = 0;
  has_null_ = false;
}

void PgArray::Reserve(size_t elements, size_t bytes) {
  bytes_.reserve(bytes_.size() + 4 * elements + bytes);
}

void PgArray::AddInt(int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  Append32(bytes_, 8);
  Append32(bytes_, static_cast<uint32_t>(u >> 32));
  Append32(bytes_, static_cast<uint32_t>(u));
  ++count_;
}

void PgArray::AddText(std::string_view v) {
  Append32(bytes_, static_cast<uint32_t>(v.size()));
  bytes_.append(v);
  ++count_;
}

void PgArray::AddBool(bool v) {
  Append32(bytes_, 1);
  bytes_.push_back(v ? '\1' : '\0');
  ++count_;
}

void PgArray::AddNull() {
  Append32(bytes_, 0xFFFFFFFFu);
  has_null_ = true;
  ++count_;
}

std::string_view PgArray::Bytes() {
  char* h = bytes_.data();
  Put32(h, count_ ? 1 : 0);
  Put32(h + 4, has_null_ ? 1 : 0);
  Put32(h + 8, oid_);
  if (count_ == 0) return std::string_view(bytes_).substr(0, kEmptyHeader);
  Put32(h + 12, static_cast<uint32_t>(count_));
  Put32(h + 16, 1);
  return bytes_;
}

}  // namespace stsync

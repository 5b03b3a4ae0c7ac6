// PgArray: a one-dimensional array in PostgreSQL's binary wire format, to
// bind a whole page's column as one parameter (`unnest($1::bigint[])`).
//
// The format: the number of dimensions (1, or 0 when empty), a has-nulls
// flag, the element type's OID, the length and lower bound (1) of the
// dimension, then each element as a 4-byte length (-1 for NULL) and its
// bytes; every integer big-endian.
//
// The bytes are built in place, once: an array kept across pages and
// Clear()ed reuses its memory, so a page's column costs one copy of its
// values and no allocation.
//
// Thread safety: a plain value.
#ifndef STSYNC_SINK_PG_ARRAY_H_
#define STSYNC_SINK_PG_ARRAY_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace stsync {

class PgArray {
 public:
  static constexpr uint32_t kBool = 16;
  static constexpr uint32_t kInt8 = 20;
  static constexpr uint32_t kText = 25;

  explicit PgArray(uint32_t element_oid);

  // Empties it, keeping its memory.
  void Clear();
  // Room for `bytes` more bytes of values (not counting their lengths).
  void Reserve(size_t elements, size_t bytes);

  void AddInt(int64_t v);
  void AddText(std::string_view v);  // must be valid UTF-8
  void AddBool(bool v);
  void AddNull();

  size_t size() const { return count_; }
  // The array's bytes, for PgParam::Borrowed; valid until the next change.
  std::string_view Bytes();

 private:
  uint32_t oid_;
  size_t count_ = 0;
  bool has_null_ = false;
  std::string bytes_;  // the header's room, then the elements
};

}  // namespace stsync

#endif  // STSYNC_SINK_PG_ARRAY_H_

// RecordReader: turns the records of a page's `data` array into Rows, one
// SAX event at a time, without building a document.
//
// For each record it collects the endpoint's key fields, the version field
// (normalised, see base/timestamp.h), `active`, and the record's byte range
// in the body, so the sink stores the record exactly as it came. Exploded
// endpoints (job-history) yield one Row per entry of a nested list, keyed
// by the entry and carrying the record's parent key. A record whose key is
// null may be keyed by a hash of identity fields (FallbackKey).
//
// An envelope reader (api/page_parser.cc; the list-endpoint feed's next)
// forwards the events that occur inside `data`. A record that is an object
// but cannot be a row (its key missing, null or not an integer, its version
// unreadable, its exploded list or parent bad, nested deeper than
// kMaxRecordDepth, or a string in it holding NUL or malformed UTF-8, which
// PostgreSQL refuses) becomes one of the batch's rejects, and the page goes
// on.
// A page whose `data` holds something else than objects cannot be trusted:
// the first such element is kept as status(), and the caller refuses the
// whole page.
//
// Thread safety: one reader per page, on one thread.
#ifndef STSYNC_API_RECORD_READER_H_
#define STSYNC_API_RECORD_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/batch.h"
#include "model/endpoint.h"

namespace stsync {

// A JSON value as a SAX reader reports it, reduced to what rows need. `s`
// points into the body being read.
struct JsonValue {
  enum class Kind { kNull, kBool, kInt, kNumber, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;  // kInt: any integer that fits in int64
  double d = 0;   // kNumber: every other number
  std::string_view s;

  // Every field is listed: GCC warns about designated initialisers that
  // leave some out.
  static JsonValue Of(Kind kind) { return {kind, false, 0, 0, {}}; }
  static JsonValue Integer(int64_t i) { return {Kind::kInt, false, i, 0, {}}; }
  static JsonValue Number(double d) { return {Kind::kNumber, false, 0, d, {}}; }
  static JsonValue Boolean(bool b) { return {Kind::kBool, b, 0, 0, {}}; }
  static JsonValue Text(std::string_view s) {
    return {Kind::kString, false, 0, 0, s};
  }
};

class RecordReader {
 public:
  // Deeper records are rejected: SQLite's JSON functions refuse records
  // nested a thousand levels or more (the limit depends on the version),
  // and a stored record must stay readable by every query on its table.
  // Real records nest a handful.
  static constexpr int kMaxRecordDepth = 500;

  // Rows go to batch->rows, and batch->records counts the records; both
  // must outlive the reader.
  RecordReader(const Endpoint& endpoint, Batch* batch);
  ~RecordReader();

  // Events inside the `data` array. `depth` counts the containers open
  // inside it: 0 for the array's own elements (the records), 1 for a
  // record's members, 2 and 3 for an exploded list's entries and their
  // members. `offset` is the position of a '{', `end` one past a '}'.
  void Key(std::string_view name, int depth);
  // Every value, the start of an object or array included (before
  // StartObject).
  void Value(const JsonValue& value, int depth);
  void StartObject(int depth, size_t offset);
  void EndObject(int depth, size_t end);
  void EndArray(int depth);

  // Offsets in the body (sorted, outliving the reader) of high-surrogate
  // escapes that had no low half; the page parser read them as U+FFFD. The
  // records holding them are rejected, and status() fails if one lies
  // outside every record.
  void set_lone_surrogates(const std::vector<size_t>* offsets);

  // The problem of the first element of `data` that is not an object, else
  // Ok.
  Status status() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The key given to a row whose key field is null, for endpoints with
// fallback_key_fields: a negative 63-bit FNV-1a hash of `identity` (the
// fallback fields' values, joined by the caller). Never 0, never positive.
int64_t FallbackKey(std::string_view identity);

}  // namespace stsync

#endif  // STSYNC_API_RECORD_READER_H_

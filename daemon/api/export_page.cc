#include "api/export_page.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "base/timestamp.h"

namespace stsync {
namespace {

// A JSON value as the reader reports it, reduced to what rows need.
struct Value {
  enum class Kind { kNull, kBool, kInt, kNumber, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;  // kInt: any integer that fits in int64
  double d = 0;   // kNumber: every other number
  std::string_view s;

  // Every field is listed: GCC warns about designated initialisers that
  // leave some out.
  static Value Of(Kind kind) { return {kind, false, 0, 0, {}}; }
  static Value Integer(int64_t i) { return {Kind::kInt, false, i, 0, {}}; }
  static Value Number(double d) { return {Kind::kNumber, false, 0, d, {}}; }
  static Value Boolean(bool b) { return {Kind::kBool, b, 0, 0, {}}; }
  static Value Text(std::string_view s) {
    return {Kind::kString, false, 0, 0, s};
  }
};

// Where a row came from, formatted only when an error names it.
struct Location {
  size_t record = 0;
  const std::string* list_field = nullptr;  // set for exploded entries
  size_t entry = 0;

  std::string Text() const {
    std::string t = "data[" + std::to_string(record) + "]";
    if (list_field) t += "." + *list_field + "[" + std::to_string(entry) + "]";
    return t;
  }
};

// What a row-producing object (a record, or an exploded entry) said about the
// fields that matter. The first occurrence of a member wins, as in a DOM
// lookup.
struct ObjectFields {
  enum class Got : uint8_t { kAbsent, kNull, kInt, kOther };
  std::array<Got, kMaxKeyFields> keys{};
  Row row;
  enum class Version : uint8_t { kAbsent, kOk, kNotString, kBad };
  Version version = Version::kAbsent;
  std::string bad_version;            // kBad: the first 40 bytes
  std::vector<std::string> identity;  // per fallback field: IdentityPart
  uint64_t seen = 0;                  // roles already taken

  void Reset(size_t fallback_fields) {
    keys.fill(Got::kAbsent);
    row.key.fill(0);
    row.version.clear();
    row.active = -1;
    version = Version::kAbsent;
    identity.resize(fallback_fields);
    for (auto& part : identity) part.assign("null");
    seen = 0;
  }
};

// Roles a member name can play in an object; one name may play several.
enum : uint64_t {
  kRoleVersion = 1u << kMaxKeyFields,  // key k is bit k
  kRoleActive = kRoleVersion << 1,
  kRoleParent = kRoleActive << 1,
  kRoleList = kRoleParent << 1,
  kRoleFallback = kRoleList << 1,  // fallback field j is this << j
};
constexpr size_t kMaxFallbackFields = 64 - 8;

using RoleTable = std::vector<std::pair<std::string_view, uint64_t>>;

uint64_t RolesOf(const RoleTable& table, std::string_view name) {
  uint64_t roles = 0;
  for (const auto& [field, role] : table) {
    if (field == name) roles |= role;
  }
  return roles;
}

// The identity text of one fallback field's value (see FallbackKey).
std::string IdentityPart(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kNumber:
      return std::to_string(v.d);
    case Value::Kind::kBool:
      return v.b ? "true" : "false";
    case Value::Kind::kString:
      if (auto ts = NormalizeTimestamp(v.s)) return *ts;
      return "\"" + std::string(v.s) + "\"";
    default:
      return "?";
  }
}

// Turns collected fields into a row's key, version and active, or the first
// problem in field order: keys, then the version.
Status CompleteRow(ObjectFields& f, const Endpoint& e, const Location& where) {
  for (size_t k = 0; k < e.key_fields.size(); ++k) {
    const std::string& field = e.key_fields[k];
    const bool missing = f.keys[k] == ObjectFields::Got::kAbsent ||
                         f.keys[k] == ObjectFields::Got::kNull;
    if (missing && !e.fallback_key_fields.empty()) {
      if (f.identity[0] == "null") {
        return Status::BadResponse(where.Text() + ": key field '" + field +
                                   "' is null and '" +
                                   e.fallback_key_fields[0] +
                                   "', needed for a fallback key, is missing");
      }
      std::string identity;
      for (size_t j = 0; j < e.fallback_key_fields.size(); ++j) {
        identity += e.fallback_key_fields[j] + "=" + f.identity[j] + ";";
      }
      f.row.key[k] = FallbackKey(identity);
      continue;
    }
    if (missing) {
      return Status::BadResponse(where.Text() + ": key field '" + field +
                                 "' is missing or null");
    }
    if (f.keys[k] != ObjectFields::Got::kInt) {
      return Status::BadResponse(where.Text() + ": key field '" + field +
                                 "' is not an integer");
    }
  }
  if (f.version == ObjectFields::Version::kNotString) {
    return Status::BadResponse(where.Text() + ": '" + e.version_field +
                               "' is not a string");
  }
  if (f.version == ObjectFields::Version::kBad) {
    return Status::BadResponse(where.Text() + ": '" + e.version_field +
                               "' value '" + f.bad_version +
                               "' is not a date-time");
  }
  return Status::Ok();
}

// The SAX handler: validates the envelope and collects rows in one pass over
// the body, without building a document. Depth 1 is the envelope, 2 the
// `data` array, 3 a record, 4 an exploded list and 5 one of its entries;
// anything deeper is only validated by the reader.
class PageReader
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PageReader> {
 public:
  PageReader(const Endpoint& e, Batch* batch, const rapidjson::StringStream* in)
      : e_(e), batch_(batch), in_(in) {
    const bool explode = !e.explode_field.empty();
    RoleTable& row_roles = explode ? entry_roles_ : record_roles_;
    for (size_t k = 0; k < e.key_fields.size() && k < kMaxKeyFields; ++k) {
      row_roles.emplace_back(e.key_fields[k], uint64_t{1} << k);
    }
    row_roles.emplace_back(e.version_field, kRoleVersion);
    row_roles.emplace_back("active", kRoleActive);
    for (size_t j = 0;
         j < e.fallback_key_fields.size() && j < kMaxFallbackFields; ++j) {
      row_roles.emplace_back(e.fallback_key_fields[j], kRoleFallback << j);
    }
    if (explode) {
      record_roles_.emplace_back(e.parent_field, kRoleParent);
      record_roles_.emplace_back(e.explode_field, kRoleList);
    }
    fallback_fields_ =
        std::min(e.fallback_key_fields.size(), kMaxFallbackFields);
  }

  // Sets the batch's next cursor and caught-up flag; after Finish is ok.
  void Complete(Batch* batch) const {
    batch->next = Cursor::Position(continue_from_);
    batch->caught_up = !has_more_;
  }

  // The envelope's problem, else the first record's, else Ok.
  Status Finish() {
    if (!root_is_object_)
      return Status::BadResponse("body is not a JSON object");
    if (!(env_seen_ & kHasMore)) {
      return Status::BadResponse("envelope has no 'hasMore'");
    }
    if (!has_more_is_bool_) {
      return Status::BadResponse("'hasMore' is not a boolean");
    }
    if (!(env_seen_ & kContinueFrom) || continue_from_null_) {
      return Status::BadResponse("envelope has no 'continueFrom'");
    }
    if (continue_from_.empty()) {
      return Status::BadResponse("'continueFrom' is not a non-empty string");
    }
    if (!(env_seen_ & kData))
      return Status::BadResponse("envelope has no 'data'");
    if (!data_is_array_) return Status::BadResponse("'data' is not an array");
    return first_error_;
  }

  bool Null() { return OnValue({}); }
  bool Bool(bool b) { return OnValue(Value::Boolean(b)); }
  bool Int(int i) { return OnValue(Value::Integer(i)); }
  bool Uint(unsigned u) { return OnValue(Value::Integer(u)); }
  bool Int64(int64_t i) { return OnValue(Value::Integer(i)); }
  bool Uint64(uint64_t u) {
    if (u <= static_cast<uint64_t>(INT64_MAX)) {
      return OnValue(Value::Integer(static_cast<int64_t>(u)));
    }
    return OnValue(Value::Number(static_cast<double>(u)));
  }
  bool Double(double d) { return OnValue(Value::Number(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return OnValue(Value::Text(std::string_view(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view name(s, n);
    if (depth_ == 1) {
      member_ = 0;
      if (name == "hasMore") member_ = kHasMore;
      if (name == "continueFrom") member_ = kContinueFrom;
      if (name == "data") member_ = kData;
    } else if (depth_ == 3 && in_record_) {
      member_ = RolesOf(record_roles_, name);
    } else if (depth_ == 5 && in_entry_) {
      member_ = RolesOf(entry_roles_, name);
    }
    return true;
  }
  // The iterative reader calls StartObject and EndObject before it consumes
  // the bracket: Tell() is the bracket's offset.
  bool StartObject() {
    OnValue(Value::Of(Value::Kind::kObject));
    if (depth_ == 2 && in_data_) {
      in_record_ = true;
      record_start_ = in_->Tell();
      record_.Reset(e_.explode_field.empty() ? fallback_fields_ : 0);
      parent_ok_ = false;
      list_ok_ = true;
      entry_error_ = Status::Ok();
      pending_.clear();
      entry_count_ = 0;
    } else if (depth_ == 4 && in_list_) {
      in_entry_ = true;
      entry_start_ = in_->Tell();
      entry_.Reset(fallback_fields_);
    }
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 2 && in_record_) {
      in_record_ = false;
      FinishRecord(in_->Tell() + 1);
    } else if (depth_ == 4 && in_entry_) {
      in_entry_ = false;
      FinishEntry(in_->Tell() + 1);
    }
    return true;
  }
  bool StartArray() {
    OnValue(Value::Of(Value::Kind::kArray));
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 1) in_data_ = false;
    if (depth_ == 3) in_list_ = false;
    return true;
  }

 private:
  enum : uint64_t { kHasMore = 1, kContinueFrom = 2, kData = 4 };

  // Every value, including the start of an object or array, at depth_.
  bool OnValue(const Value& v) {
    switch (depth_) {
      case 0:
        root_is_object_ = v.kind == Value::Kind::kObject;
        break;
      case 1:
        EnvelopeMember(v);
        break;
      case 2:
        if (in_data_) {
          index_ = batch_->records++;
          if (v.kind != Value::Kind::kObject) {
            Fail(Status::BadResponse(Location{index_}.Text() +
                                     " is not an object"));
          }
        }
        break;
      case 3:
        if (in_record_) RecordMember(v);
        break;
      case 4:
        if (in_list_) {
          entry_index_ = entry_count_++;
          if (v.kind != Value::Kind::kObject && entry_error_.ok()) {
            entry_error_ = Status::BadResponse(EntryLocation().Text() +
                                               " is not an object");
          }
        }
        break;
      case 5:
        if (in_entry_) TakeRowMember(entry_, v);
        break;
    }
    member_ = 0;
    return true;
  }

  void EnvelopeMember(const Value& v) {
    const uint64_t first = member_ & ~env_seen_;
    env_seen_ |= member_;
    if (first & kHasMore) {
      has_more_is_bool_ = v.kind == Value::Kind::kBool;
      has_more_ = v.b;
    } else if (first & kContinueFrom) {
      continue_from_null_ = v.kind == Value::Kind::kNull;
      if (v.kind == Value::Kind::kString) continue_from_.assign(v.s);
    } else if (first & kData) {
      data_is_array_ = v.kind == Value::Kind::kArray;
      in_data_ = data_is_array_;
    }
  }

  void RecordMember(const Value& v) {
    if (e_.explode_field.empty()) return TakeRowMember(record_, v);
    const uint64_t first = member_ & ~record_.seen;
    record_.seen |= member_;
    if (first & kRoleParent) {
      parent_ok_ = v.kind == Value::Kind::kInt;
      parent_ = v.i;
    }
    if (first & kRoleList) {
      // Absent or null: a record without entries.
      list_ok_ = v.kind == Value::Kind::kNull || v.kind == Value::Kind::kArray;
      in_list_ = v.kind == Value::Kind::kArray;
    }
  }

  void TakeRowMember(ObjectFields& f, const Value& v) {
    const uint64_t first = member_ & ~f.seen;
    if (first == 0) return;
    f.seen |= member_;
    for (size_t k = 0; k < kMaxKeyFields; ++k) {
      if (!(first & (uint64_t{1} << k))) continue;
      f.keys[k] = v.kind == Value::Kind::kNull  ? ObjectFields::Got::kNull
                  : v.kind == Value::Kind::kInt ? ObjectFields::Got::kInt
                                                : ObjectFields::Got::kOther;
      f.row.key[k] = v.i;
    }
    if ((first & kRoleVersion) && v.kind != Value::Kind::kNull) {
      if (v.kind != Value::Kind::kString) {
        f.version = ObjectFields::Version::kNotString;
      } else if (auto ts = NormalizeTimestamp(v.s)) {
        f.version = ObjectFields::Version::kOk;
        f.row.version = std::move(*ts);
      } else {
        f.version = ObjectFields::Version::kBad;
        f.bad_version.assign(v.s.substr(0, 40));
      }
    }
    if ((first & kRoleActive) && v.kind == Value::Kind::kBool) {
      f.row.active = v.b ? 1 : 0;
    }
    for (size_t j = 0; j < fallback_fields_; ++j) {
      if (first & (kRoleFallback << j)) f.identity[j] = IdentityPart(v);
    }
  }

  void FinishRecord(size_t end) {
    if (!first_error_.ok()) return;
    const Location where{index_};
    if (e_.explode_field.empty()) {
      Status s = CompleteRow(record_, e_, where);
      if (!s.ok()) return Fail(s);
      AddRow(record_.row, record_start_, end);
      return;
    }
    if (!parent_ok_) {
      return Fail(Status::BadResponse(where.Text() + ": '" + e_.parent_field +
                                      "' is missing or not an integer"));
    }
    if (!list_ok_) {
      return Fail(Status::BadResponse(where.Text() + ": '" + e_.explode_field +
                                      "' is not an array"));
    }
    if (!entry_error_.ok()) return Fail(entry_error_);
    for (Row& row : pending_) {
      row.has_parent = true;
      row.parent = parent_;
      batch_->rows.push_back(std::move(row));
    }
  }

  void FinishEntry(size_t end) {
    if (!first_error_.ok() || !entry_error_.ok()) return;
    Status s = CompleteRow(entry_, e_, EntryLocation());
    if (!s.ok()) {
      entry_error_ = s;
      return;
    }
    pending_.push_back(entry_.row);
    pending_.back().data_offset = static_cast<uint32_t>(entry_start_);
    pending_.back().data_size = static_cast<uint32_t>(end - entry_start_);
  }

  void AddRow(Row& row, size_t start, size_t end) {
    batch_->rows.push_back(row);
    batch_->rows.back().data_offset = static_cast<uint32_t>(start);
    batch_->rows.back().data_size = static_cast<uint32_t>(end - start);
  }

  Location EntryLocation() const {
    return Location{index_, &e_.explode_field, entry_index_};
  }

  void Fail(const Status& s) {
    if (first_error_.ok()) first_error_ = s;
  }

  const Endpoint& e_;
  Batch* const batch_;
  const rapidjson::StringStream* const in_;
  RoleTable record_roles_;  // members read at depth 3
  RoleTable entry_roles_;   // members read at depth 5 (exploded endpoints)
  size_t fallback_fields_ = 0;

  int depth_ = 0;        // containers open
  uint64_t member_ = 0;  // roles of the member whose value comes next
  bool root_is_object_ = false;
  uint64_t env_seen_ = 0;
  bool has_more_is_bool_ = false;
  bool has_more_ = false;
  std::string continue_from_;
  bool continue_from_null_ = false;
  bool data_is_array_ = false;
  bool in_data_ = false;
  Status first_error_;

  // The current record (depth 3).
  bool in_record_ = false;
  size_t index_ = 0;
  size_t record_start_ = 0;
  ObjectFields record_;
  // Exploded endpoints: the record's parent key, list and entries.
  bool parent_ok_ = false;
  int64_t parent_ = 0;
  bool list_ok_ = true;
  bool in_list_ = false;
  size_t entry_count_ = 0;
  size_t entry_index_ = 0;
  bool in_entry_ = false;
  size_t entry_start_ = 0;
  ObjectFields entry_;
  Status entry_error_;        // the record's first bad entry
  std::vector<Row> pending_;  // the record's entries, until it is known good
};

}  // namespace

int64_t FallbackKey(std::string_view identity) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : identity) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return -1 - static_cast<int64_t>(h >> 1);
}

Result<Batch> ParseExportPage(std::string body, const Endpoint& e) {
  Batch page;
  page.body = std::move(body);
  if (page.body.size() > UINT32_MAX) {
    return Status::BadResponse("page larger than 4 GiB");
  }
  // Iterative parsing keeps deeply nested input off the call stack.
  rapidjson::StringStream in(page.body.c_str());
  PageReader handler(e, &page, &in);
  rapidjson::Reader reader;
  rapidjson::ParseResult ok =
      reader.Parse<rapidjson::kParseIterativeFlag>(in, handler);
  if (!ok) {
    return Status::BadResponse("malformed JSON at byte " +
                               std::to_string(ok.Offset()) + " of " +
                               std::to_string(page.body.size()) + ": " +
                               rapidjson::GetParseError_En(ok.Code()));
  }
  if (in.Tell() != page.body.size()) {
    // The reader stops at a NUL byte as if the text ended there.
    return Status::BadResponse(
        "malformed JSON at byte " + std::to_string(in.Tell()) + " of " +
        std::to_string(page.body.size()) + ": a NUL byte");
  }
  Status s = handler.Finish();
  if (!s.ok()) return s;
  handler.Complete(&page);
  return page;
}

}  // namespace stsync

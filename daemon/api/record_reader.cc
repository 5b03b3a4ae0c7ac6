#include "api/record_reader.h"

#include <algorithm>
#include <vector>

#include "base/timestamp.h"
#include "base/utf8.h"

namespace stsync {
namespace {

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
std::string IdentityPart(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kInt:
      return std::to_string(v.i);
    case JsonValue::Kind::kNumber:
      return std::to_string(v.d);
    case JsonValue::Kind::kBool:
      return v.b ? "true" : "false";
    case JsonValue::Kind::kString:
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

}  // namespace

struct RecordReader::State {
  State(const Endpoint& e, Batch* batch) : e_(e), batch_(batch) {
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

  void Key(std::string_view name, int depth) {
    if (in_record_) CheckText(name);
    if (depth == 1 && in_record_) {
      member_ = RolesOf(record_roles_, name);
    } else if (depth == 3 && in_entry_) {
      member_ = RolesOf(entry_roles_, name);
    }
  }

  void Value(const JsonValue& v, int depth) {
    if (depth > record_depth_) record_depth_ = depth;
    if (in_record_ && v.kind == JsonValue::Kind::kString) CheckText(v.s);
    switch (depth) {
      case 0:
        index_ = batch_->records++;
        if (v.kind != JsonValue::Kind::kObject) {
          Fail(Status::BadResponse(Location{index_}.Text() +
                                   " is not an object"));
        }
        break;
      case 1:
        if (in_record_) RecordMember(v);
        break;
      case 2:
        if (in_list_) {
          entry_index_ = entry_count_++;
          if (v.kind != JsonValue::Kind::kObject && entry_error_.ok()) {
            entry_error_ = Status::BadResponse(EntryLocation().Text() +
                                               " is not an object");
          }
        }
        break;
      case 3:
        if (in_entry_) TakeRowMember(entry_, v);
        break;
    }
    member_ = 0;
  }

  void StartObject(int depth, size_t offset) {
    if (depth == 0) {
      in_record_ = true;
      record_start_ = offset;
      record_depth_ = 0;
      bad_text_ = nullptr;
      record_.Reset(e_.explode_field.empty() ? fallback_fields_ : 0);
      parent_ok_ = false;
      list_ok_ = true;
      entry_error_ = Status::Ok();
      pending_.clear();
      entry_count_ = 0;
    } else if (depth == 2 && in_list_) {
      in_entry_ = true;
      entry_start_ = offset;
      entry_.Reset(fallback_fields_);
    }
  }

  void EndObject(int depth, size_t end) {
    if (depth == 0 && in_record_) {
      in_record_ = false;
      FinishRecord(end);
    } else if (depth == 2 && in_entry_) {
      in_entry_ = false;
      FinishEntry(end);
    }
  }

  void EndArray(int depth) {
    if (depth == 1) in_list_ = false;
  }

  void RecordMember(const JsonValue& v) {
    if (e_.explode_field.empty()) return TakeRowMember(record_, v);
    const uint64_t first = member_ & ~record_.seen;
    record_.seen |= member_;
    if (first & kRoleParent) {
      parent_ok_ = v.kind == JsonValue::Kind::kInt;
      parent_ = v.i;
    }
    if (first & kRoleList) {
      // Absent or null: a record without entries.
      list_ok_ =
          v.kind == JsonValue::Kind::kNull || v.kind == JsonValue::Kind::kArray;
      in_list_ = v.kind == JsonValue::Kind::kArray;
    }
  }

  void TakeRowMember(ObjectFields& f, const JsonValue& v) {
    const uint64_t first = member_ & ~f.seen;
    if (first == 0) return;
    f.seen |= member_;
    for (size_t k = 0; k < kMaxKeyFields; ++k) {
      if (!(first & (uint64_t{1} << k))) continue;
      f.keys[k] = v.kind == JsonValue::Kind::kNull  ? ObjectFields::Got::kNull
                  : v.kind == JsonValue::Kind::kInt ? ObjectFields::Got::kInt
                                                    : ObjectFields::Got::kOther;
      f.row.key[k] = v.i;
      if (e_.string_key && v.kind == JsonValue::Kind::kString) {
        f.keys[k] = ObjectFields::Got::kInt;
        f.row.key[k] = FallbackKey(e_.key_fields[k] + "=" + IdentityPart(v));
      }
    }
    if ((first & kRoleVersion) && v.kind != JsonValue::Kind::kNull) {
      if (v.kind != JsonValue::Kind::kString) {
        f.version = ObjectFields::Version::kNotString;
      } else if (auto ts = NormalizeTimestamp(v.s)) {
        f.version = ObjectFields::Version::kOk;
        f.row.version = std::move(*ts);
      } else {
        f.version = ObjectFields::Version::kBad;
        f.bad_version.assign(v.s.substr(0, 40));
      }
    }
    if ((first & kRoleActive) && v.kind == JsonValue::Kind::kBool) {
      f.row.active = v.b ? 1 : 0;
    }
    for (size_t j = 0; j < fallback_fields_; ++j) {
      if (first & (kRoleFallback << j)) f.identity[j] = IdentityPart(v);
    }
  }

  void FinishRecord(size_t end) {
    if (!first_error_.ok()) return;
    const Location where{index_};
    if (HoldsLoneSurrogate(end)) {
      return Quarantine(where.Text() +
                            ": a string holds a high-surrogate escape "
                            "without its low half (\\ud800 to \\udbff), "
                            "which is not text",
                        end);
    }
    if (record_depth_ > kMaxRecordDepth) {
      return Quarantine(
          where.Text() + ": nested " + std::to_string(record_depth_) +
              " levels deep, more than the " + std::to_string(kMaxRecordDepth) +
              " that a stored record may have (SQLite's JSON "
              "functions could not read it)",
          end);
    }
    if (bad_text_) return Quarantine(where.Text() + bad_text_, end);
    if (e_.explode_field.empty()) {
      Status s = CompleteRow(record_, e_, where);
      if (!s.ok()) return Quarantine(s.message(), end);
      AddRow(record_.row, record_start_, end);
      return;
    }
    if (!parent_ok_) {
      return Quarantine(where.Text() + ": '" + e_.parent_field +
                            "' is missing or not an integer",
                        end);
    }
    if (!list_ok_) {
      return Quarantine(
          where.Text() + ": '" + e_.explode_field + "' is not an array", end);
    }
    if (!entry_error_.ok()) return Quarantine(entry_error_.message(), end);
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

  // A decoded string (a name or a value) of the current record: NUL comes
  // from a \u0000 escape, malformed UTF-8 from the raw bytes or a lone
  // low-surrogate escape. The first problem is kept.
  void CheckText(std::string_view text) {
    if (bad_text_) return;
    if (text.find('\0') != std::string_view::npos) {
      bad_text_ =
          ": a string holds \\u0000, which PostgreSQL's JSON functions refuse "
          "to read (and many SQLite clients cut short)";
    } else if (!IsUtf8(text)) {
      bad_text_ =
          ": a string is not valid UTF-8, which PostgreSQL refuses to store "
          "(and Python's sqlite3 to read)";
    }
  }

  // Whether a lone surrogate escape lies in the record ending at `end`.
  bool HoldsLoneSurrogate(size_t end) {
    if (!lone_surrogates_) return false;
    const auto& all = *lone_surrogates_;
    const auto first = std::lower_bound(all.begin(), all.end(), record_start_);
    const auto past = std::lower_bound(first, all.end(), end);
    lone_in_records_ += static_cast<size_t>(past - first);
    return first != past;
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

  // The current record (ending at `end`) cannot be a row: it goes to the
  // batch's rejects, the page goes on.
  void Quarantine(const std::string& reason, size_t end) {
    Reject r;
    r.index = index_;
    r.reason = reason;
    r.data_offset = static_cast<uint32_t>(record_start_);
    r.data_size = static_cast<uint32_t>(end - record_start_);
    batch_->rejects.push_back(std::move(r));
  }

  const Endpoint& e_;
  Batch* const batch_;
  RoleTable record_roles_;  // a record's members (depth 1)
  RoleTable entry_roles_;   // an exploded entry's members (depth 3)
  size_t fallback_fields_ = 0;
  uint64_t member_ = 0;  // roles of the member whose value comes next
  Status first_error_;

  // The current record.
  bool in_record_ = false;
  size_t index_ = 0;
  size_t record_start_ = 0;
  int record_depth_ = 0;  // the deepest value inside it so far
  // Why its first unstorable string cannot be stored; null: none so far.
  const char* bad_text_ = nullptr;
  const std::vector<size_t>* lone_surrogates_ = nullptr;
  size_t lone_in_records_ = 0;  // of lone_surrogates_
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

RecordReader::RecordReader(const Endpoint& endpoint, Batch* batch)
    : s_(std::make_unique<State>(endpoint, batch)) {}
RecordReader::~RecordReader() = default;

void RecordReader::Key(std::string_view name, int depth) {
  s_->Key(name, depth);
}
void RecordReader::Value(const JsonValue& value, int depth) {
  s_->Value(value, depth);
}
void RecordReader::StartObject(int depth, size_t offset) {
  s_->StartObject(depth, offset);
}
void RecordReader::EndObject(int depth, size_t end) {
  s_->EndObject(depth, end);
}
void RecordReader::EndArray(int depth) { s_->EndArray(depth); }
void RecordReader::set_lone_surrogates(const std::vector<size_t>* offsets) {
  s_->lone_surrogates_ = offsets;
}
Status RecordReader::status() const {
  const auto* lone = s_->lone_surrogates_;
  if (s_->first_error_.ok() && lone && s_->lone_in_records_ < lone->size()) {
    // In the envelope (continueFrom, say): nothing can stand in for it.
    return Status::BadResponse(
        "a high-surrogate escape without its low half outside the records");
  }
  return s_->first_error_;
}

int64_t FallbackKey(std::string_view identity) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : identity) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return -1 - static_cast<int64_t>(h >> 1);
}

}  // namespace stsync

#include "page.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "json_slice.h"
#include "timestamp.h"

namespace stsync {
namespace {

using Value = rapidjson::Value;

std::string Where(size_t record, const std::string& sub = "") {
  return "data[" + std::to_string(record) + "]" + sub;
}

// Identity text of one fallback field: its value as JSON-ish text.
std::string IdentityPart(const Value& obj, const std::string& field) {
  auto it = obj.FindMember(field.c_str());
  if (it == obj.MemberEnd() || it->value.IsNull()) return "null";
  const Value& v = it->value;
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (auto ts = NormalizeTimestamp(s)) return *ts;
    return "\"" + std::string(s) + "\"";
  }
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) return std::to_string(v.GetDouble());
  return "?";
}

// Fills key, version and active of `row` from record object `obj`.
Status ReadRowFields(const Value& obj, const Endpoint& e,
                     const std::string& where, Row* row) {
  for (size_t k = 0; k < e.key_fields.size(); ++k) {
    const std::string& field = e.key_fields[k];
    auto it = obj.FindMember(field.c_str());
    bool missing = it == obj.MemberEnd() || it->value.IsNull();
    if (missing && !e.fallback_key_fields.empty()) {
      const std::string& anchor = e.fallback_key_fields[0];
      auto a = obj.FindMember(anchor.c_str());
      if (a == obj.MemberEnd() || a->value.IsNull()) {
        return Status::BadResponse(where + ": key field '" + field +
                                   "' is null and '" + anchor +
                                   "', needed for a fallback key, is missing");
      }
      std::string identity;
      for (const auto& f : e.fallback_key_fields) {
        identity += f + "=" + IdentityPart(obj, f) + ";";
      }
      row->key[k] = FallbackKey(identity);
      continue;
    }
    if (missing) {
      return Status::BadResponse(where + ": key field '" + field +
                                 "' is missing or null");
    }
    if (!it->value.IsInt64()) {
      return Status::BadResponse(where + ": key field '" + field +
                                 "' is not an integer");
    }
    row->key[k] = it->value.GetInt64();
  }
  auto v = obj.FindMember(e.version_field.c_str());
  if (v != obj.MemberEnd() && !v->value.IsNull()) {
    if (!v->value.IsString()) {
      return Status::BadResponse(where + ": '" + e.version_field +
                                 "' is not a string");
    }
    std::string_view text(v->value.GetString(), v->value.GetStringLength());
    auto ts = NormalizeTimestamp(text);
    if (!ts) {
      return Status::BadResponse(where + ": '" + e.version_field + "' value '" +
                                 std::string(text.substr(0, 40)) +
                                 "' is not a date-time");
    }
    row->version = std::move(*ts);
  }
  auto a = obj.FindMember("active");
  if (a != obj.MemberEnd() && a->value.IsBool()) {
    row->active = a->value.GetBool() ? 1 : 0;
  }
  return Status::Ok();
}

}  // namespace

int64_t FallbackKey(std::string_view identity) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : identity) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return -1 - static_cast<int64_t>(h >> 1);
}

Result<Page> ParsePage(std::string body, const Endpoint& e) {
  Page page;
  page.body = std::move(body);
  if (page.body.size() > UINT32_MAX) {
    return Status::BadResponse("page larger than 4 GiB");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(page.body.data(), page.body.size());
  if (doc.HasParseError()) {
    return Status::BadResponse(
        "malformed JSON at byte " + std::to_string(doc.GetErrorOffset()) +
        " of " + std::to_string(page.body.size()) + ": " +
        rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Status::BadResponse("body is not a JSON object");
  // Read through a const reference: RapidJSON's non-const iterators have an
  // operator== that C++20 finds ambiguous.
  const Value& root = doc;

  auto has_more = root.FindMember("hasMore");
  if (has_more == root.MemberEnd()) {
    return Status::BadResponse("envelope has no 'hasMore'");
  }
  if (!has_more->value.IsBool()) {
    return Status::BadResponse("'hasMore' is not a boolean");
  }
  page.has_more = has_more->value.GetBool();

  auto cont = root.FindMember("continueFrom");
  if (cont == root.MemberEnd() || cont->value.IsNull()) {
    return Status::BadResponse("envelope has no 'continueFrom'");
  }
  if (!cont->value.IsString() || cont->value.GetStringLength() == 0) {
    return Status::BadResponse("'continueFrom' is not a non-empty string");
  }
  page.continue_from.assign(cont->value.GetString(),
                            cont->value.GetStringLength());

  auto data = root.FindMember("data");
  if (data == root.MemberEnd())
    return Status::BadResponse("envelope has no 'data'");
  if (!data->value.IsArray())
    return Status::BadResponse("'data' is not an array");

  std::string_view text(page.body);
  std::string_view data_text;
  std::vector<std::string_view> records;
  if (!FindJsonMember(text, "data", &data_text) ||
      !SplitJsonArray(data_text, &records) ||
      records.size() != data->value.Size()) {
    return Status::BadResponse("could not locate the records of 'data'");
  }
  page.records = records.size();
  page.rows.reserve(records.size());
  auto offset_of = [&](std::string_view slice) {
    return static_cast<uint32_t>(slice.data() - text.data());
  };

  std::vector<std::string_view> entries;
  for (rapidjson::SizeType i = 0; i < data->value.Size(); ++i) {
    const Value& rec = data->value[i];
    if (!rec.IsObject()) {
      return Status::BadResponse(Where(i) + " is not an object");
    }
    if (e.explode_field.empty()) {
      Row row;
      Status s = ReadRowFields(rec, e, Where(i), &row);
      if (!s.ok()) return s;
      row.data_offset = offset_of(records[i]);
      row.data_size = static_cast<uint32_t>(records[i].size());
      page.rows.push_back(std::move(row));
      continue;
    }
    // One row per element of rec[explode_field], with the parent's key kept.
    auto parent = rec.FindMember(e.parent_field.c_str());
    if (parent == rec.MemberEnd() || !parent->value.IsInt64()) {
      return Status::BadResponse(Where(i) + ": '" + e.parent_field +
                                 "' is missing or not an integer");
    }
    auto list = rec.FindMember(e.explode_field.c_str());
    if (list == rec.MemberEnd() || list->value.IsNull()) continue;
    if (!list->value.IsArray()) {
      return Status::BadResponse(Where(i) + ": '" + e.explode_field +
                                 "' is not an array");
    }
    std::string_view list_text;
    entries.clear();
    if (!FindJsonMember(records[i], e.explode_field, &list_text) ||
        !SplitJsonArray(list_text, &entries) ||
        entries.size() != list->value.Size()) {
      return Status::BadResponse(Where(i) + ": could not locate '" +
                                 e.explode_field + "' entries");
    }
    for (rapidjson::SizeType j = 0; j < list->value.Size(); ++j) {
      const Value& entry = list->value[j];
      std::string where =
          Where(i, "." + e.explode_field + "[" + std::to_string(j) + "]");
      if (!entry.IsObject()) {
        return Status::BadResponse(where + " is not an object");
      }
      Row row;
      row.has_parent = true;
      row.parent = parent->value.GetInt64();
      Status s = ReadRowFields(entry, e, where, &row);
      if (!s.ok()) return s;
      row.data_offset = offset_of(entries[j]);
      row.data_size = static_cast<uint32_t>(entries[j].size());
      page.rows.push_back(std::move(row));
    }
  }
  return page;
}

}  // namespace stsync

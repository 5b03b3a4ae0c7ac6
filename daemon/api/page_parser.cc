#include "api/page_parser.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "api/record_reader.h"

namespace stsync {
namespace {

// The SAX handler of a page envelope: validates `hasMore`, `data` and (an
// export's) `continueFrom`, and forwards what is inside `data` to a
// RecordReader. Depth 1 is the envelope's members, 2 the elements of
// `data`; anything deeper is the records'.
class PageReader
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PageReader> {
 public:
  PageReader(const Endpoint& e, bool is_export, Batch* batch,
             const rapidjson::StringStream* in)
      : records_(e, batch), is_export_(is_export), in_(in) {}

  // Sets the batch's caught-up flag and (export) next cursor; after Finish
  // is ok.
  void Complete(Batch* batch) const {
    if (is_export_) batch->next = Cursor::Position(continue_from_);
    batch->caught_up = !has_more_;
  }
  // Offsets (sorted) of lone surrogate escapes: their records are rejected.
  void set_lone_surrogates(const std::vector<size_t>* offsets) {
    records_.set_lone_surrogates(offsets);
  }
  // The envelope's `page`, if it held an integer.
  std::optional<int64_t> page() const { return page_; }

  // The envelope's problem, else the first record's, else Ok.
  Status Finish() const {
    if (!root_is_object_) {
      return Status::BadResponse("body is not a JSON object");
    }
    if (!(env_seen_ & kHasMore)) {
      return Status::BadResponse("envelope has no 'hasMore'");
    }
    if (!has_more_is_bool_) {
      return Status::BadResponse("'hasMore' is not a boolean");
    }
    if (is_export_ && (!(env_seen_ & kContinueFrom) || continue_from_null_)) {
      return Status::BadResponse("envelope has no 'continueFrom'");
    }
    if (is_export_ && continue_from_.empty()) {
      return Status::BadResponse("'continueFrom' is not a non-empty string");
    }
    if (!(env_seen_ & kData)) {
      return Status::BadResponse("envelope has no 'data'");
    }
    if (!data_is_array_) return Status::BadResponse("'data' is not an array");
    return records_.status();
  }

  bool Null() { return OnValue({}); }
  bool Bool(bool b) { return OnValue(JsonValue::Boolean(b)); }
  bool Int(int i) { return OnValue(JsonValue::Integer(i)); }
  bool Uint(unsigned u) { return OnValue(JsonValue::Integer(u)); }
  bool Int64(int64_t i) { return OnValue(JsonValue::Integer(i)); }
  bool Uint64(uint64_t u) {
    if (u <= static_cast<uint64_t>(INT64_MAX)) {
      return OnValue(JsonValue::Integer(static_cast<int64_t>(u)));
    }
    return OnValue(JsonValue::Number(static_cast<double>(u)));
  }
  bool Double(double d) { return OnValue(JsonValue::Number(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return OnValue(JsonValue::Text(std::string_view(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view name(s, n);
    if (depth_ == 1) {
      member_ = 0;
      if (name == "hasMore") member_ = kHasMore;
      if (name == "continueFrom") member_ = kContinueFrom;
      if (name == "data") member_ = kData;
      if (name == "page") member_ = kPage;
    } else if (InData()) {
      records_.Key(name, depth_ - 2);
    }
    return true;
  }
  // The iterative reader calls StartObject and EndObject before it consumes
  // the bracket: Tell() is the bracket's offset.
  bool StartObject() {
    OnValue(JsonValue::Of(JsonValue::Kind::kObject));
    if (InData()) records_.StartObject(depth_ - 2, in_->Tell());
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    if (InData()) records_.EndObject(depth_ - 2, in_->Tell() + 1);
    return true;
  }
  bool StartArray() {
    OnValue(JsonValue::Of(JsonValue::Kind::kArray));
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 1) in_data_ = false;  // the end of `data` (or another)
    if (InData()) records_.EndArray(depth_ - 2);
    return true;
  }

 private:
  enum : uint64_t { kHasMore = 1, kContinueFrom = 2, kData = 4, kPage = 8 };

  // Whether depth_ is inside the `data` array.
  bool InData() const { return in_data_ && depth_ >= 2; }

  // Every value, including the start of an object or array, at depth_.
  bool OnValue(const JsonValue& v) {
    if (depth_ == 0) {
      root_is_object_ = v.kind == JsonValue::Kind::kObject;
    } else if (depth_ == 1) {
      EnvelopeMember(v);
    } else if (InData()) {
      records_.Value(v, depth_ - 2);
    }
    member_ = 0;
    return true;
  }

  void EnvelopeMember(const JsonValue& v) {
    const uint64_t first = member_ & ~env_seen_;
    env_seen_ |= member_;
    if (first & kHasMore) {
      has_more_is_bool_ = v.kind == JsonValue::Kind::kBool;
      has_more_ = v.b;
    } else if (first & kContinueFrom) {
      continue_from_null_ = v.kind == JsonValue::Kind::kNull;
      if (v.kind == JsonValue::Kind::kString) continue_from_.assign(v.s);
    } else if (first & kPage) {
      if (v.kind == JsonValue::Kind::kInt) page_ = v.i;
    } else if (first & kData) {
      data_is_array_ = v.kind == JsonValue::Kind::kArray;
      in_data_ = data_is_array_;
    }
  }

  RecordReader records_;
  const bool is_export_;
  const rapidjson::StringStream* const in_;
  int depth_ = 0;        // containers open
  uint64_t member_ = 0;  // the envelope member whose value comes next
  bool root_is_object_ = false;
  uint64_t env_seen_ = 0;
  bool has_more_is_bool_ = false;
  bool has_more_ = false;
  std::string continue_from_;
  bool continue_from_null_ = false;
  std::optional<int64_t> page_;
  bool data_is_array_ = false;
  bool in_data_ = false;
};

// At most this many lone surrogate escapes are read past in one page; a
// page with more is refused.
constexpr size_t kMaxLoneSurrogates = 100;

Result<Batch> ParsePage(std::string body, const Endpoint& e, bool is_export,
                        std::optional<int64_t>* echoed_page) {
  Batch page;
  page.body = std::move(body);
  if (page.body.size() > UINT32_MAX) {
    return Status::BadResponse("page larger than 4 GiB");
  }
  // RapidJSON refuses a high-surrogate escape without its low half (a string
  // cut inside a surrogate pair, say). Each one is replaced by "\ufffd" (as
  // long) in a copy that is read instead, and its record is quarantined; the
  // body keeps the bytes as they came, at the same offsets.
  std::string patched;
  std::vector<size_t> lone;
  for (;;) {
    page.rows.clear();
    page.rejects.clear();
    page.records = 0;
    // Iterative parsing keeps deeply nested input off the call stack.
    const std::string& text = patched.empty() ? page.body : patched;
    rapidjson::StringStream in(text.c_str());
    PageReader handler(e, is_export, &page, &in);
    handler.set_lone_surrogates(&lone);
    rapidjson::Reader reader;
    rapidjson::ParseResult ok =
        reader.Parse<rapidjson::kParseIterativeFlag>(in, handler);
    const size_t at = ok.Offset();
    if (ok.Code() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid &&
        lone.size() < kMaxLoneSurrogates && at + 6 <= text.size() &&
        text.compare(at, 2, "\\u") == 0) {
      if (patched.empty()) patched = page.body;
      patched.replace(at, 6, "\\ufffd");
      lone.push_back(at);
      continue;
    }
    if (!ok) {
      return Status::BadResponse("malformed JSON at byte " +
                                 std::to_string(at) + " of " +
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
    if (echoed_page) *echoed_page = handler.page();
    return page;
  }
}

}  // namespace

Result<Batch> ParseExportPage(std::string body, const Endpoint& e) {
  return ParsePage(std::move(body), e, /*is_export=*/true, nullptr);
}

Result<Batch> ParseListPage(std::string body, const Endpoint& e,
                            std::optional<int64_t>* echoed_page) {
  return ParsePage(std::move(body), e, /*is_export=*/false, echoed_page);
}

}  // namespace stsync

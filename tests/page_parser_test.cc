#include "api/page_parser.h"

#include <doctest/doctest.h>

#include <set>

#include "api/record_reader.h"
#include "config/catalog.h"

namespace stsync {
namespace {

const Endpoint& Jobs() { return *FindEndpoint("jobs"); }

std::string Envelope(const std::string& data, const std::string& extra = "") {
  return R"({"hasMore":true,"continueFrom":"tok-2",)" + extra + R"("data":)" +
         data + "}";
}

void ExpectBad(const std::string& body, const std::string& fragment,
               const Endpoint& e = Jobs()) {
  auto p = ParseExportPage(body, e);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Status::Code::kBadResponse);
  INFO("message: ", p.status().message());
  CHECK(p.status().message().find(fragment) != std::string::npos);
}

// The page is read, and its one bad record is quarantined with a reason
// holding `fragment`, its bytes intact and no row made of it.
void ExpectRejected(const std::string& body, const std::string& fragment,
                    const Endpoint& e = Jobs()) {
  auto p = ParseExportPage(body, e);
  INFO("status: ", p.status().message());
  REQUIRE(p.ok());
  REQUIRE(p->rejects.size() == 1);
  const Reject& r = p->rejects[0];
  INFO("reason: ", r.reason);
  CHECK(r.reason.find(fragment) != std::string::npos);
  const std::string_view data = p->Data(r);
  CHECK(data.front() == '{');
  CHECK(data.back() == '}');
  CHECK(body.find(data) != std::string::npos);
  for (const Row& row : p->rows) {
    CHECK(p->Data(row).find(data) == std::string_view::npos);
  }
}

}  // namespace

TEST_CASE("a valid page yields rows whose data is the record's exact bytes") {
  std::string rec1 =
      R"({"id": 7, "modifiedOn": "2024-01-02T03:04:05.12Z", "active": true,)"
      R"( "name": "caf\u00e9 \"x\" ✓", "amount": 12.50, "nested": {"a": [1, {"b": "]"}]}})";
  std::string rec2 = R"({"modifiedOn":null,"id":8,"active":false})";
  std::string body = "{\n  \"hasMore\": false,\n  \"data\": [ " + rec1 +
                     " ,\n" + rec2 + "],\n  \"continueFrom\": \"abc==\"\n}";
  auto p = ParseExportPage(body, Jobs());
  INFO(p.status().message());
  REQUIRE(p.ok());
  CHECK(p->caught_up);
  CHECK(p->next.value() == "abc==");
  CHECK(p->records == 2);
  REQUIRE(p->rows.size() == 2);
  CHECK(p->rows[0].key[0] == 7);
  CHECK(p->rows[0].version == "2024-01-02T03:04:05.1200000Z");
  CHECK(p->rows[0].active == 1);
  CHECK(p->Data(p->rows[0]) == rec1);  // lossless: 12.50, escapes and all
  CHECK(p->rows[1].key[0] == 8);
  CHECK(p->rows[1].version.empty());
  CHECK(p->rows[1].active == 0);
  CHECK(p->Data(p->rows[1]) == rec2);
}

TEST_CASE("an empty data array is a valid page") {
  auto p = ParseExportPage(R"({"data":[],"hasMore":false,"continueFrom":"x"})",
                           Jobs());
  REQUIRE(p.ok());
  CHECK(p->rows.empty());
}

TEST_CASE("every malformed envelope is refused with the reason") {
  ExpectBad("", "malformed JSON");
  ExpectBad(R"({"data":[{"id":1}],"hasMore":true,"continueFrom":"x")",
            "malformed JSON");  // truncated
  ExpectBad(R"({"data":[{"id":1}],"hasMore":true,"continueFrom":"x"} trailing)",
            "malformed JSON");
  ExpectBad("<html><body>502 Bad Gateway</body></html>", "malformed JSON");
  ExpectBad("[]", "not a JSON object");
  ExpectBad(R"({"data":[],"continueFrom":"x"})", "no 'hasMore'");
  ExpectBad(R"({"data":[],"hasMore":"true","continueFrom":"x"})",
            "'hasMore' is not a boolean");
  ExpectBad(R"({"data":[],"hasMore":true})", "no 'continueFrom'");
  ExpectBad(R"({"data":[],"hasMore":true,"continueFrom":null})",
            "no 'continueFrom'");
  ExpectBad(R"({"data":[],"hasMore":true,"continueFrom":""})",
            "non-empty string");
  ExpectBad(R"({"data":[],"hasMore":true,"continueFrom":5})",
            "non-empty string");
  ExpectBad(R"({"hasMore":true,"continueFrom":"x"})", "no 'data'");
  ExpectBad(Envelope(R"({"id":1})"), "'data' is not an array");
  ExpectBad(Envelope(R"([{"id":1}, 5])"), "data[1] is not an object");
  ExpectRejected(Envelope(R"([{"id":1}, {"name":"no key"}])"),
                 "data[1]: key field 'id' is missing");
  ExpectRejected(Envelope(R"([{"id":null}])"),
                 "data[0]: key field 'id' is missing or null");
  ExpectRejected(Envelope(R"([{"id":"7"}])"), "not an integer");
  ExpectRejected(Envelope(R"([{"id":1.5}])"), "not an integer");
  ExpectRejected(Envelope(R"([{"id":1,"modifiedOn":"yesterday"}])"),
                 "is not a date-time");
  ExpectRejected(Envelope(R"([{"id":1,"modifiedOn":17}])"), "is not a string");
}

TEST_CASE(
    "deeply nested input is parsed without exhausting the stack, and a "
    "record nested too deep to query is quarantined") {
  auto nested = [](int levels) {
    return std::string(levels, '[') + std::string(levels, ']');
  };
  auto p = ParseExportPage(
      Envelope(R"([{"id":1,"x":)" + nested(10000) + R"(},{"id":2,"x":)" +
               nested(RecordReader::kMaxRecordDepth - 1) + "}]"),
      Jobs());
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 1);
  CHECK(p->rows[0].key[0] == 2);
  REQUIRE(p->rejects.size() == 1);
  CHECK(p->rejects[0].index == 0);
  INFO(p->rejects[0].reason);
  CHECK(p->rejects[0].reason.find("data[0]: nested 10000 levels deep") == 0);
}

TEST_CASE(
    "a record with NUL or malformed UTF-8 in a string is quarantined, not the "
    "page") {
  // PostgreSQL refuses both: a \u0000 escape in any string makes every ->>
  // on the row fail, and malformed bytes fail the whole page's statement.
  ExpectRejected(Envelope(R"([{"id":1,"name":"a\u0000b"},{"id":2}])"),
                 "data[0]: a string holds \\u0000");
  ExpectRejected(
      Envelope("[{\"id\":2},{\"id\":1,\"notes\":[\"x\",\"caf\xE9\"]}]"),
      "data[1]: a string is not valid UTF-8");
  // In a member's name too, and from a lone low-surrogate escape.
  ExpectRejected(Envelope("[{\"id\":1,\"na\xFFme\":2}]"), "not valid UTF-8");
  ExpectRejected(Envelope(R"([{"id":1,"name":"\udc00"}])"), "not valid UTF-8");
  // An escaped backslash before u0000 is text, and a surrogate pair is one
  // character: both are stored.
  auto p = ParseExportPage(
      Envelope(R"([{"id":1,"a":"\\u0000","b":"\ud83d\udd27 caf\u00e9"}])"),
      Jobs());
  REQUIRE(p.ok());
  CHECK(p->rejects.empty());
  CHECK(p->rows.size() == 1);
}

TEST_CASE(
    "a high-surrogate escape without its low half quarantines its record, "
    "not the page") {
  // A string cut inside a surrogate pair; RapidJSON alone refuses the page.
  const std::string body =
      Envelope(R"([{"id":1,"notes":"cut \ud83d"},{"id":2,"a":"\ud83d\u0041"},)"
               R"({"id":3,"name":"\ud83d\udd27"},{"id":4,"x":["\udbff x"]}])");
  auto p = ParseExportPage(body, Jobs());
  INFO(p.status().message());
  REQUIRE(p.ok());
  REQUIRE(p->rejects.size() == 3);
  CHECK(p->rejects[0].index == 0);
  CHECK(p->rejects[1].index == 1);
  CHECK(p->rejects[2].index == 3);
  CHECK(p->rejects[0].reason.find("data[0]: a string holds a high-surrogate "
                                  "escape without its low half") == 0);
  // The rejects keep the bytes as they came, and the good row is read.
  CHECK(p->Data(p->rejects[0]) == R"({"id":1,"notes":"cut \ud83d"})");
  REQUIRE(p->rows.size() == 1);
  CHECK(p->rows[0].key[0] == 3);
  CHECK(p->body == body);
  // Outside the records nothing can stand in for it: the page is refused.
  ExpectBad(R"({"hasMore":true,"continueFrom":"t\ud800","data":[]})",
            "high-surrogate escape without its low half outside the records");
  // Past a hundred in one page, the page is refused too.
  std::string many;
  for (int i = 0; i < 101; ++i) {
    many += (i ? "," : "") + std::string(R"({"id":1,"a":"\ud800"})");
  }
  ExpectBad(Envelope("[" + many + "]"), "malformed JSON");
}

TEST_CASE("composite keys are read in order") {
  auto p = ParseExportPage(
      Envelope(
          R"([{"technicianId":5,"jobId":9,"modifiedOn":"2024-01-01T00:00:00Z"}])"),
      *FindEndpoint("technician-ratings"));
  REQUIRE(p.ok());
  CHECK(p->rows[0].key[0] == 5);
  CHECK(p->rows[0].key[1] == 9);
  ExpectRejected(Envelope(R"([{"technicianId":5}])"), "key field 'jobId'",
                 *FindEndpoint("technician-ratings"));
}

TEST_CASE("createdOn orders versions where there is no modifiedOn") {
  auto p = ParseExportPage(
      Envelope(R"([{"id":1,"createdOn":"2024-01-01T00:00:00.5Z"}])"),
      *FindEndpoint("job-canceled-logs"));
  REQUIRE(p.ok());
  CHECK(p->rows[0].version == "2024-01-01T00:00:00.5000000Z");
}

TEST_CASE("job-history yields one row per history entry, with the job id") {
  std::string e1 =
      R"({"id":11,"date":"2024-01-01T00:00:00Z","eventType":"Booked"})";
  std::string e2 =
      R"({"id":12,"date":"2024-01-02T00:00:00Z","eventType":"Done"})";
  std::string body =
      Envelope(R"([{"jobId":5,"history":[)" + e1 + "," + e2 +
               R"(]},{"jobId":6,"history":[]},{"jobId":7,"history":null}])");
  auto p = ParseExportPage(body, *FindEndpoint("job-history"));
  INFO(p.status().message());
  REQUIRE(p.ok());
  CHECK(p->records == 3);
  REQUIRE(p->rows.size() == 2);
  CHECK(p->rows[0].key[0] == 11);
  CHECK(p->rows[0].has_parent);
  CHECK(p->rows[0].parent == 5);
  CHECK(p->rows[1].version == "2024-01-02T00:00:00.0000000Z");
  CHECK(p->Data(p->rows[0]) == e1);
  CHECK(p->Data(p->rows[1]) == e2);
  ExpectRejected(Envelope(R"([{"history":[]}])"), "'jobId' is missing",
                 *FindEndpoint("job-history"));
  ExpectRejected(Envelope(R"([{"jobId":1,"history":[{"date":"2024-01-01"}]}])"),
                 "data[0].history[0]: key field 'id'",
                 *FindEndpoint("job-history"));
}

TEST_CASE("gross-pay-items with a null id get a stable negative fallback key") {
  const Endpoint& gpi = *FindEndpoint("gross-pay-items");
  std::string a =
      R"({"id":null,"payrollId":3,"employeeId":4,"grossPayItemType":"TimesheetTime",)"
      R"("sourceEntityId":99,"date":"2024-01-01T00:00:00Z","modifiedOn":"2024-01-01T00:00:00Z"})";
  std::string a_later =
      R"({"id":null,"payrollId":3,"employeeId":4,"grossPayItemType":"TimesheetTime",)"
      R"("sourceEntityId":99,"date":"2024-01-01T00:00:00.000Z","modifiedOn":"2024-02-01T00:00:00Z","amount":5})";
  std::string b =
      R"({"payrollId":3,"employeeId":4,"grossPayItemType":"TimesheetTime",)"
      R"("sourceEntityId":100,"date":"2024-01-01T00:00:00Z"})";
  auto p = ParseExportPage(
      Envelope("[" + a + "," + a_later + "," + b + R"(,{"id":42}])"), gpi);
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 4);
  CHECK(p->rows[0].key[0] < 0);
  CHECK(p->rows[0].key[0] == p->rows[1].key[0]);  // same item, new version
  CHECK(p->rows[2].key[0] < 0);
  CHECK(p->rows[2].key[0] != p->rows[0].key[0]);
  CHECK(p->rows[3].key[0] == 42);
  // Regular and overtime time of one timesheet, two activities, two time
  // segments: four items.
  const std::string same =
      R"({"id":null,"payrollId":3,"employeeId":4,"grossPayItemType":"TimesheetTime",)"
      R"("sourceEntityId":99,"date":"2024-01-01T00:00:00Z",)";
  auto split = ParseExportPage(
      Envelope(
          "[" + same +
          R"("paidTimeType":"Regular","activityCodeId":1,"startedOn":"2024-01-01T08:00:00Z"},)" +
          same +
          R"("paidTimeType":"Overtime","activityCodeId":1,"startedOn":"2024-01-01T08:00:00Z"},)" +
          same +
          R"("paidTimeType":"Regular","activityCodeId":2,"startedOn":"2024-01-01T08:00:00Z"},)" +
          same +
          R"("paidTimeType":"Regular","activityCodeId":1,"startedOn":"2024-01-01T13:00:00Z"}])"),
      gpi);
  REQUIRE(split.ok());
  std::set<int64_t> keys;
  for (const Row& r : split->rows) keys.insert(r.key[0]);
  CHECK(keys.size() == 4);
  // Without its anchor (payrollId) a record has no identity: refused.
  ExpectRejected(Envelope(R"([{"id":null,"date":"2024-01-01"}])"),
                 "'payrollId', needed for a fallback key, is missing", gpi);
  ExpectRejected(Envelope(R"([{"keyless":true}])"),
                 "data[0]: key field 'id' is null", gpi);
}

TEST_CASE("only a record's own members count, and the first of a name wins") {
  // "id" and "modifiedOn" nested deeper, or repeated, must not be taken.
  std::string rec =
      R"({"customer": {"id": 99, "modifiedOn": "bad"}, "list": [{"id": 98}],)"
      R"( "id": 5, "id": 6, "modifiedOn": "2024-01-01T00:00:00Z",)"
      R"( "active": "yes", "active": true})";
  auto p = ParseExportPage(
      R"({"other": {"data": [1]}, "hasMore": false, "hasMore": "x",)"
      R"( "continueFrom": "t1", "data": [)" +
          rec + R"(], "data": [{"id": 1}]})",
      Jobs());
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 1);
  CHECK(p->rows[0].key[0] == 5);
  CHECK(p->rows[0].version == "2024-01-01T00:00:00.0000000Z");
  CHECK(p->rows[0].active == -1);  // the first "active" is not a boolean
  CHECK(p->caught_up);
  CHECK(p->next.value() == "t1");
  CHECK(p->Data(p->rows[0]) == rec);
}

TEST_CASE("a NUL byte inside the body is malformed JSON, not the end of it") {
  std::string body = Envelope(R"([{"id":1}])");
  body += std::string("\0 {\"id\":2}", 9);
  ExpectBad(body, "NUL byte");
}

TEST_CASE("job-history entries may come before the record's jobId") {
  const Endpoint& e = *FindEndpoint("job-history");
  std::string e1 = R"({"id": 3, "date": "2024-01-01T00:00:00Z"})";
  auto p = ParseExportPage(
      Envelope(R"([{"history": [)" + e1 + R"(], "jobId": 8}])"), e);
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 1);
  CHECK(p->rows[0].parent == 8);
  CHECK(p->Data(p->rows[0]) == e1);
  ExpectRejected(Envelope(R"([{"history": [{"id": 3}, 7], "jobId": 8}])"),
                 "data[0].history[1] is not an object", e);
  ExpectRejected(Envelope(R"([{"history": [{"id": 3}], "jobId": "8"}])"),
                 "data[0]: 'jobId' is missing or not an integer", e);
  ExpectRejected(Envelope(R"([{"jobId": 8, "history": {"id": 3}}])"),
                 "'history' is not an array", e);
}

TEST_CASE("an invalid record does not hide a later syntax error") {
  ExpectBad(R"({"hasMore":true,"continueFrom":"x","data":[{"name":1}],)",
            "malformed JSON");
}

}  // namespace stsync

namespace stsync {

TEST_CASE(
    "a string key (a GUID) is keyed by its hash, and a list page needs no "
    "continueFrom") {
  Endpoint e = *FindEndpoint("journal-entries");
  REQUIRE(e.string_key);
  auto p = ParseListPage(
      R"({"page":1,"pageSize":3,"hasMore":false,"totalCount":3,"data":[)"
      R"({"id":"7f0c-aa","modifiedOn":"2024-01-01T00:00:00Z"},)"
      R"({"id":"7f0c-ab","modifiedOn":"2024-01-01T00:00:00Z"},)"
      R"({"id":"7f0c-aa","modifiedOn":"2024-01-02T00:00:00Z"}]})",
      e);
  REQUIRE(p.ok());
  REQUIRE(p->rows.size() == 3);
  CHECK(p->caught_up);
  CHECK(p->rows[0].key[0] == FallbackKey(R"(id="7f0c-aa")"));
  CHECK(p->rows[0].key[0] < 0);
  CHECK(p->rows[0].key[0] != p->rows[1].key[0]);
  CHECK(p->rows[0].key[0] == p->rows[2].key[0]);
  // Elsewhere a string id cannot be a row: the record is quarantined.
  auto bad = ParseListPage(
      R"({"hasMore":false,"data":[{"id":"7f0c-aa","modifiedOn":"2024-01-01"}]})",
      *FindEndpoint("zones"));
  REQUIRE(bad.ok());
  CHECK(bad->rows.empty());
  REQUIRE(bad->rejects.size() == 1);
  CHECK(bad->rejects[0].reason.find("key field 'id' is not an integer") !=
        std::string::npos);
}

}  // namespace stsync

// Record shapes of the fake ServiceTitan: for each catalog endpoint, the
// fields of a record and their kinds, following the public OpenAPI
// documents. The fake generates deterministic records from them.
#ifndef STSYNC_TESTS_FAKE_RECORD_SHAPES_H_
#define STSYNC_TESTS_FAKE_RECORD_SHAPES_H_

#include <string>
#include <vector>

namespace stsync::fake {

enum class FieldKind {
  kInteger,
  kNumber,
  kString,
  kBool,
  kDateTime,
  kEnum,
  kArray,
  kObject,
};

struct Field {
  std::string name;
  FieldKind kind;
  std::vector<std::string> enum_values;  // for kEnum
};

// The fields of one record of `endpoint` (for job-history: one history
// entry): written out for the export endpoints, the spec's scalar fields
// (config/catalog.h SpecFields) for list endpoints. Empty for an unknown
// endpoint; a custom endpoint gets a small generic shape with its key and
// version fields.
std::vector<Field> RecordShape(const std::string& endpoint);

}  // namespace stsync::fake

#endif  // STSYNC_TESTS_FAKE_RECORD_SHAPES_H_

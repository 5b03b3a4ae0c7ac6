// libFuzzer target: the export page parser. The first byte picks the
// endpoint shape (flat, composite key, exploded job-history, fallback key).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/page_parser.h"
#include "config/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kEndpoints[] = {"jobs", "technician-ratings",
                                     "job-history", "gross-pay-items"};
  const stsync::Endpoint* e = stsync::FindEndpoint(kEndpoints[data[0] % 4]);
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto page = stsync::ParseExportPage(body, *e);
  if (!page.ok()) return 0;
  // Every row's data lies inside the body and is a JSON object.
  for (const auto& row : page->rows) {
    if (static_cast<size_t>(row.data_offset) + row.data_size >
        page->body.size()) {
      std::abort();
    }
    std::string_view d = page->Data(row);
    if (d.empty() || d.front() != '{' || d.back() != '}') std::abort();
    if (!row.version.empty() && row.version.size() != 28) std::abort();
  }
  if (page->next.value().empty()) std::abort();
  return 0;
}

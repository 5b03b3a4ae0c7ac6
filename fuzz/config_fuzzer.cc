// libFuzzer target: the config loader. Every input must give a ConfigFile (at
// least one tenant, each with endpoints) or an Invalid status with a message;
// nothing may crash or throw.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = stsync::ParseConfig(
      text, "fuzz.yaml",
      [](const std::string& name) -> std::optional<std::string> {
        if (name == "UNSET") return std::nullopt;
        return "value-of-" + name;
      });
  if (!config.ok() && config.status().message().empty()) std::abort();
  if (config.ok()) {
    if (config->tenants.empty()) std::abort();
    for (const stsync::Config& t : config->tenants) {
      if (t.tenant.empty() || t.endpoints.empty()) std::abort();
    }
  }
  return 0;
}

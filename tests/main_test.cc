#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // The daemon's per-page lines are noise here; STSYNC_TEST_LOG=info shows
  // them.
  const char* level = std::getenv("STSYNC_TEST_LOG");
  spdlog::set_level(spdlog::level::from_str(level ? level : "warn"));
  doctest::Context context(argc, argv);
  return context.run();
}

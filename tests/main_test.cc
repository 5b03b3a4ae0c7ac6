// The test runner: doctest's main plus two checks that keep ctest honest.
//
// ctest runs one test case per entry (see tests/CMakeLists.txt), passing
// --exactly-one-case: an entry whose filter matched no case, or several,
// fails instead of passing with nothing run. A case that calls test::Skip
// ends the run with exit code 77, which ctest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "test_util.h"

namespace {

// Counts the test cases that ran (doctest calls test_case_start once per
// run of a case's body, so subcases are counted separately: count distinct
// cases instead).
struct CaseCounter : public doctest::IReporter {
  static inline int cases = 0;
  static inline const doctest::TestCaseData* last = nullptr;

  explicit CaseCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    if (last != &data) ++cases;
    last = &data;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("case_counter", 1, CaseCounter);

}  // namespace

int main(int argc, char** argv) {
  // The daemon's per-page lines are noise here; STSYNC_TEST_LOG=info shows
  // them.
  const char* level = std::getenv("STSYNC_TEST_LOG");
  spdlog::set_level(spdlog::level::from_str(level ? level : "warn"));

  bool exactly_one = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exactly-one-case") == 0) {
      exactly_one = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  doctest::Context context(static_cast<int>(args.size()), args.data());
  int result = context.run();
  if (context.shouldExit()) return result;  // --help, --count, --list-...
  if (exactly_one && CaseCounter::cases != 1) {
    std::fprintf(stderr,
                 "stsync_tests: this run executed %d test cases, expected "
                 "exactly 1: the --test-case filter does not match its case "
                 "(a ';' in a case name splits it in ctest)\n",
                 CaseCounter::cases);
    return 1;
  }
  if (result == 0 && stsync::test::Skipped()) return 77;
  return result;
}

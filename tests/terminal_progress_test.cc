// TerminalProgress: status lines kept below the log's lines, as a terminal
// receives them.
#include "cli/terminal_progress.h"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <string>

#include "fake_clock.h"

namespace stsync {
namespace {

const std::string kErase = "\r\033[K";   // the cursor's line
const std::string kUp = "\033[A\033[K";  // the line above it

struct Screen {
  std::string written;
  int width = 60;
  std::shared_ptr<TerminalProgress> progress =
      std::make_shared<TerminalProgress>(
          [this](std::string_view s) { written += s; },
          [this] { return width; });
  FakeClock clock;

  // A batch of `records` of `feed` for `observer`, a second after the last.
  void Batch(Observer* observer, const std::string& feed, size_t records) {
    clock.Advance(std::chrono::seconds(1));
    const SteadyTime now = clock.Now();
    const std::string oldest = "2019-11-14T00:00:00.0000000Z";
    const std::string newest = "2021-11-14T00:00:00.0000000Z";
    observer->OnBatch({feed, records, ApplyStats{}, false, now, now, now,
                       Millis(0), oldest, newest, 0});
  }
  // What was written since the last call.
  std::string Take() {
    std::string out = std::move(written);
    written.clear();
    return out;
  }
};

}  // namespace

TEST_CASE(
    "a terminal's status lines, one per tenant, stay below the log's lines "
    "and fit its width") {
  Screen s;
  Observer* a = s.progress->ForTenant("1111111/", &s.clock);
  Observer* b = s.progress->ForTenant("2222222/", &s.clock);
  Cursor from;
  a->OnFeedStart({"jobs", from, false});
  b->OnFeedStart({"jobs", from, false});
  s.Batch(a, "jobs", 500);
  // The first line drawn: nothing to erase, no newline after it.
  const std::string first = s.Take();
  INFO(first);
  CHECK(first.rfind("1111111/500 records (", 0) == 0);
  CHECK(first.find('\n') == std::string::npos);
  CHECK(first.size() == 59);  // cut to the width, less a column

  s.Batch(b, "jobs", 700);
  const std::string second = s.Take();
  INFO(second);
  // The one line erased, both drawn.
  CHECK(second.rfind(kErase + "1111111/500 records", 0) == 0);
  CHECK(second.find("\n2222222/700 records") != std::string::npos);

  // A log line: both lines erased (the cursor on the second), the line,
  // both drawn again.
  s.progress->WriteAbove("a log line\n");
  const std::string logged = s.Take();
  INFO(logged);
  CHECK(logged.rfind(kErase + kUp + "a log line\n1111111/", 0) == 0);
  CHECK(logged.find("\n2222222/") != std::string::npos);

  // Restart erases them; later log lines are written alone.
  s.progress->Restart();
  CHECK(s.Take() == kErase + kUp);
  s.progress->WriteAbove("after\n");
  CHECK(s.Take() == "after\n");
}

TEST_CASE("log lines reach the terminal above its status lines in colour") {
  Screen s;
  Observer* a = s.progress->ForTenant("", &s.clock);
  Cursor from;
  a->OnFeedStart({"jobs", from, false});
  s.Batch(a, "jobs", 500);
  s.Take();
  auto logger =
      std::make_shared<spdlog::logger>("terminal-test", s.progress->LogSink());
  logger->set_pattern("%^%l%$ %v");
  logger->warn("slow down");
  const std::string out = s.Take();
  INFO(out);
  CHECK(
      out.rfind(kErase + "\033[33m\033[1mwarning\033[0m slow down\n500 records",
                0) == 0);
}

}  // namespace stsync

// TerminalProgress: the live progress of `once`, `run` and `backfill` on a
// terminal. Each tenant has one status line (engine/progress_observer.h's
// status-line style: records, records/s, endpoints caught up, and the first
// sync with the most time left), kept below the log's lines on stderr and
// redrawn at most once a second as batches are applied.
//
// The log's lines go through LogSink(), so that none lands inside a status
// line: each one erases the status lines, is written, and redraws them.
// Status lines are cut to the terminal's width, so that none wraps (a
// wrapped line could not be erased).
//
// Used only when Wanted(): stderr is a terminal and the log is text for a
// person (not JSON, not the journal), and not with --no-progress.
//
// Thread safety: every method may be called from any thread: the tenants'
// scheduler threads draw their lines, any thread logs.
#ifndef STSYNC_CLI_TERMINAL_PROGRESS_H_
#define STSYNC_CLI_TERMINAL_PROGRESS_H_

#include <spdlog/sinks/sink.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "engine/progress_observer.h"

namespace stsync {

class TerminalProgress : public std::enable_shared_from_this<TerminalProgress> {
 public:
  // `write` receives all that is meant for the terminal, in order; `width`
  // says how many columns it has now (0: unknown, 80 is assumed).
  TerminalProgress(std::function<void(std::string_view)> write,
                   std::function<int()> width);
  ~TerminalProgress();

  // Whether progress should be drawn on stderr for logs in `log_format`.
  static bool Wanted(const std::string& log_format);
  // One drawing on stderr.
  static std::shared_ptr<TerminalProgress> OnStderr();

  // The observer that draws a tenant's line: `prefix` as in the log
  // ("" for the only tenant, "1111111/" among several). Owned by this and
  // valid until Restart or destruction. `clock` is borrowed.
  Observer* ForTenant(const std::string& prefix, Clock* clock);
  // Forgets every tenant's line and observer (a run ended; a reloaded
  // config is served next). The observers must no longer be called.
  void Restart();
  // Where the log's lines go, coloured by level like spdlog's own sink. It
  // shares ownership of this (a logger may outlive the command).
  std::shared_ptr<spdlog::sinks::sink> LogSink();

  // Writes `line` (a log line, ending in a newline) above the status lines.
  void WriteAbove(std::string_view line);

 private:
  void SetLine(size_t index, std::string text);
  // Under mu_: append to `out` what erases the status lines drawn (leaving
  // the cursor where the first one began), or what draws them (leaving it
  // at the end of the last).
  void Erase(std::string& out);
  void Draw(std::string& out);

  const std::function<void(std::string_view)> write_;
  const std::function<int()> width_;
  std::mutex mu_;
  std::vector<std::string> lines_;  // one per tenant, in ForTenant's order
  size_t drawn_ = 0;                // status lines on the screen
  std::vector<std::unique_ptr<ProgressObserver>> observers_;
};

}  // namespace stsync

#endif  // STSYNC_CLI_TERMINAL_PROGRESS_H_

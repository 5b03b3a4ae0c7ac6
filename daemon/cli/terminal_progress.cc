#include "cli/terminal_progress.h"

#include <spdlog/sinks/base_sink.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace stsync {
namespace {

// The colour of a level's name, as spdlog's terminal sink shows it.
std::string_view LevelColor(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "\033[37m";
    case spdlog::level::debug:
      return "\033[36m";
    case spdlog::level::info:
      return "\033[32m";
    case spdlog::level::warn:
      return "\033[33m\033[1m";
    case spdlog::level::err:
      return "\033[31m\033[1m";
    case spdlog::level::critical:
      return "\033[1m\033[41m";
    default:
      return "";
  }
}

class AboveStatusSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit AboveStatusSink(std::shared_ptr<TerminalProgress> progress)
      : progress_(std::move(progress)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    std::string line(buf.data(), buf.size());
    if (msg.color_range_end > msg.color_range_start &&
        msg.color_range_end <= line.size()) {
      line.insert(msg.color_range_end, "\033[0m");
      line.insert(msg.color_range_start, LevelColor(msg.level));
    }
    progress_->WriteAbove(line);
  }
  void flush_() override {}

 private:
  const std::shared_ptr<TerminalProgress> progress_;
};

}  // namespace

TerminalProgress::TerminalProgress(std::function<void(std::string_view)> write,
                                   std::function<int()> width)
    : write_(std::move(write)), width_(std::move(width)) {}

TerminalProgress::~TerminalProgress() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  Erase(out);
  if (!out.empty()) write_(out);
}

bool TerminalProgress::Wanted(const std::string& log_format) {
  const char* term = std::getenv("TERM");
  return log_format == "text" && isatty(STDERR_FILENO) && term &&
         std::string_view(term) != "dumb" && !std::getenv("JOURNAL_STREAM");
}

std::shared_ptr<TerminalProgress> TerminalProgress::OnStderr() {
  return std::make_shared<TerminalProgress>(
      [](std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stderr);
        std::fflush(stderr);
      },
      [] {
        winsize size{};
        return ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 ? size.ws_col : 0;
      });
}

Observer* TerminalProgress::ForTenant(const std::string& prefix, Clock* clock) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t index = lines_.size();
  lines_.emplace_back();
  observers_.push_back(std::make_unique<ProgressObserver>(
      clock, prefix, std::chrono::seconds(1),
      [this, index](const std::string& text) { SetLine(index, text); },
      ProgressObserver::Style::kStatusLine));
  return observers_.back().get();
}

void TerminalProgress::Restart() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  Erase(out);
  if (!out.empty()) write_(out);
  lines_.clear();
  observers_.clear();
}

std::shared_ptr<spdlog::sinks::sink> TerminalProgress::LogSink() {
  return std::make_shared<AboveStatusSink>(shared_from_this());
}

void TerminalProgress::WriteAbove(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  Erase(out);
  out += line;
  Draw(out);
  write_(out);
}

void TerminalProgress::SetLine(size_t index, std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index >= lines_.size()) return;
  lines_[index] = std::move(text);
  std::string out;
  Erase(out);
  Draw(out);
  write_(out);
}

void TerminalProgress::Erase(std::string& out) {
  if (drawn_ == 0) return;
  // The cursor is at the end of the last status line.
  out += "\r\033[K";
  for (size_t i = 1; i < drawn_; ++i) out += "\033[A\033[K";
  drawn_ = 0;
}

void TerminalProgress::Draw(std::string& out) {
  int width = width_();
  if (width <= 0) width = 80;
  // One column short: a line that fills the last column may wrap.
  const size_t fit = static_cast<size_t>(std::max(width - 1, 1));
  for (const std::string& line : lines_) {
    if (line.empty()) continue;  // nothing to say yet
    if (drawn_ > 0) out += '\n';
    out += std::string_view(line).substr(0, fit);
    ++drawn_;
  }
}

}  // namespace stsync

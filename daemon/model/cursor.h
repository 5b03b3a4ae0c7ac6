// Cursor: where a feed resumes.
//
// A feed starts at its first record, at a date (`start_from`, or
// `stsync reset --from`), or at a position the server handed out (an export
// feed's continueFrom). Only the feed that issued a position interprets its
// text; everyone else stores, compares and shows it. "Checkpoint" is kept
// for SQLite's WAL checkpoints, and "token" for OAuth.
//
// A plain value: copyable, comparable, safe to share between threads.
#ifndef STSYNC_MODEL_CURSOR_H_
#define STSYNC_MODEL_CURSOR_H_

#include <optional>
#include <string>

namespace stsync {

class Cursor {
 public:
  enum class Kind {
    kStart,     // the feed's first record
    kDate,      // records modified on or after a date, YYYY-MM-DD
    kPosition,  // a position the server handed out (opaque text)
  };

  Cursor() = default;  // the start
  static Cursor Start() { return Cursor(); }
  // `date` must be YYYY-MM-DD (config and CLI validate it).
  static Cursor Date(std::string date) {
    return Cursor(Kind::kDate, std::move(date));
  }
  // `position` is non-empty; an empty one is the start.
  static Cursor Position(std::string position);

  // Back from its stored text (see ToStored): NULL is the start, a
  // YYYY-MM-DD text a date, anything else a position.
  static Cursor FromStored(const std::optional<std::string>& text);
  // The text to store: nullopt at the start, else what a request sends.
  std::optional<std::string> ToStored() const;

  Kind kind() const { return kind_; }
  bool at_start() const { return kind_ == Kind::kStart; }
  // What a request sends as `from`: "" at the start.
  const std::string& value() const { return value_; }
  // For logs and status: "the first record", "2024-01-01", "a position".
  std::string Describe() const;

  bool operator==(const Cursor& other) const = default;

 private:
  Cursor(Kind kind, std::string value)
      : kind_(kind), value_(std::move(value)) {}

  Kind kind_ = Kind::kStart;
  std::string value_;
};

}  // namespace stsync

#endif  // STSYNC_MODEL_CURSOR_H_

// DamageNote: a file beside a database saying that stsync found it damaged.
//
// When SQLite reports a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB), the
// writer stops writing it and leaves `<database>-damaged` holding the
// message, so that `status` and `health` (other processes, which may never
// touch the damaged pages) can say so. `stsync verify` removes the note
// once PRAGMA integrity_check passes again (after a recovery).
//
// Errors: none; a note that cannot be written or read is as if absent (the
// writer's own error still says what happened).
//
// Thread safety: free functions on files; no shared state.
#ifndef STSYNC_SINK_DAMAGE_NOTE_H_
#define STSYNC_SINK_DAMAGE_NOTE_H_

#include <optional>
#include <string>

namespace stsync {

// Writes (or replaces) the note of `database_path`.
void WriteDamageNote(const std::string& database_path,
                     const std::string& message);
// The note's message, if there is one.
std::optional<std::string> ReadDamageNote(const std::string& database_path);
void RemoveDamageNote(const std::string& database_path);

}  // namespace stsync

#endif  // STSYNC_SINK_DAMAGE_NOTE_H_

// IntegrityCheck: PRAGMA integrity_check of a database, for `stsync verify`.
//
// Opens the file read-only (never creating it, never blocking a writer:
// it reads one WAL snapshot) and returns SQLite's list of problems, empty
// when the file is sound. A file SQLite cannot read at all (not a
// database, a destroyed header) is one problem, not an error.
//
// Errors: kNotFound when the file does not exist; kBusy, kIo when it
// cannot be read for another reason.
//
// Thread safety: a free function; no shared state.
#ifndef STSYNC_SINK_INTEGRITY_CHECK_H_
#define STSYNC_SINK_INTEGRITY_CHECK_H_

#include <string>
#include <vector>

#include "base/status.h"

namespace stsync {

// At most `max_problems` of them.
Result<std::vector<std::string>> IntegrityCheck(const std::string& path,
                                                int max_problems);

}  // namespace stsync

#endif  // STSYNC_SINK_INTEGRITY_CHECK_H_

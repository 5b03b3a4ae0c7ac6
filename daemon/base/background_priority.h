// LowerThreadPriority: marks the calling thread as background work.
//
// The helper threads (page fetches and parsing, WAL checkpoints) do bulk
// work whose latency does not matter. On a busy machine they yield the CPU
// to other processes first, such as people querying the database while
// stsync writes it. The writer thread keeps its priority. Linux only; a
// failure is ignored (the thread runs at normal priority).
#ifndef STSYNC_BASE_BACKGROUND_PRIORITY_H_
#define STSYNC_BASE_BACKGROUND_PRIORITY_H_

namespace stsync {

// Raises the calling thread's nice value by `steps` (from its current one).
void LowerThreadPriority(int steps = 10);

}  // namespace stsync

#endif  // STSYNC_BASE_BACKGROUND_PRIORITY_H_

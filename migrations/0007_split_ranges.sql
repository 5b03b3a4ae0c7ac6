-- A split first sync's date ranges still owed (engine/scheduler.h). The
-- feed's own cursor (_stsync_cursors) is its last, open-ended range's; each
-- row here is a range before it, stored in the same transaction as its
-- pages' rows and removed in the one whose records reach a day past
-- range_end (the next range's start).
CREATE TABLE _stsync_ranges (
  endpoint TEXT NOT NULL,
  id INTEGER NOT NULL,
  range_end TEXT NOT NULL,     -- YYYY-MM-DD
  position TEXT NOT NULL,      -- where it resumes: a date or a position
  reached TEXT NOT NULL,       -- the newest version it stored, or ''
  PRIMARY KEY (endpoint, id)
);

-- Quarantined records. A record that cannot be stored as a queryable row
-- (its key missing or null, its version unreadable, nested deeper than
-- SQLite's JSON functions read) is kept here, in the same transaction as
-- the rest of its page, instead of blocking its feed or being dropped.
CREATE TABLE _stsync_rejects (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL,
  position TEXT NOT NULL,         -- the `from` its page was asked with, or ''
  record_index INTEGER NOT NULL,  -- its place in the page's data array
  reason TEXT NOT NULL,           -- why, naming the field
  data BLOB NOT NULL,             -- the record's bytes exactly as received
  record_hash INTEGER NOT NULL,   -- of data: a record served again is kept once
  rejected_at TEXT NOT NULL,      -- UTC
  UNIQUE (endpoint, record_hash)
);

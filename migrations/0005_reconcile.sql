-- Hard deletes (reconcile_every). An export feed never says that a record was
-- deleted outright: it stops appearing. A reconciliation pass re-reads an
-- endpoint from its start, notes every key it sees, and when it has read to
-- the end marks the rows it did not see (the endpoint table's deleted_at,
-- added in code to each table, since those are created on demand).

-- One row per endpoint that reconciles: the pass in progress, if any, and
-- how the last one ended. The pass's cursor is its own: the live feed's, in
-- _stsync_cursors, never moves for it. cursor and seen are written in the
-- same transaction as the rows of the page that moved them.
CREATE TABLE _stsync_reconcile (
  endpoint TEXT PRIMARY KEY,
  cursor TEXT,                 -- where the pass in progress resumes
  pass_started_at TEXT,        -- UTC; NULL: no pass in progress
  seen INTEGER NOT NULL DEFAULT 0,   -- distinct keys the pass has seen
  pages INTEGER NOT NULL DEFAULT 0,  -- pages the pass has read
  last_started_at TEXT,        -- the last finished pass (UTC)
  last_finished_at TEXT,
  last_seen INTEGER,           -- keys it saw
  last_live INTEGER,           -- rows not marked deleted when it ended
  last_marked INTEGER,         -- rows it marked deleted
  last_outcome TEXT,           -- 'marked', or why it marked nothing
  last_error TEXT,             -- the last failure, cleared by a good page
  last_error_at TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0
);

-- The keys a pass in progress has seen (unused key columns hold 0). Emptied
-- when the pass ends or restarts.
CREATE TABLE _stsync_seen (
  endpoint TEXT NOT NULL,
  k1 INTEGER NOT NULL,
  k2 INTEGER NOT NULL DEFAULT 0,
  k3 INTEGER NOT NULL DEFAULT 0,
  k4 INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (endpoint, k1, k2, k3, k4)
) WITHOUT ROWID;

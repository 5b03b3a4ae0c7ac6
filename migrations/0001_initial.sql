-- stsync's own bookkeeping. The tables that hold exported records (one per
-- endpoint: jobs, customers, ...) are created on first use from the endpoint
-- catalog; their shape is described in docs/ARCHITECTURE.md and README.md.

-- One row per endpoint: where its feed resumes, and how it has been going.
-- continue_from is written in the same transaction as the rows of the page
-- that returned it, so it never runs ahead of the data.
CREATE TABLE _stsync_checkpoints (
  endpoint TEXT PRIMARY KEY,
  continue_from TEXT,           -- the next request's `from`; NULL: start over
  updated_at TEXT,              -- when continue_from last changed (UTC)
  caught_up_at TEXT,            -- last page with hasMore=false (UTC)
  row_count INTEGER NOT NULL DEFAULT 0,  -- rows stsync inserted into the table
  pages INTEGER NOT NULL DEFAULT 0,      -- pages committed
  last_error TEXT,              -- the last failure, cleared by a good page
  last_error_at TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0
);

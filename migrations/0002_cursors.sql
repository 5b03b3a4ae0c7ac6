-- A feed's resume position is its cursor; "checkpoint" now means only
-- SQLite's WAL checkpoints. The table and its position column are renamed.
ALTER TABLE _stsync_checkpoints RENAME TO _stsync_cursors;
ALTER TABLE _stsync_cursors RENAME COLUMN continue_from TO cursor;
ALTER TABLE _stsync_cursors RENAME COLUMN updated_at TO cursor_updated_at;

-- Queries written against the old names keep working (read-only).
CREATE VIEW _stsync_checkpoints AS
  SELECT endpoint, cursor AS continue_from, cursor_updated_at AS updated_at,
         caught_up_at, row_count, pages, last_error, last_error_at,
         consecutive_failures
  FROM _stsync_cursors;

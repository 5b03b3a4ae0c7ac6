-- Endpoint tables store their rows in arrival order, under the implicit
-- rowid, with a unique index on the key, instead of keying a single-column
-- table by its rowid (INTEGER PRIMARY KEY). A feed in modifiedOn order then
-- appends to the table, whatever order its ids come in.
--
-- The tables are created on demand, so this script cannot name them: the
-- conversion runs in code before it (SqliteSink::ConvertTables, and
-- daemon/sink/table_layout.h), one table per transaction.
SELECT 1;

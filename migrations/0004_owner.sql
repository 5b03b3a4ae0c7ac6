-- Whose data the file holds. stsync records the tenant and environment on
-- first use, and refuses to write into a file recorded for another: it
-- would send that tenant's continuation tokens to this one and mix both
-- tenants' rows in one table.
CREATE TABLE _stsync_owner (
  id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row
  tenant TEXT NOT NULL,
  environment TEXT NOT NULL,               -- production or integration
  recorded_at TEXT NOT NULL                -- UTC
);

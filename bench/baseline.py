#!/usr/bin/env python3
"""The Python baseline: what a user might write instead of deploying stsync.

A straightforward export client using only the standard library (urllib, json,
sqlite3). It follows the same protocol as stsync (OAuth2 client credentials,
`from` = the last continueFrom, until hasMore is false) into the same schema
and table layout (rows in arrival order, a unique index on id), one
transaction per page: the page's rows are upserted (a newer modifiedOn
wins) and continueFrom is stored with them.

Usage: baseline.py BASE_URL DATABASE [--endpoint NAME[=PATH] ...]
                   [--tenant 1234567]

Several --endpoint options are read one after another, as a serial client
does (default: jobs).
"""

import argparse
import json
import re
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS "{table}" (
  "id" INTEGER NOT NULL UNIQUE,
  modified_on TEXT,
  active INTEGER,
  data TEXT NOT NULL,
  first_seen_at TEXT NOT NULL,
  synced_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "{table}_modified_on" ON "{table}" (modified_on);
CREATE TABLE IF NOT EXISTS checkpoints (
  endpoint TEXT PRIMARY KEY,
  continue_from TEXT
);
"""

UPSERT = """
INSERT INTO "{table}" (id, modified_on, active, data, first_seen_at, synced_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
  modified_on = excluded.modified_on, active = excluded.active,
  data = excluded.data, synced_at = excluded.synced_at
WHERE excluded.modified_on > "{table}".modified_on
"""

TIMESTAMP = re.compile(
    r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def normalize(ts):
    """ISO-8601 with 0-7 fractional digits -> sortable UTC text."""
    if ts is None:
        return None
    m = TIMESTAMP.match(ts)
    if not m:
        raise ValueError(f"not a date-time: {ts!r}")
    date, clock, frac, zone = m.groups()
    if len(clock) == 5:
        clock += ":00"
    frac = (frac or "")[:7].ljust(7, "0")
    if zone in (None, "Z", "+00:00", "+0000", "-00:00"):
        return f"{date}T{clock}.{frac}Z"
    # Rare: convert an offset to UTC.
    from datetime import datetime, timezone
    t = datetime.fromisoformat(f"{date}T{clock}{zone}").astimezone(
        timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def sync_endpoint(db, url, endpoint, headers):
    """Reads one export feed to its end; returns the records stored."""
    table = endpoint.replace("-", "_")
    db.executescript(SCHEMA.format(table=table))
    upsert = UPSERT.format(table=table)
    row = db.execute("SELECT continue_from FROM checkpoints WHERE endpoint = ?",
                     (endpoint,)).fetchone()
    cont = row[0] if row else None
    records = 0
    while True:
        query = "?" + urllib.parse.urlencode({"from": cont}) if cont else ""
        req = urllib.request.Request(url + query, headers=headers)
        with urllib.request.urlopen(req) as r:
            page = json.load(r)
        now = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
        rows = []
        for rec in page["data"]:
            active = rec.get("active")
            rows.append((rec["id"], normalize(rec.get("modifiedOn")),
                         None if active is None else int(active),
                         json.dumps(rec, separators=(",", ":")), now, now))
        db.execute("BEGIN IMMEDIATE")
        db.executemany(upsert, rows)
        db.execute(
            "INSERT INTO checkpoints VALUES (?, ?) ON CONFLICT (endpoint) "
            "DO UPDATE SET continue_from = excluded.continue_from",
            (endpoint, page["continueFrom"]))
        db.execute("COMMIT")
        records += len(rows)
        cont = page["continueFrom"]
        if not page["hasMore"]:
            return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("database")
    ap.add_argument("--endpoint", action="append",
                    help="NAME or NAME=PATH ({tenant} in PATH); repeatable")
    ap.add_argument("--path", default="/jpm/v2/tenant/{tenant}/export/jobs",
                    help="the path of an --endpoint given without one")
    ap.add_argument("--tenant", default="1234567")
    ap.add_argument("--client-id", default="demo-client")
    ap.add_argument("--client-secret", default="demo-secret")
    ap.add_argument("--app-key", default="demo-app-key")
    args = ap.parse_args()
    endpoints = []
    for item in args.endpoint or ["jobs"]:
        name, _, path = item.partition("=")
        endpoints.append((name, path or args.path))

    form = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": args.client_id,
        "client_secret": args.client_secret,
    }).encode()
    with urllib.request.urlopen(args.base_url + "/connect/token", form) as r:
        token = json.load(r)["access_token"]
    headers = {"Authorization": "Bearer " + token, "ST-App-Key": args.app_key}

    db = sqlite3.connect(args.database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    records = 0
    for name, path in endpoints:
        records += sync_endpoint(db, args.base_url + path.format(
            tenant=args.tenant), name, headers)
    db.close()
    print(f"baseline: {records} records", file=sys.stderr)


if __name__ == "__main__":
    main()

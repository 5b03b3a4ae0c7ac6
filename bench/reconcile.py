#!/usr/bin/env python3
"""What a reconciliation pass (hard deletes) costs, against a first sync of
the same feed in the same run.

    python3 bench/reconcile.py --build build --records 100000,1000000

For each size it starts stsync-fake serving `jobs` (records of about 1.5 KB
with nested arrays, 30% modified after creation, so the feed is in
modifiedOn order, not id order, and pages of 500), then:
  1. baseline: `stsync once` from an empty database (the first sync);
  2. deletes 0.1% of the records (--deleted) outright on the fake;
  3. `stsync once` again once the pass is due (reconcile_every: 1s): one
     live poll, then the whole pass, whose last transaction marks the rows.
It reports wall time and requests of both, the pass's share of the first
sync, the time of the marking transaction (from the log: the last page's
commit), and checks that exactly the deleted records were marked.
"""
import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/requests") as r:
        return json.load(r)["export"]


def once(build, config):
    t = time.monotonic()
    p = subprocess.run([f"{build}/stsync", "once", "-c", config],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return time.monotonic() - t, p.stderr


def measure(build, records, deleted_share):
    work = tempfile.mkdtemp(prefix="stsync-reconcile-")
    port = free_port()
    fake = subprocess.Popen(
        [f"{build}/stsync-fake", "--port", str(port), "--records",
         str(records), "--page-size", "500", "--endpoints", "jobs",
         "--modified-later", "0.3", "--ready-file",
         f"{work}/ready"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(f"{work}/ready") or \
                not open(f"{work}/ready").read().strip():
            time.sleep(0.1)
        db = f"{work}/jobs.db"
        config = f"{work}/reconcile.yaml"
        with open(config, "w") as f:
            f.write(
                "servicetitan:\n  environment: integration\n"
                "  tenant: 1234567\n  client_id: demo-client\n"
                "  client_secret: demo-secret\n  app_key: demo-app-key\n"
                f"  auth_url: http://127.0.0.1:{port}/connect/token\n"
                f"  api_url: http://127.0.0.1:{port}\n"
                f"database:\n  path: {db}\n"
                "endpoints:\n  - name: jobs\n    reconcile_every: 1s\n")
        before = requests(port)
        sync_s, _ = once(build, config)
        sync_requests = requests(port) - before
        deleted = max(1, int(records * deleted_share))
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/admin/delete?endpoint=jobs"
            f"&count={deleted}", data=b"", method="POST")
        urllib.request.urlopen(req).read()
        time.sleep(1.1)
        before = requests(port)
        pass_s, log = once(build, config)
        pass_requests = requests(port) - before
        # The last page of the pass: its transaction also marks the rows.
        last = re.findall(r"jobs \(reconcile\): \d+ records .*?, (\d+) ms",
                          log)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        marked = con.execute(
            "SELECT count(*) FROM jobs WHERE deleted_at IS NOT NULL"
        ).fetchone()[0]
        rows = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
        seen = con.execute(
            "SELECT last_seen FROM _stsync_reconcile").fetchone()[0]
        con.close()
        return {
            "records": records, "sync_s": sync_s,
            "sync_requests": sync_requests, "pass_s": pass_s,
            "pass_requests": pass_requests,
            "last_page_ms": int(last[-1]) if last else -1,
            "deleted": deleted, "marked": marked, "rows": rows,
            "seen": seen,
            "db_mb": os.path.getsize(db) / 1e6,
        }
    finally:
        fake.terminate()
        fake.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--records", default="100000")
    ap.add_argument("--deleted", type=float, default=0.001,
                    help="share of the records deleted before the pass")
    args = ap.parse_args()
    print("| records | first sync | its requests | reconciliation pass | "
          "its requests | pass / sync | last page (marks) | deleted | "
          "marked | rows kept |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(x) for x in args.records.split(",")]:
        r = measure(args.build, n, args.deleted)
        ok = r["marked"] == r["deleted"] and r["rows"] == n
        print(f"| {n:,} | {r['sync_s']:.1f} s | {r['sync_requests']:,} | "
              f"{r['pass_s']:.1f} s | {r['pass_requests']:,} | "
              f"{r['pass_s'] / r['sync_s']:.2f} | {r['last_page_ms']} ms | "
              f"{r['deleted']:,} | {r['marked']:,} | {r['rows']:,} |"
              + ("" if ok else " MISMATCH"), flush=True)


if __name__ == "__main__":
    main()

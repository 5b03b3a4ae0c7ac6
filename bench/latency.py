#!/usr/bin/env python3
"""Round-trip-bound first sync: stsync against a serial client and floors.

A real tenant's first sync is bound by round trips, not the disk. For each
latency (the fake's --latency: every answer waits that long), on a skewed
tenant (one endpoint much larger than the rest), this times a first sync by:

  stsync, concurrency 1   `stsync once` with http.concurrency: 1 (one
                          request at a time: stsync before issue 20)
  stsync, C, no split     `stsync once` with http.concurrency: C and
                          split_first_sync: false (each feed one chain)
  stsync, concurrency C   `stsync once` with http.concurrency: C, the
                          default: a first sync split into date ranges
  serial client           bench/baseline.py over every endpoint in turn

and prints them beside two floors:

  chain floor   the longest endpoint's pages x latency: no client that
                follows each feed's continueFrom in one chain can be faster
  split floor   max(pages / 60 per s, pages x latency / C): the bound of C
                requests in flight under ServiceTitan's rate limit

The records span the fake's --history-days before now, more of them each
day (a real tenant's history is skewed towards recent years), and 30% were
modified after they were created.

Nothing here asserts a time; the figures are for the notes and docs.

Usage: latency.py [--build build] [--latencies 50,200,1000]
                  [--concurrency 8] [--output FILE]
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import check, remove_db, run_measured, write_config  # noqa: E402

PAGE = 500
RATE = 60  # ServiceTitan's calls per second
HISTORY_DAYS = 2000


def tenant(build):
    """The skewed tenant: {name: (records, path)} of 24 export endpoints."""
    out = subprocess.run([os.path.join(build, "stsync"), "endpoints"],
                         capture_output=True, text=True, check=True).stdout
    paths = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        # The serial client knows an `id` key and a `modifiedOn` version.
        if len(f) >= 5 and f[1:4] == ["export", "id", "modifiedOn"]:
            paths[f[0]] = f[4]
    big, medium = "jobs", ["invoices", "customers", "appointments"]
    small = [n for n in paths if n != big and n not in medium][:20]
    records = {big: 20000}
    records.update({n: 3000 for n in medium})
    records.update({n: 500 for n in small})
    return {n: (r, paths[n]) for n, r in records.items()}


def start_fake(build, work, endpoints, latency):
    ready = os.path.join(work, "fake.port")
    if os.path.exists(ready):
        os.remove(ready)
    counts = ",".join(f"{n}={r}" for n, (r, _) in endpoints.items())
    fake = subprocess.Popen(
        ["nice", "-n", "10", os.path.join(build, "stsync-fake"), "--port", "0",
         "--ready-file", ready, "--page-size", str(PAGE), "--prerender",
         "--modified-later", "0.3", "--latency", str(latency),
         "--history-days", str(HISTORY_DAYS),
         "--endpoints", ",".join(endpoints), "--records", "500",
         "--records-of", counts],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
        if fake.poll() is not None:
            sys.exit("latency.py: the fake server did not start")
        time.sleep(0.1)
    with open(ready) as f:
        return fake, "http://127.0.0.1:" + f.read().strip()


def stsync_once(build, work, url, endpoints, concurrency, split=True):
    db = os.path.join(work, f"c{concurrency}.db")
    remove_db(db)
    cfg = os.path.join(work, f"c{concurrency}.yaml")
    write_config(cfg, url, db)
    with open(cfg) as f:
        text = f.read()
    text = text.replace("endpoints:\n  - jobs\n",
                        "endpoints: [" + ", ".join(endpoints) + "]\n")
    if not split:
        text = text.replace("defaults:\n",
                            "defaults:\n  split_first_sync: false\n")
    text += f"http:\n  concurrency: {concurrency}\n"
    with open(cfg, "w") as f:
        f.write(text)
    m = run_measured([os.path.join(build, "stsync"), "once", "-c", cfg,
                      "--log-level", "warn"])
    check(m, f"stsync once (concurrency {concurrency})")
    return m


def serial_client(work, url, endpoints):
    db = os.path.join(work, "serial.db")
    remove_db(db)
    argv = [sys.executable, os.path.join(os.path.dirname(__file__),
                                         "baseline.py"), url, db]
    for name, (_, path) in endpoints.items():
        argv += ["--endpoint", f"{name}={path}"]
    m = run_measured(argv, stderr=subprocess.DEVNULL)
    check(m, "baseline.py")
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--latencies", default="50,200,1000")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--output", default=None)
    args = ap.parse_args()
    endpoints = tenant(args.build)
    pages = sum(math.ceil(r / PAGE) for r, _ in endpoints.values())
    chain = max(math.ceil(r / PAGE) for r, _ in endpoints.values())
    records = sum(r for r, _ in endpoints.values())
    c = args.concurrency
    lines = [
        f"Skewed tenant: {len(endpoints)} export endpoints, {records} "
        f"records, {pages} pages of {PAGE}; the largest endpoint is "
        f"{chain} pages.",
        "",
        f"| latency | stsync c=1 s | stsync c={c} no split s | "
        f"stsync c={c} s | serial client s | chain floor s | "
        f"split floor s | c={c} / split floor | serial / c={c} | "
        f"c={c} peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="stsync-latency-") as work:
        for latency in [int(x) for x in args.latencies.split(",")]:
            fake, url = start_fake(args.build, work, endpoints, latency)
            try:
                one = stsync_once(args.build, work, url, endpoints, 1)
                chained = stsync_once(args.build, work, url, endpoints, c,
                                      split=False)
                many = stsync_once(args.build, work, url, endpoints, c)
                serial = serial_client(work, url, endpoints)
            finally:
                fake.terminate()
                fake.wait()
            floor_chain = chain * latency / 1000
            floor_split = max(pages / RATE, pages * latency / 1000 / c)
            row = (f"| {latency} ms | {one.wall:.1f} | {chained.wall:.1f} | "
                   f"{many.wall:.1f} | {serial.wall:.1f} | "
                   f"{floor_chain:.1f} | {floor_split:.1f} | "
                   f"{many.wall / floor_split:.2f} | "
                   f"{serial.wall / many.wall:.1f} | "
                   f"{many.rss_mb:.0f} |")
            lines.append(row)
            print(row, flush=True)
    if args.output:
        with open(args.output, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

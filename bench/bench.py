#!/usr/bin/env python3
"""stsync's benchmark: backfill speed against the SQLite floor and a Python
baseline, steady-state poll cost, duplicate pages, and reader latency.

For each size N it starts the bundled fake (N jobs-shaped records of ~1 KB,
pages of 5,000, every page rendered before it listens) and measures, on the
same machine in the same run:

  stsync          `stsync once` into a fresh database
  floors          the same rows, in the order the feed served them, copied
                  by `INSERT INTO t SELECT ... FROM src.t` into a fresh
                  database with stsync's pragmas and page size (sqlite3 CLI),
                  one transaction per 5,000 rows as stsync commits: the cost
                  of writing them, no HTTP, no JSON. Once per table layout:
                  rows in arrival order with a unique index on id (stsync's),
                  and id as the rowid (INTEGER PRIMARY KEY, stsync 0.2's)
  baseline        bench/baseline.py (urllib, json, sqlite3)
  fetch only      every page downloaded and dropped: the server's own speed

--modified-later F[,F...] runs all of it once per feed order: the fake
serves a share F of the records later than their id order, as real feeds
do (0: ids in order, 0.3: a realistic tenant, 1: every record at random).

Then, for the first feed order only, on the stsync database: an unchanged
poll (requests and CPU per poll of `stsync run`), every page applied a
second time (bytes written), and a reader querying every 50 ms during the
backfill and at idle.

Usage: bench.py --build DIR [--sizes 100000,1000000] [--workdir DIR]
                [--modified-later 0,0.3,1]
"""

import argparse
import json
import os
import random
import re
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PAGE_SIZE = 5000
HERE = os.path.dirname(os.path.abspath(__file__))
READER_QUERY = ("SELECT id, modified_on, json_extract(data, '$.jobStatus') "
                "FROM jobs ORDER BY modified_on DESC LIMIT 20")


class Measured:
    """Wall time, CPU, peak RSS and bytes written of one child process:
    wchar (passed to write calls) and write_bytes (bytes sent to the disk,
    counted when a page of the page cache is first dirtied)."""

    def __init__(self, wall, cpu, rss_kb, io, returncode):
        self.wall = wall
        self.cpu = cpu
        self.rss_mb = rss_kb / 1024
        self.wchar = io["wchar"]
        self.write_bytes = io["write_bytes"]
        self.returncode = returncode


def self_io():
    # Reaped children's I/O counts are added to their parent's.
    io = {}
    with open("/proc/self/io") as f:
        for line in f:
            key, value = line.split(":")
            io[key] = int(value)
    return io


def run_measured(argv, stdin=None, stop_after=None, **popen):
    """Runs argv to completion (or SIGTERM after stop_after seconds)."""
    # Linux counts a parent's resident memory at fork into its child's peak
    # RSS, so the peak comes from GNU time, a small process, instead of from
    # this one's wait4.
    rss_file = tempfile.NamedTemporaryFile(prefix="stsync-bench-rss-")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv
    io0 = self_io()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=stdin, **popen)
    if stop_after is not None:
        time.sleep(stop_after)
        # Stop the measured command, not time, so that time still reports.
        with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
            for child in f.read().split():
                os.kill(int(child), signal.SIGTERM)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_file.name) as f:
        numbers = re.findall(r"^(\d+)$", f.read(), re.M)
    rss_file.close()
    io1 = self_io()
    return Measured(wall, ru.ru_utime + ru.ru_stime,
                    int(numbers[-1]) if numbers else 0,
                    {k: io1[k] - io0[k] for k in io1}, p.returncode)


def check(m, what):
    if m.returncode != 0:
        sys.exit(f"bench: {what} failed with exit code {m.returncode}")


def check_rows(db, n):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
    con.close()
    if rows != n:
        sys.exit(f"bench: stsync stored {rows} rows, expected {n}")


class Fake:
    """The bundled fake server, serving `records` jobs records."""

    def __init__(self, build, workdir, records, modified_later=0.0,
                 page_size=PAGE_SIZE, array_items=0):
        ready = os.path.join(workdir, "fake.port")
        if os.path.exists(ready):
            os.remove(ready)
        self.log = open(os.path.join(workdir, "fake.log"), "w")
        # At nice 10: in production the server is remote and takes no CPU
        # from stsync or from the reader; here it shares two cores with them.
        self.proc = subprocess.Popen(
            ["nice", "-n", "10", os.path.join(build, "stsync-fake"), "--port",
             "0", "--records",
             str(records), "--page-size", str(page_size), "--endpoints",
             "jobs", "--prerender", "--ready-file", ready,
             "--modified-later", str(modified_later), "--array-items",
             str(array_items)],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 600
        while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("bench: the fake server did not start; see " +
                         self.log.name)
            time.sleep(0.1)
        with open(ready) as f:
            self.port = int(f.read().strip())
        self.url = f"http://127.0.0.1:{self.port}"

    def requests(self):
        with urllib.request.urlopen(self.url + "/admin/requests") as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def fetch_only(url):
    """Downloads every page and drops it: (seconds, bytes, pages)."""
    form = b"grant_type=client_credentials&client_id=demo-client&" \
           b"client_secret=demo-secret"
    with urllib.request.urlopen(url + "/connect/token", form) as r:
        token = json.load(r)["access_token"]
    headers = {"Authorization": "Bearer " + token,
               "ST-App-Key": "demo-app-key"}
    cont, pages, size = None, 0, 0
    t0 = time.perf_counter()
    while True:
        q = "?from=" + urllib.parse.quote(cont) if cont else ""
        req = urllib.request.Request(
            url + "/jpm/v2/tenant/1234567/export/jobs" + q, headers=headers)
        with urllib.request.urlopen(req) as r:
            body = r.read()
        pages += 1
        size += len(body)
        # The fake writes the envelope's scalars before `data`.
        m = re.match(rb'\{"hasMore":(true|false),"continueFrom":"([^"]*)"',
                     body)
        cont = m.group(2).decode()
        if m.group(1) == b"false":
            return time.perf_counter() - t0, size, pages


def write_config(path, url, db, interval="5m", cache_size=None, extra=""):
    """A config for the fake at `url`; `db` is a file's path, or a
    postgresql:// URL. `extra` goes at the top level."""
    cache = f"  cache_size: {cache_size}\n" if cache_size else ""
    where = "url" if db.startswith("postgresql://") else "path"
    with open(path, "w") as f:
        f.write(f"""servicetitan:
  tenant: 1234567
  client_id: demo-client
  client_secret: demo-secret
  app_key: demo-app-key
  auth_url: {url}/connect/token
  api_url: {url}
database:
  {where}: {db}
{cache}{extra}log:
  level: warn
defaults:
  interval: {interval}
endpoints:
  - jobs
""")


def remove_db(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def start_reader(db, out, seconds=None):
    argv = [sys.executable, os.path.abspath(__file__), "--reader", db, out]
    if seconds:
        argv += ["--seconds", str(seconds)]
    return subprocess.Popen(argv)


def reader_main(db, out, seconds):
    """Runs READER_QUERY every 50 ms until SIGTERM (or `seconds`), then
    writes the latencies (ms) to `out`."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop and not os.path.exists(db):
        time.sleep(0.01)
    con = sqlite3.connect(db, isolation_level=None, timeout=10)
    latencies = []
    end = time.time() + seconds if seconds else None
    nxt = time.perf_counter()
    while not stop and (end is None or time.time() < end):
        t0 = time.perf_counter()
        try:
            con.execute(READER_QUERY).fetchall()
            latencies.append((time.perf_counter() - t0) * 1000)
        except sqlite3.OperationalError:
            pass  # no table yet
        nxt += 0.05
        time.sleep(max(0, nxt - time.perf_counter()))
    with open(out, "w") as f:
        # The connection's first query also loads the schema: left out.
        json.dump(latencies[1:], f)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def feed_order_copy(src, dst):
    """Copies src's jobs into dst in feed order (modified_on order, as the
    fake serves them) with rowids 1..N, so that the floors read the rows in
    the order stsync received them. Not timed."""
    remove_db(dst)
    con = sqlite3.connect(dst)
    con.execute(f"ATTACH '{src}' AS src")
    con.execute("CREATE TABLE jobs AS SELECT * FROM src.jobs "
                "ORDER BY modified_on, id")
    con.commit()
    con.close()


# The table layouts the floors are measured with. Same columns and
# modified_on index as stsync's table.
LAYOUTS = {
    "arrival": '"id" INTEGER NOT NULL UNIQUE',
    "rowid": '"id" INTEGER PRIMARY KEY',
}


def floor_sql(src, feed, layout):
    con = sqlite3.connect(src)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    rows = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
    con.close()
    # The pragmas stsync sets (sqlite_sink.cc), with its default
    # database.cache_size.
    sql = [f"PRAGMA page_size={page_size};", "PRAGMA journal_mode=WAL;",
           "PRAGMA synchronous=NORMAL;", "PRAGMA cache_size=-16384;",
           "PRAGMA journal_size_limit=67108864;",
           f"PRAGMA wal_autocheckpoint={67108864 // page_size};",
           f"CREATE TABLE jobs ({LAYOUTS[layout]}, modified_on TEXT, "
           "active INTEGER, data TEXT NOT NULL, first_seen_at TEXT NOT NULL, "
           "synced_at TEXT NOT NULL);",
           "CREATE INDEX jobs_modified_on ON jobs (modified_on);"]
    # The rows in feed order (feed_order_copy), a page per transaction.
    sql.append(f"ATTACH '{feed}' AS src;")
    cols = "id, modified_on, active, data, first_seen_at, synced_at"
    for start in range(1, rows + 1, PAGE_SIZE):
        sql.append(f"BEGIN; INSERT INTO jobs ({cols}) SELECT {cols} FROM "
                   f"src.jobs WHERE rowid >= {start} AND rowid < "
                   f"{start + PAGE_SIZE} ORDER BY rowid; COMMIT;")
    return "\n".join(sql) + "\n"


def run_floor(workdir, src, feed, layout):
    db = os.path.join(workdir, "floor.db")
    remove_db(db)
    script = os.path.join(workdir, "floor.sql")
    with open(script, "w") as f:
        f.write(floor_sql(src, feed, layout))
    with open(script) as f:
        m = run_measured(["sqlite3", db], stdin=f, stdout=subprocess.DEVNULL)
    check(m, "the SQLite floor")
    remove_db(db)
    return m


def bench_size(args, n, later, steady):
    """One size and feed order; `steady`: also the steady-state figures."""
    work = os.path.join(args.workdir, f"n{n}-f{later}")
    os.makedirs(work, exist_ok=True)
    stsync = os.path.join(args.build, "stsync")
    print(f"\n== N = {n:,}, modified later: {later:.0%}: starting the fake "
          f"(renders every page first) ...", flush=True)
    fake = Fake(args.build, work, n, later)
    res = {"n": n, "later": later, "steady": steady}
    try:
        secs, size, pages = fetch_only(fake.url)
        res.update(json_mb=size / 1e6, pages=pages, fetch_s=secs)
        print(f"   fetch only: {pages} pages, {size / 1e6:.0f} MB in "
              f"{secs:.2f} s ({size / 1e6 / secs:.0f} MB/s)", flush=True)

        db = os.path.join(work, "stsync.db")
        cfg = os.path.join(work, "stsync.yaml")
        remove_db(db)
        write_config(cfg, fake.url, db, cache_size=args.cache_size)
        if args.page_size:
            # stsync keeps the page size of an existing file.
            con = sqlite3.connect(db)
            con.execute(f"PRAGMA page_size={args.page_size}")
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE _page_size (x)")
            con.execute("DROP TABLE _page_size")
            con.commit()
            con.close()
        lat_load = os.path.join(work, "latency-load.json")
        reader = start_reader(db, lat_load)
        m = run_measured([stsync, "once", "-c", cfg])
        reader.send_signal(signal.SIGTERM)
        reader.wait()
        check(m, "stsync once")
        check_rows(db, n)
        res["stsync"] = m
        print(f"   stsync: {m.wall:.2f} s, {m.write_bytes / 1e6:.0f} MB "
              f"written to disk", flush=True)
        with open(lat_load) as f:
            res["lat_load"] = json.load(f)
        if args.stsync_only:
            return res
        if steady:
            lat_idle = os.path.join(work, "latency-idle.json")
            start_reader(db, lat_idle, seconds=args.idle_seconds).wait()
            with open(lat_idle) as f:
                res["lat_idle"] = json.load(f)

        feed = os.path.join(work, "feed-order.db")
        feed_order_copy(db, feed)
        for layout in LAYOUTS:
            res["floor_" + layout] = run_floor(work, db, feed, layout)
            print(f"   floor, {layout} layout: "
                  f"{res['floor_' + layout].wall:.2f} s", flush=True)
        os.remove(feed)

        base_db = os.path.join(work, "baseline.db")
        remove_db(base_db)
        m = run_measured([sys.executable, os.path.join(HERE, "baseline.py"),
                          fake.url, base_db], stderr=subprocess.DEVNULL)
        check(m, "baseline.py")
        res["baseline"] = m
        remove_db(base_db)
        print(f"   baseline: {m.wall:.2f} s", flush=True)

        if not steady:
            return res
        # Steady state: polls of the caught-up endpoint, every 100 ms. Two
        # runs of different length; their difference is the polls' cost.
        poll_cfg = os.path.join(work, "poll.yaml")
        write_config(poll_cfg, fake.url, db, interval="100ms")
        runs = []
        for seconds in (1.0, 1.0 + args.poll_seconds):
            before = fake.requests()
            pm = run_measured([stsync, "run", "-c", poll_cfg],
                              stop_after=seconds)
            after = fake.requests()
            runs.append((pm, after["export"] - before["export"],
                         after["token"] - before["token"]))
        (m1, r1, _), (m2, r2, t2) = runs
        res["poll_requests"] = r2 - r1
        res["poll_cpu_ms"] = (m2.cpu - m1.cpu) * 1000 / max(1, r2 - r1)
        res["poll_tokens"] = t2

        # Every page again, as includeRecentChanges duplicates are.
        subprocess.run([stsync, "reset", "-c", cfg, "jobs"], check=True,
                       stdout=subprocess.DEVNULL)
        m = run_measured([stsync, "once", "-c", cfg])
        check(m, "stsync once (re-applying every page)")
        check_rows(db, n)
        res["dup"] = m
    finally:
        fake.stop()
        remove_db(db)
    return res


def best_floor(r):
    return min(r["floor_" + layout].wall for layout in LAYOUTS)


def order_name(later):
    return {0: "ids in order", 0.3: "30% modified later",
            1: "all at random"}.get(later, f"{later:.0%} modified later")


def report(results, machine):
    out = []
    p = out.append
    p(f"Machine: {machine}")
    p("")
    p("Backfill into a fresh database. Floors: the same rows in the same "
      "order, one transaction per page, plain SQLite.")
    p("")
    p("| N | feed order | stsync s | CPU s | peak RSS MB | disk writes / "
      "JSON | floor, arrival layout s (CPU s) | floor, id-as-rowid layout s "
      "| baseline s | stsync / best floor | baseline / stsync | "
      "µs per record |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        m = r["stsync"]
        p(f"| {r['n']:,} | {order_name(r['later'])} | {m.wall:.2f} | "
          f"{m.cpu:.2f} | {m.rss_mb:.1f} | "
          f"{m.write_bytes / (r['json_mb'] * 1e6):.2f} | "
          f"{r['floor_arrival'].wall:.2f} ({r['floor_arrival'].cpu:.2f}) | "
          f"{r['floor_rowid'].wall:.2f} | "
          f"{r['baseline'].wall:.2f} | {m.wall / best_floor(r):.2f} | "
          f"{r['baseline'].wall / m.wall:.1f} | "
          f"{m.wall * 1e6 / r['n']:.1f} |")
    p("")
    p("| N | JSON MB | server alone MB/s | floor disk writes / JSON, arrival "
      "layout | id-as-rowid layout |")
    p("|---|---:|---:|---:|---:|")
    for r in results:
        json_bytes = r["json_mb"] * 1e6
        p(f"| {r['n']:,}, {order_name(r['later'])} | {r['json_mb']:.0f} | "
          f"{r['json_mb'] / r['fetch_s']:.0f} | "
          f"{r['floor_arrival'].write_bytes / json_bytes:.2f} | "
          f"{r['floor_rowid'].write_bytes / json_bytes:.2f} |")
    p("")
    p("| N | unchanged poll: requests/poll, CPU ms/poll | "
      "re-applied page: bytes written (first write) | "
      "reader p50 / p99 ms, idle | during ingest |")
    p("|---|---|---|---|---|")
    for r in results:
        if not r["steady"]:
            continue
        first = r["stsync"].wchar / r["pages"]
        dup = r["dup"].wchar / r["pages"]
        li, ll = r["lat_idle"], r["lat_load"]
        p(f"| {r['n']:,} | {r['poll_requests'] / max(1, r['poll_requests']):.0f}"
          f" request each ({r['poll_requests']} polls), "
          f"{r['poll_cpu_ms']:.2f} ms; {r['poll_tokens']} token request "
          f"per run | {dup / 1024:.1f} KiB ({first / 1048576:.1f} MiB), "
          f"{100 * dup / first:.2f}% | "
          f"{percentile(li, 50):.2f} / {percentile(li, 99):.2f} "
          f"({len(li)} queries) | {percentile(ll, 50):.2f} / "
          f"{percentile(ll, 99):.2f} ({len(ll)} queries) |")
    return "\n".join(out)


def stsync_report(results, args):
    out = [f"stsync alone; cache_size {args.cache_size or 'default'}, page "
           f"size {args.page_size or 'default'}", "",
           "| N | feed order | stsync s | CPU s | peak RSS MB | "
           "disk writes / JSON |", "|---|---|---:|---:|---:|---:|"]
    for r in results:
        m = r["stsync"]
        out.append(f"| {r['n']:,} | {order_name(r['later'])} | {m.wall:.2f} "
                   f"| {m.cpu:.2f} | {m.rss_mb:.1f} | "
                   f"{m.write_bytes / (r['json_mb'] * 1e6):.2f} |")
    return "\n".join(out) + "\n"


def targets(results):
    rows = []

    def t(name, value, ok):
        rows.append(f"| {name} | {value} | {'met' if ok else 'NOT MET'} |")

    for r in results:
        where = f"N={r['n']:,}, {order_name(r['later'])}"
        s = r["stsync"].wall
        t(f"stsync / best floor, {where} (<= 1.3)",
          f"{s / best_floor(r):.2f}", s / best_floor(r) <= 1.3)
        t(f"baseline / stsync, {where} (>= 6)",
          f"{r['baseline'].wall / s:.1f}", r["baseline"].wall / s >= 6)
        written = r["stsync"].write_bytes / (r["json_mb"] * 1e6)
        t(f"disk writes / JSON received, {where} (<= 3)", f"{written:.2f}",
          written <= 3)
    rss = [r["stsync"].rss_mb for r in results]
    t("peak RSS (<= 64 MB at every N and order)", f"{max(rss):.1f} MB",
      max(rss) <= 64)
    for later in sorted({r["later"] for r in results}):
        same = [r for r in results if r["later"] == later]
        big = max(same, key=lambda r: r["n"])
        small = min(same, key=lambda r: r["n"])
        if big is small:
            continue
        per = ((big["stsync"].wall / big["n"]) /
               (small["stsync"].wall / small["n"]))
        t(f"per-record time, N={big['n']:,} / N={small['n']:,}, "
          f"{order_name(later)} (<= 1.2)", f"{per:.2f}", per <= 1.2)
    for r in results:
        if not r["steady"]:
            continue
        t(f"unchanged poll at N={r['n']:,} (1 request, < 5 ms CPU)",
          f"{r['poll_cpu_ms']:.2f} ms", r["poll_cpu_ms"] < 5)
        dup = r["dup"].wchar / r["stsync"].wchar
        t(f"re-applied page at N={r['n']:,} (< 5% of first write)",
          f"{100 * dup:.2f}%", dup < 0.05)
        ratio = percentile(r["lat_load"], 99) / percentile(r["lat_idle"], 99)
        t(f"reader p99 during ingest / idle at N={r['n']:,} (<= 3)",
          f"{ratio:.2f}", ratio <= 3)
    return ("| target | measured | |\n|---|---:|---|\n" + "\n".join(rows))


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    sqlite = sqlite3.sqlite_version
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
            f"{os.uname().sysname} {os.uname().release}, SQLite {sqlite}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        seconds = float(sys.argv[5]) if len(sys.argv) > 5 else None
        return reader_main(sys.argv[2], sys.argv[3], seconds)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--workdir", default=None,
                    help="scratch space (default: a temporary directory)")
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--poll-seconds", type=float, default=5)
    ap.add_argument("--output", default=None,
                    help="also write the tables (markdown) here")
    ap.add_argument("--modified-later", default="0,0.3,1",
                    help="feed orders to run, comma-separated: the share of "
                         "records the fake serves after their id order (0: "
                         "ids in order, 0.3: realistic, 1: random); see "
                         "stsync-fake --help")
    ap.add_argument("--stsync-only", action="store_true",
                    help="run stsync alone (no floors, baseline or steady "
                         "state), e.g. to compare settings")
    ap.add_argument("--cache-size", type=int, default=None,
                    help="stsync's database.cache_size in bytes")
    ap.add_argument("--page-size", type=int, default=None,
                    help="create stsync's file with this page size")
    args = ap.parse_args()
    for tool in ("stsync", "stsync-fake"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            sys.exit(f"bench: {args.build}/{tool} is missing; build first")
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="stsync-bench-",
                                     dir=args.workdir) as tmp:
        args.workdir = tmp
        orders = [float(f) for f in args.modified_later.split(",")]
        results = [bench_size(args, n, later, steady=i == 0)
                   for i, later in enumerate(orders) for n in sizes]
    results.sort(key=lambda r: (r["n"], r["later"]))
    if args.stsync_only:
        text = stsync_report(results, args)
    else:
        text = report(results, machine()) + "\n\n" + targets(results) + "\n"
    print("\n" + text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""stsync's benchmark: backfill speed against the SQLite floor and a Python
baseline, steady-state poll cost, duplicate pages, and reader latency.

For each size N it starts the bundled fake (N jobs-shaped records of ~1 KB,
pages of 5,000, every page rendered before it listens) and measures, on the
same machine in the same run:

  stsync          `stsync once` into a fresh database
  floor           the same rows, in the order the feed served them, copied
                  by `INSERT INTO t SELECT * FROM src.t` into a fresh
                  database with the same schema and pragmas (sqlite3 CLI):
                  the cost of writing them, no HTTP, no JSON
  floor, paged    the same, one transaction per 5,000 rows as stsync commits

--modified-later F makes the fake serve a share F of the records later than
their id order, as real feeds do (0.3 is a realistic tenant, 1 random).
  baseline        bench/baseline.py (urllib, json, sqlite3)
  fetch only      every page downloaded and dropped: the server's own speed

Then, on the stsync database: an unchanged poll (requests and CPU per poll of
`stsync run`), every page applied a second time (bytes written), and a reader
querying every 50 ms during the backfill and at idle.

Usage: bench.py --build DIR [--sizes 100000,1000000] [--workdir DIR]
                [--modified-later F]
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
    """Wall time, CPU, peak RSS and bytes written of one child process."""

    def __init__(self, wall, cpu, rss_kb, wchar, returncode):
        self.wall = wall
        self.cpu = cpu
        self.rss_mb = rss_kb / 1024
        self.wchar = wchar
        self.returncode = returncode


def self_wchar():
    # Reaped children's I/O counts are added to their parent's.
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def run_measured(argv, stdin=None, stop_after=None, **popen):
    """Runs argv to completion (or SIGTERM after stop_after seconds)."""
    # Linux counts a parent's resident memory at fork into its child's peak
    # RSS, so the peak comes from GNU time, a small process, instead of from
    # this one's wait4.
    rss_file = tempfile.NamedTemporaryFile(prefix="stsync-bench-rss-")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv
    w0 = self_wchar()
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
    return Measured(wall, ru.ru_utime + ru.ru_stime,
                    int(numbers[-1]) if numbers else 0, self_wchar() - w0,
                    p.returncode)


def check(m, what):
    if m.returncode != 0:
        sys.exit(f"bench: {what} failed with exit code {m.returncode}")


class Fake:
    """The bundled fake server, serving `records` jobs records."""

    def __init__(self, build, workdir, records, modified_later=0.0):
        ready = os.path.join(workdir, "fake.port")
        if os.path.exists(ready):
            os.remove(ready)
        self.log = open(os.path.join(workdir, "fake.log"), "w")
        # At nice 10: in production the server is remote and takes no CPU
        # from stsync or from the reader; here it shares two cores with them.
        self.proc = subprocess.Popen(
            ["nice", "-n", "10", os.path.join(build, "stsync-fake"), "--port",
             "0", "--records",
             str(records), "--page-size", str(PAGE_SIZE), "--endpoints",
             "jobs", "--prerender", "--ready-file", ready,
             "--modified-later", str(modified_later)],
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


def write_config(path, url, db, interval="5m"):
    with open(path, "w") as f:
        f.write(f"""servicetitan:
  tenant: 1234567
  client_id: demo-client
  client_secret: demo-secret
  app_key: demo-app-key
  auth_url: {url}/connect/token
  api_url: {url}
database:
  path: {db}
log:
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


def floor_sql(src, feed, paged_rows):
    con = sqlite3.connect(src)
    ddl = [r[0] for r in con.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'jobs' AND sql "
        "IS NOT NULL ORDER BY type DESC")]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    rows = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
    con.close()
    # The pragmas stsync sets (store.cc).
    sql = [f"PRAGMA page_size={page_size};", "PRAGMA journal_mode=WAL;",
           "PRAGMA synchronous=NORMAL;",
           "PRAGMA journal_size_limit=67108864;",
           f"PRAGMA wal_autocheckpoint={67108864 // page_size};"]
    sql += [d + ";" for d in ddl]
    # The rows in feed order (feed_order_copy).
    sql.append(f"ATTACH '{feed}' AS src;")
    if not paged_rows:
        sql.append("INSERT INTO jobs SELECT * FROM src.jobs ORDER BY rowid;")
    else:
        for start in range(1, rows + 1, paged_rows):
            sql.append(f"BEGIN; INSERT INTO jobs SELECT * FROM src.jobs "
                       f"WHERE rowid >= {start} AND rowid < "
                       f"{start + paged_rows} ORDER BY rowid; COMMIT;")
    return "\n".join(sql) + "\n"


def run_floor(workdir, src, feed, paged):
    db = os.path.join(workdir, "floor.db")
    remove_db(db)
    script = os.path.join(workdir, "floor.sql")
    with open(script, "w") as f:
        f.write(floor_sql(src, feed, PAGE_SIZE if paged else 0))
    with open(script) as f:
        m = run_measured(["sqlite3", db], stdin=f, stdout=subprocess.DEVNULL)
    check(m, "the SQLite floor")
    remove_db(db)
    return m


def bench_size(args, n):
    work = os.path.join(args.workdir, f"n{n}")
    os.makedirs(work, exist_ok=True)
    stsync = os.path.join(args.build, "stsync")
    print(f"\n== N = {n:,}: starting the fake (renders every page first) ...",
          flush=True)
    fake = Fake(args.build, work, n, args.modified_later)
    res = {"n": n}
    try:
        secs, size, pages = fetch_only(fake.url)
        res.update(json_mb=size / 1e6, pages=pages, fetch_s=secs)
        print(f"   fetch only: {pages} pages, {size / 1e6:.0f} MB in "
              f"{secs:.2f} s ({size / 1e6 / secs:.0f} MB/s)", flush=True)

        db = os.path.join(work, "stsync.db")
        cfg = os.path.join(work, "stsync.yaml")
        remove_db(db)
        write_config(cfg, fake.url, db)
        lat_load = os.path.join(work, "latency-load.json")
        reader = start_reader(db, lat_load)
        m = run_measured([stsync, "once", "-c", cfg])
        reader.send_signal(signal.SIGTERM)
        reader.wait()
        check(m, "stsync once")
        res["stsync"] = m
        print(f"   stsync: {m.wall:.2f} s", flush=True)

        lat_idle = os.path.join(work, "latency-idle.json")
        start_reader(db, lat_idle, seconds=args.idle_seconds).wait()
        with open(lat_load) as f:
            res["lat_load"] = json.load(f)
        with open(lat_idle) as f:
            res["lat_idle"] = json.load(f)

        feed = os.path.join(work, "feed-order.db")
        feed_order_copy(db, feed)
        res["floor"] = run_floor(work, db, feed, paged=False)
        print(f"   floor: {res['floor'].wall:.2f} s", flush=True)
        res["floor_paged"] = run_floor(work, db, feed, paged=True)
        print(f"   floor, paged: {res['floor_paged'].wall:.2f} s", flush=True)

        base_db = os.path.join(work, "baseline.db")
        remove_db(base_db)
        m = run_measured([sys.executable, os.path.join(HERE, "baseline.py"),
                          fake.url, base_db], stderr=subprocess.DEVNULL)
        check(m, "baseline.py")
        res["baseline"] = m
        remove_db(base_db)
        print(f"   baseline: {m.wall:.2f} s", flush=True)

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
        res["dup"] = m
        rows = sqlite3.connect(db).execute(
            "SELECT count(*) FROM jobs").fetchone()[0]
        if rows != n:
            sys.exit(f"bench: stsync stored {rows} rows, expected {n}")
    finally:
        fake.stop()
    remove_db(db)
    return res


def report(results, machine):
    out = []
    p = out.append
    p(f"Machine: {machine}")
    p("")
    p("| N | run | wall s | CPU s | records/s | MB/s of JSON | peak RSS MB |")
    p("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        for key, name in (("stsync", "stsync once"),
                          ("floor", "SQLite floor (one INSERT ... SELECT)"),
                          ("floor_paged",
                           "SQLite floor, one transaction per 5,000 rows"),
                          ("baseline", "Python baseline (baseline.py)")):
            m = r[key]
            p(f"| {r['n']:,} | {name} | {m.wall:.2f} | {m.cpu:.2f} | "
              f"{r['n'] / m.wall:,.0f} | {r['json_mb'] / m.wall:.0f} | "
              f"{m.rss_mb:.1f} |")
    p("")
    p("| N | stsync / floor | stsync / paged floor | baseline / stsync | "
      "server alone MB/s | µs per record |")
    p("|---|---:|---:|---:|---:|---:|")
    for r in results:
        s = r["stsync"].wall
        p(f"| {r['n']:,} | {s / r['floor'].wall:.2f} | "
          f"{s / r['floor_paged'].wall:.2f} | "
          f"{r['baseline'].wall / s:.1f} | "
          f"{r['json_mb'] / r['fetch_s']:.0f} | {s * 1e6 / r['n']:.1f} |")
    p("")
    p("| N | unchanged poll: requests/poll, CPU ms/poll | "
      "re-applied page: bytes written (first write) | "
      "reader p50 / p99 ms, idle | during ingest |")
    p("|---|---|---|---|---|")
    for r in results:
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


def targets(results):
    big = max(results, key=lambda r: r["n"])
    small = min(results, key=lambda r: r["n"])
    rows = []

    def t(name, value, ok):
        rows.append(f"| {name} | {value} | {'met' if ok else 'NOT MET'} |")

    s = big["stsync"].wall
    t(f"stsync / floor at N={big['n']:,} (<= 1.5)",
      f"{s / big['floor'].wall:.2f}", s / big["floor"].wall <= 1.5)
    t(f"baseline / stsync at N={big['n']:,} (>= 4)",
      f"{big['baseline'].wall / s:.1f}", big["baseline"].wall / s >= 4)
    rss = [r["stsync"].rss_mb for r in results]
    t("peak RSS (<= 64 MB at every N)", f"{max(rss):.1f} MB",
      max(rss) <= 64)
    growth = big["stsync"].rss_mb / small["stsync"].rss_mb
    t("peak RSS, largest N / smallest N (<= 1.10)", f"{growth:.2f}",
      growth <= 1.10)
    per = (big["stsync"].wall / big["n"]) / (small["stsync"].wall / small["n"])
    t("per-record time, largest N / smallest N (<= 1.2)", f"{per:.2f}",
      per <= 1.2)
    for r in results:
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
    ap.add_argument("--modified-later", type=float, default=0.0,
                    help="share of records the fake serves after their id "
                         "order (0: ids in feed order, 0.3: realistic, "
                         "1: random); see stsync-fake --help")
    args = ap.parse_args()
    for tool in ("stsync", "stsync-fake"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            sys.exit(f"bench: {args.build}/{tool} is missing; build first")
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="stsync-bench-",
                                     dir=args.workdir) as tmp:
        args.workdir = tmp
        results = [bench_size(args, n) for n in sizes]
    order = (f"Feed order: ids in order" if not args.modified_later else
             f"Feed order: {args.modified_later:.0%} of the records modified "
             f"after creation (stsync-fake --modified-later "
             f"{args.modified_later})")
    text = (order + "\n" + report(results, machine()) + "\n\n" +
            targets(results) + "\n")
    print("\n" + text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

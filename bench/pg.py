#!/usr/bin/env python3
"""Backfill into PostgreSQL against a COPY of the same rows, same run.

Starts a throwaway PostgreSQL (Debian's `postgresql`: initdb into a
temporary directory, a unix socket there, no TCP) and the bundled fake with
N jobs records served in pages of 500, every record at a random place
(--modified-later 1: ids in random order, the worst case for an index), of
about 1.5 KB with nested arrays (--array-items 2; 0 leaves the arrays empty:
records of about 1 KB, where stsync's cost per row weighs most), and
measures:

  stsync -> PostgreSQL  `stsync once` into a fresh schema: on the
                        fresh server, then (dropped, measured again) 3
                        times on the server as warm as the COPY finds it
  COPY json / text      the rows stsync stored (id, data), copied with
                        `\\copy` into a fresh plain table (id bigint, data
                        json or text) in one transaction, 3 times each
                        (the median shown): the server's own
                        cost of taking the bytes, no HTTP, no JSON parsing,
                        no upsert, no index
  stsync -> SQLite      `stsync once` into a fresh file, for comparison
  again                 the whole feed applied a second time (`reset`, then
                        `once`): the WAL it wrote against the first pass's

ServiceTitan's 60 requests a second would bound pages of 500 at 30,000
records a second, so the config lifts the rate limit: this measures the
sink. The server runs with fsync=off: what is compared is the work, not the disk's
flush latency (which both sides would pay once per transaction).

Nothing here asserts a time. Usage: pg.py [--build build] [--records 200000]
[--array-items 2]
"""

import argparse
import glob
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import Fake, check, run_measured, write_config

HERE = os.path.dirname(os.path.abspath(__file__))


class Postgres:
    """A throwaway server; as the postgres user when run as root."""

    def __init__(self, workdir):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            sys.exit("bench: no PostgreSQL server (apt install postgresql)")
        self.bin = bins[-1]
        self.dir = tempfile.mkdtemp(prefix="stsync-pg-", dir=workdir)
        self.prefix = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.run(["initdb", "-D", self.dir + "/data", "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--no-sync",
                  "--no-instructions"])
        self.run(["pg_ctl", "-D", self.dir + "/data", "-l",
                  self.dir + "/server.log", "-w", "-o",
                  f"-k {self.dir} -c listen_addresses= -c fsync=off "
                  "-c max_wal_size=4GB -c shared_buffers=256MB", "start"])
        self.url = f"postgresql:///postgres?host={self.dir}&user=postgres"

    def run(self, argv):
        subprocess.run(self.prefix + [self.bin + "/" + argv[0]] + argv[1:],
                       check=True, stdout=subprocess.DEVNULL)

    def psql(self, sql):
        out = subprocess.run(
            [self.bin + "/psql", "-X", "-q", "-A", "-t", "-v",
             "ON_ERROR_STOP=1", "-d", self.url, "-c", sql],
            check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def wal_lsn(self):
        return self.psql("SELECT pg_current_wal_insert_lsn()")

    def wal_since(self, lsn):
        return int(self.psql(
            f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{lsn}')"))

    def stop(self):
        self.run(["pg_ctl", "-D", self.dir + "/data", "-m", "fast", "-w",
                  "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)


REPEAT = 3

# ServiceTitan's 60 requests a second is lifted: this measures the sink.
NO_RATE_LIMIT = "http:\n  rate_limit: 10000\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--array-items", type=int, default=2)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="stsync-pgbench-", dir=args.workdir)
    os.chmod(workdir, 0o755)
    stsync = os.path.join(args.build, "stsync")
    n = args.records
    pg = Postgres(workdir)
    fake = None
    try:
        fake = Fake(args.build, workdir, n, modified_later=1.0,
                    page_size=500, array_items=args.array_items)
        cfg = os.path.join(workdir, "pg.yaml")
        write_config(cfg, fake.url, pg.url, extra=NO_RATE_LIMIT)

        # The first run meets a fresh server (its shared buffers and files
        # new); the COPY later, and a daemon's server always, a warm one.
        # Both are shown; the target compares the warm run.
        # The warm runs and the COPYs are repeated (REPEAT times, the
        # median shown): single runs here vary by a third.
        cold = run_measured([stsync, "once", "-c", cfg])
        check(cold, "stsync once into PostgreSQL (cold)")
        warm = []
        for _ in range(REPEAT):
            pg.psql("DROP SCHEMA st_1234567 CASCADE")
            pg.psql("CHECKPOINT")
            lsn = pg.wal_lsn()
            warm.append(run_measured([stsync, "once", "-c", cfg]))
            check(warm[-1], "stsync once into PostgreSQL")
            first_wal = pg.wal_since(lsn)
        m = sorted(warm, key=lambda r: r.wall)[REPEAT // 2]
        rows = int(pg.psql("SELECT count(*) FROM st_1234567.jobs"))
        if rows != n:
            sys.exit(f"bench: stsync stored {rows} rows, expected {n}")
        size = int(pg.psql("SELECT sum(octet_length(data::text)) "
                           "FROM st_1234567.jobs"))

        dump = os.path.join(workdir, "rows.copy")
        pg.psql(f"\\copy (SELECT id, data FROM st_1234567.jobs ORDER BY "
                f"first_seen_at, random()) TO '{dump}'")
        copies = {}
        for kind in ("json", "text"):
            times = []
            for _ in range(REPEAT):
                pg.psql(f"DROP TABLE IF EXISTS plain_{kind}")
                pg.psql(f"CREATE TABLE plain_{kind} (id bigint, data {kind})")
                t0 = time.perf_counter()
                pg.psql(f"\\copy plain_{kind} FROM '{dump}'")
                times.append(time.perf_counter() - t0)
            copies[kind] = statistics.median(times)

        again_lsn = pg.wal_lsn()
        check(run_measured([stsync, "reset", "-c", cfg, "jobs"],
                           stdout=subprocess.DEVNULL), "stsync reset")
        again = run_measured([stsync, "once", "-c", cfg])
        check(again, "stsync once again")
        again_wal = pg.wal_since(again_lsn)

        db = os.path.join(workdir, "sqlite.db")
        write_config(cfg, fake.url, db, extra=NO_RATE_LIMIT)
        lite = run_measured([stsync, "once", "-c", cfg])
        check(lite, "stsync once into SQLite")
    finally:
        if fake:
            fake.stop()
        pg.stop()

    print(f"{n} records of {size / n:.0f} bytes on average, pages of 500, "
          f"ids in random order; PostgreSQL {pg.bin.split('/')[-2]}")
    print()
    print("| run | wall | vs COPY json |")
    print("|---|---|---|")
    print(f"| COPY into a plain table (json) | {copies['json']:.2f} s | 1.00 |")
    print(f"| COPY into a plain table (text) | {copies['text']:.2f} s | "
          f"{copies['text'] / copies['json']:.2f} |")
    print(f"| stsync once -> PostgreSQL, fresh server | {cold.wall:.2f} s | "
          f"{cold.wall / copies['json']:.2f} |")
    print(f"| stsync once -> PostgreSQL, warm (median of {REPEAT}: "
          f"{', '.join(f'{r.wall:.2f}' for r in warm)}) | {m.wall:.2f} s | "
          f"{m.wall / copies['json']:.2f} |")
    print(f"| stsync once -> SQLite | {lite.wall:.2f} s | "
          f"{lite.wall / copies['json']:.2f} |")
    print(f"| the feed again -> PostgreSQL | {again.wall:.2f} s | "
          f"{again.wall / copies['json']:.2f} |")
    print()
    print(f"WAL: first pass {first_wal / 2**20:.1f} MiB, again "
          f"{again_wal / 2**20:.2f} MiB ({100 * again_wal / first_wal:.2f}%)")
    print(f"stsync -> PostgreSQL: CPU {m.cpu:.2f} s, peak RSS "
          f"{m.rss_mb:.0f} MiB")
    print(f"target: within 2.5x COPY json: "
          f"{'met' if m.wall <= 2.5 * copies['json'] else 'NOT met'} "
          f"({m.wall / copies['json']:.2f}x); again under 1% of the WAL: "
          f"{'met' if again_wal < first_wal / 100 else 'NOT met'}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()

#!/usr/bin/env python3
"""What many tenants cost one daemon: RSS, threads and CPU at idle.

    python3 bench/tenants.py --build build --tenants 1,10,100

For each tenant count N it starts stsync-fake serving N tenant ids, writes
a config with those N tenants (each its own database file), runs
`stsync run` until every tenant has caught up on every endpoint, then
measures the idle daemon for --idle seconds: CPU time used (user + system,
from /proc), resident memory (VmRSS, and the peak VmHWM of the whole run),
and threads. Prints a Markdown table.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def caught_up(build, config, tenants, endpoints):
    out = subprocess.run([f"{build}/stsync", "status", "-c", config, "--json"],
                         capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    per_tenant = doc["tenants"] if "tenants" in doc else [doc]
    done = sum(1 for t in per_tenant for e in t["endpoints"]
               if e["caught_up_at"])
    return done == tenants * endpoints


def measure(build, n, records, endpoints, idle):
    work = tempfile.mkdtemp(prefix="stsync-tenants-")
    port = free_port()
    ids = [str(1000000 + i) for i in range(n)]
    fake = subprocess.Popen(
        [f"{build}/stsync-fake", "--port", str(port), "--records",
         str(records), "--page-size", "500", "--endpoints",
         ",".join(endpoints), "--tenants", ",".join(ids)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = os.path.join(work, "tenants.yaml")
    with open(config, "w") as f:
        f.write(
            "servicetitan:\n  environment: integration\n"
            "  client_id: demo-client\n  client_secret: demo-secret\n"
            "  app_key: demo-app-key\n"
            f"  auth_url: http://127.0.0.1:{port}/connect/token\n"
            f"  api_url: http://127.0.0.1:{port}\n"
            "tenants:\n" + "".join(f"  - {i}\n" for i in ids) +
            f"database:\n  path: {work}/{{tenant}}.db\n"
            "log:\n  level: warn\n"
            f"endpoints: [{', '.join(endpoints)}]\n")
    time.sleep(0.5)
    daemon = subprocess.Popen([f"{build}/stsync", "run", "-c", config],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        started = time.time()
        while not caught_up(build, config, n, len(endpoints)):
            if daemon.poll() is not None:
                sys.exit(f"stsync exited with {daemon.returncode}")
            time.sleep(0.5)
        sync_s = time.time() - started
        time.sleep(2)  # let the last commits settle
        cpu0, t0 = cpu_seconds(daemon.pid), time.time()
        time.sleep(idle)
        cpu1, t1 = cpu_seconds(daemon.pid), time.time()
        st = proc_status(daemon.pid)
        return {
            "tenants": n,
            "sync_s": sync_s,
            "idle_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
            "rss_mb": int(st["VmRSS"].split()[0]) / 1024,
            "peak_mb": int(st["VmHWM"].split()[0]) / 1024,
            "threads": int(st["Threads"]),
        }
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        fake.terminate()
        fake.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--tenants", default="1,10,100")
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--endpoints", default="jobs,customers,invoices,zones,job-types")
    ap.add_argument("--idle", type=float, default=30)
    args = ap.parse_args()
    endpoints = args.endpoints.split(",")
    print(f"{len(endpoints)} endpoints per tenant ({', '.join(endpoints)}), "
          f"{args.records} records each, then {args.idle:.0f} s idle "
          "(interval 5m)\n")
    print("| tenants | initial sync | idle CPU (% of one core) | RSS idle | "
          "RSS peak | threads |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.tenants.split(",")):
        r = measure(args.build, n, args.records, endpoints, args.idle)
        print(f"| {n} | {r['sync_s']:.1f} s | {r['idle_cpu_pct']:.2f}% | "
              f"{r['rss_mb']:.1f} MB | {r['peak_mb']:.1f} MB | "
              f"{r['threads']} |", flush=True)


if __name__ == "__main__":
    main()

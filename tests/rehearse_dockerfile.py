#!/usr/bin/env python3
"""Rehearses the Dockerfile where no Docker engine runs (CI, this machine).

Each stage starts from a Debian 12 minbase tree made by debootstrap (what
debian:12-slim is made of), and its instructions are carried out as Docker
would: COPY from the build context or an earlier stage, RUN through
`/bin/sh -c` in a chroot at WORKDIR as the current USER. Then the final stage
is run as a container would be: ENTRYPOINT + CMD as its USER, against the
fake ServiceTitan on loopback, with a config and a client secret file
mounted where docs/operations.md says; its HEALTHCHECK must turn healthy, and its
STOPSIGNAL must stop it with exit 0 within Docker's 10 s, the rows kept.

What this is not: no image layers, no namespaces or cgroups, no network
isolation (the chroot shares the host's loopback). Instructions it does not
know fail the rehearsal, so that a new one gets rehearsed too.

Usage: rehearse_dockerfile.py DOCKERFILE STSYNC_FAKE_BINARY
Needs root and debootstrap; exits 77 (skipped) without them.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BASE_IMAGES = {"debian:12-slim": "bookworm"}
DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STOP_TIMEOUT_S = 10  # docker stop's default grace period


def fail(message):
    print(f"rehearse_dockerfile: {message}", file=sys.stderr)
    sys.exit(1)


def instructions(path):
    """(keyword, argument text) per instruction: continuations joined,
    comments and blank lines dropped."""
    out, pending = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.lstrip().startswith("#") or not line.strip():
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, arg = text.partition(" ")
            out.append((keyword.upper(), arg.strip()))
    if pending:
        fail("the Dockerfile ends inside a continued line")
    return out


def exec_form(arg, what):
    try:
        argv = json.loads(arg)
    except json.JSONDecodeError:
        fail(f"{what} is not in exec form: {arg}")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        fail(f"{what} is not a list of strings: {arg}")
    return argv


class Stage:
    def __init__(self, root, name):
        self.root, self.name = root, name
        self.workdir, self.user = "/", "root"
        self.env = {"PATH": DOCKER_PATH}
        self.entrypoint, self.cmd, self.health = [], [], None
        self.stopsignal = "SIGTERM"

    def inside(self, path):
        """`path` of the image, on the host."""
        absolute = path if path.startswith("/") else os.path.join(
            self.workdir, path)
        return os.path.join(self.root, absolute.lstrip("/"))

    def ids(self, user=None):
        """uid:gid and home of `user` (a name or a number) by the image's
        passwd."""
        user = user or self.user
        with open(os.path.join(self.root, "etc/passwd")) as f:
            for line in f:
                name, _, uid, gid, _, home = line.split(":")[:6]
                if user in (name, uid):
                    return f"{uid}:{gid}", home
        fail(f"USER {user} is not in the image's /etc/passwd")

    def argv(self, command, user=None):
        """`command` (a list) as run in the image, by `user`."""
        spec, home = self.ids(user)
        env = dict(self.env, HOME=home, HOSTNAME="rehearsal")
        return (["env", "-i"] + [f"{k}={v}" for k, v in env.items()] +
                ["chroot", f"--userspec={spec}", self.root, "env",
                 f"--chdir={self.workdir}"] + command)


def copy(sources, dest, stage):
    target = stage.inside(dest)
    into_dir = dest.endswith("/") or len(sources) > 1 or os.path.isdir(target)
    for src in sources:
        if not os.path.exists(src):
            fail(f"COPY: {src} does not exist")
        if os.path.isdir(src):
            shutil.copytree(src, target, dirs_exist_ok=True, symlinks=True)
        else:
            where = os.path.join(target, os.path.basename(src)) \
                if into_dir else target
            os.makedirs(os.path.dirname(where), exist_ok=True)
            shutil.copy2(src, where)


def build(dockerfile, work, pristine):
    context = os.path.dirname(os.path.abspath(dockerfile))
    stages, stage = {}, None
    for keyword, arg in instructions(dockerfile):
        words = arg.split()
        if keyword == "FROM":
            base = words[0]
            if base not in BASE_IMAGES:
                fail(f"FROM {base}: only {', '.join(BASE_IMAGES)} is known")
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" \
                else f"stage{len(stages)}"
            root = os.path.join(work, name)
            subprocess.run(["cp", "-a", pristine, root], check=True)
            shutil.copy2("/etc/resolv.conf", os.path.join(root, "etc"))
            stage = Stage(root, name)
            stages[name] = stage
            print(f"rehearse: FROM {base} ({name})", flush=True)
            continue
        if stage is None:
            fail(f"{keyword} before FROM")
        if keyword == "WORKDIR":
            stage.workdir = os.path.join(stage.workdir, arg)
            os.makedirs(stage.inside(stage.workdir), exist_ok=True)
        elif keyword == "COPY":
            origin = context
            if words[0].startswith("--from="):
                origin_stage = stages.get(words[0][len("--from="):])
                if origin_stage is None:
                    fail(f"COPY {arg}: no such stage")
                words = words[1:]
                sources = [origin_stage.inside(w) for w in words[:-1]]
            else:
                sources = [os.path.join(origin, w) for w in words[:-1]]
            copy(sources, words[-1], stage)
        elif keyword == "RUN":
            print(f"rehearse: RUN {arg[:70]}", flush=True)
            started = time.monotonic()
            r = subprocess.run(stage.argv(["/bin/sh", "-c", arg]),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode != 0:
                print(r.stdout[-4000:])
                fail(f"RUN failed with exit {r.returncode}: {arg}")
            print(f"rehearse:   done in {time.monotonic() - started:.0f} s",
                  flush=True)
        elif keyword == "USER":
            stage.ids(arg)  # must exist by now
            stage.user = arg
        elif keyword == "ENV":
            key, _, value = arg.partition("=")
            stage.env[key] = value
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = exec_form(arg, "ENTRYPOINT")
        elif keyword == "CMD":
            stage.cmd = exec_form(arg, "CMD")
        elif keyword == "HEALTHCHECK":
            stage.health = exec_form(arg[arg.index("CMD") + 3:].strip(),
                                     "HEALTHCHECK CMD")
        elif keyword == "STOPSIGNAL":
            stage.stopsignal = arg
        elif keyword == "VOLUME":
            os.makedirs(stage.inside(arg), exist_ok=True)
        else:
            fail(f"instruction {keyword} is not rehearsed; teach this script")
    if stage is None:
        fail("no FROM")
    return stage


def start_fake(fake_binary, work):
    ready = os.path.join(work, "fake.port")
    fake = subprocess.Popen(
        [fake_binary, "--port", "0", "--records", "300", "--page-size", "100",
         "--endpoints", "jobs,customers", "--ready-file", ready],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(ready) and open(ready).read().strip():
            return fake, int(open(ready).read())
        time.sleep(0.1)
    fake.kill()
    fail("the fake server did not start")


def run_container(image, fake_binary, work):
    spec, _ = image.ids()
    uid, gid = (int(x) for x in spec.split(":"))
    fake, port = start_fake(fake_binary, work)
    try:
        # What a user mounts: the config (read-only, root's) and the secret.
        config = image.inside("/etc/stsync/stsync.yaml")
        os.makedirs(os.path.dirname(config), exist_ok=True)
        with open(config, "w") as f:
            f.write(f"""servicetitan:
  environment: integration
  tenant: 1234567
  client_id: demo-client
  client_secret_file: /run/secrets/client_secret
  app_key: demo-app-key
  auth_url: http://127.0.0.1:{port}/connect/token
  api_url: http://127.0.0.1:{port}
database:
  path: /var/lib/stsync/stsync.db
endpoints: [jobs, customers]
defaults:
  interval: 2s
""")
        secret = image.inside("/run/secrets/client_secret")
        os.makedirs(os.path.dirname(secret), exist_ok=True)
        with open(secret, "w") as f:
            f.write("demo-secret")
        os.chown(secret, uid, gid)
        os.chmod(secret, 0o400)

        version = subprocess.run(image.argv(image.entrypoint + ["--version"]),
                                 capture_output=True, text=True)
        if version.returncode != 0:
            fail(f"the image's entrypoint does not run: {version.stderr}")
        print(f"rehearse: {version.stdout.strip()} runs as {image.user}")

        log = open(os.path.join(work, "container.log"), "w+")
        container = subprocess.Popen(image.argv(image.entrypoint + image.cmd),
                                     stdout=log, stderr=subprocess.STDOUT)
        healthy = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and container.poll() is None:
            if image.health and subprocess.run(
                    image.argv(image.health), capture_output=True).returncode == 0:
                healthy = True
                break
            time.sleep(0.5)
        if container.poll() is not None:
            log.seek(0)
            print(log.read()[-4000:])
            fail(f"the container exited with {container.returncode}")
        if not healthy:
            container.kill()
            log.seek(0)
            print(log.read()[-4000:])
            fail("HEALTHCHECK did not pass within 60 s")
        print("rehearse: HEALTHCHECK passes")

        signum = getattr(signal, image.stopsignal)
        stop_started = time.monotonic()
        container.send_signal(signum)
        try:
            code = container.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            container.kill()
            fail(f"{image.stopsignal} did not stop it within {STOP_TIMEOUT_S} s")
        log.seek(0)
        output = log.read()
        if code != 0:
            print(output[-4000:])
            fail(f"stopped by {image.stopsignal}, it exited with {code}")
        if "demo-secret" in output:
            fail("the container's log shows the client secret")
        db = sqlite3.connect(image.inside("/var/lib/stsync/stsync.db"))
        rows = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        owner = os.stat(image.inside("/var/lib/stsync/stsync.db")).st_uid
        if rows != 300 or check != "ok" or owner != uid:
            fail(f"after the stop: {rows} jobs (want 300), integrity {check}, "
                 f"database owned by uid {owner} (want {uid})")
        print(f"rehearse: {image.stopsignal} stopped it with exit 0 in "
              f"{time.monotonic() - stop_started:.1f} s; 300 jobs kept, "
              "integrity ok, the database owned by its user")
    finally:
        fake.terminate()
        fake.wait()


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    dockerfile, fake_binary = sys.argv[1], os.path.abspath(sys.argv[2])
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        print("rehearse_dockerfile: SKIPPED: needs root and debootstrap")
        return 77
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rehearse.") as work:
        pristine = os.path.join(work, "pristine")
        print("rehearse: debootstrap --variant=minbase bookworm", flush=True)
        r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm",
                            pristine, "http://deb.debian.org/debian"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-3000:], r.stderr[-3000:])
            fail("debootstrap failed")
        image = build(dockerfile, work, pristine)
        run_container(image, fake_binary, work)
    print(f"rehearse_dockerfile: ok in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the desk's memory over unlock/lock cycles, and one unlock's peak per KDF profile (issue 14,
"Memory").

A benchmark, not a test: nothing asserts on a figure. It exits 0 whatever they are, and 1 only when
they cannot be trusted (a login or lock that did not answer as the desk does, an unlock that failed).

    .venv/bin/python bench/bench_memory.py              # 10,000 cases, 100 cycles, every profile (~2 min)
    .venv/bin/python bench/bench_memory.py --quick      # 2,000 cases, 30 cycles, no 1 GiB unlock (~40 s)
    .venv/bin/python bench/bench_memory.py --no-kdf     # the desk only

1. **Unlock/lock cycles.** A throwaway node (bench/scale_data.py: KDF profile ``interactive``,
   N synthetic cases), the real desk (``create_desk_app`` under uvicorn on 127.0.0.1, its own
   process), and per cycle over real HTTP: the unlock form, ``POST /login``, the case list,
   ``POST /lock``. The desk's VmRSS is read from /proc/PID/status once it has settled after each
   lock (its background threads done). Printed: the RSS after cycles 1, 10, 50 and 100 against the
   same run's baseline, the RSS right after the first login, and the growth per cycle.
2. **Unlocks never locked.** Logins from fresh clients (a browser closed, a cookie lost) whose
   sessions stay unlocked until their idle lock: the RSS after each, for the desk as it is and for a
   variant whose sessions each open their own connection to cases.db (as every desk did before
   issue 14), in the same run.
3. **One unlock per KDF profile.** For each profile (and the ``sensitive`` parameters before issue
   14: 1 GiB, opslimit 4), a keyring made in a process of its own, then a fresh process that loads
   it and reads VmHWM and ru_maxrss before and after ``Keyring.unlock``, with wall and CPU time;
   the baseline is a fresh process that loads the keyring and does not unlock.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_data import PASSPHRASE, USER, make_node  # noqa: E402

MIB = 2**20
OLD_SENSITIVE = ("sensitive before issue 14", 4, 1 << 30)  # libsodium's SENSITIVE: opslimit 4, 1 GiB

# The desk in a process of its own; with "per-session", each unlock opens its own connection to
# cases.db again (the desk before issue 14), for the same-run comparison of part 2; with "no-trim",
# freed memory is not handed back to the system after the last lock (for part 1, --desk-variant).
DESK = """
import sys, uvicorn
from pathlib import Path
from intake.settings import Settings
from intake.desk.app import create_desk_app
from intake.desk import shared
if sys.argv[3] == "per-session":
    shared.SharedCases.lease = lambda self, keys, open_store: open_store()
if sys.argv[3] == "no-trim":
    shared.give_back_memory = lambda: None
settings = Settings.load(Path(sys.argv[1]), env={})
uvicorn.run(create_desk_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MiB and the thread count of a process, from /proc/PID/status."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
        elif key == "Threads":
            out[key] = int(value)
    return out


def settled(pid: int, threads: float = 0, limit: float = 60.0) -> dict[str, float]:
    """The process's status once it has no more than ``threads`` threads (0: any number) and its
    thread count and RSS have held still for 0.2 s, or after ``limit`` seconds. The desk's
    background integrity checks (one thread each, intake/desk/health.py) end before it is read."""
    stop = time.monotonic() + limit
    last, still = status(pid), 0
    while still < 4 and time.monotonic() < stop:
        time.sleep(0.05)
        now = status(pid)
        same = now["Threads"] == last["Threads"] and abs(now["VmRSS"] - last["VmRSS"]) < 0.05
        still, last = (still + 1 if same and (not threads or now["Threads"] <= threads) else 0), now
    return last


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Desk:
    """The real desk under uvicorn in a child process, and an HTTP client for it."""

    def __init__(self, home: Path, log: Path, variant: str = "shared") -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DESK, str(home), str(self.port), variant],
            cwd=ROOT, env=env, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        self.threads = 0.0
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while True:
                try:
                    client.get("/login")
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError(f"desk did not start; see {log}") from None
                    time.sleep(0.2)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=120, follow_redirects=False)

    def status(self) -> dict[str, float]:
        return status(self.proc.pid)

    def settled(self) -> dict[str, float]:
        """Settled, with at most one thread more than at start (the request thread pool's worker)."""
        if not self.threads:
            self.threads = settled(self.proc.pid)["Threads"] + 1
        return settled(self.proc.pid, self.threads)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def token(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    if found is None:
        raise RuntimeError("no form token on the page")
    return found.group(1)


def login(client: httpx.Client) -> str:
    """Unlock through the form, then load the case list; the case list's form token (for the lock)."""
    r = client.post("/login", data={"csrf": token(client.get("/login").text), "user": USER, "passphrase": PASSPHRASE})
    if r.status_code != 303 or "desk" not in client.cookies:
        raise RuntimeError(f"login answered {r.status_code}")
    page = client.get("/cases")
    if page.status_code != 200:
        raise RuntimeError(f"case list answered {page.status_code}")
    return token(page.text)


def lock(client: httpx.Client, csrf: str) -> None:
    r = client.post("/lock", data={"csrf": csrf})
    if r.status_code != 303 or r.headers.get("location") != "/login":
        raise RuntimeError(f"lock answered {r.status_code}")
    client.cookies.clear()


def cases_db_fds(pid: int, path: Path) -> int:
    """How many connections the process holds to ``path`` (one descriptor each for the main file)."""
    target = str(path.resolve())
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd) == target
        except OSError:
            continue
    return count


def cycles(home: Path, n: int, logs: Path, variant: str = "shared") -> dict[str, Any]:
    """Part 1: ``n`` unlock/lock cycles; the settled RSS after each lock."""
    desk = Desk(home, logs / "desk-cycles.log", variant)
    try:
        idle = desk.settled()
        series: dict[int, float] = {}
        with desk.client() as client:
            for i in range(1, n + 1):
                csrf = login(client)
                if i == 1:
                    first = desk.settled()
                lock(client, csrf)
                series[i] = desk.settled()["VmRSS"]
        end = desk.status()
        return {"idle": idle, "first": first, "series": series, "hwm": end["VmHWM"],
                "fds": cases_db_fds(desk.proc.pid, home / "cases.db")}  # fmt: skip
    finally:
        desk.stop()


def open_logins(home: Path, m: int, logs: Path, variant: str) -> dict[str, Any]:
    """Part 2: ``m`` unlocks from fresh clients that never lock; the settled RSS after each."""
    desk = Desk(home, logs / f"desk-open-{variant}.log", variant)
    clients: list[httpx.Client] = []
    try:
        idle = desk.settled()
        series: dict[int, float] = {}
        for i in range(1, m + 1):
            clients.append(desk.client())
            login(clients[-1])
            series[i] = desk.settled()["VmRSS"]
        return {"idle": idle, "series": series, "fds": cases_db_fds(desk.proc.pid, home / "cases.db")}
    finally:
        for c in clients:
            c.close()
        desk.stop()


KDF_CHILD = """
import json, os, resource, sys, time
from pathlib import Path
from crypto.kdf import PROFILES, KdfProfile
from crypto.keyring import Keyring

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

mode, path, user, passphrase = sys.argv[1:5]
if mode == "make":
    name, ops, mem = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    PROFILES.setdefault(name, KdfProfile(name, ops, mem))
    Keyring.create(Path(path), user=user, passphrase=passphrase, profile=name)
    sys.exit(0)
ring = Keyring.load(Path(path))
before, r0, t0 = hwm(), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
if mode == "unlock":
    ring.unlock(user, passphrase)
wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
print(json.dumps({"hwm_before": before, "hwm_after": hwm(), "maxrss": r1.ru_maxrss / 1024, "wall": wall,
                  "cpu": cpu, "load": os.getloadavg()[0]}))
"""


def kdf_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", KDF_CHILD, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"KDF child {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads(done.stdout)) if done.stdout.strip() else {}


def kdf_peaks(work: Path, *, old: bool, runs: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Part 3: the baseline process and, per profile, one unlock in each of ``runs`` fresh processes."""
    from crypto.kdf import PROFILES

    plan = [(name, name, PROFILES[name].opslimit, PROFILES[name].memlimit) for name in
            ("interactive", "moderate", "sensitive")]  # fmt: skip
    if old:
        label, ops, mem = OLD_SENSITIVE
        plan.append((label, "sensitive-before", ops, mem))
    rows: list[dict[str, Any]] = []
    for label, name, ops, mem in plan:
        ring = work / f"keyring-{name}.json"
        kdf_child("make", str(ring), USER, PASSPHRASE, name, str(ops), str(mem))
        found = [kdf_child("unlock", str(ring), USER, PASSPHRASE) for _ in range(runs)]
        rows.append({"label": label, "opslimit": ops, "memlimit": mem,
                     "wall": min(f["wall"] for f in found), "cpu": min(f["cpu"] for f in found),
                     "hwm_before": max(f["hwm_before"] for f in found), "hwm_after": max(f["hwm_after"] for f in found),
                     "maxrss": max(f["maxrss"] for f in found), "load": found[-1]["load"]})  # fmt: skip
        print(f"  unlocked {label} ({runs}x, load average {load_average()})", flush=True)
    baseline = kdf_child("none", str(work / "keyring-interactive.json"), USER, PASSPHRASE)
    return baseline, rows


def growth(series: dict[int, float], start: int) -> float:
    """KiB per step from step ``start`` to the last (least squares), so one noisy reading weighs little."""
    xs = [x for x in series if x >= start]
    if len(xs) < 2:
        return 0.0
    mx = sum(xs) / len(xs)
    my = sum(series[x] for x in xs) / len(xs)
    slope = sum((x - mx) * (series[x] - my) for x in xs) / sum((x - mx) ** 2 for x in xs)
    return slope * 1024


def report_cycles(found: dict[str, Any], n: int) -> None:
    base = found["first"]["VmRSS"]
    series = found["series"]
    print("\n## 1. unlock/lock cycles (desk RSS settled after each lock; baseline: RSS after the 1st login)")
    print(f"  desk idle, before any login       {found['idle']['VmRSS']:8.1f} MiB")
    print(f"  baseline: after the 1st login     {base:8.1f} MiB  (unlocked, case list loaded)")
    for i in sorted({1, 10, 50, 100, n}):
        if i in series:
            print(f"  after cycle {i:4d}                  {series[i]:8.1f} MiB  {series[i] / base:6.3f}x baseline")
    last = series[n]
    print(f"  cycle {n} minus cycle 1: {last - series[1]:+.1f} MiB; growth from cycle 10 on: "
          f"{growth(series, 10):+.1f} KiB/cycle; VmHWM {found['hwm']:.1f} MiB; "
          f"cases.db descriptors left open after the last lock: {found['fds']}")  # fmt: skip


def report_open(found: dict[str, dict[str, Any]], m: int) -> None:
    print(f"\n## 2. {m} unlocks from fresh clients, never locked (sessions wait for their idle lock)")
    for variant, what in (("shared", "one connection for every session (now)"),
                          ("per-session", "a connection per session (before issue 14)")):  # fmt: skip
        if variant not in found:
            continue
        s = found[variant]["series"]
        print(f"  {what:44s} after 1: {s[1]:7.1f} MiB, after {m}: {s[m]:7.1f} MiB "
              f"({growth(s, 1):+7.1f} KiB/login); cases.db descriptors open: {found[variant]['fds']}")  # fmt: skip


def report_kdf(baseline: dict[str, Any], rows: list[dict[str, Any]], desk_mib: float | None) -> None:
    print("\n## 3. one unlock per KDF profile (each in a fresh process; baseline: the same process, no unlock)")
    print(f"  baseline process: VmHWM {baseline['hwm_after']:.1f} MiB")
    moderate = next((r for r in rows if r["label"] == "moderate"), None)
    head = f"  {'profile':28s} {'ops':>4s} {'memlimit':>9s} {'wall s':>7s} {'CPU s':>6s} {'xCPU mod':>8s}"
    print(head + f" {'VmHWM before':>12s} {'peak':>8s} {'peak-base':>9s}" + ("  desk peak" if desk_mib else ""))
    for r in rows:
        ratio = r["cpu"] / moderate["cpu"] if moderate and moderate["cpu"] else 0.0
        over = r["hwm_after"] - baseline["hwm_after"]
        line = (f"  {r['label']:28s} {r['opslimit']:4d} {r['memlimit'] // MIB:5d} MiB {r['wall']:7.2f} {r['cpu']:6.2f}"
                f" {ratio:7.2f}x {r['hwm_before']:8.1f} MiB {r['hwm_after']:6.0f} MiB {over:5.0f} MiB")  # fmt: skip
        print(line + (f"  ~{desk_mib + over:4.0f} MiB" if desk_mib else ""))
    if desk_mib:
        print(f"  (desk peak: the desk's RSS after a login, {desk_mib:.0f} MiB, plus the unlock's peak over baseline)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000, help="cases in the throwaway node (default 10000)")
    ap.add_argument("--cycles", type=int, default=100, help="unlock/lock cycles (default 100)")
    ap.add_argument("--open-logins", type=int, default=20, help="unlocks never locked, per variant (default 20)")
    ap.add_argument("--kdf-runs", type=int, default=2, help="fresh processes per KDF profile (default 2)")
    ap.add_argument("--quick", action="store_true", help="2,000 cases, 30 cycles, 8 open logins, 1 run per profile, "
                    "no 1 GiB unlock")  # fmt: skip
    ap.add_argument("--no-kdf", action="store_true", help="skip part 3")
    ap.add_argument("--kdf-only", action="store_true", help="part 3 only")
    ap.add_argument("--desk-variant", choices=("shared", "per-session", "no-trim"), default="shared",
                    help="part 1 with a connection per session, or without handing memory back")  # fmt: skip
    ap.add_argument("--no-open", action="store_true", help="skip part 2")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway folder (desk logs)")
    args = ap.parse_args()
    if args.quick:
        args.cases, args.cycles, args.open_logins, args.kdf_runs = 2_000, 30, 8, 1
    print(f"# bench_memory: load average {load_average()}; {os.cpu_count()} CPUs", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        desk_mib = None
        if not args.kdf_only:
            t = time.perf_counter()
            node = make_node(work / "node", args.cases)
            print(f"  node with {args.cases:,} cases ({node.size_mb:.0f} MiB) built in {time.perf_counter() - t:.1f} s",
                  flush=True)  # fmt: skip
            found = cycles(node.home, args.cycles, work, args.desk_variant)
            report_cycles(found, args.cycles)
            desk_mib = found["first"]["VmRSS"]
            print(f"  (load average {load_average()})", flush=True)
            if not args.no_open:
                opened = {v: open_logins(node.home, args.open_logins, work, v) for v in ("shared", "per-session")}
                report_open(opened, args.open_logins)
                print(f"  (load average {load_average()})", flush=True)
        if not args.no_kdf:
            baseline, rows = kdf_peaks(work, old=not args.quick, runs=args.kdf_runs)
            report_kdf(baseline, rows, desk_mib)
        print(f"\n# load average at the end: {load_average()}")
        return 0
    except RuntimeError as exc:
        print(f"bench_memory: figures not trustworthy: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

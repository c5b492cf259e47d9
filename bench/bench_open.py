"""Benchmark: opening cases.db and unlocking the desk at 10,000 to 1,000,000 cases (issue 14, item 2).

A benchmark, not a test: nothing asserts on a timing and it exits 0 whatever the figures are.

    .venv/bin/python bench/bench_open.py --quick                     # 10,000 cases, few tries
    .venv/bin/python bench/bench_open.py                             # 10,000 and 100,000
    .venv/bin/python bench/bench_open.py --cases 10000 100000 1000000 --cache /tmp/scale/cache

For each size, a throwaway node (KDF profile ``interactive``) holding N synthetic cases (built by
bench/scale_data.py when it is there, else by bench/bench_desk.py's loader), and in the same run a
baseline node holding none. Every figure is taken warm (the files in the page cache) and cold
(``posix_fadvise(DONTNEED)`` on cases.db and its -wal before each try: no root needed), as the
median of ``--tries`` tries:

- **open**: ``CasesStore(cases.db)`` and ``close()`` in this process (what every ``intake`` command
  and every desk unlock does); the baseline is the empty node's open, and the ratio N / baseline.
- **open + quick_check**: what every open did before issue 14, for comparison (``--no-old`` skips it).
- **check**: ``Store.check()`` (quick_check on its own connection), as ``intake check`` and the
  desk's background check after an unlock run it.
- **KDF**: ``Keyring.unlock`` alone (Argon2id, profile interactive), in this process.
- **login**: ``POST /login`` through the real desk (``create_desk_app`` under uvicorn in its own
  process, real HTTP on 127.0.0.1), from the posted form to the 303; the KDF is inside it. Right
  before each login this process runs the same KDF alone, and ``login minus that KDF`` is the
  median of the differences, pair by pair (what the login adds: open, session, drain, redirect).
  Then ``GET /cases`` (the first page a caseworker sees; the background check is running by then)
  and ``POST /lock``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crypto import Keyring  # noqa: E402
from intake.node import init_node, open_cases, unlock  # noqa: E402
from intake.settings import Settings  # noqa: E402

try:  # the fast 1M builder (issue 14, item 6), when it is there
    from bench import scale_data
except ImportError:
    scale_data = None  # type: ignore[assignment]

USER = "admin"
PASSPHRASE = "bench passphrase, synthetic data only"  # noqa: S105 - throwaway node; scale_data uses the same
AIM_S = 0.5
DESK = """
import sys, uvicorn
from pathlib import Path
from intake.settings import Settings
from intake.desk.app import create_desk_app
settings = Settings.load(Path(sys.argv[1]), env={})
uvicorn.run(create_desk_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def drop_cache(home: Path) -> None:
    """Evict cases.db and its -wal from the page cache (clean pages only: fsync first)."""
    for name in ("cases.db", "cases.db-wal"):
        try:
            fd = os.open(home / name, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm_cache(home: Path) -> None:
    """Read cases.db whole once, so 'warm' means every page in the page cache."""
    with (home / "cases.db").open("rb") as fh:
        while fh.read(1 << 20):
            pass


def median_s(fn: Callable[[], Any], tries: int, before: Callable[[], None] | None = None) -> float:
    """Median seconds of ``fn`` over ``tries`` (``before`` runs untimed before each try)."""
    out: list[float] = []
    for _ in range(tries):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


# -- nodes -------------------------------------------------------------------------------------------------
def make_node(home: Path, n: int, cache: Path | None) -> str:
    """A node at ``home`` with ``n`` cases; returns how it was built (for the report)."""
    if scale_data is not None:
        built = scale_data.make_node(home, n, cache=cache)
        how = "scale_data (cached copy)" if built.cached else "scale_data"
        return f"{how}, {built.size_mb:,.0f} MB"
    init_node(Settings.load(home, env={}), user=USER, passphrase=PASSPHRASE, profile="interactive")
    if n:
        from bench import bench_desk

        keys = unlock(Settings.load(home, env={}), USER, PASSPHRASE)
        ctx = multiprocessing.get_context("spawn")  # no cipher_memory_security there (bench_desk explains)
        with ctx.Pool(1) as pool:
            pool.apply(bench_desk.load, (str(home / "cases.db"), keys.cases_db_key.hex(), n))
    size = sum(p.stat().st_size for p in home.glob("cases.db*")) / 2**20
    return f"bench_desk loader, {size:,.0f} MB"


def checkpoint(home: Path) -> None:
    settings = Settings.load(home, env={})
    store = open_cases(settings, unlock(settings, USER, PASSPHRASE))
    try:
        with store._lock:
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        store.close()


def count_cases(home: Path) -> int:
    settings = Settings.load(home, env={})
    store = open_cases(settings, unlock(settings, USER, PASSPHRASE))
    try:
        with store._lock:
            return int(store._conn.execute("SELECT count(*) FROM cases").fetchone()[0])
    finally:
        store.close()


# -- in this process ----------------------------------------------------------------------------------------
def measure_open(home: Path, tries: int, old: bool) -> dict[str, float]:
    settings = Settings.load(home, env={})
    keys = unlock(settings, USER, PASSPHRASE)
    out: dict[str, float] = {}

    def just_open() -> None:
        open_cases(settings, keys).close()

    def open_and_check() -> None:
        store = open_cases(settings, keys)
        try:
            with store._lock:
                store._conn.execute("PRAGMA quick_check").fetchall()
        finally:
            store.close()

    def check() -> None:
        store = open_cases(settings, keys)
        try:
            store.check()
        finally:
            store.close()

    plans: list[tuple[str, Callable[[], None], int]] = [("open", just_open, tries)]
    if old:
        plans.append(("open + quick_check (before issue 14)", open_and_check, max(1, tries // 3)))
        plans.append(("check (intake check, desk background)", check, max(1, tries // 3)))
    for name, fn, count in plans:
        warm_cache(home)
        fn()  # warm-up: Python, SQLCipher, the page cache
        out[f"{name}, warm"] = median_s(fn, count)
        out[f"{name}, cold"] = median_s(fn, count, before=lambda: drop_cache(home))
    ring = Keyring.load(settings.keyring_path)
    out["KDF (Keyring.unlock, interactive)"] = median_s(lambda: ring.unlock(USER, PASSPHRASE), max(2, tries // 2))
    return out


# -- through the real desk ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no form token on the page")
    return found.group(1)


def measure_login(home: Path, tries: int, log_path: Path) -> dict[str, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", DESK, str(home), str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600, follow_redirects=False) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/login")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError(f"the desk did not start; see {log_path}") from None
                    time.sleep(0.1)

            ring = Keyring.load(home / "keyring.json")

            def one(before: Callable[[], None]) -> tuple[float, float, float]:
                form = {"csrf": token_of(client.get("/login").text), "user": USER, "passphrase": PASSPHRASE}
                # The KDF alone, right before each login: under a shared machine's changing load a
                # KDF timed minutes apart says little about the one inside this login.
                t = time.perf_counter()
                ring.unlock(USER, PASSPHRASE)
                kdf_s = time.perf_counter() - t
                before()
                t = time.perf_counter()
                r = client.post("/login", data=form)
                login_s = time.perf_counter() - t
                if r.status_code != 303 or r.headers.get("location") != "/cases":
                    raise RuntimeError(f"login answered {r.status_code}; see {log_path}")
                t = time.perf_counter()
                page = client.get("/cases")
                first_s = time.perf_counter() - t
                if page.status_code != 200:
                    raise RuntimeError(f"GET /cases answered {page.status_code}")
                client.post("/lock", data={"csrf": token_of(page.text)})
                client.cookies.clear()
                time.sleep(0.3)  # untimed: the lock stops the session's background check
                return login_s, first_s, kdf_s

            one(lambda: None)  # warm-up: imports, templates, the statement cache
            out: dict[str, float] = {}
            for label, before in (("warm", lambda: warm_cache(home)), ("cold", lambda: drop_cache(home))):
                runs = [one(before) for _ in range(tries)]
                out[f"login (POST /login), {label}"] = statistics.median(r[0] for r in runs)
                out[f"first page (GET /cases), {label}"] = statistics.median(r[1] for r in runs)
                out[f"KDF just before each login, {label}"] = statistics.median(r[2] for r in runs)
                out[f"login minus that KDF, {label}"] = statistics.median(r[0] - r[2] for r in runs)
            return out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the run ------------------------------------------------------------------------------------------------
def measure(home: Path, args: argparse.Namespace, label: str) -> dict[str, float]:
    print(f"[{label}] measuring in-process opens (load average {load_average()})", flush=True)
    figures = measure_open(home, args.tries, not args.no_old)
    print(f"[{label}] measuring desk logins (load average {load_average()})", flush=True)
    figures |= measure_login(home, args.tries, home.parent / f"desk-{label}.log")
    return figures


def report(n: int, figures: dict[str, float], baseline: dict[str, float], loads: str) -> None:
    print(f"\n== {n:,} cases (load average during: {loads}) ==")
    print(f"{'figure':48s} {'seconds':>10s} {'baseline':>10s} {'ratio':>8s}  aim")
    for name, value in figures.items():
        base = baseline.get(name)
        ratio = f"{value / base:8.2f}" if base else f"{'':8s}"
        aimed = name.startswith(("open, ", "login "))
        aim = ("ok" if value <= AIM_S else f"MISSED (> {AIM_S} s)") if aimed else ""
        print(f"{name:48s} {value:10.4f} {base if base is not None else float('nan'):10.4f} {ratio}  {aim}")
    print(flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000], help="sizes (default 10000 100000)")
    ap.add_argument("--tries", type=int, default=7, help="tries per figure, warm and cold each (median)")
    ap.add_argument("--quick", action="store_true", help="10,000 cases, 3 tries")
    ap.add_argument("--no-old", action="store_true", help="skip open + quick_check and check (slow at 1M)")
    ap.add_argument("--cache", type=Path, help="scale_data's cache of built nodes (reused across runs)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scale", help="throwaway nodes here")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway nodes")
    ap.add_argument(
        "--node", type=Path, nargs="*", default=[], help="also measure these existing nodes (user admin, the bench "
        "passphrase; e.g. a copy of a cached 1M node), in place"
    )  # fmt: skip
    args = ap.parse_args()
    if args.quick:
        args.cases, args.tries = [10_000], 3
    args.work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-open-", dir=args.work))
    builder = "bench/scale_data.py" if scale_data is not None else "bench/bench_desk.py's loader"
    print(f"bench_open: sizes {args.cases}, {args.tries} tries, cases built by {builder}", flush=True)
    print(f"load average at start: {load_average()}; {os.cpu_count()} CPUs", flush=True)
    try:
        print(make_node(tmp / "empty", 0, None), flush=True)
        baseline = measure(tmp / "empty", args, "baseline, 0 cases")
        report(0, baseline, baseline, load_average())
        for n in args.cases:
            home = tmp / f"n{n}"
            t = time.perf_counter()
            print(f"[{n:,}] building (load average {load_average()})", flush=True)
            how = make_node(home, n, args.cache)
            checkpoint(home)
            print(f"[{n:,}] {how}, ready in {time.perf_counter() - t:.0f} s", flush=True)
            before = load_average()
            figures = measure(home, args, f"{n:,}")
            report(n, figures, baseline, f"{before} -> {load_average()}")
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
        for home in args.node:
            n = count_cases(home)
            print(f"[{n:,}] existing node {home}", flush=True)
            checkpoint(home)
            before = load_average()
            figures = measure(home, args, f"{n:,}")
            report(n, figures, baseline, f"{before} -> {load_average()}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: years of cases, 10,000 to 1,000,000 of them (issue 14, item 6).

A benchmark, not a test: nothing asserts on a timing. It exits 0 whatever the figures are, and 1
only when a figure cannot be trusted (a drained report not stored, a page that did not answer 200).

    .venv/bin/python bench/bench_scale.py --quick                          # 10,000 cases, few tries
    .venv/bin/python bench/bench_scale.py                                  # 10,000 and 100,000
    .venv/bin/python bench/bench_scale.py --sizes 10000 100000 1000000     # all three (~1M: see below)

Stores are built by bench/scale_data.py (realistic mixed-language cases, ~2.8 GB at 1M) and kept
under ``--cache`` (default /tmp/scale/cache), so a second run at 1M copies instead of building.
In the same run, an empty node is the baseline of every figure that has no other. For each size:

- **build**: seconds and rows/s of building the store (those of the cached build when copied);
- **open**: ``open_cases`` + ``close`` in this process, warm and cold (``posix_fadvise(DONTNEED)``
  on cases.db and its -wal before each try), against the empty node's;
- **login**: the real desk (``create_desk_app`` under uvicorn, a child process, 127.0.0.1): POST of
  the unlock form with its token until the 303, warm and cold, against the empty node's; the KDF
  (``Keyring.unlock``, profile interactive) timed apart; then how long the desk stays busy after an
  unlock (its background integrity check) before the figures below are taken;
- **filters**: every filter of the desk list (``Filters``: status, category, channel, locale,
  severity, factory, overdue), and combinations, each alone and with a search, p50/p95 in-process
  (``CaseWork.find``) and over HTTP (``GET /cases?...``), against the unfiltered first page;
- **search**: a common word, the rare word (one case in 20,000), no match, two characters (which
  the trigram index cannot serve);
- **case page**: ``GET /cases/{id}`` p95, against ``GET /login`` (HTTP and a template, no store);
- **desk memory**: VmRSS after the unlock and after 100 page views (aim: flat);
- **drain**: ``intake.drain.drain`` of ``--drain`` queued reports into the store of that size,
  against the floor of bench/bench_drain.py (the same sealed items opened and inserted into a fresh
  cases.db, timed before and after the drain) and against the drain into the empty node.

Ends with a table per size: each figure, its baseline, the ratio, the issue's aim and whether it
is met; and the load average, as other work on the machine moves every figure.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale_data  # noqa: E402
from scale_desk import Desk  # noqa: E402

from crypto import Keyring  # noqa: E402
from intake.domain import CaseStatus, Category, Channel  # noqa: E402
from intake.drain import drain  # noqa: E402
from intake.node import open_cases, open_inbox, unlock  # noqa: E402
from intake.settings import Settings  # noqa: E402
from intake.store.casework import SEVERITIES, CaseWork, Filters  # noqa: E402

try:  # the drain benchmark's reports and floor (issue 14, item 1), when it is there
    import bench_drain
except ImportError:
    bench_drain = None  # type: ignore[assignment]

AIM_OPEN_S = 0.5  # open and login at 1M
AIM_FILTER_MS = 100.0  # every filter p95 at 1M
AIM_DRAIN = 0.5  # drain rate / floor
AIM_FLAT = 0.10  # desk RSS: at most this share above its level after the unlock
AIM_BUILD_S = 300.0  # 1M cases built in under 5 minutes
MILLION = 1_000_000
USER, PASSPHRASE = scale_data.USER, scale_data.PASSPHRASE
COMMON = ["overtime", "加班费", "tăng ca", "বেতন", "lembur", "horas extra"]
NO_MATCH = ["Xylophonist", "zqxwvk", "Квазимодо"]
TWO_CHARS = ["工资", "宿舍"]  # shorter than a trigram: the desk scans descriptions with LIKE


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def timed(fn: Callable[[int], Any], count: int, max_seconds: float) -> list[float]:
    """Milliseconds of ``fn(i)`` for i = 1, 2, ... after an untimed warm-up ``fn(0)``: ``count`` times,
    or fewer (at least 3) once ``max_seconds`` have passed. A figure whose warm-up alone took longer
    than ``max_seconds`` gets that one sample (slow is slow; a 1M run must end)."""
    t = time.perf_counter()
    fn(0)
    first = (time.perf_counter() - t) * 1000
    if first > max_seconds * 1000:
        return [first]
    out: list[float] = []
    stop = time.perf_counter() + max_seconds
    for i in range(1, count + 1):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
        if len(out) >= 3 and time.perf_counter() > stop:
            break
    return out


def median_s(fn: Callable[[], Any], tries: int, before: Callable[[], None] | None = None) -> float:
    out = []
    for _ in range(tries):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def drop_cache(home: Path) -> None:
    """Cold: cases.db and its -wal out of the page cache (written back first: DONTNEED drops clean pages)."""
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
    with (home / "cases.db").open("rb") as fh:
        while fh.read(1 << 20):
            pass


# -- the filters --------------------------------------------------------------------------------------------
Plan = Callable[[int], Filters]


def plans(factory_ids: list[int]) -> dict[str, Plan]:
    """Every filter of the desk list and the combinations a caseworker uses, each alone and with a
    search; the i-th call takes the i-th value of each field (so every value is asked in turn)."""
    statuses, categories = [s.value for s in CaseStatus], [c.value for c in Category]
    channels, locales = [c.value for c in Channel], list(scale_data.LOCALES)

    def v(values: list[Any], i: int, step: int = 1) -> Any:
        return values[(i * step) % len(values)]

    alone: dict[str, Plan] = {
        "status": lambda i: Filters(status=v(statuses, i)),
        "category": lambda i: Filters(category=v(categories, i)),
        "channel": lambda i: Filters(channel=v(channels, i)),
        "locale": lambda i: Filters(locale=v(locales, i)),
        "severity": lambda i: Filters(severity=v(list(SEVERITIES), i)),
        "factory": lambda i: Filters(factory_id=v(factory_ids, i)),
        "overdue": lambda i: Filters(overdue=True),
        "status + category": lambda i: Filters(status=v(statuses, i), category=v(categories, i, 3)),
        "status + severity": lambda i: Filters(status=v(statuses, i), severity=v(list(SEVERITIES), i, 3)),
        "severity + channel": lambda i: Filters(severity=v(list(SEVERITIES), i), channel=v(channels, i, 3)),
        "locale + status": lambda i: Filters(locale=v(locales, i), status=v(statuses, i, 3)),
        "category + severity + channel": lambda i: Filters(
            category=v(categories, i), severity=v(list(SEVERITIES), i, 3), channel=v(channels, i, 5)
        ),
        "factory + status": lambda i: Filters(factory_id=v(factory_ids, i), status=v(statuses, i, 3)),
        "overdue + category": lambda i: Filters(overdue=True, category=v(categories, i)),
        "overdue + severity": lambda i: Filters(overdue=True, severity=v(list(SEVERITIES), i)),
        "all five fields": lambda i: Filters(
            status=v(statuses, i),
            category=v(categories, i, 3),
            channel=v(channels, i, 5),
            locale=v(locales, i, 7),
            severity=v(list(SEVERITIES), i, 11),
        ),
    }
    out: dict[str, Plan] = {"first page (no filter)": lambda i: Filters()}
    for name, plan in alone.items():
        out[name] = plan
        out[f"{name} + search"] = lambda i, plan=plan: replace(plan(i), q=v(COMMON, i))  # type: ignore[misc]
    out["search: common word"] = lambda i: Filters(q=v(COMMON, i))
    out["search: rare word"] = lambda i: Filters(q=scale_data.RARE)
    out["search: no match"] = lambda i: Filters(q=v(NO_MATCH, i))
    out["search: two characters (LIKE)"] = lambda i: Filters(q=v(TWO_CHARS, i))
    return out


def params_of(f: Filters) -> dict[str, str]:
    """The desk list's query string for these filters (intake/desk/cases.py reads the same names)."""
    out = {k: getattr(f, k) for k in ("status", "category", "channel", "locale", "severity", "q") if getattr(f, k)}
    if f.factory_id is not None:
        out["factory"] = str(f.factory_id)
    if f.overdue:
        out["overdue"] = "1"
    return out


# -- figures --------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    name: str
    value: float  # NaN when it could not be measured
    unit: str  # "s", "ms", "MiB", "/s", "x"
    baseline: float | None = None
    baseline_of: str = ""  # what the baseline is
    aim: str = ""
    met: bool | None = None  # None: no aim at this size
    note: str = ""


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if value != value:  # NaN
        return "failed"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:,.0f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value:,.0f} ms"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.1f} {unit}"


def ratio(f: Figure) -> str:
    if f.baseline is None or not f.baseline or f.value != f.value:
        return ""
    return f"{f.value / f.baseline:.2f}x"


def report(n: int, figures: list[Figure]) -> None:
    print(f"\n== {n:,} cases ({os.cpu_count()} CPUs, load average now {load_average()}) ==")
    print(f"{'figure':46s} {'value':>12s} {'baseline':>12s} {'of':18s} {'ratio':>8s}  {'aim':22s} met")
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "NO")
        print(
            f"{f.name[:46]:46s} {fmt(f.value, f.unit):>12s} {fmt(f.baseline, f.unit):>12s} {f.baseline_of[:18]:18s} "
            f"{ratio(f):>8s}  {f.aim:22s} {met:3s} {f.note}"
        )
    missed = [f.name for f in figures if f.met is False]
    print(f"aims not met at {n:,}: {', '.join(missed) if missed else 'none'}")


NAN = float("nan")


# -- in this process -------------------------------------------------------------------------------------
def measure_open(home: Path, tries: int) -> dict[str, float]:
    """``open_cases`` + ``close`` warm and cold (median of ``tries``), and the KDF alone."""
    settings = Settings.load(home, env={})
    keys = unlock(settings, USER, PASSPHRASE)

    def just_open() -> None:
        open_cases(settings, keys).close()

    warm_cache(home)
    just_open()  # warm-up: imports, SQLCipher, the page cache
    out = {"open, warm": median_s(just_open, tries)}
    out["open, cold"] = median_s(just_open, tries, before=lambda: drop_cache(home))
    ring = Keyring.load(settings.keyring_path)
    out["KDF"] = median_s(lambda: ring.unlock(USER, PASSPHRASE), tries)
    return out


def factory_ids(home: Path) -> list[int]:
    """Factories of the register from the most linked (low ids: scale_data skews to them) to the least."""
    settings = Settings.load(home, env={})
    store = open_cases(settings, unlock(settings, USER, PASSPHRASE))
    try:
        with store._lock:
            ids = [int(r[0]) for r in store._conn.execute("SELECT id FROM factories ORDER BY id")]
    finally:
        store.close()
    if not ids:
        return [1]
    return sorted({ids[0], ids[1 % len(ids)], ids[4 % len(ids)], ids[len(ids) // 10], ids[len(ids) // 2], ids[-1]})


def measure_find(home: Path, todo: dict[str, Plan], args: argparse.Namespace, label: str) -> dict[str, list[float]]:
    """Milliseconds of ``CaseWork.find`` per plan, in this process (as the desk's thread runs it)."""
    settings = Settings.load(home, env={})
    keys = unlock(settings, USER, PASSPHRASE)
    store = open_cases(settings, keys)
    work, deadlines = CaseWork(store, keys), settings.deadlines()
    out: dict[str, list[float]] = {}
    try:
        for name, plan in todo.items():
            sizes: list[int] = []

            def one(i: int, plan: Plan = plan, sizes: list[int] = sizes) -> None:
                sizes.append(len(work.find(plan(i), deadlines)))

            ms = out[name] = timed(one, args.queries, args.max_seconds)
            print(
                f"[{label}] find {name:42s} p50 {pct(ms, 50):8.1f} ms  p95 {pct(ms, 95):8.1f} ms  "
                f"({len(ms)}; found {min(sizes)}-{max(sizes)} cases)",
                flush=True,
            )
    finally:
        store.close()
    return out


def measure_drain(home: Path, plain: list[tuple[str, bytes]], run: Path) -> dict[str, float]:
    """Reports/s of ``intake.drain.drain`` into this node, and of bench_drain's floor before and after."""
    assert bench_drain is not None
    settings = Settings.load(home, env={})
    keys = unlock(settings, USER, PASSPHRASE)
    sealed = bench_drain.seal_all(plain, keys)
    k = len(sealed)
    first = bench_drain.floor(run / "floor-a.db", keys.cases_db_key, sealed, keys)
    bench_drain.fill_inbox(settings, sealed)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        before = cases.count()
        t = time.perf_counter()
        result = drain(inbox, cases, keys)
        seconds = time.perf_counter() - t
        stored, left = cases.count() - before, inbox.count()
    finally:
        inbox.close()
        cases.close()
    second = bench_drain.floor(run / "floor-b.db", keys.cases_db_key, sealed, keys)
    for name in ("floor-a.db", "floor-b.db"):
        for side in ("", "-wal", "-shm"):
            (run / f"{name}{side}").unlink(missing_ok=True)
    trusted = result.cases == k and stored == k and left == 0
    if not trusted:
        print(f"  UNTRUSTED drain: {result.cases} new, {stored} stored, {left} left of {k}", flush=True)
    return {"drain": k / seconds, "floor": 2 * k / (first + second), "trusted": float(trusted)}


# -- through the real desk --------------------------------------------------------------------------------------
def measure_desk(home: Path, n: int, todo: dict[str, Plan], args: argparse.Namespace, label: str) -> dict[str, Any]:
    """Login (warm, cold), the settle after it, RSS, and every plan over HTTP (ms per request)."""
    out: dict[str, Any] = {}
    rng = random.Random(n)
    with Desk(home, home.parent / f"desk-{label}.log", user=USER, passphrase=PASSPHRASE) as desk:
        desk.login()  # warm-up: imports, templates, the statement cache
        desk.lock()
        for how in ("warm", "cold"):
            runs = []
            for _ in range(args.tries):
                if how == "cold":
                    drop_cache(home)
                runs.append(desk.login())
                desk.lock()  # stops the background check this unlock started
            out[f"login, {how}"] = statistics.median(runs)
        desk.login()
        out["busy after login"] = desk.settle(limit=60 + n / 2000)
        out["RSS after login"] = desk.memory_mb()["VmRSS"]
        pages = list(todo.values())
        for i in range(100):  # 100 page views: the list with a filter, a case, in turn
            if i % 2 or not n:
                desk.get("/cases", params_of(pages[i % len(pages)](i)))
            else:
                desk.get(f"/cases/{rng.randint(1, n)}")
        out["RSS after 100 views"] = desk.memory_mb()["VmRSS"]
        print(
            f"[{label}] login warm {out['login, warm']:.3f} s, cold {out['login, cold']:.3f} s; busy "
            f"{out['busy after login']:.0f} s after it; RSS {out['RSS after login']:.0f} -> "
            f"{out['RSS after 100 views']:.0f} MiB after 100 views",
            flush=True,
        )
        http: dict[str, list[float]] = {}
        for name, plan in todo.items():
            ms = http[name] = timed(
                lambda i, plan=plan: desk.get("/cases", params_of(plan(i))),  # type: ignore[misc]
                args.requests,
                args.max_seconds,
            )
            print(f"[{label}] GET  {name:42s} p50 {pct(ms, 50):8.1f} ms  p95 {pct(ms, 95):8.1f} ms  ({len(ms)})")
        if n:
            http["case page"] = timed(
                lambda i: desk.get(f"/cases/{rng.randint(1, n)}"), args.requests, args.max_seconds
            )
        http["login page"] = timed(lambda i: desk.get("/login"), args.requests, args.max_seconds)
        out["http"] = http
        mem = desk.memory_mb()
        out["RSS at the end"], out["RSS peak"], out["views"] = mem["VmRSS"], mem["VmHWM"], desk.views
    return out


# -- one size ------------------------------------------------------------------------------------------------------
def p95(samples: list[float] | None) -> float:
    return pct(samples, 95) if samples else NAN


def filter_figures(where: str, got: dict[str, list[float]]) -> list[Figure]:
    first = got.get("first page (no filter)")
    base = p95(first) if first else None
    out = [
        Figure(
            f"{where} p95: first page (no filter)", p95(first), "ms", note=f"p50 {pct(first, 50):.1f}" if first else ""
        )
    ]
    for name, ms in got.items():
        if name in ("first page (no filter)", "case page", "login page"):
            continue
        value = p95(ms)
        out.append(
            Figure(f"{where} p95: {name}", value, "ms", base, "first page", f"<= {AIM_FILTER_MS:.0f} ms",
                   value <= AIM_FILTER_MS, note=f"p50 {pct(ms, 50):.1f}, n={len(ms)}")
        )  # fmt: skip
    return out


def figures_of(n: int, found: dict[str, Any], base: dict[str, Any]) -> list[Figure]:
    """The table of one size: each figure with its baseline (the empty node's, or the first page's)."""
    out: list[Figure] = []
    b = found.get("build") or {}
    if b.get("total"):
        how = "cached build" if found.get("cached") else "built now"
        cpu = f"CPU {b.get('cpu_build', 0):.0f} s + {b.get('cpu_generate', 0):.0f} s generating"
        out.append(Figure(f"build ({how})", b["total"], "s", aim=f"< {AIM_BUILD_S:.0f} s at 1M",
                          met=b["total"] < AIM_BUILD_S if n >= MILLION else None, note=cpu))  # fmt: skip
        out.append(
            Figure(
                "build rate",
                n / b["total"],
                "/s",
                note=f"load average {b['load']:.1f} at the end" if "load" in b else "",
            )
        )
    for key in ("open, warm", "open, cold", "login, warm", "login, cold"):
        value = found.get(key, NAN)
        out.append(Figure(key, value, "s", base.get(key), "empty node", f"<= {AIM_OPEN_S} s", value <= AIM_OPEN_S))
    out.append(
        Figure("KDF (Keyring.unlock, inside the login)", found.get("KDF", NAN), "s", base.get("KDF"), "empty node")
    )
    out.append(Figure("desk busy after login (background check)", found.get("busy after login", NAN), "s",
                      base.get("busy after login"), "empty node"))  # fmt: skip
    out += filter_figures("find", found.get("find", {}))
    http = found.get("http", {})
    out += filter_figures("GET", http)
    if http.get("case page"):
        out.append(Figure("GET p95: case page", p95(http["case page"]), "ms", p95(http.get("login page")),
                          "GET /login", note=f"p50 {pct(http['case page'], 50):.1f}"))  # fmt: skip
    rss, after = found.get("RSS after login", NAN), found.get("RSS after 100 views", NAN)
    out.append(Figure("desk RSS after login", rss, "MiB", base.get("RSS after login"), "empty node"))
    out.append(Figure("desk RSS after 100 page views", after, "MiB", rss, "after login", f"flat (<= +{AIM_FLAT:.0%})",
                      after <= rss * (1 + AIM_FLAT)))  # fmt: skip
    end = found.get("RSS at the end", NAN)
    out.append(Figure("desk RSS at the end", end, "MiB", after, "after 100 views", f"flat (<= +{AIM_FLAT:.0%})",
                      end <= after * (1 + AIM_FLAT),
                      note=f"after {found.get('views', 0)} views; peak (VmHWM) {found.get('RSS peak', NAN):.0f} MiB"))  # fmt: skip
    if "drain" in found:
        d = found["drain"]
        out.append(Figure("drain (reports/s) vs its floor", d["drain"], "/s", d["floor"], "bench_drain floor",
                          f">= {AIM_DRAIN}x floor", d["drain"] >= AIM_DRAIN * d["floor"]))  # fmt: skip
        if base.get("drain"):
            out.append(
                Figure(
                    "drain (reports/s) vs into an empty node", d["drain"], "/s", base["drain"]["drain"], "empty node"
                )
            )
    return out


def measure_node(
    home: Path, n: int, args: argparse.Namespace, plain: list[tuple[str, bytes]], label: str
) -> dict[str, Any]:
    """Every figure of one node; a group that fails is printed and left out (its figures show 'failed')."""
    found: dict[str, Any] = {"failed": []}
    todo = plans(factory_ids(home)) if n else {"first page (no filter)": lambda i: Filters()}

    def group(name: str, fn: Callable[[], Any], *, merge: bool = True) -> None:
        print(f"[{label}] {name} (load average {load_average()})", flush=True)
        try:
            got = fn()
            found.update(got if merge else {name: got})
        except Exception:
            traceback.print_exc()
            found["failed"].append(name)

    group("open", lambda: measure_open(home, args.tries))
    if n:
        group("find", lambda: measure_find(home, todo, args, label), merge=False)
    group("desk", lambda: measure_desk(home, n, todo, args, label))
    if bench_drain is None:
        print(f"[{label}] TODO: drain rate at this size and its floor: bench/bench_drain.py is not there yet")
    elif plain:
        group("drain", lambda: measure_drain(home, plain, home.parent), merge=False)
        if "drain" in found:
            d = found["drain"]
            print(f"[{label}] drain {d['drain']:,.0f}/s, floor {d['floor']:,.0f}/s ({d['drain'] / d['floor']:.2f}x)")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", help="cases per store (default 10000 100000)")
    ap.add_argument("--quick", action="store_true", help="10,000 cases; 10 queries, 2 tries, 500 reports drained")
    ap.add_argument("--cache", type=Path, default=scale_data.WORK / "cache", help="built stores kept here")
    ap.add_argument("--work", type=Path, default=scale_data.WORK, help="throwaway nodes go here")
    ap.add_argument("--queries", type=int, default=30, help="timed calls per filter, in-process")
    ap.add_argument("--requests", type=int, default=30, help="timed requests per filter, over HTTP")
    ap.add_argument("--max-seconds", type=float, default=10.0, help="time bound per figure")
    ap.add_argument("--tries", type=int, default=5, help="tries of each open and login (median)")
    ap.add_argument("--drain", type=int, default=2000, help="reports drained at each size (0: no drain)")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway nodes")
    args = ap.parse_args()
    if args.quick:
        args.queries, args.requests, args.max_seconds, args.tries, args.drain = 10, 10, 3.0, 2, min(args.drain, 500)
    sizes = sorted(args.sizes or ([10_000] if args.quick else [10_000, 100_000]))
    args.work.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.work))
    print(f"bench_scale: sizes {sizes}, work {run}, cache {args.cache}; load average {load_average()}", flush=True)
    status, results = 0, {}
    try:
        plain = bench_drain.reports(args.drain) if bench_drain is not None and args.drain else []
        empty = scale_data.make_node(run / "empty" / "node", 0)
        base = measure_node(empty.home, 0, args, plain, "empty")
        status |= bool(base["failed"])
        for n in sizes:
            label = f"{n:,}"
            print(f"[{label}] making the node (load average {load_average()})", flush=True)
            node = scale_data.make_node(run / f"n{n}" / "node", n, cache=args.cache)
            b = node.build
            how = f"copied from the cache in {node.copy_seconds:.0f} s" if node.cached else "built now"
            print(f"[{label}] {b['total']:.0f} s to build ({n / b['total']:,.0f} rows/s, {how}); {node.size_mb:,.0f} MiB",
                  flush=True)  # fmt: skip
            found = measure_node(node.home, n, args, plain, label)
            found.update(build=b, cached=node.cached)
            status |= bool(found["failed"]) or not found.get("drain", {}).get("trusted", 1.0)
            results[n] = figures_of(n, found, base)
            report(n, results[n])
            if not args.keep:
                shutil.rmtree(node.home.parent, ignore_errors=True)
    finally:
        if args.keep:
            print(f"kept {run}")
        else:
            shutil.rmtree(run, ignore_errors=True)
    summary(results)
    return status


def summary(results: dict[int, list[Figure]]) -> None:
    """One table for every size: value and ratio to its baseline per size; the aim, met at the largest."""
    if not results:
        return
    sizes = sorted(results)
    print(f"\n######## summary: {', '.join(f'{n:,}' for n in sizes)} cases (load average {load_average()}) ########")
    print(
        f"{'figure':46s} " + " ".join(f"{f'{n:,} (ratio)':>22s}" for n in sizes) + f"  {'aim':22s} met at {sizes[-1]:,}"
    )
    names = list(dict.fromkeys(f.name for n in sizes for f in results[n]))
    for name in names:
        cells, last = [], None
        for n in sizes:
            f = next((x for x in results[n] if x.name == name), None)
            cells.append(f"{fmt(f.value, f.unit)} ({ratio(f) or '-'})" if f else "")
            last = f or last
        aim = last.aim if last else ""
        met = "" if last is None or last.met is None else ("yes" if last.met else "NO")
        print(f"{name[:46]:46s} " + " ".join(f"{c:>22s}" for c in cells) + f"  {aim:22s} {met}")


if __name__ == "__main__":
    sys.exit(main())

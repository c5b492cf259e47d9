"""Benchmark: the desk's case list and search at 100,000 and 1,000,000 cases (issue 5, "Benchmark").

A benchmark, not a test: nothing asserts on a timing and it exits 0 whatever the figures are.

    /tmp/venv/bin/python bench/bench_desk.py --cases 100000
    /tmp/venv/bin/python bench/bench_desk.py --cases 1000000 --quick

For each size: a throwaway node (KDF profile ``interactive``), N synthetic cases bulk-inserted with
plain SQL into ``cases`` (the FTS5 triggers fill ``cases_fts``), then ``CaseWork.find`` and
``open_case`` timed in-process, then the real desk (``create_desk_app`` under uvicorn, in its own
process on 127.0.0.1) timed over HTTP, and its resident memory read from /proc.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake.node import init_node, open_cases, unlock  # noqa: E402
from intake.settings import Settings  # noqa: E402
from intake.store import caselist  # noqa: E402
from intake.store.casework import CaseWork, Filters  # noqa: E402

USER = "admin"
PASSPHRASE = "bench passphrase, synthetic data only"  # noqa: S105 - throwaway node
AIM_MS = 200.0
AIM_MB = 300.0
RARE = "Quetzalcoatlite"  # in about one case in 20,000

PHRASES = {
    "en": [
        "They did not pay overtime for three months.",
        "The supervisor shouts at us every day and threatens to fire anyone who complains.",
        "Our passports were taken by the agent when we arrived.",
        "We work fourteen hours a day with one day off each month.",
        "The dormitory has no water and twelve people share one room.",
        "I paid a recruitment fee of two thousand dollars and still owe the agent.",
        "Workers who joined the union were moved to the night shift.",
        "There are no masks and the chemical smell makes people sick.",
        "Wages are paid late and deductions are not explained.",
        "A fire exit on the second floor is locked during the shift.",
        "Pregnant workers were told to resign.",
        "Children younger than fifteen work on the packing line.",
        "We are not allowed to leave the factory compound on Sundays.",
        "The manager took our bank cards and keeps the wages.",
        "My friend was injured by the machine and got no compensation.",
    ],
    "zh": [
        "工厂三个月没有支付加班费。",
        "主管每天骂人，说谁投诉就开除谁。",
        "我们到了以后中介把护照收走了。",
        "每天工作十四个小时，每个月只休息一天。",
        "宿舍没有水，十二个人住一个房间。",
        "我付了两千美元的中介费，现在还欠钱。",
        "参加工会的工人被调到夜班。",
        "没有口罩，化学品的气味让人生病。",
        "工资拖欠，扣款没有解释。",
        "二楼的安全出口上班时被锁住。",
        "怀孕的女工被要求辞职。",
        "包装线上有不满十五岁的童工。",
        "星期天不准离开厂区。",
        "经理拿走了我们的银行卡，扣着工资。",
    ],
    "es": [
        "No nos pagaron las horas extras durante tres meses.",
        "El supervisor nos grita todos los días y amenaza con despedir a quien se queje.",
        "El agente nos quitó los pasaportes al llegar.",
        "Trabajamos catorce horas al día con un día libre al mes.",
        "El dormitorio no tiene agua y doce personas comparten un cuarto.",
        "Pagué una cuota de reclutamiento y todavía le debo al agente.",
        "Los trabajadores que se afiliaron al sindicato fueron enviados al turno de noche.",
        "No hay mascarillas y el olor químico enferma a la gente.",
        "Los salarios se pagan tarde y los descuentos no se explican.",
        "La salida de emergencia del segundo piso está cerrada con llave.",
        "A las trabajadoras embarazadas les dijeron que renunciaran.",
    ],
    "vi": [
        "Công ty không trả tiền làm thêm giờ trong ba tháng.",
        "Quản đốc la mắng chúng tôi mỗi ngày và dọa đuổi việc ai khiếu nại.",
        "Người môi giới giữ hộ chiếu của chúng tôi khi đến nơi.",
        "Chúng tôi làm mười bốn tiếng mỗi ngày, mỗi tháng chỉ nghỉ một ngày.",
        "Ký túc xá không có nước và mười hai người ở chung một phòng.",
        "Tôi đã trả phí tuyển dụng và vẫn còn nợ người môi giới.",
        "Công nhân tham gia công đoàn bị chuyển sang ca đêm.",
        "Không có khẩu trang và mùi hóa chất làm mọi người bị bệnh.",
        "Lương trả chậm và các khoản khấu trừ không được giải thích.",
        "Lối thoát hiểm ở tầng hai bị khóa trong ca làm việc.",
    ],
}
LOCALES = [("en", 35), ("zh", 30), ("es", 20), ("vi", 15)]
CATEGORIES = [
    "forced_labour", "recruitment_fees", "child_labour", "freedom_of_association", "discrimination",
    "harassment", "health_safety", "wages", "working_hours", "employment", "dormitory", "retaliation", "other",
]  # fmt: skip
CATEGORY_WEIGHTS = [3, 4, 1, 3, 3, 6, 8, 14, 12, 6, 4, 2, 2]
CHANNELS = [("web", 40), ("sms", 35), ("api", 15), ("voice", 10)]
SEVERITIES = [("urgent", 3), ("high", 12), ("normal", 70), ("low", 15)]
OPEN = [("new", 30), ("triaged", 25), ("investigating", 30), ("remedy", 15)]
CLOSED = [("resolved", 60), ("closed_unresolved", 30), ("withdrawn", 10)]
PLACES = ["Dongguan", "Shenzhen", "Ho Chi Minh City", "Binh Duong", "San Pedro Sula", "Dhaka", "Phnom Penh"]
KINDS = ["Garment", "Textile", "Footwear", "Electronics", "Toys", "Apparel", "Knitting", "Leather"]
SUFFIXES = ["Co. Ltd", "Factory", "Manufacturing", "Industrial", "S.A.", "JSC", "Group"]


def pick(pairs: list[tuple[str, int]]) -> Callable[[random.Random], str]:
    values, weights = [v for v, _ in pairs], [w for _, w in pairs]
    return lambda rng: rng.choices(values, weights)[0]


def factory_pool(rng: random.Random, n: int = 2000) -> list[tuple[str, str]]:
    names: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < n:
        word = "".join(rng.choice("BCDFGHJKLMNPRSTVWZ") + rng.choice("aeiou") for _ in range(rng.randint(2, 3)))
        name = f"{word} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"
        if name not in names:
            names.add(name)
            out.append((name, rng.choice(PLACES)))
    return out


def description(rng: random.Random, locale: str) -> str:
    pool = PHRASES[locale]
    target = rng.randint(100, 600)
    sep = "" if locale == "zh" else " "
    parts: list[str] = []
    size = 0
    while size < target:
        p = rng.choice(pool)
        parts.append(p)
        size += len(p) + len(sep)
    return sep.join(parts)[:600]


def generate(conn: Any, n: int, seed: int = 5, batch: int = 10_000) -> float:
    """Insert n synthetic cases in transactions of `batch` rows; returns seconds."""
    rng = random.Random(seed)
    factories = factory_pool(rng)
    locale_of, channel_of, severity_of = pick(LOCALES), pick(CHANNELS), pick(SEVERITIES)
    open_of, closed_of = pick(OPEN), pick(CLOSED)
    start_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=730)
    span = 730 * 86400
    sql = (
        "INSERT INTO cases (id, created_at, channel, locale, status, factory, location, categories, description, "
        "consent, contact_ok, severity, status_since, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    t0 = time.perf_counter()
    next_id = 1
    while next_id <= n:
        rows = []
        for i in range(next_id, min(n, next_id + batch - 1) + 1):
            # ids grow with time, as real ones do
            created = start_at + timedelta(seconds=int(span * (i - 1) / n) + rng.randint(0, 59))
            age_days = (datetime.now(UTC) - created).days
            status = open_of(rng) if rng.random() < (0.9 if age_days < 60 else 0.12) else closed_of(rng)
            since = created + timedelta(days=rng.randint(0, min(age_days, 90))) if status != "new" else created
            locale = locale_of(rng)
            text = description(rng, locale)
            if rng.random() < 1 / 20_000:
                text = f"{RARE} {text}"[:600]
            cats = sorted(set(rng.choices(CATEGORIES, CATEGORY_WEIGHTS, k=rng.choice((1, 1, 1, 2, 2, 3)))))
            factory, place = rng.choice(factories)
            rows.append(
                (
                    i, created.isoformat(), channel_of(rng), locale, status, factory, place, json.dumps(cats),
                    text, rng.randint(0, 2), int(rng.random() < 0.4), severity_of(rng), since.isoformat(),
                    since.isoformat(),
                )
            )  # fmt: skip
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        next_id += len(rows)
        if (next_id - 1) % 100_000 == 0:
            el = time.perf_counter() - t0
            print(f"  .. {next_id - 1:,} cases in {el:.0f} s", flush=True)
    return time.perf_counter() - t0


def load(path: str, key_hex: str, n: int) -> float:
    import sqlcipher3

    conn = sqlcipher3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA secure_delete = ON")
    try:
        return generate(conn, n)
    finally:
        conn.close()


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def timed(fn: Callable[[int], Any], count: int, max_seconds: float) -> list[float]:
    fn(0)  # warm-up (page cache, statement cache), not counted
    out: list[float] = []
    stop = time.monotonic() + max_seconds
    for i in range(count):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
        if time.monotonic() > stop:
            break
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


DESK = """
import sys, uvicorn
from pathlib import Path
from intake.settings import Settings
from intake.desk.app import create_desk_app
settings = Settings.load(Path(sys.argv[1]), env={})
uvicorn.run(create_desk_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def explain(conn: Any, sql: str, params: list[Any]) -> list[str]:
    return [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def run(n: int, args: argparse.Namespace) -> list[tuple[str, float, str]]:
    table: list[tuple[str, float, str]] = []  # (figure, value, kind: "ms" | "mb" | "info")
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-desk-{n}-"))
    home = tmp / "node"
    proc: subprocess.Popen[bytes] | None = None
    store = None
    try:
        settings = Settings.load(home, env={})
        init_node(settings, user=USER, passphrase=PASSPHRASE, profile="interactive")
        t = time.perf_counter()
        keys = unlock(settings, USER, PASSPHRASE)
        print(f"[{n:,}] node made; unlock {time.perf_counter() - t:.2f} s; generating …", flush=True)
        # The load runs in a fresh process that opens cases.db with the same key and pragmas but
        # without SQLCipher's cipher_memory_security (which the store turns ON and which cannot be
        # turned off again in a process): with it ON, loading runs at ~370 rows/s instead of ~3,600.
        # The load is setup, not a figure; every measured figure below runs with it ON, as the desk.
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            secs = pool.apply(load, (str(settings.cases_path), keys.cases_db_key.hex(), n))
        store = open_cases(settings, keys)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in home.glob("cases.db*")) / 2**20
        print(f"[{n:,}] loaded in {secs:.1f} s ({n / secs:,.0f} rows/s); cases.db {size:,.0f} MB", flush=True)
        table += [("load: rows/s", n / secs, "info"), ("load: seconds", secs, "info"), ("cases.db MB", size, "info")]

        work = CaseWork(store, keys)
        deadlines = settings.deadlines()
        rng = random.Random(7)
        statuses = ["new", "triaged", "investigating", "remedy", "resolved"]
        english = ["overtime", "passport", "dormitory", "supervisor", "union", "chemical", "recruitment fee"]
        chinese = ["加班费", "护照收走", "宿舍没有水", "安全出口", "银行卡"]
        queries: dict[str, Callable[[int], Any]] = {
            "find: default list": lambda i: work.find(Filters()),
            "find: status": lambda i: work.find(Filters(status=statuses[i % len(statuses)])),
            "find: category": lambda i: work.find(Filters(category=CATEGORIES[i % len(CATEGORIES)])),
            "find: severity+channel": lambda i: work.find(Filters(severity="high", channel=["sms", "web"][i % 2])),
            "find: overdue": lambda i: work.find(Filters(overdue=True), deadlines),
            "find: q English": lambda i: work.find(Filters(q=english[i % len(english)])),
            "find: q Chinese": lambda i: work.find(Filters(q=chinese[i % len(chinese)])),
            "find: q rare word": lambda i: work.find(Filters(q=RARE[: 6 + i % 6])),
            "open_case(id)": lambda i: work.open_case(rng.randint(1, n)),
        }
        for name, fn in queries.items():
            ms = timed(fn, args.queries, args.max_seconds)
            table += [(f"{name} p50", pct(ms, 50), "info"), (f"{name} p95", pct(ms, 95), "ms")]
            print(f"[{n:,}] {name:24s} p50 {pct(ms, 50):8.1f} ms  p95 {pct(ms, 95):8.1f} ms  ({len(ms)})", flush=True)
        with store._lock:
            count = "SELECT count(*) FROM cases_fts WHERE cases_fts MATCH ?"
            counts = {w: store._conn.execute(count, (f'"{w}"',)).fetchone()[0] for w in ("加班费", "overtime", RARE)}
        print(f"[{n:,}] matches: {counts}", flush=True)
        if args.explain:
            for label, f in (
                ("default list", Filters()),
                ("q 加班费", Filters(q="加班费")),
                ("category", Filters(category="wages")),
                ("severity + channel", Filters(severity="high", channel="sms")),
                ("overdue, one stage", Filters(overdue=True, status="triaged")),
            ):
                print(f"[{n:,}] EXPLAIN {label}:", flush=True)
                # the statements find() starts with (its last one only reads the page's rows)
                for query in caselist.plan(store._conn, f, deadlines, datetime.now(UTC)):
                    for line in explain(store._conn, query.sql, list(query.params)):
                        print(f"    {line}")
        store.close()
        store = None

        # -- the real desk, in its own process --------------------------------------------------------
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
        log = (tmp / "desk.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", DESK, str(home), str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as client:
            while True:
                try:
                    client.get("/login")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("desk did not start; see desk.log") from None
                    time.sleep(0.2)
            idle = memory(proc.pid)
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)  # the unlock form's token
            r = client.post(
                "/login", data={"csrf": token.group(1) if token else "", "user": USER, "passphrase": PASSPHRASE}
            )
            if r.status_code != 303 or "desk" not in client.cookies:
                raise RuntimeError(f"login failed: {r.status_code}")
            pages: dict[str, Callable[[int], Any]] = {
                "GET /cases": lambda i: client.get("/cases"),
                "GET /cases?status=": lambda i: client.get("/cases", params={"status": statuses[i % len(statuses)]}),
                "GET /cases?q= (English)": lambda i: client.get("/cases", params={"q": english[i % len(english)]}),
                "GET /cases?q= (Chinese)": lambda i: client.get("/cases", params={"q": chinese[i % len(chinese)]}),
                "GET /cases/{id}": lambda i: client.get(f"/cases/{rng.randint(1, n)}"),
            }
            for name, fn in pages.items():
                check = fn(0)
                if check.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {check.status_code}")
                ms = timed(fn, args.requests, args.max_seconds)
                table += [(f"{name} p50", pct(ms, 50), "info"), (f"{name} p95", pct(ms, 95), "ms")]
                print(
                    f"[{n:,}] {name:24s} p50 {pct(ms, 50):8.1f} ms  p95 {pct(ms, 95):8.1f} ms  ({len(ms)})", flush=True
                )
            mem = memory(proc.pid)
        table += [
            ("desk VmRSS idle (before login) MB", idle["VmRSS"], "info"),
            ("desk VmRSS after load MB", mem["VmRSS"], "mb"),
            ("desk VmHWM (peak) MB", mem["VmHWM"], "mb"),
        ]
        return table
    finally:
        if store is not None:
            store.close()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, action="append", help="number of cases (repeatable); default 100000")
    ap.add_argument("--quick", action="store_true", help="15 queries and 15 requests per figure")
    ap.add_argument("--queries", type=int, default=50, help="timed find() calls per figure")
    ap.add_argument("--requests", type=int, default=50, help="timed HTTP requests per page")
    ap.add_argument("--max-seconds", type=float, default=30.0, help="time bound per figure")
    ap.add_argument("--no-explain", dest="explain", action="store_false", help="skip EXPLAIN QUERY PLAN")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway folder")
    args = ap.parse_args()
    if args.quick:
        args.queries = args.requests = 15
    sizes = args.cases or [100_000]
    results = {n: run(n, args) for n in sizes}
    for n, table in results.items():
        print(f"\n== {n:,} cases ({os.cpu_count()} CPUs) ==")
        print(f"{'figure':38s} {'value':>12s}  {'aim':>10s}  met?")
        for name, value, kind in table:
            aim = f"< {AIM_MS:.0f} ms" if kind == "ms" else f"< {AIM_MB:.0f} MB" if kind == "mb" else ""
            met = "" if kind == "info" else ("yes" if value < (AIM_MS if kind == "ms" else AIM_MB) else "NO")
            print(f"{name:38s} {value:12,.1f}  {aim:>10s}  {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the drain (sealed inbox items into cases.db) against its floor (issue 14, item 1).

A benchmark, not a test: nothing asserts on a timing. It exits 0 whatever the figures are, and 1
only when they cannot be trusted (a report not stored, stored twice, or left in the inbox).

    .venv/bin/python bench/bench_drain.py            # 1,000 and 10,000 queued reports (~5 min loaded)
    .venv/bin/python bench/bench_drain.py --full     # and 100,000 (~30 min on a loaded 2-core machine)
    .venv/bin/python bench/bench_drain.py --quick    # 1,000 and 2,000
    .venv/bin/python bench/bench_drain.py --sizes 2000 --profile   # cProfile one drain

One throwaway node (KDF profile ``insecure-test-only``: unlocking is not measured here). The
largest number of synthetic reports is built and sealed to the node's public key once, in a loop
(mixed English, Chinese, Spanish and Vietnamese, 100-600 characters, 1-3 categories; a quarter
with a phone number and permission to contact, so the reporter link and the sealed contact are
paid for); each size uses the first N of them. For each size, in a fresh copy of the empty node:

- **drain**: the N sealed items are queued in inbox.db (not timed), then ``intake.drain.drain``
  runs as ``intake drain`` and the desk run it (default batch of 200), timed from the first read
  of the inbox to the last delete;
- **floor**: the least a drain must do: open the same sealed items from memory with
  ``crypto.open_item``, parse the JSON, and insert them as cases (with their drained-item rows)
  into a fresh SQLCipher cases.db with the node's whole schema (indexes, the FTS5 search index and
  the category table its triggers fill), a commit every 200, each commit's cases in one statement
  and their drained-item rows in another, under the same pragmas (WAL, ``synchronous=FULL``,
  ``secure_delete``, ``cipher_memory_security``). Timed before and after the drain; the figure is
  their mean, so load that comes and goes hits both alike;
- **bare**, for reference: the same items into one plain SQLCipher table, one statement per row,
  no index (what the issue's first floor, 9,689/s on a quiet machine, measured).

Printed per size: drain rate and floor rate (reports/s), their ratio (aim >= 0.5x), flatness
(rate at N / rate at the smallest size; aim: about 1) and the bare rate, with the load average.
With ``--profile``, where the drain's time goes (cProfile of the largest size).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_desk import CATEGORIES, CATEGORY_WEIGHTS, LOCALES, description, factory_pool, pick  # noqa: E402

from crypto import NodeKeys, open_item, seal_item  # noqa: E402
from intake.drain import drain  # noqa: E402
from intake.node import init_node, load_keyring, open_cases, open_inbox  # noqa: E402
from intake.settings import Settings  # noqa: E402
from intake.store.db import open_store, transaction  # noqa: E402
from intake.store.schema import CASES_MIGRATIONS  # noqa: E402

AIM = 0.5
USER = "admin"
PASSPHRASE = "bench passphrase, synthetic data only"  # noqa: S105 - throwaway node
PROFILE = "insecure-test-only"
FLOOR_COMMIT = 200
FILL_CHUNK = 2000
CHANNELS = [("web", 45), ("sms", 35), ("api", 20)]
LOCALE_CODE = {"en": "en", "zh": "zh_Hans", "es": "es", "vi": "vi"}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def reports(n: int, seed: int = 14) -> list[tuple[str, bytes]]:
    """``n`` synthetic report items as the intake would seal them (before sealing): (id, JSON)."""
    from intake.domain import Report

    rng = random.Random(seed)
    factories = factory_pool(rng)
    locale_of, channel_of = pick(LOCALES), pick(CHANNELS)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
    out = []
    for i in range(n):
        locale = locale_of(rng)
        factory, place = rng.choice(factories)
        contact = rng.random() < 0.25
        report = Report(
            channel=channel_of(rng),  # type: ignore[arg-type]
            received_at=start + timedelta(seconds=i * 6),
            locale=LOCALE_CODE[locale],
            factory=factory,
            location=place,
            categories=sorted(set(rng.choices(CATEGORIES, CATEGORY_WEIGHTS, k=rng.randint(1, 3)))),  # type: ignore[arg-type]
            description=f"{description(rng, locale)} [bench {i:07d}]",
            consent=rng.choice([0, 0, 1, 2]),  # type: ignore[arg-type]
            contact_ok=contact,
            phone=f"+86138{i:08d}" if contact else "",
        )
        item_id = rng.randbytes(16).hex()
        doc = {
            "v": 1,
            "id": item_id,
            "kind": "report",
            "receipt_hash": rng.randbytes(32).hex(),
            "report": report.model_dump(mode="json"),
        }
        out.append((item_id, json.dumps(doc, ensure_ascii=False).encode("utf-8")))
    return out


def seal_all(items: list[tuple[str, bytes]], keys: NodeKeys) -> list[tuple[str, bytes]]:
    public = keys.identity.public_key
    return [(item_id, seal_item(payload, to=public)) for item_id, payload in items]


def fill_inbox(settings: Settings, sealed: list[tuple[str, bytes]]) -> None:
    """Queue the sealed items (not timed): the inbox's many-items write, a few thousand per commit."""
    inbox = open_inbox(settings)
    try:
        for start in range(0, len(sealed), FILL_CHUNK):
            chunk = [(i, b, None) for i, b in sealed[start : start + FILL_CHUNK]]
            inbox.sms_commit(reporter=b"bench-fill", session=None, seen=None, items=chunk)
    finally:
        inbox.close()


INSERT_CASES = """INSERT INTO cases (id, created_at, channel, locale, factory, location, categories, description,
    consent, contact_ok, receipt_hash, status_since) VALUES """
CASE_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_DRAINED = "INSERT INTO drained_items (item_id, case_id) VALUES "
NEXT_ID = "SELECT coalesce(max(id), 0) + 1 FROM cases"
BARE_TABLE = """CREATE TABLE items (item_id TEXT PRIMARY KEY, created_at TEXT, channel TEXT, locale TEXT,
    factory TEXT, location TEXT, categories TEXT, description TEXT, consent INTEGER, contact_ok INTEGER,
    receipt_hash BLOB, status_since TEXT)"""
INSERT_BARE = "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def floor(path: Path, key: bytes, sealed: list[tuple[str, bytes]], keys: NodeKeys, *, bare: bool = False) -> float:
    """Seconds to open the items from memory and insert them into a fresh cases.db, a commit every 200.

    The node's schema with all its indexes and triggers (search index, category table), each
    commit's cases in one statement and their drained-item rows in another: the least a drain can
    do to cases.db. ``bare``: one plain table instead, one statement per row (the issue's floor).
    """
    migrations = [[BARE_TABLE]] if bare else CASES_MIGRATIONS
    conn = open_store(path, key, migrations, synchronous="FULL", create=True)
    identity = keys.identity
    try:
        begin = time.perf_counter()
        for start in range(0, len(sealed), FLOOR_COMMIT):
            with transaction(conn):
                first = int(conn.execute("SELECT 1" if bare else NEXT_ID).fetchone()[0])
                cases: list[object] = []
                drained: list[object] = []
                for case_id, (item_id, blob) in enumerate(sealed[start : start + FLOOR_COMMIT], first):
                    doc = json.loads(open_item(blob, identity))
                    r = doc["report"]
                    row = (
                        r["received_at"],
                        r["channel"],
                        r["locale"],
                        r["factory"],
                        r["location"],
                        json.dumps(r["categories"]),
                        r["description"],
                        r["consent"],
                        int(r["contact_ok"]),
                        bytes.fromhex(doc["receipt_hash"]),
                        r["received_at"],
                    )
                    if bare:
                        conn.execute(INSERT_BARE, (item_id, *row))
                        continue
                    cases.extend((case_id, *row))
                    drained.extend((item_id, case_id))
                if cases:
                    n = len(drained) // 2
                    conn.execute(INSERT_CASES + ", ".join([CASE_VALUES] * n), cases)
                    conn.execute(INSERT_DRAINED + ", ".join(["(?, ?)"] * n), drained)
        return time.perf_counter() - begin
    finally:
        conn.close()


def node_copy(pristine: Path, dest: Path) -> Settings:
    shutil.copytree(pristine, dest)
    return Settings.load(dest, env={})


def timed_drain(settings: Settings, keys: NodeKeys, batch: int, profile: cProfile.Profile | None) -> tuple[float, int]:
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        begin = time.perf_counter()
        if profile is not None:
            profile.enable()
        result = drain(inbox, cases, keys, batch=batch)
        if profile is not None:
            profile.disable()
        seconds = time.perf_counter() - begin
        left, stored = inbox.count(), cases.count()
    finally:
        inbox.close()
        cases.close()
    if left or stored != result.cases or result.unreadable or result.already:
        print(f"  UNTRUSTED: {result.cases} new, {stored} stored, {left} left, {result.unreadable} unreadable")
        return seconds, -1
    return seconds, result.cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", help="queued reports per run (default 1000 10000)")
    ap.add_argument("--full", action="store_true", help="also 100,000 queued reports")
    ap.add_argument("--quick", action="store_true", help="1,000 and 2,000 only")
    ap.add_argument("--batch", type=int, default=200, help="the drain's batch (default 200, as the desk and CLI)")
    ap.add_argument("--profile", action="store_true", help="cProfile the drain of the largest size")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway folder")
    args = ap.parse_args()
    sizes = args.sizes or ([1000, 2000] if args.quick else [1000, 10_000] + ([100_000] if args.full else []))
    sizes = sorted(sizes)
    tmp = Path(tempfile.mkdtemp(prefix="bench-drain-"))
    status = 0
    try:
        pristine = tmp / "pristine"
        settings = Settings.load(pristine, env={})
        _ring, keys = init_node(settings, user=USER, passphrase=PASSPHRASE, profile=PROFILE)
        assert load_keyring(settings).public_key == keys.identity.public_key
        begin = time.perf_counter()
        plain = reports(sizes[-1])
        built = time.perf_counter() - begin
        sealed = seal_all(plain, keys)
        print(
            f"built {len(plain):,} reports in {built:.1f} s, sealed them in {time.perf_counter() - begin - built:.1f} s "
            f"({os.cpu_count()} CPUs, load {load()})"
        )
        del plain
        rows: list[tuple[int, float, float, float, str]] = []
        for n in sizes:
            run = tmp / f"n{n}"
            run.mkdir()
            first = floor(run / "floor-a.db", keys.cases_db_key, sealed[:n], keys)
            settings_n = node_copy(pristine, run / "node")
            fill_inbox(settings_n, sealed[:n])
            profile = cProfile.Profile() if args.profile and n == sizes[-1] else None
            seconds, stored = timed_drain(settings_n, keys, args.batch, profile)
            second = floor(run / "floor-b.db", keys.cases_db_key, sealed[:n], keys)
            bare = floor(run / "bare.db", keys.cases_db_key, sealed[:n], keys, bare=True)
            status |= stored != n
            rows.append((n, n / seconds, n / ((first + second) / 2), n / bare, load()))
            print(
                f"  {n:>7,}: drain {n / seconds:7,.0f}/s  floor {n / first:7,.0f}/s and {n / second:,.0f}/s  "
                f"bare {n / bare:,.0f}/s  load {load()}",
                flush=True,
            )
            if profile is not None:
                stats = pstats.Stats(profile).sort_stats("tottime")
                stats.print_stats(25)
                stats.sort_stats("cumulative").print_stats(30)
            if not args.keep:
                shutil.rmtree(run)
        base, floor_base = rows[0][1], rows[0][2]
        print(
            f"\n{'queued':>9s} {'drain/s':>8s} {'floor/s':>8s} {'ratio':>6s} {'flat':>6s} {'aim':>4s}"
            f" {'floor flat':>10s} {'bare/s':>8s} {'ratio':>6s}  load (1 5 15 min)"
        )
        for n, rate, floor_rate, bare_rate, avg in rows:
            met = "yes" if rate / floor_rate >= AIM else "NO"
            print(
                f"{n:>9,} {rate:>8,.0f} {floor_rate:>8,.0f} {rate / floor_rate:>5.2f}x {rate / base:>5.2f}x {met:>4s}"
                f" {floor_rate / floor_base:>9.2f}x {bare_rate:>8,.0f} {rate / bare_rate:>5.2f}x  {avg}"
            )
        print(
            f"aim: drain >= {AIM}x of the floor at 10,000 and 100,000; flat = rate at N / rate at {rows[0][0]:,} "
            "(floor flat: the same for the floor, what the store's own growth costs); "
            "bare = the same items into one plain table (no indexes, no search index), for reference"
        )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())

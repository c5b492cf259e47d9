"""Years of synthetic cases, fast: the store the scale benchmark (bench/bench_scale.py) measures.

    build_cases(conn, n)        # n mixed-language cases into an open, migrated cases.db connection
    make_node(home, n, cache=)  # a throwaway node (KDF profile 'interactive') holding n cases

What one case brings (bench/scale_rows.py), as the desk and the drain would have made it over five
years: a description in one of the 21 locales (bench/scale_phrases.py; urgent sentences for urgent
cases), channel, status (most closed after a few months), severity (few urgent), 1-3 categories, a factory (most
linked to the factories register, some typed freely), a receipt hash, a reporter link for phone
channels, a drained-item row, and for some of them follow-ups, notes, replies, corrective actions
and (when the node's keys are given) a sealed contact and hash-chained audit entries. One case in
20,000 carries the rare word ``RARE`` (ids ``k * 20,000 + 10,000``), for search.

Why bench/bench_desk.py's loader runs at ~3,000 rows/s (and slower on today's schema) and this one
faster (issue 14): its every row ran the FTS5 trigram insert trigger, and every plain index was
kept up row by row, with ``synchronous=FULL``, SQLite's default 2 MB page cache and a commit every
10,000 rows. Here, during the build only: ``synchronous=OFF``, a 1 GB cache, one transaction per
chunk of 50,000 rows through ``executemany`` over generated tuples (made in a second process while
this one inserts), the FTS insert trigger dropped and the trigram index made by one 'rebuild' at
the end, and the plain (non-unique) indexes of the tables filled here dropped and made again at the
end. Measured with ``--variants`` at 50,000 cases (December 2026, 2 cores, load average 8-10 from
other work; CPU seconds of the inserting process, which load moves less than wall time):
bench_desk's way 14.2 s; the pragmas alone 13.0 s; with the FTS rebuild 8.0 s; with the indexes
made after 9.6 s; both 5.7 s (2.5x less). Any other trigger on ``cases`` (e.g. the one that fills
``case_categories`` and ``case_counts``) stays and runs for every row: whatever it keeps is exactly
what the drain would have left, and no rule of another module is copied here. The connection must
not have ``cipher_memory_security`` on: the store turns it on for its whole process and it cannot
be turned off again (~10x slower loads, bench_desk.py measured), so :func:`make_node` builds in a
spawned process.

    .venv/bin/python bench/scale_data.py --cases 100000 --variants   # rows/s of each build variant

What a case holds and how it is generated: bench/scale_rows.py (and its sentences, scale_phrases.py).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_rows import (  # noqa: E402
    INSERTS,
    LOCALES,
    RARE,
    RARE_EVERY,
    YEARS,
    Generator,
    Rows,
    Secrets,
    factory_register,
    sql_of,
)

from intake import clock  # noqa: E402

__all__ = [
    "LOCALES", "PASSPHRASE", "RARE", "RARE_EVERY", "USER", "WORK", "BuiltNode", "Generator", "Secrets",
    "build_cases", "build_in_child", "make_node", "open_for_build",
]  # fmt: skip
USER = "admin"
PASSPHRASE = "bench passphrase, synthetic data only"  # noqa: S105 - throwaway node
CHUNK = 50_000
WORK = Path(tempfile.gettempdir()) / "scale"  # a 1M store is ~2.8 GB: keep nodes and caches on a big disk


# -- loading -----------------------------------------------------------------------------------------
def _fts_tables(conn: Any, table: str = "cases") -> list[str]:
    """FTS5 tables whose content is ``table`` (external content: 'rebuild' remakes them from it)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")
    return [name for name, sql in rows if f"content='{table}'" in sql.replace(" ", "").replace('"', "'")]


def _insert_triggers_only_into(conn: Any, table: str, targets: list[str]) -> list[tuple[str, str]]:
    """(name, sql) of the AFTER INSERT triggers on ``table`` whose every statement writes into ``targets``."""
    out = []
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
    ):
        head, _, body = sql.partition("BEGIN")
        words = head.upper().split()
        if "INSERT" not in words or "AFTER" not in words:
            continue
        statements = [s.strip() for s in body.rsplit("END", 1)[0].split(";") if s.strip()]
        into = [re.match(r"INSERT\s+INTO\s+[\"']?(\w+)", s, re.IGNORECASE) for s in statements]
        if statements and all(m is not None and m.group(1) in targets for m in into):
            out.append((name, sql))
    return out


def _plain_indexes(conn: Any, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, sql) of the non-unique indexes made with CREATE INDEX on ``tables`` (derived data only:
    a UNIQUE index may be what an INSERT OR IGNORE of some trigger relies on, so those stay)."""
    marks = ",".join("?" * len(tables))
    rows = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",  # noqa: S608
        list(tables),
    ).fetchall()
    return [(name, sql) for name, sql in rows if not sql.upper().startswith("CREATE UNIQUE")]


def _register(conn: Any, rng: random.Random, total: int) -> list[tuple[int, str, str]]:
    """The factories register (made once, on the first build into a store): (id, name, place)."""
    have = conn.execute("SELECT id, name, address FROM factories WHERE merged_into IS NULL ORDER BY id").fetchall()
    if not have:
        count = min(5000, max(200, total // 200))
        made = clock.now_s() - timedelta(days=YEARS * 365)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO factories (name, address, country, brands, created_at, osh_id) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (name, address, country, json.dumps([f"Brand {i % 40}"]), made.isoformat(),
                 f"{country}{2018 + i % 7}{i:07d}" if i % 3 else None)
                for i, (name, address, country) in enumerate(factory_register(rng, count))
            ],
        )  # fmt: skip
        conn.execute("COMMIT")
        have = conn.execute("SELECT id, name, address FROM factories ORDER BY id").fetchall()
    return [(int(i), str(name), str(address).rsplit(", ", 1)[-1]) for i, name, address in have]


def _generated_here(
    n: int, seed: int, start_id: int, factories: Any, secrets: Secrets | None, resume: Any, chunk: int
) -> Iterator[Rows]:
    gen = Generator(n, seed=seed, start_id=start_id, factories=factories, secrets=secrets)
    gen.resume(*resume)
    yield from gen.chunks(chunk)


def _produce(queue: Any, *args: Any) -> None:
    """The generating process: every chunk into the queue, then its CPU seconds (or the error's text)."""
    try:
        for rows in _generated_here(*args):
            queue.put(rows)
        queue.put(time.process_time())
    except BaseException as exc:
        queue.put(f"{type(exc).__name__}: {exc}")
        raise


def _generated_elsewhere(cpu: dict[str, float], *args: Any) -> Iterator[Rows]:
    """The chunks of :func:`_generated_here`, made in a spawned process two chunks ahead (its CPU
    seconds go into ``cpu['generate']``)."""
    import queue as queues

    ctx = multiprocessing.get_context("spawn")
    channel = ctx.Queue(maxsize=2)
    proc = ctx.Process(target=_produce, args=(channel, *args), daemon=True)
    proc.start()
    try:
        while True:
            try:
                item = channel.get(timeout=5)
            except queues.Empty:
                if not proc.is_alive():
                    raise RuntimeError(f"the generating process died (exit code {proc.exitcode})") from None
                continue
            if isinstance(item, float):
                cpu["generate"] = item
                return
            if isinstance(item, str):
                raise RuntimeError(f"the generating process failed: {item}")
            yield item
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()


def build_cases(
    conn: Any,
    n: int,
    *,
    seed: int = 1,
    start_id: int = 1,
    keys: Any = None,
    chunk: int = CHUNK,
    drop_indexes: bool = True,
    drop_fts_triggers: bool = True,
    fast_pragmas: bool = True,
    journal: str = "MEMORY",
    parallel: bool = True,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, float]:
    """Insert cases ``start_id .. start_id + n - 1`` (and their follow-ups, notes, replies, actions,
    drained items) into an open, migrated cases.db connection; returns seconds per phase.

    ``keys`` (the node's unlocked keys) adds what needs them: sealed contacts, reporter links keyed
    as the drain keys them, and the audit chain (verifiable with ``intake audit verify``). The FTS
    sync triggers and the plain indexes of the tables filled here are dropped during the load and
    made again at the end, in ``finally``: the store is consistent even after an error. With
    ``parallel`` the rows are generated in a second process while this one inserts (2 cores).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    phases = {"generate": 0.0, "insert": 0.0}
    cpu: dict[str, float] = {"generate": 0.0, "insert": 0.0}
    before = {p: conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "cache_size", "secure_delete")}
    if fast_pragmas:
        conn.execute("PRAGMA synchronous = OFF")  # a throwaway store being built: a crash means a rebuild
        conn.execute("PRAGMA cache_size = -1000000")  # ~1 GB: index and FTS pages stay decrypted in memory
        # Freed pages (FTS segments merged away) hold synthetic text only: not worth overwriting
        # (at 1M cases the rebuild takes 30% less CPU without it and a 32 MB FTS hash, measured)
        conn.execute("PRAGMA secure_delete = OFF")
    if journal:  # no WAL during the build: each page written once, not to the WAL and then the file
        before["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.execute(f"PRAGMA journal_mode = {journal}").fetchone()  # stays WAL if others have it open
    factories = _register(conn, random.Random(seed), start_id + n - 1)
    action = conn.execute("SELECT max(id) FROM actions").fetchone()[0] or 0
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    resume = (int(action), int(last[0]) if last else 0, bytes(last[1]) if last else bytes(32))
    secrets = Secrets.of(keys) if keys is not None else None
    args = (n, seed, start_id, factories, secrets, resume, chunk)
    fts = _fts_tables(conn)
    triggers = _insert_triggers_only_into(conn, "cases", fts) if drop_fts_triggers else []
    indexes = _plain_indexes(conn, list(INSERTS)) if drop_indexes else []
    for kind, (name, _) in [*(("TRIGGER", t) for t in triggers), *(("INDEX", i) for i in indexes)]:
        conn.execute(f'DROP {kind} "{name}"')
    sql = {table: sql_of(table) for table in INSERTS}
    done = 0
    try:
        chunks = _generated_elsewhere(cpu, *args) if parallel else _generated_here(*args)
        while True:
            t = time.perf_counter()
            rows = next(chunks, None)
            phases["generate"] += time.perf_counter() - t  # with ``parallel``: waiting for the next chunk
            if rows is None:
                break
            t, c = time.perf_counter(), time.process_time()
            conn.execute("BEGIN IMMEDIATE")
            for table in INSERTS:
                if getattr(rows, table):
                    conn.executemany(sql[table], getattr(rows, table))
            conn.execute("COMMIT")
            phases["insert"] += time.perf_counter() - t
            cpu["insert"] += time.process_time() - c
            done += len(rows.cases)
            if progress:
                progress(done, time.perf_counter() - t0)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        t, c = time.perf_counter(), time.process_time()
        for _, create in indexes:
            conn.execute(create)
        phases["indexes"], cpu["indexes"] = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        for _, create in triggers:
            conn.execute(create)
        if triggers:
            for table in fts:
                _rebuild(conn, table, hash_mb=32 if fast_pragmas else 0)
        phases["fts"], cpu["fts"] = time.perf_counter() - t, time.process_time() - c
        for pragma in ("cache_size", "synchronous", "secure_delete"):
            conn.execute(f"PRAGMA {pragma} = {int(before[pragma])}")
        if journal:
            conn.execute(f"PRAGMA journal_mode = {before['journal_mode']}").fetchone()
        t = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        phases["checkpoint"] = time.perf_counter() - t
    phases["total"] = time.perf_counter() - t0
    phases["load"] = os.getloadavg()[0]  # other work on the machine, at the end of the build
    phases["cpu_build"] = time.process_time() - c0  # this process: inserts, triggers, indexes, FTS
    phases.update({f"cpu_{k}": v for k, v in cpu.items()})  # cpu_generate: the generating process
    return phases


def _rebuild(conn: Any, table: str, *, hash_mb: int) -> None:
    """One 'rebuild' of an FTS5 table; with ``hash_mb``, FTS5's pending-data hash that large meanwhile
    (fewer, larger segments to merge) and then back to its 1 MB default, its config row removed as a
    fresh store has none (the 'hashsize' command first, so this connection's FTS5 holds 1 MB too)."""
    if hash_mb:
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', ?)", (hash_mb << 20,))  # noqa: S608
    conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")  # noqa: S608 - names from sqlite_master
    if hash_mb:
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', ?)", (1 << 20,))  # noqa: S608
        conn.execute(f"DELETE FROM {table}_config WHERE k = 'hashsize'")  # noqa: S608


def open_for_build(path: Path, key: bytes) -> Any:
    """cases.db opened as intake.store.db.open_store opens it, without cipher_memory_security
    (see the module docstring) and without migrating: the store must be at the current schema."""
    import sqlcipher3

    conn = sqlcipher3.connect(str(path), isolation_level=None, timeout=10)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _build_child(home: str, n: int, seed: int, with_keys: bool, options: dict[str, Any]) -> dict[str, float]:
    """In a spawned process (no cipher_memory_security): unlock the node and fill its cases.db."""
    from intake.node import unlock
    from intake.settings import Settings

    settings = Settings.load(Path(home), env={})
    keys = unlock(settings, USER, PASSPHRASE)
    conn = open_for_build(settings.cases_path, keys.cases_db_key)

    def progress(done: int, seconds: float) -> None:
        if done % 200_000 == 0 or done == n:
            print(f"    .. {done:,} cases in {seconds:.0f} s ({done / seconds:,.0f} rows/s)", flush=True)

    try:
        return build_cases(conn, n, seed=seed, keys=keys if with_keys else None, progress=progress, **options)
    finally:
        conn.close()


def _build_child_to(pipe: Any, *args: Any) -> None:
    try:
        pipe.send(("ok", _build_child(*args)))
    except BaseException as exc:
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


def build_in_child(home: Path, n: int, *, seed: int = 1, with_keys: bool = True, **options: Any) -> dict[str, float]:
    """:func:`build_cases` into the node at ``home``, in a spawned process (not a pool's daemon: the
    build starts a generating process of its own)."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_build_child_to, args=(theirs, str(home), n, seed, with_keys, options))
    proc.start()
    theirs.close()
    try:
        status, value = mine.recv()
    except EOFError:
        status, value = "error", "the build process died"
    proc.join()
    if status != "ok":
        raise RuntimeError(f"building {n:,} cases failed: {value}")
    return dict(value)


# -- throwaway nodes, cached -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BuiltNode:
    home: Path
    n: int
    build: dict[str, float]  # seconds per phase of the build (the cached build's own, when copied)
    cached: bool  # copied from the cache rather than built in this run
    copy_seconds: float
    size_mb: float  # cases.db and its -wal, MiB


def _code(path: Path) -> str:
    """A module's code without its docstrings and comments: editing those keeps the cache."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body.pop(0)
    return ast.dump(tree)


def fingerprint() -> str:
    """What a cached store depends on: the cases schema and this generator (a new migration, a new build)."""
    from intake.store.schema import CASES_MIGRATIONS

    h = hashlib.sha256(json.dumps(CASES_MIGRATIONS).encode())
    for name in ("scale_data.py", "scale_rows.py", "scale_phrases.py"):
        h.update(_code(Path(__file__).resolve().parent / name).encode())
    return h.hexdigest()[:12]


def _new_node(home: Path, n: int, seed: int, with_keys: bool, options: dict[str, Any]) -> dict[str, float]:
    from intake.node import init_node
    from intake.settings import Settings

    init_node(Settings.load(home, env={}), user=USER, passphrase=PASSPHRASE, profile="interactive")
    return build_in_child(home, n, seed=seed, with_keys=with_keys, **options) if n else {"total": 0.0}


def _size_mb(home: Path) -> float:
    return sum(p.stat().st_size for p in home.glob("cases.db*")) / 2**20


def make_node(
    home: Path, n: int, *, seed: int = 1, cache: Path | None = None, with_keys: bool = True, **options: Any
) -> BuiltNode:
    """A throwaway node at ``home`` (must not exist yet) holding ``n`` synthetic cases.

    With ``cache``, the built node is kept at ``cache/n<N>-seed<S>-<fingerprint>`` and later calls copy
    it instead of building (a 1M store takes minutes to build, seconds to copy); a cached node of an
    older schema or generator is deleted when its successor is made. The passphrase is ``PASSPHRASE``.
    """
    home = Path(home)
    if cache is None or options:
        build = _new_node(home, n, seed, with_keys, options)
        return BuiltNode(home, n, build, False, 0.0, _size_mb(home))
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    name = f"n{n}-seed{seed}-{'keys' if with_keys else 'nokeys'}-{fingerprint()}"
    kept = cache / name
    cached = kept.is_dir()
    if not cached:
        staging = Path(tempfile.mkdtemp(prefix=f".building-{name}-", dir=cache))
        try:
            build = _new_node(staging / "node", n, seed, with_keys, options)
            (staging / "node" / "bench-build.json").write_text(json.dumps(build))
            os.rename(staging / "node", kept)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        prefix = f"n{n}-seed{seed}-{'keys' if with_keys else 'nokeys'}-"
        for old in cache.glob(prefix + "*"):
            if old != kept:
                shutil.rmtree(old, ignore_errors=True)
    t = time.perf_counter()
    shutil.copytree(kept, home, ignore=shutil.ignore_patterns("bench-build.json"))
    os.chmod(home, 0o700)
    copy = time.perf_counter() - t
    build = json.loads((kept / "bench-build.json").read_text())
    return BuiltNode(home, n, build, cached, copy, _size_mb(home))


VARIANTS: dict[str, dict[str, Any]] = {
    # bench_desk.py's loader: 10,000 rows a commit, synchronous=FULL, the default 2 MB cache, every trigger
    "bench_desk style": {
        "chunk": 10_000, "fast_pragmas": False, "journal": "", "drop_indexes": False, "drop_fts_triggers": False,
    },
    "pragmas only": {"journal": "", "drop_indexes": False, "drop_fts_triggers": False},
    "pragmas, FTS rebuild": {"journal": "", "drop_indexes": False},
    "pragmas, indexes after": {"journal": "", "drop_fts_triggers": False},
    "pragmas, FTS rebuild, indexes after": {"journal": ""},
    "and no WAL during the build (the default)": {},
}  # fmt: skip


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000, help="cases to build (default 100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, help="keep (or reuse) the built node under this folder")
    ap.add_argument("--variants", action="store_true", help="build once per loading variant and compare rows/s")
    ap.add_argument("--no-keys", action="store_true", help="no sealed contacts, no audit chain")
    ap.add_argument("--work", type=Path, default=WORK, help=f"throwaway nodes go here (default {WORK})")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="scale-data-", dir=args.work))
    try:
        runs = VARIANTS if args.variants else {"default": {}}
        for label, options in runs.items():
            print(f"[{args.cases:,}] {label}: building (load average {load_average()})", flush=True)
            node = make_node(base / label.replace(" ", "_").replace(",", ""), args.cases, seed=args.seed,
                             cache=args.cache, with_keys=not args.no_keys, **options)  # fmt: skip
            b = node.build
            rate = args.cases / b["total"] if b.get("total") else 0.0
            how = f"copied from the cache in {node.copy_seconds:.1f} s" if node.cached else "built"
            print(
                f"[{args.cases:,}] {label}: {b['total']:.1f} s, {rate:,.0f} rows/s ({how}); generate {b['generate']:.1f} s, "
                f"insert {b['insert']:.1f} s, indexes {b['indexes']:.1f} s, FTS {b['fts']:.1f} s, "
                f"checkpoint {b['checkpoint']:.1f} s; CPU {b.get('cpu_build', 0):.1f} s (insert "
                f"{b.get('cpu_insert', 0):.1f}, indexes {b.get('cpu_indexes', 0):.1f}, FTS {b.get('cpu_fts', 0):.1f}) "
                f"+ {b.get('cpu_generate', 0):.1f} s generating; cases.db {node.size_mb:,.0f} MiB; "
                f"load average {load_average()}",
                flush=True,
            )
            shutil.rmtree(node.home, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

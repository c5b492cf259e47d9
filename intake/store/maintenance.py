"""Upkeep of cases.db's search index (issue 14): merging the segments years of drains leave.

FTS5 writes each transaction's new terms as a segment of its own and merges them only now and then,
so a store drained report by report over years searches many segments: a common word's first page
took 70-96 ms at 1,000,000 cases, 15-18 ms after one 'optimize' (bench/bench_scale.py). Two ways:

- :func:`merge`: FTS5's incremental 'merge' with a negative page count (every segment is a
  candidate, as 'optimize' takes them), in short write transactions of ``PAGES`` pages each, until
  FTS5 reports nothing left to merge, the time budget is spent or ``stop()`` says so. The desk runs
  it hourly in the background (intake/desk/maintenance.py); a drain or a page waits one step at most.
- :func:`optimize`: FTS5's 'optimize', one transaction that merges every segment into one (seconds
  to a minute at a million cases); ``intake check --optimize`` runs it.

Neither changes what a search finds: only how the index is laid out. Secure-delete (cases migration
17) stays in force, so a merge never brings back a destroyed description's terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake import clock
from intake.store.db import Connection, Store

FTS = "cases_fts"
PAGES = 64  # leaf pages a merge step writes: a few tens of milliseconds on 2 cores
BUDGET = 20.0  # seconds of merging per background run at most


@dataclass(frozen=True)
class Merged:
    steps: int  # merge steps run (one write transaction each)
    done: bool  # FTS5 had nothing left to merge
    segments_before: int
    segments_after: int


def segments(conn: Connection) -> int:
    """How many segments the search index has (1 once fully merged; 0 when empty)."""
    return int(conn.execute(f"SELECT count(DISTINCT segid) FROM {FTS}_idx").fetchone()[0])  # noqa: S608


def merge_step(store: Store, pages: int = PAGES) -> bool:
    """One incremental merge of about ``pages`` leaf pages in its own write transaction; False when
    FTS5 found nothing to merge (it reports work through total_changes(): fewer than 2, none)."""
    with store.transaction() as conn:
        (before,) = conn.execute("SELECT total_changes()").fetchone()
        conn.execute(f"INSERT INTO {FTS}({FTS}, rank) VALUES ('merge', ?)", (-abs(pages),))  # noqa: S608
        (after,) = conn.execute("SELECT total_changes()").fetchone()
    return int(after) - int(before) >= 2


def merge(
    store: Store, *, budget: float = BUDGET, pages: int = PAGES, stop: Callable[[], bool] | None = None
) -> Merged:
    """Merge steps until FTS5 has nothing left to merge, ``budget`` seconds have passed or ``stop()``
    is true (checked before each step: a locked desk's closed store stops it at once)."""
    with store.reading() as conn:
        before = segments(conn)
    started, steps, done = clock.monotonic(), 0, before <= 1
    while not done and clock.monotonic() - started < budget and not (stop is not None and stop()):
        done = not merge_step(store, pages)
        steps += 1
    with store.reading() as conn:
        after = segments(conn)
    return Merged(steps, done, before, after)


def optimize(store: Store) -> Merged:
    """Every segment of the search index merged into one, in one write transaction."""
    with store.reading() as conn:
        before = segments(conn)
    with store.transaction() as conn:
        conn.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('optimize')")  # noqa: S608
    with store.reading() as conn:
        after = segments(conn)
    return Merged(1, True, before, after)


__all__ = ["BUDGET", "FTS", "PAGES", "Merged", "merge", "merge_step", "optimize", "segments"]

"""A real cases.db with one damaged page in the middle, for the integrity tests (issue 14).

The store is filled with synthetic cases and VACUUMed (so every page belongs to a table or an
index: none is free, where damage would go unseen), then 64 bytes of its middle page are
overwritten on disk: one that reading every case meets. SQLCipher then refuses that page (its
HMAC no longer matches), but opening the store reads only the schema, at the start of the file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import sqlcipher3

from intake.domain import Channel, Report
from intake.store.cases import CasesStore
from intake.store.db import _connect

PAGE = 4096  # SQLCipher 4's page size


def fill(store: CasesStore, n: int) -> None:
    store._conn.execute("PRAGMA synchronous = OFF")  # test set-up speed only
    for i in range(n):
        report = Report(channel=Channel.WEB, description=f"synthetic report {i} about overtime " + "x" * 900)
        store.add_report(f"damage-{i}", report, receipt_hash=None, reporter_link=None, contact=None)


def damage_middle_page(path: Path, key: bytes, *, cases: int = 150) -> int:
    """Fill the (existing) cases store at ``path``, then damage its middle page; returns that page."""
    store = CasesStore(path, key)
    try:
        fill(store, cases)
        store._conn.execute("VACUUM")
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        pages = int(store._conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        store.close()
    for side in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{side}").unlink()
    assert path.stat().st_size == pages * PAGE
    clean = path.read_bytes()
    middle = pages // 2
    # From the middle outwards, the first page that reading every case meets (not an index's):
    # so a desk page that lists or counts cases meets it too.
    for page in sorted(range(middle - 20, middle + 20), key=lambda p: abs(p - middle)):
        damaged = bytearray(clean)
        damaged[(page - 1) * PAGE + 200 : (page - 1) * PAGE + 264] = b"\xa5" * 64
        path.write_bytes(bytes(damaged))
        if not _scan_reads(path, key):
            return page
    raise AssertionError("no page of the cases table near the middle")


def _scan_reads(path: Path, key: bytes) -> bool:
    conn = _connect(path, key)
    try:
        conn.execute("SELECT count(*), sum(length(description)) FROM cases NOT INDEXED").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()

"""Evidence files in ``cases.db`` (migration 15): what a worker attached, or a caseworker added.

A file is stored cleaned (intake/evidence.py: images re-encoded without metadata) and encrypted
with the rest of the store; it is read back into memory only, never written out as a file. Every
function takes the caller's connection, so a drain batch or a desk action writes its files in its
own transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from intake import clock
from intake.store.db import Connection

SOURCES = ("worker", "caseworker")


@dataclass(frozen=True)
class AttachmentInfo:
    """What the desk and ``intake cases show --json`` list about a file (no content)."""

    n: int
    type: str
    bytes: int
    sha256: str  # of the stored (cleaned) file
    source: str = "worker"
    warning: str = ""  # "metadata": a PDF/office file kept as sent, may carry its author's details
    missing: str = ""  # why an MMS/WhatsApp file could not be fetched (then no content)
    action_id: int | None = None  # the CAP item a caseworker attached it to
    has_original: bool = False
    created_at: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "type": self.type,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "source": self.source,
            "warning": self.warning or None,
            "missing": self.missing or None,
            "action_id": self.action_id,
            "original_kept": self.has_original,
        }


_INFO = "n, type, bytes, sha256, source, warning, missing, action_id, original IS NOT NULL, created_at"


def _info(row: tuple[object, ...]) -> AttachmentInfo:
    n, kind, size, digest, source, warning, missing, action, has_original, created = row
    return AttachmentInfo(
        n=int(n),  # type: ignore[call-overload]
        type=str(kind),
        bytes=int(size),  # type: ignore[call-overload]
        sha256=str(digest),
        source=str(source),
        warning=str(warning),
        missing=str(missing),
        action_id=int(action) if action is not None else None,  # type: ignore[call-overload]
        has_original=bool(has_original),
        created_at=str(created),
    )


def _next_n(conn: Connection, case_id: int) -> int:
    row = conn.execute("SELECT coalesce(max(n), 0) FROM attachments WHERE case_id = ?", (case_id,)).fetchone()
    return int(row[0]) + 1


def add(
    conn: Connection,
    case_id: int | None,
    data: bytes | None,
    type_: str,
    *,
    source: str = "worker",
    warning: str | None = None,
    original: bytes | None = None,
    item_id: str = "",
    media_sid: str | None = None,
    action_id: int | None = None,
    missing: str = "",
) -> int | None:
    """Store one file; returns its number within the case (None while it waits for its case).

    ``case_id`` None: a file sent by MMS/WhatsApp whose report is not drained yet; it is numbered
    when :func:`link_media` names its case. ``data`` None with ``missing``: the file could not be
    fetched (a caseworker still sees that one was sent).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if case_id is None and media_sid:
        linked = conn.execute("SELECT case_id FROM media_links WHERE media_sid = ?", (media_sid,)).fetchone()
        case_id = int(linked[0]) if linked else None
    n = _next_n(conn, case_id) if case_id is not None else None
    body = data or b""
    conn.execute(
        "INSERT INTO attachments (case_id, n, source, action_id, item_id, media_sid, type, bytes, sha256, warning,"
        " missing, created_at, data, original) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            n,
            source,
            action_id,
            item_id,
            media_sid,
            type_,
            len(body),
            hashlib.sha256(body).hexdigest() if data is not None else "",
            warning or "",
            missing,
            clock.now_s().isoformat(),
            data,
            original,
        ),
    )
    return n


def link_media(conn: Connection, media_sid: str, case_id: int) -> int:
    """Record that an MMS/WhatsApp message belongs to ``case_id`` and number any of its files that
    arrived first. Returns how many files were linked now."""
    conn.execute("INSERT OR IGNORE INTO media_links (media_sid, case_id) VALUES (?, ?)", (media_sid, case_id))
    waiting = conn.execute(
        "SELECT id FROM attachments WHERE media_sid = ? AND case_id IS NULL ORDER BY id", (media_sid,)
    ).fetchall()
    for (row_id,) in waiting:
        conn.execute(
            "UPDATE attachments SET case_id = ?, n = ? WHERE id = ?", (case_id, _next_n(conn, case_id), row_id)
        )
    return len(waiting)


def listing(conn: Connection, case_id: int) -> list[AttachmentInfo]:
    """A case's files in order, without reading any content."""
    rows = conn.execute(f"SELECT {_INFO} FROM attachments WHERE case_id = ? ORDER BY n", (case_id,)).fetchall()  # noqa: S608
    return [_info(r) for r in rows]


def content(conn: Connection, case_id: int, n: int, *, original: bool = False) -> tuple[AttachmentInfo, bytes] | None:
    """One file's details and content (or its kept original); None when there is no such file."""
    column = "original" if original else "data"
    row = conn.execute(
        f"SELECT {_INFO}, {column} FROM attachments WHERE case_id = ? AND n = ?",  # noqa: S608 - fixed column
        (case_id, n),
    ).fetchone()
    if row is None or row[-1] is None:
        return None
    return _info(row[:-1]), bytes(row[-1])

"""cases.db: the opened cases, keyed with a raw 256-bit key derived from the node's master.

Reporter phone numbers never sit in clear columns: ``reporter_link`` is a keyed hash for linking
reports from one number, and ``contact`` is encrypted under a per-case key (itself wrapped by the
node's contact key) only where the worker agreed to be contacted. Deleting ``contact_key``
crypto-shreds the contact, in this file and in every backup of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.domain import (
    Case,
    CaseStatus,
    Category,
    Channel,
    Consent,
    FollowUp,
    FollowUpView,
    ReceiptHash,
    RecordingView,
    Report,
)
from intake.errors import CaseNotFound, StoreError
from intake.store import attachments
from intake.store.attachments import AttachmentInfo
from intake.store.db import Connection, DatabaseError, Store
from intake.store.schema import CASES_MIGRATIONS
from intake.triage import initial_severity


@dataclass(frozen=True)
class ContactRecord:
    wrapped_key: bytes
    blob: bytes


@dataclass(frozen=True, slots=True)
class NewCase:
    """A report the drain makes a case of (:meth:`DrainBatch.add_reports`); ``severity`` is its
    :func:`intake.triage.initial_severity`, worked out before the store's lock is taken."""

    item_id: str
    report: Report
    receipt_hash: ReceiptHash | None
    severity: str
    reporter_link: bytes | None = None
    contact: ContactRecord | None = None
    recording_sid: str | None = None


class DrainBatch:
    """The writes of one drain batch, inside one write transaction (:meth:`CasesStore.drain_batch`).

    :meth:`add_reports` stores a run of reports in a few statements under one savepoint: all of
    them, or (raising) none. :meth:`item` is one item's savepoint, for the single writes: an item
    that fails midway leaves none of its rows and the batch goes on. Statements and savepoints are
    what a case costs here, not rows: with ``cipher_memory_security`` (every allocation locked and
    wiped) each statement journal and savepoint cost about 1 ms on a loaded 2-core machine, 10
    times a row, and FTS5 writes out its pending search index at each of them.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def drained(self, item_ids: Sequence[str]) -> set[str]:
        return _drained(self._conn, item_ids)

    def was_drained(self, item_id: str) -> bool:
        return bool(_drained(self._conn, [item_id]))

    @contextmanager
    def item(self, name: str = "drain_item") -> Iterator[None]:
        """One item's (or one run's) writes: all of them, or (when the block raises) none of them."""
        conn = self._conn
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException as exc:
            if not conn.in_transaction:  # SQLite gave up the whole transaction (disk full, I/O error)
                raise StoreError(f"drain batch rolled back ({type(exc).__name__})") from exc
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")

    def add_reports(self, new: Sequence[NewCase]) -> list[int]:
        """A case for each report, ids in order; the items recorded as drained. All or none."""
        if not new:
            return []
        conn = self._conn
        with self.item("drain_run"):
            first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0])
            ids = list(range(first, first + len(new)))
            for start in range(0, len(new), _ROWS_PER_INSERT):
                chunk = new[start : start + _ROWS_PER_INSERT]
                rows = [_case_row(n.report, n.receipt_hash, n.reporter_link, n.contact, n.severity) for n in chunk]
                values = [v for case_id, row in zip(ids[start:], rows, strict=False) for v in (case_id, *row)]
                conn.execute(_INSERT_CASES + ", ".join([_CASE_VALUES] * len(chunk)), values)
                drained = [v for case_id, n in zip(ids[start:], chunk, strict=False) for v in (n.item_id, case_id)]
                conn.execute(_INSERT_DRAINED + ", ".join(["(?, ?)"] * len(chunk)), drained)
            for case_id, n in zip(ids, new, strict=True):
                if n.recording_sid:
                    _link_recording(conn, n.recording_sid, case_id)
        return ids

    def add_report(
        self,
        item_id: str,
        report: Report,
        *,
        receipt_hash: ReceiptHash | None,
        reporter_link: bytes | None,
        contact: ContactRecord | None,
        recording_sid: str | None = None,
    ) -> int:
        return _insert_report(self._conn, item_id, report, receipt_hash, reporter_link, contact, recording_sid)

    def add_followup(self, item_id: str, receipt_hash: ReceiptHash, followup: FollowUp) -> int | None:
        return _insert_followup(self._conn, item_id, receipt_hash, followup)

    def add_recording(
        self, item_id: str, recording_sid: str, audio: bytes | None, content_type: str, *, missing: str = ""
    ) -> int:
        return _insert_recording(self._conn, item_id, recording_sid, audio, content_type, missing)


class CasesStore(Store):
    MIGRATIONS = CASES_MIGRATIONS

    # -- draining --------------------------------------------------------------------------------
    def was_drained(self, item_id: str) -> bool:
        return bool(self.drained([item_id]))

    def drained(self, item_ids: Sequence[str]) -> set[str]:
        """Which of these inbox items are in cases.db already (one query per few hundred ids)."""
        with self._lock:
            return _drained(self._conn, item_ids)

    @contextmanager
    def drain_batch(self) -> Iterator[DrainBatch]:
        """One write transaction for a batch of drained items (see :class:`DrainBatch`).

        Commits when the block ends; any exception out of the block rolls the whole batch back. A
        store failure (a full disk, an I/O error) comes out as :class:`StoreError`, naming the file.
        """
        try:
            with self.transaction() as conn:
                yield DrainBatch(conn)
        except DatabaseError as exc:
            raise StoreError(f"{self.path}: the drained batch was not stored ({exc}); it stays in the inbox") from exc

    def add_report(
        self,
        item_id: str,
        report: Report,
        *,
        receipt_hash: ReceiptHash | None,
        reporter_link: bytes | None,
        contact: ContactRecord | None,
        recording_sid: str | None = None,
    ) -> int:
        """Make a case from a report and record the item as drained, in one transaction."""
        with self.transaction() as conn:
            return _insert_report(conn, item_id, report, receipt_hash, reporter_link, contact, recording_sid)

    def add_followup(self, item_id: str, receipt_hash: ReceiptHash, followup: FollowUp) -> int | None:
        """Attach a follow-up to the case with that receipt; None if no case has it (yet)."""
        with self.transaction() as conn:  # nothing written for None: the empty transaction just commits
            return _insert_followup(conn, item_id, receipt_hash, followup)

    def add_recording(
        self, item_id: str, recording_sid: str, audio: bytes | None, content_type: str, *, missing: str = ""
    ) -> int:
        """Store a call's audio (or that it went missing); returns its case id, 0 if the case is not in yet."""
        with self.transaction() as conn:
            return _insert_recording(conn, item_id, recording_sid, audio, content_type, missing)

    def set_recording_audio(self, recording_sid: str, audio: bytes, content_type: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE recordings SET audio = ?, content_type = ?, missing = '' WHERE recording_sid = ?",
                (audio, content_type, recording_sid),
            )

    def missing_recordings(self) -> list[tuple[str, int | None, str]]:
        """(recording sid, case id, reason) of recordings whose audio never arrived."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT recording_sid, case_id, missing FROM recordings WHERE audio IS NULL AND missing != '' ORDER BY id"
            ).fetchall()
        return [(str(s), int(c) if c is not None else None, str(m)) for s, c, m in rows]

    # -- evidence files (issue 16; intake/store/attachments.py) ---------------------------------------
    def attachments(self, case_id: int) -> list[AttachmentInfo]:
        with self._lock:
            return attachments.listing(self._conn, case_id)

    def attachment(self, case_id: int, n: int, *, original: bool = False) -> tuple[AttachmentInfo, bytes] | None:
        """A file's details and content, decrypted in memory only; None if the case has no such file."""
        with self._lock:
            return attachments.content(self._conn, case_id, n, original=original)

    def add_attachment(
        self,
        case_id: int,
        data: bytes,
        type_: str,
        *,
        source: str = "caseworker",
        action_id: int | None = None,
        warning: str | None = None,
    ) -> int:
        """Store a file a caseworker adds (e.g. evidence for a CAP item); returns its number."""
        with self.transaction() as conn:
            n = attachments.add(conn, case_id, data, type_, source=source, action_id=action_id, warning=warning)
        return n or 0  # never 0: the case is named, so the file is numbered at once

    def recording_audio(self, case_id: int) -> list[tuple[str, str, bytes]]:
        """(recording sid, content type, audio) for a case: decrypted in memory, never written out."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT recording_sid, content_type, audio FROM recordings WHERE case_id = ? AND audio IS NOT NULL ORDER BY id",
                (case_id,),
            ).fetchall()
        return [(str(s), str(t), bytes(a)) for s, t, a in rows]

    # -- reading ------------------------------------------------------------------------------------
    _COLUMNS = (
        "id, created_at, channel, locale, status, factory, location, categories, description, consent, "
        "contact_ok, contact IS NOT NULL, severity, assignee, version"
    )

    def list_cases(self, limit: int | None = None) -> list[Case]:
        sql = f"SELECT {self._COLUMNS} FROM cases ORDER BY id DESC"  # noqa: S608 - constant columns
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [self._case(r, []) for r in rows]

    def get_case(self, case_id: int) -> Case:
        with self._lock:
            row = self._conn.execute(f"SELECT {self._COLUMNS} FROM cases WHERE id = ?", (case_id,)).fetchone()  # noqa: S608
            fups = self._conn.execute(
                "SELECT received_at, channel, text FROM followups WHERE case_id = ? ORDER BY id",
                (case_id,),
            ).fetchall()
            recs = self._conn.execute(
                "SELECT content_type, length(audio), missing FROM recordings WHERE case_id = ? ORDER BY id", (case_id,)
            ).fetchall()
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        recordings = [RecordingView(content_type=t, size=int(n or 0), missing=m) for t, n, m in recs]
        views = [FollowUpView(received_at=datetime.fromisoformat(t), channel=Channel(c), text=x) for t, c, x in fups]
        return self._case(row, views).model_copy(update={"recordings": recordings})

    def receipt_hash(self, case_id: int) -> ReceiptHash | None:
        with self._lock:
            row = self._conn.execute("SELECT receipt_hash FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        return ReceiptHash(bytes(row[0])) if row[0] is not None else None

    def contact(self, case_id: int) -> ContactRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT contact_key, contact FROM cases WHERE id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        if row[0] is None or row[1] is None:
            return None
        return ContactRecord(bytes(row[0]), bytes(row[1]))

    def shred_contact(self, case_id: int) -> None:
        """Forget the worker's contact for good (secure_delete overwrites the old pages)."""
        with self._lock:
            self._conn.execute("UPDATE cases SET contact_key = NULL, contact = NULL WHERE id = ?", (case_id,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM cases").fetchone()[0])

    @staticmethod
    def _case(row: Any, followups: list[FollowUpView]) -> Case:
        return Case(
            id=row[0],
            created_at=datetime.fromisoformat(row[1]),
            channel=Channel(row[2]),
            locale=row[3],
            status=CaseStatus(row[4]),
            factory=row[5],
            location=row[6],
            categories=[Category(c) for c in json.loads(row[7])],
            description=row[8],
            consent=Consent(row[9]),
            contact_ok=bool(row[10]),
            has_contact=bool(row[11]),
            severity=row[12],
            assignee=row[13],
            version=row[14],
            followups=followups,
        )


# -- the drain's writes, on a connection already in a write transaction ---------------------------------
_IDS_PER_QUERY = 500


def _drained(conn: Connection, item_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(item_ids), _IDS_PER_QUERY):
        chunk = list(item_ids[start : start + _IDS_PER_QUERY])
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT item_id FROM drained_items WHERE item_id IN ({marks})"  # noqa: S608 - only placeholders
        found.update(str(r[0]) for r in conn.execute(sql, chunk))
    return found


_ROWS_PER_INSERT = 200  # 16 values a case: well under SQLite's 32,766 bound variables a statement
_CASE_COLUMNS = (
    "created_at, channel, locale, factory, location, categories, description, consent, contact_ok, "
    "receipt_hash, reporter_link, contact_key, contact, status_since, severity"
)
_INSERT_CASES = f"INSERT INTO cases (id, {_CASE_COLUMNS}) VALUES "  # noqa: S608 - constant columns
_CASE_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_DRAINED = "INSERT INTO drained_items (item_id, case_id) VALUES "


def _case_row(
    report: Report,
    receipt_hash: ReceiptHash | None,
    reporter_link: bytes | None,
    contact: ContactRecord | None,
    severity: str,
) -> tuple[Any, ...]:
    received = report.received_at.isoformat()
    return (
        received,
        report.channel.value,
        report.locale,
        report.factory,
        report.location,
        json.dumps([c.value for c in report.categories]),
        report.description,
        int(report.consent),
        int(report.contact_ok),
        bytes(receipt_hash) if receipt_hash else None,
        reporter_link,
        contact.wrapped_key if contact else None,
        contact.blob if contact else None,
        received,
        severity,
    )


def _insert_report(
    conn: Connection,
    item_id: str,
    report: Report,
    receipt_hash: ReceiptHash | None,
    reporter_link: bytes | None,
    contact: ContactRecord | None,
    recording_sid: str | None,
) -> int:
    row = _case_row(report, receipt_hash, reporter_link, contact, initial_severity(report))
    cur = conn.execute(f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)  # noqa: S608
    case_id = int(cur.lastrowid or 0)
    if recording_sid:
        _link_recording(conn, recording_sid, case_id)
    conn.execute(_INSERT_DRAINED + "(?, ?)", (item_id, case_id))
    return case_id


def _link_recording(conn: Connection, recording_sid: str, case_id: int) -> None:
    conn.execute(
        "INSERT INTO recordings (recording_sid, case_id) VALUES (?, ?) "
        "ON CONFLICT(recording_sid) DO UPDATE SET case_id = excluded.case_id",
        (recording_sid, case_id),
    )


def _insert_followup(conn: Connection, item_id: str, receipt_hash: ReceiptHash, followup: FollowUp) -> int | None:
    row = conn.execute("SELECT id FROM cases WHERE receipt_hash = ?", (bytes(receipt_hash),)).fetchone()
    if row is None:
        return None
    case_id = int(row[0])
    conn.execute(
        "INSERT INTO followups (case_id, received_at, channel, locale, text) VALUES (?, ?, ?, ?, ?)",
        (case_id, followup.received_at.isoformat(), followup.channel.value, followup.locale, followup.text),
    )
    conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item_id, case_id))
    return case_id


def _insert_recording(
    conn: Connection, item_id: str, recording_sid: str, audio: bytes | None, content_type: str, missing: str
) -> int:
    conn.execute(
        "INSERT INTO recordings (recording_sid, content_type, audio, missing) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(recording_sid) DO UPDATE SET content_type = excluded.content_type, "
        "audio = excluded.audio, missing = excluded.missing",
        (recording_sid, content_type, audio, "" if audio is not None else (missing or "unknown")),
    )
    row = conn.execute("SELECT case_id FROM recordings WHERE recording_sid = ?", (recording_sid,)).fetchone()
    case_id = int(row[0]) if row and row[0] is not None else 0
    conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item_id, case_id or None))
    return case_id

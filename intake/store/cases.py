"""cases.db: the opened cases, keyed with a raw 256-bit key derived from the node's master.

Reporter phone numbers never sit in clear columns: ``reporter_link`` is a keyed hash for linking
reports from one number, and ``contact`` is encrypted under a per-case key (itself wrapped by the
node's contact key) only where the worker agreed to be contacted. Deleting ``contact_key``
crypto-shreds the contact, in this file and in every backup of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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
from intake.errors import IntakeError
from intake.store.db import Connection, open_store, transaction
from intake.triage import initial_severity

MIGRATIONS: list[list[str]] = [
    # 1: cases, follow-ups, and the drained-item ledger that makes draining idempotent
    [
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            locale TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',
            factory TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '[]',
            description TEXT NOT NULL DEFAULT '',
            consent INTEGER NOT NULL DEFAULT 0,
            contact_ok INTEGER NOT NULL DEFAULT 0,
            receipt_hash BLOB UNIQUE,
            reporter_link BLOB,
            contact_key BLOB,
            contact BLOB
        )""",
        """CREATE TABLE followups (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            received_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            locale TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        """CREATE TABLE drained_items (
            item_id TEXT PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL,
            drained_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        ) WITHOUT ROWID""",
    ],
    # 2: severity for triage, and the indexes the case list needs
    [
        "ALTER TABLE cases ADD COLUMN severity TEXT NOT NULL DEFAULT 'normal'",
        "CREATE INDEX cases_by_status ON cases(status, created_at)",
        "CREATE INDEX cases_by_reporter ON cases(reporter_link) WHERE reporter_link IS NOT NULL",
        "CREATE INDEX followups_by_case ON followups(case_id, id)",
    ],
    # 3: call recordings (audio kept only here, encrypted with the store); either the report or
    # the recording may be drained first, so a recording may wait for its case
    [
        """CREATE TABLE recordings (
            id INTEGER PRIMARY KEY,
            recording_sid TEXT NOT NULL UNIQUE,
            case_id INTEGER REFERENCES cases(id) ON DELETE CASCADE,
            content_type TEXT NOT NULL DEFAULT '',
            audio BLOB,
            missing TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX recordings_by_case ON recordings(case_id)",
    ],
    # 4: case work (desk): who holds a case, an edit version, notes, replies to the worker, the
    # hash-chained audit log, and full-text search (trigram: works for Chinese too)
    [
        "ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE cases ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            text TEXT NOT NULL
        )""",
        """CREATE TABLE replies (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            text TEXT NOT NULL,
            sms INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            case_id INTEGER,
            detail TEXT NOT NULL DEFAULT '{}',
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )""",
        "CREATE INDEX audit_by_case ON audit(case_id, id)",
        """CREATE VIRTUAL TABLE cases_fts USING fts5(
            factory, location, description, content='cases', content_rowid='id', tokenize='trigram'
        )""",
        """CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
            INSERT INTO cases_fts(rowid, factory, location, description)
            VALUES (new.id, new.factory, new.location, new.description);
        END""",
        """CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
            INSERT INTO cases_fts(cases_fts, rowid, factory, location, description)
            VALUES ('delete', old.id, old.factory, old.location, old.description);
        END""",
        """CREATE TRIGGER cases_fts_update AFTER UPDATE OF factory, location, description ON cases BEGIN
            INSERT INTO cases_fts(cases_fts, rowid, factory, location, description)
            VALUES ('delete', old.id, old.factory, old.location, old.description);
            INSERT INTO cases_fts(rowid, factory, location, description)
            VALUES (new.id, new.factory, new.location, new.description);
        END""",
        "INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')",
        "CREATE INDEX cases_by_assignee ON cases(assignee)",
    ],
    # 5: stage timing (deadlines, time to first response / resolution), the factories register,
    # and corrective action plans
    [
        "ALTER TABLE cases ADD COLUMN status_since TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN first_response_at TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN closed_at TEXT NOT NULL DEFAULT ''",
        "UPDATE cases SET status_since = created_at WHERE status_since = ''",
        """CREATE TABLE factories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            country TEXT NOT NULL DEFAULT '',
            parent_company TEXT NOT NULL DEFAULT '',
            brands TEXT NOT NULL DEFAULT '[]',
            buyers TEXT NOT NULL DEFAULT '[]',
            osh_id TEXT UNIQUE,
            merged_into INTEGER REFERENCES factories(id),
            created_at TEXT NOT NULL
        )""",
        "ALTER TABLE cases ADD COLUMN factory_id INTEGER REFERENCES factories(id)",
        "CREATE INDEX cases_by_factory ON cases(factory_id)",
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            who TEXT NOT NULL,
            due TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '',
            done_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            user TEXT NOT NULL
        )""",
        "CREATE INDEX actions_by_case ON actions(case_id)",
    ],
    # 6: the desk's default order (urgent first, then newest) served from an index, not a sort
    # of every case (bench/bench_desk.py: 586 ms -> an index walk at 100,000 cases)
    [
        "CREATE INDEX cases_by_rank ON cases("
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)",
        "CREATE INDEX cases_by_status_rank ON cases(status, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)",
    ],
    # 7: the relay (issue: relay and partner): partners (each with this node's sequence counter for
    # it, so a partner can spot a gap), the coordinator's review of each case's summary, and the
    # durable outbox of sealed envelopes
    [
        "ALTER TABLE cases ADD COLUMN workers_affected INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE relay_partners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            box_key BLOB NOT NULL,
            receipt_key BLOB NOT NULL,
            url TEXT NOT NULL DEFAULT '',
            token TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL,
            removed_at TEXT NOT NULL DEFAULT '',
            sequence INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE relay_reviews (
            case_id INTEGER PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            narrative TEXT,
            names TEXT NOT NULL DEFAULT '[]',
            named_confirmed INTEGER NOT NULL DEFAULT 0,
            approved_hash TEXT NOT NULL DEFAULT '',
            approved_by TEXT NOT NULL DEFAULT '',
            approved_at TEXT NOT NULL DEFAULT '',
            approved_inputs TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE relay_outbox (
            envelope_id TEXT PRIMARY KEY,
            partner_id INTEGER NOT NULL REFERENCES relay_partners(id),
            case_id INTEGER REFERENCES cases(id) ON DELETE SET NULL,
            sequence INTEGER NOT NULL,
            summary_hash TEXT NOT NULL,
            envelope BLOB NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            exported_at TEXT NOT NULL DEFAULT '',
            delivered_at TEXT NOT NULL DEFAULT '',
            receipt BLOB,
            cancelled TEXT NOT NULL DEFAULT '',
            UNIQUE (partner_id, sequence)
        ) WITHOUT ROWID""",
        "CREATE INDEX relay_outbox_pending ON relay_outbox(delivered_at, cancelled, next_at)",
        "CREATE INDEX relay_outbox_by_case ON relay_outbox(case_id)",
    ],
    # 8: the overdue filter, one stage at a time, walks this index in the desk's order and reads
    # status_since from it, stopping at the page's limit (bench/bench_desk.py); it replaces the
    # index of migration 6 it extends
    [
        "UPDATE cases SET status_since = created_at WHERE status_since = ''",
        "DROP INDEX cases_by_status_rank",
        "CREATE INDEX cases_by_stage_rank ON cases(status, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC, status_since)",
    ],
    # 9: the severity, channel and language filters walk their own part of the desk's order
    # (at 1,000,000 cases severity + channel took 558 ms p95 through the rank index alone)
    [
        f"CREATE INDEX cases_by_{column}_rank ON cases({column}, "
        "(CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END), id DESC)"
        for column in ("severity", "channel", "locale")
    ],
]


class CaseNotFound(IntakeError):
    status = 404
    code = "case_not_found"


@dataclass(frozen=True)
class ContactRecord:
    wrapped_key: bytes
    blob: bytes


class CasesStore:
    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        self.path = Path(path)
        self._conn: Connection = open_store(self.path, key, MIGRATIONS, synchronous="FULL", create=create)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The store's connection in one write transaction, under the store's lock."""
        with self._lock, transaction(self._conn) as conn:
            yield conn

    # -- draining --------------------------------------------------------------------------------
    def was_drained(self, item_id: str) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM drained_items WHERE item_id = ?", (item_id,)).fetchone()
        return row is not None

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
            cur = conn.execute(
                """INSERT INTO cases (created_at, channel, locale, factory, location, categories,
                       description, consent, contact_ok, receipt_hash, reporter_link, contact_key, contact,
                       status_since, severity)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    report.received_at.isoformat(),
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
                    report.received_at.isoformat(),
                    initial_severity(report),
                ),
            )
            case_id = int(cur.lastrowid or 0)
            if recording_sid:
                conn.execute(
                    "INSERT INTO recordings (recording_sid, case_id) VALUES (?, ?) "
                    "ON CONFLICT(recording_sid) DO UPDATE SET case_id = excluded.case_id",
                    (recording_sid, case_id),
                )
            conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item_id, case_id))
        return case_id

    def add_followup(self, item_id: str, receipt_hash: ReceiptHash, followup: FollowUp) -> int | None:
        """Attach a follow-up to the case with that receipt; None if no case has it (yet)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM cases WHERE receipt_hash = ?", (bytes(receipt_hash),)).fetchone()
            if row is None:
                return None  # nothing written: the empty transaction just commits
            case_id = int(row[0])
            conn.execute(
                "INSERT INTO followups (case_id, received_at, channel, locale, text) VALUES (?, ?, ?, ?, ?)",
                (
                    case_id,
                    followup.received_at.isoformat(),
                    followup.channel.value,
                    followup.locale,
                    followup.text,
                ),
            )
            conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item_id, case_id))
        return case_id

    def add_recording(
        self, item_id: str, recording_sid: str, audio: bytes | None, content_type: str, *, missing: str = ""
    ) -> int:
        """Store a call's audio (or that it went missing); returns its case id, 0 if the case is not in yet."""
        with self.transaction() as conn:
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

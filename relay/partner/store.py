"""partner.db and the opener: what was opened, and every envelope refused with why.

``partner.db`` (SQLCipher, under a key from the partner's master secret) keeps each opened summary
with its history per case reference (an update arrives under the same reference) and every refused
envelope with its reason, still sealed. ``open_pending`` verifies and decrypts what waits in the
inbox (``relay.partner.inbox``) into it; only the keyring's passphrase makes that possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nacl.public import PrivateKey
from pydantic import ValidationError

from crypto import NodeKeys
from crypto.envelope import EnvelopeError, Opened, open_envelope
from intake import clock
from intake.store.db import Store
from relay.files import BadFiles, RelayFile, read_payload
from relay.partner.inbox import InboxHome, RegisteredNode
from relay.summary import CaseSummary

PARTNER_DB_LABEL = "intake/v1/partner-db"
PARTNER_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE summaries (
            id INTEGER PRIMARY KEY,
            envelope_id TEXT NOT NULL UNIQUE,
            node_key BLOB NOT NULL,
            node_name TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            case_ref TEXT NOT NULL,
            created_at TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            via TEXT NOT NULL,
            payload TEXT NOT NULL,
            UNIQUE (node_key, sequence)
        )""",
        "CREATE INDEX summaries_by_case ON summaries(node_key, case_ref, sequence)",
        """CREATE TABLE rejected (
            id INTEGER PRIMARY KEY,
            envelope_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            message TEXT NOT NULL,
            via TEXT NOT NULL,
            at TEXT NOT NULL,
            data BLOB
        )""",
    ],
    # 2 (issue 15): the partner's own copy of every message it sent to a node (the sealed one waits
    # in inbox.db, relay.partner.outgoing), so it knows later what it asked and when
    [
        """CREATE TABLE sent_messages (
            message_id TEXT PRIMARY KEY,
            node_key BLOB NOT NULL,
            node_name TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            case_ref TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            user TEXT NOT NULL
        ) WITHOUT ROWID""",
    ],
    # 3 (issue 15 item 6): the partner's own supply-chain register (relay.partner.supply: a factory's
    # parent company, brands and public buyers, over what the groups' registers say), and which rows
    # of the public complaints table a coordinator approved, bound to the row's content
    # (relay.partner.public)
    [
        """CREATE TABLE supply_chain (
            factory_key TEXT NOT NULL,
            relation TEXT NOT NULL CHECK (relation IN ('parent', 'brand', 'buyer')),
            name TEXT NOT NULL,
            factory_name TEXT NOT NULL,
            country TEXT NOT NULL,
            osh_id TEXT NOT NULL,
            added_at TEXT NOT NULL,
            user TEXT NOT NULL,
            PRIMARY KEY (factory_key, relation, name)
        ) WITHOUT ROWID""",
        """CREATE TABLE public_rows (
            node_name TEXT NOT NULL,
            case_ref TEXT NOT NULL,
            row_hash TEXT NOT NULL,
            approved_at TEXT NOT NULL,
            user TEXT NOT NULL,
            PRIMARY KEY (node_name, case_ref)
        ) WITHOUT ROWID""",
    ],
    # 4 (issue 16 item 7): evidence files a node's coordinator approved for this partner, as they
    # arrived in an envelope with the case's summary (relay.files), checked against their SHA-256
    [
        """CREATE TABLE files (
            node_key BLOB NOT NULL,
            node_name TEXT NOT NULL,
            case_ref TEXT NOT NULL,
            n INTEGER NOT NULL,
            type TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            envelope_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (node_key, case_ref, n, sha256)
        ) WITHOUT ROWID""",
    ],
]


@dataclass(frozen=True)
class ReceivedFile:
    """A file a node sent with a case's summary (its number within the node's case)."""

    node: str
    case_ref: str
    n: int
    type: str
    bytes: int
    sha256: str
    envelope_id: str
    received_at: str

    def to_json(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("n", "type", "bytes", "sha256", "envelope_id", "received_at")}


@dataclass(frozen=True)
class Version:
    """One received version of a case summary."""

    node: str
    sequence: int
    envelope_id: str
    created_at: datetime
    opened_at: datetime
    via: str
    summary: CaseSummary


@dataclass(frozen=True)
class Outcome:
    envelope_id: str
    ok: bool
    reason: str  # "" when opened, else EnvelopeError.reason, "bad_summary" or "bad_file"
    message: str
    node: str = ""
    case_ref: str = ""
    sequence: int = 0


class PartnerStore(Store):
    MIGRATIONS = PARTNER_MIGRATIONS

    def seen(self, sender: bytes, sequence: int, envelope_id: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM summaries WHERE envelope_id = ? OR (node_key = ? AND sequence = ?)",
                (envelope_id, sender, sequence),
            ).fetchone()
        return row is not None

    def add(self, opened: Opened, summary: CaseSummary, via: str, files: Sequence[RelayFile] = ()) -> None:
        now = clock.now_s().isoformat()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO summaries (envelope_id, node_key, node_name, sequence, case_ref, created_at, opened_at, "
                "via, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    opened.header.envelope_id, opened.sender, opened.sender_name, opened.sequence, summary.case_ref,
                    opened.created_at.isoformat(), now, via, summary.model_dump_json(),
                ),
            )  # fmt: skip
            conn.executemany(
                "INSERT OR IGNORE INTO files (node_key, node_name, case_ref, n, type, bytes, sha256, envelope_id, "
                "received_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (opened.sender, opened.sender_name, summary.case_ref, f.n, f.type, f.size, f.sha256,
                     opened.header.envelope_id, now, f.data)
                    for f in files
                ],
            )  # fmt: skip

    _FILE_INFO = "node_name, case_ref, n, type, bytes, sha256, envelope_id, received_at"

    def files(self, case_ref: str) -> list[ReceivedFile]:
        """The files received for a case, without their content."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {self._FILE_INFO} FROM files WHERE case_ref = ? ORDER BY node_name, n, received_at",  # noqa: S608
                (case_ref,),
            ).fetchall()
        return [ReceivedFile(*r) for r in rows]

    def file(self, case_ref: str, n: int) -> tuple[ReceivedFile, bytes] | None:
        """One file's details and content (the latest received under that number), in memory only."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {self._FILE_INFO}, data FROM files WHERE case_ref = ? AND n = ? "  # noqa: S608
                "ORDER BY received_at DESC LIMIT 1",
                (case_ref, n),
            ).fetchone()
        return None if row is None else (ReceivedFile(*row[:-1]), bytes(row[-1]))

    def reject(self, envelope_id: str, reason: str, message: str, via: str, data: bytes | None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO rejected (envelope_id, reason, message, via, at, data) VALUES (?, ?, ?, ?, ?, ?)",
                (envelope_id, reason, message, via, clock.now_s().isoformat(), data),
            )

    def rejected(self) -> list[tuple[str, str, str, str, str]]:
        with self._lock:
            rows = self._conn.execute("SELECT envelope_id, reason, message, via, at FROM rejected ORDER BY id")
            return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def _versions(self, where: str = "", params: tuple[Any, ...] = ()) -> list[Version]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT node_name, sequence, envelope_id, created_at, opened_at, via, payload FROM summaries "  # noqa: S608
                f"{where} ORDER BY node_name, case_ref, sequence",
                params,
            ).fetchall()
        return [
            Version(
                r[0],
                int(r[1]),
                r[2],
                datetime.fromisoformat(r[3]),
                datetime.fromisoformat(r[4]),
                r[5],
                CaseSummary.model_validate_json(r[6]),
            )
            for r in rows
        ]

    def latest(self) -> list[tuple[Version, int]]:
        """The newest version of every case (by sender sequence), with how many versions arrived."""
        by_case: dict[tuple[str, str], list[Version]] = {}
        for v in self._versions():
            by_case.setdefault((v.node, v.summary.case_ref), []).append(v)
        return [(max(vs, key=lambda v: v.sequence), len(vs)) for vs in by_case.values()]

    def by_overdue(self, today: date | None = None) -> list[tuple[Version, int, int]]:
        """:meth:`latest` with the days each case's longest-overdue open step is past due on ``today``
        (the partner's clock; 0 when none), longest overdue first (escalation, issue 15). Counted from
        the plan's due dates, so a step that went overdue after the last summary counts too."""
        today = today or clock.now().date()
        rows = [(v, n, v.summary.days_overdue(today)) for v, n in self.latest()]
        return sorted(rows, key=lambda r: (-r[2], r[0].node, r[0].summary.case_ref))

    def by_case(self) -> list[list[Version]]:
        """Every case's versions, oldest first (by sender sequence): the remedy record dates a remedy
        by the first summary that showed it (relay.partner.remedy)."""
        by_case: dict[tuple[str, str], list[Version]] = {}
        for v in self._versions():
            by_case.setdefault((v.node, v.summary.case_ref), []).append(v)
        return [sorted(vs, key=lambda v: v.sequence) for vs in by_case.values()]

    def history(self, case_ref: str) -> list[Version]:
        return self._versions("WHERE case_ref = ?", (case_ref,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])


def open_pending(home: InboxHome, keys: NodeKeys, store: PartnerStore) -> list[Outcome]:
    """Verify and decrypt every envelope in the inbox into partner.db; refuse the bad ones, with why.

    An opened or refused envelope leaves the inbox (a refused one is kept in partner.db's
    ``rejected`` table, still sealed, for whoever investigates).
    """
    inbox = home.open_inbox()
    try:
        nodes = {n.key: n.name for n in inbox.nodes()}
        by_id = {n.id: n for n in inbox.nodes()}
        identity = keys.identity
        outcomes = []
        for envelope_id, via, node_id, data in inbox.pending():
            outcome = _open_one(store, identity, nodes, by_id.get(node_id) if node_id else None, envelope_id, via, data)
            outcomes.append(outcome)
            inbox.delete(envelope_id)
        return outcomes
    finally:
        inbox.close()


def _open_one(
    store: PartnerStore,
    identity: PrivateKey,
    nodes: dict[bytes, str],
    via_node: RegisteredNode | None,
    envelope_id: str,
    via: str,
    data: bytes,
) -> Outcome:
    try:
        opened = open_envelope(data, recipient=identity, senders=nodes, seen=store.seen)
    except EnvelopeError as exc:
        store.reject(envelope_id, exc.reason, str(exc), via, data)
        return Outcome(envelope_id, False, exc.reason, str(exc))
    if via_node is not None and via_node.key != opened.sender:
        message = f"delivered with {via_node.name}'s token but signed by {opened.sender_name}"
        store.reject(envelope_id, "wrong_sender", message, via, data)
        return Outcome(envelope_id, False, "wrong_sender", message, opened.sender_name)
    try:
        summary, files = read_payload(opened.payload)
    except BadFiles as exc:
        # Signed by the node, but a file is not what it says (its bytes do not match its SHA-256...):
        # nothing of the envelope is stored but the envelope itself, still sealed.
        message = f"signed by {opened.sender_name} but a file is not valid: {exc}"
        store.reject(envelope_id, "bad_file", message, via, data)
        return Outcome(envelope_id, False, "bad_file", message, opened.sender_name)
    except ValidationError as exc:
        message = f"signed by {opened.sender_name} but not a valid summary ({exc.error_count()} errors)"
        store.reject(envelope_id, "bad_summary", message, via, data)
        return Outcome(envelope_id, False, "bad_summary", message, opened.sender_name)
    store.add(opened, summary, via, files)
    return Outcome(envelope_id, True, "", "opened", opened.sender_name, summary.case_ref, opened.sequence)

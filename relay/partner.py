"""The partner's side of the relay: a home folder, an inbox that cannot read, an opener, partner.db.

A partner home (``intake partner init``) holds:

- ``keyring.json``: the partner's X25519 (opening) and Ed25519 keys, wrapped per user by Argon2id,
  exactly like a node's keyring;
- ``inbox.key`` (0600): the inbox store's key and the *receipt* signing key, which the always-on
  inbox server needs without a passphrase. Seizing it lets someone sign receipts, never open an
  envelope;
- ``inbox.db``: SQLCipher; the registered nodes (name, Ed25519 key, a hash of their bearer token)
  and the envelopes received and not yet opened, still sealed;
- ``partner.db``: SQLCipher under a key from the master secret; opened summaries with their
  history per case reference, and every refused envelope with its reason.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.utils
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from pydantic import ValidationError

from crypto import Keyring, KeyringError, NodeKeys, fingerprint
from crypto.envelope import (
    MAX_ENVELOPE,
    EnvelopeError,
    Header,
    Opened,
    open_envelope,
    parse_node_key,
    partner_key_string,
    read_header,
    recipient_hint,
    sign_receipt,
)
from intake import clock
from intake.errors import DeliveredByAnotherNode, InvalidInput, NodeError
from intake.node import read_key_file, unlock_keyring, write_key_file
from intake.stats import CaseRow, crosstab, month, public_export, suppress
from intake.store.db import Connection, open_store, transaction
from relay.summary import CaseSummary

PARTNER_DB_LABEL = "intake/v1/partner-db"
INBOX_KEY_VERSION = 1
NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")

INBOX_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE nodes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            key BLOB NOT NULL UNIQUE,
            token_hash BLOB NOT NULL UNIQUE,
            added_at TEXT NOT NULL
        )""",
        """CREATE TABLE envelopes (
            envelope_id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL,
            via TEXT NOT NULL,
            node_id INTEGER,
            data BLOB NOT NULL
        ) WITHOUT ROWID""",
    ]
]
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
    ]
]


def _now() -> datetime:
    return clock.now_s()


def token_hash(token: str) -> bytes:
    return hashlib.sha256(b"grievance-intake/partner-token\x00" + token.encode()).digest()


@dataclass(frozen=True)
class PartnerHome:
    home: Path

    @property
    def keyring_path(self) -> Path:
        return self.home / "keyring.json"

    @property
    def inbox_key_path(self) -> Path:
        return self.home / "inbox.key"

    @property
    def inbox_path(self) -> Path:
        return self.home / "inbox.db"

    @property
    def db_path(self) -> Path:
        return self.home / "partner.db"

    def keyring(self) -> Keyring:
        try:
            return Keyring.load(self.keyring_path)
        except KeyringError as exc:
            raise NodeError(f"{exc} (is {self.home} a partner home? 'intake partner init' makes one)") from None

    def inbox_keys(self) -> InboxKeys:
        return InboxKeys.load(self.inbox_key_path)

    def open_inbox(self) -> PartnerInbox:
        return PartnerInbox(self.inbox_path, self.inbox_keys().inbox_db)

    @property
    def unlock_failures_path(self) -> Path:
        return self.home / "unlock-failures"

    def unlock(self, user: str | None, passphrase: str, *, sleep: Callable[[float], None] = time.sleep) -> NodeKeys:
        """Unlock the partner's keyring; wrong passphrases slow every later try, as on a node."""
        return unlock_keyring(self.keyring(), self.unlock_failures_path, user, passphrase, sleep=sleep)

    def open_db(self, keys: NodeKeys) -> PartnerStore:
        return PartnerStore(self.db_path, keys.key(PARTNER_DB_LABEL))

    def key_string(self) -> str:
        return partner_key_string(self.keyring().public_key, self.inbox_keys().receipt.verify_key)

    def fingerprints(self) -> dict[str, str]:
        ring = self.keyring()
        return {
            "x25519": ring.fingerprints()["x25519"],
            "receipts": fingerprint(bytes(self.inbox_keys().receipt.verify_key), kind="ed25519"),
        }


@dataclass(frozen=True)
class InboxKeys:
    inbox_db: bytes
    receipt: SigningKey

    @classmethod
    def create(cls, path: Path) -> InboxKeys:
        keys = cls(nacl.utils.random(32), SigningKey.generate())
        write_key_file(path, INBOX_KEY_VERSION, {"inbox_db": keys.inbox_db, "receipt": bytes(keys.receipt)})
        return keys

    @classmethod
    def load(cls, path: Path) -> InboxKeys:
        keys = read_key_file(
            path, INBOX_KEY_VERSION, ("inbox_db", "receipt"), what="partner inbox key file", init="intake partner init"
        )
        return cls(keys["inbox_db"], SigningKey(keys["receipt"]))


def init_partner(home: Path, *, user: str, passphrase: str, profile: str) -> PartnerHome:
    """Create a partner home; refuses a folder that already holds one (or a node)."""
    ph = PartnerHome(Path(home))
    if ph.keyring_path.exists():
        raise NodeError(f"{home} already holds a keyring; a partner home needs its own folder")
    ph.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(ph.home, 0o700)
    try:
        _ring, keys = Keyring.create(ph.keyring_path, user=user, passphrase=passphrase, profile=profile)
    except KeyringError as exc:
        raise NodeError(str(exc)) from None
    ikeys = InboxKeys.create(ph.inbox_key_path)
    PartnerInbox(ph.inbox_path, ikeys.inbox_db, create=True).close()
    PartnerStore(ph.db_path, keys.key(PARTNER_DB_LABEL), create=True).close()
    return ph


# -- the inbox: no private key, only sealed envelopes and node registrations ----------------------------


@dataclass(frozen=True)
class RegisteredNode:
    id: int
    name: str
    key: bytes
    added_at: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key, kind="ed25519")


class PartnerInbox:
    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        self._conn: Connection = open_store(Path(path), key, INBOX_MIGRATIONS, synchronous="FULL", create=create)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add_node(self, name: str, key_text: str) -> tuple[RegisteredNode, str]:
        """Register a node; returns it and its bearer token (shown once, stored only as a hash)."""
        name = name.strip()
        if not NODE_NAME.match(name):
            raise InvalidInput("a node's name: letters, digits, space . _ - (at most 64)", fields={"name": "invalid"})
        try:
            key = bytes(parse_node_key(key_text.strip()))
        except ValueError as exc:
            raise InvalidInput(f"node key: {exc}", fields={"key": "invalid"}) from None
        token = secrets.token_urlsafe(32)
        with self._lock, transaction(self._conn) as conn:
            if conn.execute("SELECT 1 FROM nodes WHERE name = ? OR key = ?", (name, key)).fetchone():
                raise InvalidInput("a node with this name or key is registered already", fields={"name": "taken"})
            cur = conn.execute(
                "INSERT INTO nodes (name, key, token_hash, added_at) VALUES (?, ?, ?, ?)",
                (name, key, token_hash(token), _now().isoformat()),
            )
        return RegisteredNode(int(cur.lastrowid or 0), name, key, _now().isoformat()), token

    def nodes(self) -> list[RegisteredNode]:
        with self._lock:
            rows = self._conn.execute("SELECT id, name, key, added_at FROM nodes ORDER BY name").fetchall()
        return [RegisteredNode(int(r[0]), r[1], bytes(r[2]), r[3]) for r in rows]

    def remove_node(self, name: str) -> None:
        with self._lock, transaction(self._conn) as conn:
            if conn.execute("DELETE FROM nodes WHERE name = ?", (name,)).rowcount == 0:
                raise InvalidInput(f"no node named {name!r}", fields={"name": "unknown"})

    def node_for_token(self, token: str) -> RegisteredNode | None:
        digest = token_hash(token)
        with self._lock:
            rows = self._conn.execute("SELECT id, name, key, added_at, token_hash FROM nodes").fetchall()
        found = None
        for r in rows:  # constant-time comparison against every registered hash
            if hmac.compare_digest(bytes(r[4]), digest):
                found = RegisteredNode(int(r[0]), r[1], bytes(r[2]), r[3])
        return found

    def put(self, header: Header, data: bytes, *, via: str, node_id: int | None = None) -> datetime:
        """Keep an envelope (idempotent by id); returns when it was first received."""
        now = _now().isoformat()
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO envelopes (envelope_id, received_at, via, node_id, data) VALUES (?, ?, ?, ?, ?)",
                (header.envelope_id, now, via, node_id, data),
            )
            received, kept, holder = conn.execute(
                "SELECT received_at, data, node_id FROM envelopes WHERE envelope_id = ?", (header.envelope_id,)
            ).fetchone()
        if not hmac.compare_digest(bytes(kept), data):
            # Only the very same bytes are a duplicate: whoever learnt an id must not shadow the envelope.
            raise EnvelopeError("malformed", "another envelope with this id is waiting in the inbox")
        if node_id is not None and holder is not None and holder != node_id:
            # The copy waiting here is filed under the node that pushed it first; a receipt to this
            # one would promise a summary the opener may refuse as wrong_sender.
            raise DeliveredByAnotherNode("this envelope is waiting in the inbox, delivered by another node")
        return datetime.fromisoformat(received)

    def pending(self) -> list[tuple[str, str, int | None, bytes]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT envelope_id, via, node_id, data FROM envelopes ORDER BY received_at, envelope_id"
            ).fetchall()
        return [(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def delete(self, envelope_id: str) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute("DELETE FROM envelopes WHERE envelope_id = ?", (envelope_id,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM envelopes").fetchone()[0])


# -- partner.db: what was opened ------------------------------------------------------------------------


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
    reason: str  # "" when opened, else EnvelopeError.reason or "bad_summary"
    message: str
    node: str = ""
    case_ref: str = ""
    sequence: int = 0


class PartnerStore:
    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        self._conn: Connection = open_store(Path(path), key, PARTNER_MIGRATIONS, synchronous="FULL", create=create)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def seen(self, sender: bytes, sequence: int, envelope_id: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM summaries WHERE envelope_id = ? OR (node_key = ? AND sequence = ?)",
                (envelope_id, sender, sequence),
            ).fetchone()
        return row is not None

    def add(self, opened: Opened, summary: CaseSummary, via: str) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO summaries (envelope_id, node_key, node_name, sequence, case_ref, created_at, opened_at, "
                "via, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    opened.header.envelope_id, opened.sender, opened.sender_name, opened.sequence, summary.case_ref,
                    opened.created_at.isoformat(), _now().isoformat(), via, summary.model_dump_json(),
                ),
            )  # fmt: skip

    def reject(self, envelope_id: str, reason: str, message: str, via: str, data: bytes | None) -> None:
        with self._lock, transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO rejected (envelope_id, reason, message, via, at, data) VALUES (?, ?, ?, ?, ?, ?)",
                (envelope_id, reason, message, via, _now().isoformat(), data),
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

    def history(self, case_ref: str) -> list[Version]:
        return self._versions("WHERE case_ref = ?", (case_ref,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])


def open_pending(home: PartnerHome, keys: NodeKeys, store: PartnerStore) -> list[Outcome]:
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
        summary = CaseSummary.model_validate_json(opened.payload)
    except ValidationError as exc:
        message = f"signed by {opened.sender_name} but not a valid summary ({exc.error_count()} errors)"
        store.reject(envelope_id, "bad_summary", message, via, data)
        return Outcome(envelope_id, False, "bad_summary", message, opened.sender_name)
    store.add(opened, summary, via)
    return Outcome(envelope_id, True, "", "opened", opened.sender_name, summary.case_ref, opened.sequence)


def receive(
    inbox: PartnerInbox, hint: bytes, receipt_key: SigningKey, data: bytes, *, via: str, node: RegisteredNode | None
) -> bytes:
    """Accept one envelope into the inbox (HTTPS or a folder): check its header, keep it, sign a receipt.

    ``hint`` is :func:`crypto.envelope.recipient_hint` of this partner's key: an envelope sealed to
    anyone else is refused here already (the inbox cannot open anything, but it can read the header).
    """
    header = read_header(data)
    if not hmac.compare_digest(header.recipient_hint, hint):
        raise EnvelopeError("not_for_this_key")
    received_at = inbox.put(header, data, via=via, node_id=node.id if node else None)
    return sign_receipt(header.envelope_id, key=receipt_key, received_at=received_at)


def import_folder(home: PartnerHome, folder: Path) -> list[tuple[str, str]]:
    """Take every ``*.envelope`` file of ``folder`` into the inbox: [(file name, "" or why refused)]."""
    inbox = home.open_inbox()
    hint = recipient_hint(home.keyring().public_key)
    receipt_key = home.inbox_keys().receipt
    out: list[tuple[str, str]] = []
    try:
        for path in sorted(folder.glob("*.envelope")):
            try:
                if path.stat().st_size > MAX_ENVELOPE:
                    raise EnvelopeError("too_large")
                receive(inbox, hint, receipt_key, path.read_bytes(), via="folder", node=None)
            except EnvelopeError as exc:
                out.append((path.name, f"{exc.reason}: {exc}"))
            except OSError as exc:
                out.append((path.name, f"unreadable: {exc.strerror}"))
            else:
                out.append((path.name, ""))
    finally:
        inbox.close()
    return out


# -- aggregate report ------------------------------------------------------------------------------------


def factory_label(s: CaseSummary) -> str:
    f = s.factory
    if f.open_supply_hub_id:
        return f"{f.name} ({f.country}, {f.open_supply_hub_id})" if f.country else f"{f.name} ({f.open_supply_hub_id})"
    return f"{f.name} ({f.country})" if f.country else f.name


def report(store: PartnerStore) -> dict[str, Any]:
    """Cases by factory x category, month x category and factory x month across every node, small
    cells suppressed; and how many groups report each factory.

    Each case counts once (its newest version), under the month it was first reported. A factory is
    the same across nodes when its Open Supply Hub id (else name and country) is the same.
    """
    rows = []
    latest = store.latest()
    for n, (v, _count) in enumerate(latest, 1):
        s = v.summary
        when = datetime.strptime(s.first_reported + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        rows.append(
            CaseRow(
                id=n,
                created_at=when,
                status=s.status,
                categories=tuple(s.categories),
                factory=factory_label(s),
                registered=True,
                channel="relay",
                status_since=when,
            )
        )
    export = public_export(rows)
    # Which factories keep coming back, month by month: the pattern a public buyer acts on.
    factory_by_month = crosstab((r.factory, month(r.created_at)) for r in rows)
    export["factory_by_month"] = suppress(*factory_by_month).as_json()
    # How many labour groups report each factory (groups, not workers: nothing to suppress).
    groups: dict[str, set[str]] = {}
    for v, _n in latest:
        groups.setdefault(factory_label(v.summary), set()).add(v.node)
    export["groups_per_factory"] = {f: len(g) for f, g in sorted(groups.items())}
    export["cases"] = len(rows) if len(rows) >= 5 or not rows else "<5"
    export["nodes"] = len({v.node for v, _ in latest})
    return export

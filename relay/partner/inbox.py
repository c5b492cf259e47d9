"""The partner's inbox: it takes envelopes in and cannot read them.

``inbox.key`` (0600) holds the inbox store's key and the *receipt* signing key, which the always-on
inbox server needs without a passphrase: seizing it lets someone sign receipts, never open an
envelope. ``inbox.db`` (SQLCipher) holds the registered nodes (name, Ed25519 key, a hash of their
bearer token) and the envelopes received and not yet opened, still sealed. Envelopes arrive over
HTTPS (``relay.partner.app``) or from a folder (``import_folder``); both go through ``receive``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import nacl.utils
from nacl.signing import SigningKey

from crypto import Keyring, fingerprint
from crypto.envelope import (
    MAX_ENVELOPE,
    EnvelopeError,
    Header,
    parse_node_key,
    read_header,
    recipient_hint,
    sign_receipt,
)
from crypto.message import read_message_header
from intake import clock
from intake.errors import DeliveredByAnotherNode, InvalidInput
from intake.node import read_key_file, write_key_file
from intake.store.db import Store

INBOX_KEY_VERSION = 1
MESSAGE_BATCH = 16  # messages per answer to a node's fetch (each at most 64 KiB)
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
    ],
    # 2 (issue 15): messages for nodes, sealed to them (relay.partner.outgoing), waiting for the
    # node's next fetch or a USB export. The sequence counts per node key, so a node removed and
    # added again does not restart at 1 (the node would refuse that as a replay); outcome is what
    # the node acknowledged (stored, duplicate or refused and why)
    [
        """CREATE TABLE outgoing (
            message_id TEXT PRIMARY KEY,
            node_key BLOB NOT NULL,
            sequence INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            data BLOB NOT NULL,
            exported_at TEXT NOT NULL DEFAULT '',
            acked_at TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            UNIQUE (node_key, sequence)
        ) WITHOUT ROWID""",
        "CREATE INDEX outgoing_waiting ON outgoing(node_key, acked_at, sequence)",
    ],
]


def token_hash(token: str) -> bytes:
    return hashlib.sha256(b"grievance-intake/partner-token\x00" + token.encode()).digest()


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


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to a node, as the partner's inbox keeps it (sealed; no text here)."""

    message_id: str
    node_key: bytes
    sequence: int
    created_at: str
    exported_at: str
    acked_at: str
    outcome: str  # the node's word: stored, duplicate, refused:<reason>; '' until it answers


@dataclass(frozen=True)
class RegisteredNode:
    id: int
    name: str
    key: bytes
    added_at: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key, kind="ed25519")


class PartnerInbox(Store):
    MIGRATIONS = INBOX_MIGRATIONS

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
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM nodes WHERE name = ? OR key = ?", (name, key)).fetchone():
                raise InvalidInput("a node with this name or key is registered already", fields={"name": "taken"})
            cur = conn.execute(
                "INSERT INTO nodes (name, key, token_hash, added_at) VALUES (?, ?, ?, ?)",
                (name, key, token_hash(token), clock.now_s().isoformat()),
            )
        return RegisteredNode(int(cur.lastrowid or 0), name, key, clock.now_s().isoformat()), token

    def nodes(self) -> list[RegisteredNode]:
        with self._lock:
            rows = self._conn.execute("SELECT id, name, key, added_at FROM nodes ORDER BY name").fetchall()
        return [RegisteredNode(int(r[0]), r[1], bytes(r[2]), r[3]) for r in rows]

    def remove_node(self, name: str) -> None:
        with self.transaction() as conn:
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
        now = clock.now_s().isoformat()
        with self.transaction() as conn:
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
        with self.transaction() as conn:
            conn.execute("DELETE FROM envelopes WHERE envelope_id = ?", (envelope_id,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM envelopes").fetchone()[0])

    # -- messages to nodes (the other direction): sealed, waiting to be fetched or exported ----------

    def queue_message(self, node_key: bytes, seal: Callable[[int], bytes]) -> tuple[str, int]:
        """Seal a message for a node with its next sequence number and keep it; returns (id, number).

        ``seal(sequence)`` returns the sealed message; it runs inside the transaction that takes the
        number, so two messages never share one. The message is filed under the id in its own header,
        the one the node acknowledges.
        """
        with self.transaction() as conn:
            (sequence,) = conn.execute(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM outgoing WHERE node_key = ?", (node_key,)
            ).fetchone()
            data = seal(int(sequence))
            message_id = read_message_header(data).envelope_id
            conn.execute(
                "INSERT INTO outgoing (message_id, node_key, sequence, created_at, data) VALUES (?, ?, ?, ?, ?)",
                (message_id, node_key, int(sequence), clock.now_s().isoformat(), data),
            )
        return message_id, int(sequence)

    def waiting_for(self, node_key: bytes, limit: int = MESSAGE_BATCH) -> list[tuple[str, bytes]]:
        """The messages a node has not acknowledged yet, oldest first: [(message id, sealed bytes)]."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, data FROM outgoing WHERE node_key = ? AND acked_at = '' ORDER BY sequence LIMIT ?",
                (node_key, limit),
            ).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    def acknowledge(self, node_key: bytes, acks: list[tuple[str, str]]) -> int:
        """Record the node's word on its messages ((id, outcome) pairs); only that node's own count."""
        now = clock.now_s().isoformat()
        with self.transaction() as conn:
            done = 0
            for message_id, outcome in acks:
                done += conn.execute(
                    "UPDATE outgoing SET acked_at = ?, outcome = ? WHERE message_id = ? AND node_key = ?",
                    (now, outcome, message_id, node_key),
                ).rowcount
        return done

    def outgoing(self, node_key: bytes | None = None) -> list[OutgoingMessage]:
        where, params = ("WHERE node_key = ?", (node_key,)) if node_key is not None else ("", ())
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, node_key, sequence, created_at, exported_at, acked_at, outcome "  # noqa: S608
                f"FROM outgoing {where} ORDER BY created_at, sequence",
                params,
            ).fetchall()
        return [OutgoingMessage(r[0], bytes(r[1]), int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def message_data(self, message_id: str) -> bytes:
        with self._lock:
            row = self._conn.execute("SELECT data FROM outgoing WHERE message_id = ?", (message_id,)).fetchone()
        if row is None:
            raise InvalidInput("no such message", fields={"message": "unknown"})
        return bytes(row[0])

    def exported(self, message_ids: list[str]) -> None:
        now = clock.now_s().isoformat()
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE outgoing SET exported_at = ? WHERE message_id = ?", [(now, i) for i in message_ids]
            )


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


class InboxHome(Protocol):
    """What the inbox needs of a partner home: ``relay.partner.home.PartnerHome``, which builds on this module."""

    def keyring(self) -> Keyring: ...
    def inbox_keys(self) -> InboxKeys: ...
    def open_inbox(self) -> PartnerInbox: ...


def import_folder(home: InboxHome, folder: Path) -> list[tuple[str, str]]:
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

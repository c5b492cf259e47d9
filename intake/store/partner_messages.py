"""Partner messages kept in cases.db (``partner_messages``): what partners said about this node's cases.

Only verified messages get here (``relay.inbound`` checks the signature, the replay, the case and
the partner first); this module stores and reads them, and records when a caseworker passed one on
to the worker. The audit log names the message's number, kind and partner id, never its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intake import audit
from intake.errors import InvalidInput
from intake.store.cases import CasesStore

_COLUMNS = (
    "id, case_id, partner_id, partner, kind, text, created_at, received_at, envelope_id, sequence, via, "
    "passed_on_at, passed_on_by, passed_on_template"
)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    case_id: int
    partner_id: int | None
    partner: str
    kind: str
    text: str
    created_at: str  # the partner's clock
    received_at: str  # this node's clock
    envelope_id: str
    sequence: int
    via: str
    passed_on_at: str
    passed_on_by: str
    passed_on_template: str

    def as_json(self) -> dict[str, Any]:
        """The shape ``intake cases show --json`` lists under ``partner_messages``."""
        return {
            "id": self.id, "kind": self.kind, "partner": self.partner, "text": self.text,
            "created_at": self.created_at, "received_at": self.received_at, "via": self.via,
            "passed_on_at": self.passed_on_at or None, "passed_on_template": self.passed_on_template or None,
        }  # fmt: skip


def add(
    conn: Any,
    audit_key: bytes,
    *,
    user: str,
    case_id: int,
    partner_id: int,
    partner: str,
    partner_key: bytes,
    kind: str,
    text: str,
    created_at: str,
    received_at: str,
    envelope_id: str,
    sequence: int,
    via: str,
) -> int:
    """Store one verified message and its audit entry, inside the caller's write transaction."""
    cur = conn.execute(
        "INSERT INTO partner_messages (case_id, partner_id, partner, partner_key, kind, text, created_at, "
        "received_at, envelope_id, sequence, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, partner_id, partner, partner_key, kind, text, created_at, received_at, envelope_id, sequence, via),
    )
    number = int(cur.lastrowid or 0)
    audit.record(
        conn, audit_key, user=user, action="partner_message", case_id=case_id,
        detail={"message": number, "kind": kind, "partner_id": partner_id, "via": via},
    )  # fmt: skip
    return number


def seen(store: CasesStore, partner_key: bytes, sequence: int, envelope_id: str) -> bool:
    """Was a message with this id, or from this partner key with this sequence number, stored?"""
    with store._lock:
        row = store._conn.execute(
            "SELECT 1 FROM partner_messages WHERE envelope_id = ? OR (partner_key = ? AND sequence = ?)",
            (envelope_id, partner_key, sequence),
        ).fetchone()
    return row is not None


def same_one(store: CasesStore, partner_key: bytes, sequence: int, envelope_id: str) -> bool:
    """Is exactly this message (id, partner key and sequence) stored already: a harmless redelivery?"""
    with store._lock:
        row = store._conn.execute(
            "SELECT 1 FROM partner_messages WHERE envelope_id = ? AND partner_key = ? AND sequence = ?",
            (envelope_id, partner_key, sequence),
        ).fetchone()
    return row is not None


def for_case(store: CasesStore, case_id: int) -> list[StoredMessage]:
    """A case's partner messages, in the order they arrived."""
    with store._lock:
        rows = store._conn.execute(
            f"SELECT {_COLUMNS} FROM partner_messages WHERE case_id = ? ORDER BY id",  # noqa: S608 - fixed columns
            (case_id,),
        ).fetchall()
    return [StoredMessage(*r) for r in rows]


def passed_on(
    store: CasesStore, audit_key: bytes, *, user: str, case_id: int, message_id: int, template: str, at: str
) -> None:
    """Record that a caseworker posted ``template`` for the worker after reading message ``message_id``."""
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE partner_messages SET passed_on_at = ?, passed_on_by = ?, passed_on_template = ? "
            "WHERE id = ? AND case_id = ?",
            (at, user, template, message_id, case_id),
        )
        if cur.rowcount != 1:
            raise InvalidInput("no such partner message for this case", fields={"partner_message": "unknown"})
        audit.record(
            conn, audit_key, user=user, action="partner_message_passed_on", case_id=case_id,
            detail={"message": message_id, "template": template},
        )  # fmt: skip

"""The partner answers: messages to the node that sent a case, sealed and waiting in inbox.db.

``intake partner message REF`` finds the node behind a case reference in partner.db, signs the
message with the partner's receipt key (the key every node already holds from the partner key
string) and seals it to that node (``crypto.message``), under the next sequence number toward that
node. The sealed message waits in inbox.db until the node fetches it on its next push
(``POST /relay/v1/messages``, ``relay.partner.app``) or the partner exports it to a USB stick
(``intake partner export``); partner.db keeps the partner's own readable copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nacl.signing import VerifyKey

from crypto import NodeKeys
from crypto.files import write_private_file
from crypto.message import seal_message
from intake import clock
from intake.errors import InvalidInput
from relay.message import MAX_TEXT, PartnerMessage, stamp
from relay.partner.home import PartnerHome
from relay.partner.inbox import OutgoingMessage
from relay.partner.store import PartnerStore

SUFFIX = ".message"


@dataclass(frozen=True)
class Queued:
    message_id: str
    node: str
    sequence: int
    created_at: datetime


def nodes_for(store: PartnerStore, case_ref: str) -> list[tuple[bytes, str]]:
    """The nodes (key, name) that sent a case under ``case_ref``: one, unless two collide."""
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT DISTINCT node_key, node_name FROM summaries WHERE case_ref = ? ORDER BY node_name", (case_ref,)
        ).fetchall()
    return [(bytes(r[0]), r[1]) for r in rows]


def compose(
    home: PartnerHome,
    keys: NodeKeys,
    store: PartnerStore,
    case_ref: str,
    text: str,
    *,
    kind: str = "question",
    node: str | None = None,
    now: datetime | None = None,
) -> Queued:
    """Seal a message about ``case_ref`` for the node that sent it and queue it in the inbox."""
    now = now or clock.now_s()
    senders = [n for n in nodes_for(store, case_ref) if node is None or n[1] == node]
    if not senders:
        raise InvalidInput(f"no case {case_ref} was received", fields={"ref": "unknown"})
    if len(senders) > 1:
        raise InvalidInput(f"case {case_ref} came from several nodes; name one", fields={"node": "ambiguous"})
    node_key, node_name = senders[0]
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(f"a message is 1 to {MAX_TEXT} characters", fields={"text": "empty" if not text else "long"})
    message = PartnerMessage(kind=kind, case_ref=case_ref, text=text, created_at=stamp(now))  # type: ignore[arg-type]
    receipt_key = home.inbox_keys().receipt
    inbox = home.open_inbox()
    try:
        registered = {n.key for n in inbox.nodes()}
        if node_key not in registered:
            raise InvalidInput(f"{node_name} is no longer a registered node", fields={"node": "removed"})

        def seal(sequence: int) -> bytes:
            return seal_message(
                message.to_bytes(), sender=receipt_key, recipient=VerifyKey(node_key), sequence=sequence,
                created_at=message.created,
            )  # fmt: skip

        message_id, sequence = inbox.queue_message(node_key, seal)
    finally:
        inbox.close()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sent_messages (message_id, node_key, node_name, sequence, case_ref, kind, text, created_at, "
            "user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, node_key, node_name, sequence, case_ref, kind, text, message.created_at, keys.user),
        )
    return Queued(message_id, node_name, sequence, message.created)


def export(home: PartnerHome, folder: Path, *, node: str | None = None) -> list[Path]:
    """Write every message no node has acknowledged yet as ``<id>.message`` into ``folder``."""
    inbox = home.open_inbox()
    try:
        names = {n.key: n.name for n in inbox.nodes()}
        rows = [r for r in inbox.outgoing() if not r.acked_at and (node is None or names.get(r.node_key) == node)]
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for row in rows:
            path = folder / f"{row.message_id}{SUFFIX}"
            write_private_file(path, inbox.message_data(row.message_id))
            written.append(path)
        if rows:
            inbox.exported([r.message_id for r in rows])
    finally:
        inbox.close()
    return written


def listing(home: PartnerHome, store: PartnerStore) -> list[tuple[OutgoingMessage, str, str, str]]:
    """Every message sent: (its inbox row, node name, case reference, kind), oldest first."""
    with store.reading() as conn:
        mine = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute("SELECT message_id, node_name, case_ref, kind FROM sent_messages")
        }
    inbox = home.open_inbox()
    try:
        rows = inbox.outgoing()
    finally:
        inbox.close()
    return [(r, *mine.get(r.message_id, ("?", "?", "?"))) for r in rows]

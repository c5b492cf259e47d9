"""The node's side of partner messages: verify each one, store it with its case, collect them.

A partner answers about a case it received (docs/envelope.md#messages). The node keeps a message
only when all of these hold, and otherwise stores nothing and says why (``Outcome.reason``):

- it opens with this node's key and is signed by a registered partner's receipt key
  (``not_for_this_key``, ``altered``, ``unknown_sender``, ``bad_signature``, ...);
- it is not a replay: neither its id nor that partner's sequence number was stored before
  (``replayed``; the very same message again is a harmless ``duplicate``);
- fetched from a partner's inbox, it is signed by that partner (``wrong_sender``);
- its payload is a valid ``grievance-intake/partner-message/v1`` within the size caps, its time the
  sealed time (``bad_message``; a message over 64 KiB is ``too_large`` before anything else);
- its case reference is one this node sent to *that* partner (``unknown_case``).

``created_at`` is the partner's clock and is only shown: a partner hours or years off is not
refused, and the node records its own ``received_at``. Messages arrive over HTTPS when the node
pushes (:func:`collect`, ``POST /relay/v1/messages`` on the partner's inbox) and from a USB stick
(:func:`import_folder`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import ValidationError

from crypto import NodeKeys
from crypto.envelope import EnvelopeError
from crypto.message import MAX_MESSAGE, open_message, read_message_header, sign_fetch
from crypto.push import HEADER as PUSH_HEADER
from intake import audit, clock
from intake.store import partner_messages
from intake.store.cases import CasesStore
from intake.store.db import IntegrityError
from relay.message import PartnerMessage
from relay.partners import Partner, Partners
from relay.summary import REF_LABEL, case_ref

log = logging.getLogger("intake.relay")
MESSAGES_PATH = "/relay/v1/messages"
SUFFIX = ".message"
MAX_ROUNDS = 20  # fetches per partner and push: at most 20 batches (the inbox sends 16 at a time)
MAX_BATCH = 64


@dataclass(frozen=True)
class Outcome:
    message_id: str  # "" when not even the header could be read
    status: str  # "stored", "duplicate" or "refused"
    reason: str = ""  # why refused (EnvelopeError reasons, wrong_sender, bad_message, unknown_case)
    detail: str = ""  # for the operator; never the message's text
    partner: str = ""
    case_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status != "refused"


@dataclass
class CollectReport:
    outcomes: list[Outcome] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # partner name -> why its inbox was not asked

    @property
    def stored(self) -> int:
        return sum(o.status == "stored" for o in self.outcomes)

    @property
    def refused(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def _refused(message_id: str, reason: str, detail: str, partner: str = "") -> Outcome:
    return Outcome(message_id, "refused", reason, detail, partner)


class Inbound:
    """Partner messages into cases.db, for one unlocked node."""

    def __init__(self, store: CasesStore, keys: NodeKeys) -> None:
        self.store = store
        self.keys = keys
        self.registry = Partners(store, keys)

    def receive(self, data: bytes, *, via: str, partner: Partner | None = None) -> Outcome:
        """Verify one message and store it with its case; ``partner``: the inbox it was fetched from."""
        try:
            message_id = read_message_header(data).envelope_id
        except EnvelopeError as exc:
            return _refused("", exc.reason, str(exc))
        partners = {p.receipt_key: p for p in reversed(self.registry.all())}
        asked: list[tuple[bytes, int, str]] = []

        def seen(sender: bytes, sequence: int, mid: str) -> bool:
            asked.append((sender, sequence, mid))
            return partner_messages.seen(self.store, sender, sequence, mid)

        try:
            opened = open_message(
                data, recipient=self.keys.signing_key, senders={k: p.name for k, p in partners.items()}, seen=seen
            )
        except EnvelopeError as exc:
            if exc.reason == "replayed" and asked and partner_messages.same_one(self.store, *asked[-1]):
                return Outcome(message_id, "duplicate", "", "received before", partners[asked[-1][0]].name)
            return _refused(message_id, exc.reason, str(exc))
        sender = partners[opened.sender]
        if partner is not None and partner.receipt_key != opened.sender:
            return _refused(
                message_id, "wrong_sender", f"fetched from {partner.name}'s inbox but signed by {sender.name}"
            )
        try:
            message = PartnerMessage.model_validate_json(opened.payload)
        except ValidationError as exc:
            where = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})) or "the document"
            return _refused(
                message_id, "bad_message", f"from {sender.name}, not a valid message ({where})", sender.name
            )
        if message.created != opened.created_at:
            return _refused(message_id, "bad_message", f"from {sender.name}: its two times differ", sender.name)
        case_id = self.case_for(sender, message.case_ref)
        if case_id is None:
            return _refused(
                message_id, "unknown_case",
                f"from {sender.name} about case {message.case_ref}, which this node never sent to {sender.name}",
                sender.name,
            )  # fmt: skip
        try:
            with self.store.transaction() as conn:
                partner_messages.add(
                    conn, audit.audit_key(self.keys), user=self.keys.user, case_id=case_id, partner_id=sender.id,
                    partner=sender.name, partner_key=opened.sender, kind=message.kind, text=message.text,
                    created_at=message.created_at, received_at=clock.now_s().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    envelope_id=message_id, sequence=opened.sequence, via=via,
                )  # fmt: skip
        except IntegrityError:  # a concurrent receiver (the desk's timer, a CLI push) stored it first
            if partner_messages.same_one(self.store, opened.sender, opened.sequence, message_id):
                return Outcome(message_id, "duplicate", "", "received before", sender.name, case_id)
            return _refused(message_id, "replayed", f"from {sender.name}: sequence {opened.sequence} was used before")
        return Outcome(message_id, "stored", "", "stored", sender.name, case_id)

    def case_for(self, partner: Partner, ref: str) -> int | None:
        """The case behind ``ref``, if this node sent (delivered or exported) it to ``partner``."""
        ref_key = self.keys.key(REF_LABEL)
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT o.case_id FROM relay_outbox o JOIN relay_partners p ON p.id = o.partner_id "
                "WHERE p.box_key = ? AND o.case_id IS NOT NULL AND (o.delivered_at != '' OR o.exported_at != '')",
                (partner.box_key,),
            ).fetchall()
        for (case_id,) in rows:
            if case_ref(ref_key, partner.box_key, int(case_id)) == ref:
                return int(case_id)
        return None


def collect(inbound: Inbound, client: httpx.Client) -> CollectReport:
    """Fetch, verify and store what every partner with an inbox URL holds for this node; ack each.

    ``POST {url}/relay/v1/messages`` with the node's bearer token and its fetch signature over the
    body ``{"ack": [{"id", "outcome", "reason"}, ...]}``; the inbox answers
    ``{"messages": [base64url, ...]}`` with what is still waiting. Every message is acknowledged,
    stored or refused, in the next request, so the partner learns what became of it; one that was
    not acknowledged comes again and is a harmless duplicate.
    """
    report = CollectReport()
    for partner in inbound.registry.all():
        if not partner.url or not partner.token:
            continue
        acks: list[dict[str, str]] = []
        previous: set[str] = set()
        for _round in range(MAX_ROUNDS):
            body = json.dumps({"ack": acks}, separators=(",", ":")).encode()
            error, blobs = _fetch(client, partner, body, inbound.keys)
            if error:
                report.errors[partner.name] = error
                break
            acks, ids = [], set()
            for blob in blobs:
                outcome = inbound.receive(blob, via="https", partner=partner)
                report.outcomes.append(outcome)
                if outcome.message_id:
                    acks.append({"id": outcome.message_id, "outcome": outcome.status, "reason": outcome.reason})
                    ids.add(outcome.message_id)
            if not blobs or ids == previous:
                break  # nothing more, or the inbox sends again what was just acknowledged
            previous = ids
    refused = report.refused
    log.info(
        "partner messages: %d stored, %d refused (%s), %d inboxes not reached",
        report.stored, len(refused), ",".join(sorted({o.reason for o in refused})) or "-", len(report.errors),
    )  # fmt: skip
    return report


def _fetch(client: httpx.Client, partner: Partner, body: bytes, keys: NodeKeys) -> tuple[str, list[bytes]]:
    """One fetch: ("", messages) or (why not, [])."""
    try:
        response = client.post(
            partner.url + MESSAGES_PATH,
            content=body,
            headers={
                "Authorization": f"Bearer {partner.token}",
                "Content-Type": "application/json",
                PUSH_HEADER: sign_fetch(body, key=keys.signing_key),
            },
        )
    except Exception as exc:  # any failure of the exchange itself: the push's own results must stand
        return f"{type(exc).__name__}: the partner's inbox could not be reached", []
    if response.status_code != 200:
        return f"HTTP {response.status_code} when asking for messages", []
    blobs = _messages_of(response.content)
    if blobs is None:
        return "the partner's inbox answered with something that is not a list of messages", []
    return "", blobs


def _messages_of(content: bytes) -> list[bytes] | None:
    try:
        doc = json.loads(content)
    except ValueError:
        return None
    items = doc.get("messages") if isinstance(doc, dict) else None
    if not isinstance(items, list) or len(items) > MAX_BATCH or not all(isinstance(i, str) for i in items):
        return None
    out = []
    for item in items:
        if len(item) > (MAX_MESSAGE * 4 + 2) // 3:
            out.append(b"\x00" * (MAX_MESSAGE + 1))  # refused as too_large, like any oversized message
            continue
        try:
            out.append(base64.urlsafe_b64decode(item + "=" * (-len(item) % 4)))
        except (binascii.Error, ValueError):
            out.append(b"")  # refused as truncated: nothing of it can be read
    return out


def import_folder(inbound: Inbound, folder: Path) -> list[tuple[str, Outcome]]:
    """Take every ``*.message`` file of ``folder`` (a USB stick from the partner): [(file name, outcome)]."""
    out: list[tuple[str, Outcome]] = []
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            if path.stat().st_size > MAX_MESSAGE:
                out.append((path.name, _refused("", "too_large", f"the file is over the {MAX_MESSAGE} byte limit")))
                continue
            data = path.read_bytes()
        except OSError as exc:
            out.append((path.name, _refused("", "unreadable", exc.strerror or "cannot be read")))
            continue
        out.append((path.name, inbound.receive(data, via="folder")))
    return out

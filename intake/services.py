"""The one way in (accept_report / accept_followup), the status board, and the drain.

Channels never touch the stores: they build a domain object and call these. Everything a worker
wrote is sealed in memory to the node's public key before it reaches the inbox.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.hash
import phonenumbers
from nacl.public import PublicKey
from pydantic import ValidationError

from crypto import CannotOpen, NodeKeys, open_item, seal_item
from crypto.fields import encrypt_field, new_key
from intake.domain import MAX_DESCRIPTION, BoardStatus, FollowUp, ReceiptCode, ReceiptHash, Report
from intake.errors import InvalidInput
from intake.node import CSRF_LABEL, RECEIPT_LABEL, IntakeKeys, load_keyring, open_inbox
from intake.receipts import ReceiptHasher, new_receipt
from intake.settings import Settings
from intake.store.cases import CasesStore, ContactRecord
from intake.store.inbox import BoardEntry, Inbox

log = logging.getLogger("intake.services")

ITEM_VERSION = 1


@dataclass
class IntakeService:
    """What the always-on intake holds: the inbox, the node's public key, its own keys.

    It never holds the passphrase and cannot open what it stores.
    """

    settings: Settings
    inbox: Inbox
    public_key: PublicKey
    receipts: ReceiptHasher
    csrf_key: bytes = field(repr=False)

    @classmethod
    def open(cls, settings: Settings) -> IntakeService:
        ring = load_keyring(settings)
        keys = IntakeKeys.load(settings.intake_key_path)
        return cls(
            settings=settings,
            inbox=open_inbox(settings),
            public_key=ring.public_key,
            receipts=ReceiptHasher(keys.key(RECEIPT_LABEL)),
            csrf_key=keys.key(CSRF_LABEL),
        )

    def close(self) -> None:
        self.inbox.close()


def _seal(service: IntakeService, doc: dict[str, Any]) -> tuple[str, bytes]:
    item_id = secrets.token_hex(16)
    doc = {"v": ITEM_VERSION, "id": item_id, **doc}
    # sealed before it touches disk: a seized intake must reveal nothing (docs/threat-model.md#seizure)
    return item_id, seal_item(json.dumps(doc, ensure_ascii=False).encode("utf-8"), to=service.public_key)


def seal_report(
    service: IntakeService, report: Report, parts: Sequence[bytes] = (), *, recording_sid: str | None = None
) -> tuple[str, bytes, ReceiptCode, ReceiptHash]:
    """Seal a report (with any already-sealed text parts, e.g. an SMS conversation's, or the id of
    the call recording that will follow it) into one item."""
    if not report.has_substance() and not parts and not recording_sid:
        raise InvalidInput("empty report", fields={"description": "missing"})
    receipt = new_receipt()
    receipt_hash = service.receipts.hash(receipt)
    doc: dict[str, Any] = {
        "kind": "report",
        "receipt_hash": receipt_hash.hex(),
        "report": report.model_dump(mode="json"),
    }
    if parts:
        doc["parts"] = [base64.b64encode(p).decode("ascii") for p in parts]
    if recording_sid:
        doc["recording_sid"] = recording_sid
    item_id, blob = _seal(service, doc)
    return item_id, blob, receipt, receipt_hash


def seal_part(service: IntakeService, field_name: str, text: str) -> bytes:
    """Seal one piece of free text a worker sent (kept until their report is complete)."""
    return seal_item(
        json.dumps({"field": field_name, "text": text}, ensure_ascii=False).encode(), to=service.public_key
    )


def seal_recording(
    service: IntakeService, recording_sid: str, audio: bytes | None, content_type: str, reason: str = ""
) -> tuple[str, bytes]:
    """Seal a call recording in memory (no clear audio file ever exists), or its absence."""
    doc: dict[str, Any] = {"kind": "recording", "recording_sid": recording_sid, "content_type": content_type}
    if audio is None:
        doc["missing"] = reason or "unknown"
    else:
        doc["audio"] = base64.b64encode(audio).decode("ascii")
    return _seal(service, doc)


def accept_report(service: IntakeService, report: Report) -> ReceiptCode:
    """Seal and durably store one report; return the worker's receipt code.

    Returns only after the item is committed with synchronous=FULL: an acknowledged report
    survives a crash or power loss. On any storage failure it raises StoreUnavailable (503) and
    nothing is acknowledged.
    """
    item_id, blob, receipt, receipt_hash = seal_report(service, report)
    service.inbox.put(item_id, blob, board=receipt_hash)
    log.info("report accepted channel=%s size=%d", report.channel.value, len(blob))
    return receipt


def accept_followup(service: IntakeService, receipt: ReceiptCode, followup: FollowUp) -> None:
    """Seal and store text a worker adds with their receipt.

    Accepted whether or not the code is known (no oracle, and a mistyped code loses nothing:
    the desk opens it as a new case).
    """
    receipt_hash = service.receipts.hash(receipt)
    item_id, blob = _seal(
        service,
        {
            "kind": "followup",
            "receipt_hash": receipt_hash.hex(),
            "followup": followup.model_dump(mode="json"),
        },
    )
    service.inbox.put(item_id, blob)
    log.info("follow-up accepted channel=%s size=%d", followup.channel.value, len(blob))


def read_status(service: IntakeService, receipt: ReceiptCode | None) -> BoardEntry:
    """The worker's status. Unknown codes look exactly like known ones with no news.

    The hash and the lookup run whether or not the code parsed, so timing says nothing either.
    """
    code = receipt or ReceiptCode("0" * 16)
    entry = service.inbox.board(service.receipts.hash(code))
    if entry is None or receipt is None:
        return BoardEntry(BoardStatus.RECEIVED, [])
    return entry


# -- drain: sealed inbox items -> cases.db (needs the unlocked node) --------------------------------
@dataclass
class DrainResult:
    cases: int = 0
    followups: int = 0
    already: int = 0
    unreadable: int = 0
    recordings: int = 0
    case_ids: list[int] = field(default_factory=list)


def reporter_link(keys: NodeKeys, phone: str) -> bytes:
    """Keyed hash of a normalised phone number: links reports, reveals no number."""
    return nacl.hash.blake2b(
        normalize_phone(phone).encode(),
        key=keys.reporter_key,
        digest_size=32,
        encoder=nacl.encoding.RawEncoder,
    )


def normalize_phone(phone: str) -> str:
    try:
        parsed = phonenumbers.parse(phone, None)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in phone if ch.isdigit())


def seal_contact(keys: NodeKeys, case_context: bytes, *, phone: str, name: str) -> ContactRecord:
    """Encrypt a worker's contact under a fresh per-case key, wrapped by the node's contact key."""
    case_key = new_key()
    blob = encrypt_field(case_key, json.dumps({"phone": phone, "name": name}).encode(), context=case_context)
    wrapped = encrypt_field(keys.contact_key, case_key, context=b"case-key:" + case_context)
    return ContactRecord(wrapped, blob)


class ItemSource(Protocol):
    """Where sealed items come from: the local inbox, or an intake on another host (intake.remote)."""

    def items(self, limit: int = ..., after_seq: int = ...) -> list[tuple[int, str, bytes]]: ...

    def delete(self, item_ids: list[str]) -> None: ...


def drain(
    inbox: ItemSource,
    cases: CasesStore,
    keys: NodeKeys,
    *,
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
) -> DrainResult:
    """Open every sealed item into cases.db, deleting each from the inbox only once committed.

    Idempotent by item id: a crash between commit and delete leaves an item whose id is already
    in ``drained_items``; the next drain only deletes it. Nothing is lost or duplicated.
    """
    result = DrainResult()
    identity = keys.identity
    after = 0
    while True:
        rows = inbox.items(limit=batch, after_seq=after)
        if not rows:
            break
        done: list[str] = []
        for seq, item_id, blob in rows:
            after = seq
            if cases.was_drained(item_id):
                result.already += 1
                done.append(item_id)
                continue
            try:
                doc = json.loads(open_item(blob, identity))
                if not isinstance(doc, dict):  # one odd item must not stop every later drain
                    raise ValueError("item is not an object")
                case_id = _store_item(cases, keys, item_id, doc)
            except (CannotOpen, ValueError, KeyError, TypeError, ValidationError):
                # Left in the inbox for a later release or a caseworker to look at; never deleted.
                result.unreadable += 1
                log.warning("inbox item could not be opened; left in place")
                continue
            if doc["kind"] == "recording":
                result.recordings += 1
            elif doc["kind"] == "report" or case_id < 0:
                result.cases += 1
            else:
                result.followups += 1
            if case_id:
                result.case_ids.append(abs(case_id))
            done.append(item_id)
            if progress:
                progress(1)
        if done:
            inbox.delete(done)
    return result


def _store_item(cases: CasesStore, keys: NodeKeys, item_id: str, doc: dict[str, Any]) -> int:
    """Returns the case id; negative when a follow-up had to become a new case."""
    if doc.get("v") != ITEM_VERSION or doc.get("id") != item_id:
        raise ValueError("item envelope mismatch")
    if doc["kind"] == "recording":
        audio = base64.b64decode(doc["audio"]) if "audio" in doc else None
        return cases.add_recording(
            item_id,
            str(doc["recording_sid"]),
            audio,
            str(doc.get("content_type", "")),
            missing=str(doc.get("missing", "")),
        )
    receipt_hash = ReceiptHash(bytes.fromhex(doc["receipt_hash"]))
    if doc["kind"] == "report":
        fields_in = dict(doc["report"])
        if doc.get("parts"):
            fields_in.update(_open_parts(keys, doc["parts"], fields_in))
        report = Report.model_validate(fields_in)
        return _add_report(cases, keys, item_id, report, receipt_hash, recording_sid=doc.get("recording_sid"))
    if doc["kind"] == "followup":
        followup = FollowUp.model_validate(doc["followup"])
        case_id = cases.add_followup(item_id, receipt_hash, followup)
        if case_id is not None:
            return case_id
        # A code no case has: keep the words as a case of their own rather than drop them.
        orphan = Report(
            channel=followup.channel,
            received_at=followup.received_at,
            locale=followup.locale,
            description=followup.text,
        )
        return -_add_report(cases, keys, item_id, orphan, receipt_hash)
    raise ValueError("unknown item kind")


def _open_parts(keys: NodeKeys, parts: list[str], base: dict[str, Any]) -> dict[str, str]:
    """Open sealed text parts into report fields: description parts joined, the last factory wins."""
    identity = keys.identity
    description = [base.get("description") or ""]
    out: dict[str, str] = {}
    for encoded in parts:
        part = json.loads(open_item(base64.b64decode(encoded), identity))
        if part["field"] == "description":
            description.append(str(part["text"]))
        elif part["field"] in ("factory", "location"):
            out[part["field"]] = str(part["text"])
    out["description"] = "\n\n".join(d for d in description if d)[:MAX_DESCRIPTION]
    return out


def _add_report(
    cases: CasesStore,
    keys: NodeKeys,
    item_id: str,
    report: Report,
    receipt_hash: ReceiptHash,
    *,
    recording_sid: str | None = None,
) -> int:
    link = reporter_link(keys, report.phone) if report.phone else None
    contact = None
    phone = report.phone if report.contact_ok else ""
    if phone or report.name:
        contact = seal_contact(keys, item_id.encode(), phone=phone, name=report.name)
    return cases.add_report(
        item_id, report, receipt_hash=receipt_hash, reporter_link=link, contact=contact, recording_sid=recording_sid
    )

"""The drain: sealed inbox items opened into cases.db (needs the unlocked node).

The reverse of :mod:`intake.services`, which seals what a worker sent: each item is opened with the
node's private key and becomes a case, a follow-up or a call recording. Phone numbers never land in
clear columns: a keyed hash links reports from one number, and a contact the worker agreed to is
encrypted under a per-case key (crypto-shredded when the case closes).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.encoding
import nacl.hash
from pydantic import ValidationError

from crypto import CannotOpen, NodeKeys, open_item
from crypto.fields import encrypt_field, new_key
from intake.domain import MAX_DESCRIPTION, MAX_SHORT, FollowUp, ReceiptHash, Report
from intake.services import ITEM_VERSION, normalize_phone
from intake.store.cases import CasesStore, ContactRecord

log = logging.getLogger("intake.drain")


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
        elif part["field"] in ("factory", "location") and len(str(part["text"])) > MAX_SHORT:
            # A story typed where the factory was asked (sealed before the engine kept such text
            # as story): kept whole in the description, never left unreadable in the inbox.
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

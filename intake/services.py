"""The one way in (accept_report / accept_followup), the status board, and the drain.

Channels never touch the stores: they build a domain object and call these. Everything a worker
wrote is sealed in memory to the node's public key before it reaches the inbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from crypto.fields import decrypt_field, encrypt_field, new_key
from crypto.kdf import derive_key
from intake import clock
from intake.domain import MAX_DESCRIPTION, MAX_SHORT, BoardStatus, FollowUp, ReceiptCode, ReceiptHash, Report
from intake.errors import IdempotencyConflict, InvalidInput, ReceiptMistyped, StoreUnavailable
from intake.node import CSRF_LABEL, RECEIPT_LABEL, IntakeKeys, load_keyring, open_inbox
from intake.receipts import SCHEME_META_KEY, ReceiptHasher, Scheme, mistyped, new_receipt
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
    once_swept_at: float = field(default=float("-inf"), repr=False)  # see Once
    #: whether codes from before check digits may be out (intake/receipts.py): MIXED looks them up
    receipt_scheme: Scheme = Scheme.MIXED

    @classmethod
    def open(cls, settings: Settings) -> IntakeService:
        ring = load_keyring(settings)
        keys = IntakeKeys.load(settings.intake_key_path)
        inbox = open_inbox(settings)
        return cls(
            settings=settings,
            inbox=inbox,
            public_key=ring.public_key,
            receipts=ReceiptHasher(keys.key(RECEIPT_LABEL)),
            csrf_key=keys.key(CSRF_LABEL),
            receipt_scheme=receipt_scheme(inbox),
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


def accept_report(service: IntakeService, report: Report, once: Once | None = None) -> ReceiptCode:
    """Seal and durably store one report; return the worker's receipt code.

    Returns only after the item is committed with synchronous=FULL: an acknowledged report
    survives a crash or power loss. On any storage failure it raises StoreUnavailable (503) and
    nothing is acknowledged. With ``once``, a repeat of an earlier submission stores nothing and
    returns the earlier receipt (see :class:`Once`).
    """
    item_id, blob, receipt, receipt_hash = seal_report(service, report)
    if once is None:
        service.inbox.put(item_id, blob, board=receipt_hash)
    else:
        earlier = _put_once(service, once, {"receipt": str(receipt)}, item_id, blob, receipt_hash)
        if earlier is not None:
            log.info("report sent again channel=%s; the first receipt is shown again", report.channel.value)
            return ReceiptCode(str(earlier["receipt"]))
    log.info("report accepted channel=%s size=%d", report.channel.value, len(blob))
    return receipt


def receipt_scheme(inbox: Inbox) -> Scheme:
    """The node's receipt scheme, settled the first time a service opens this inbox: CHECKED when
    its board is still empty (no code without a check digit was ever handed out), else MIXED."""
    try:
        value = inbox.settle_meta(SCHEME_META_KEY, board_empty=Scheme.CHECKED.value, board_used=Scheme.MIXED.value)
    except StoreUnavailable:  # cannot record it now: answer as before check digits, decide next time
        return Scheme.MIXED
    return Scheme(value) if value in set(Scheme) else Scheme.MIXED


def check_receipt(service: IntakeService, receipt: ReceiptCode) -> None:
    """Refuse a code this node cannot have handed out (a typo) with :class:`ReceiptMistyped`.

    Decided from the code and the node's scheme alone, before and without any lookup, so it says
    nothing about which codes exist (intake/receipts.py).
    """
    if mistyped(receipt, service.receipt_scheme):
        raise ReceiptMistyped()


def accept_followup(service: IntakeService, receipt: ReceiptCode, followup: FollowUp, once: Once | None = None) -> None:
    """Seal and store text a worker adds with their receipt.

    Accepted for any code this node could have handed out, whether or not it is known (no oracle,
    and a code typed wrong in a way the check digit cannot see loses nothing: the desk opens it as
    a new case). A code failing the check digit raises :class:`ReceiptMistyped`, nothing stored.
    """
    check_receipt(service, receipt)
    receipt_hash = service.receipts.hash(receipt)
    item_id, blob = _seal(
        service,
        {
            "kind": "followup",
            "receipt_hash": receipt_hash.hex(),
            "followup": followup.model_dump(mode="json"),
        },
    )
    if once is None:
        service.inbox.put(item_id, blob)
    elif _put_once(service, once, {}, item_id, blob, None) is not None:  # see Once
        log.info("follow-up sent again channel=%s; nothing stored", followup.channel.value)
        return
    log.info("follow-up accepted channel=%s size=%d", followup.channel.value, len(blob))


def read_status(service: IntakeService, receipt: ReceiptCode | None) -> BoardEntry:
    """The worker's status. Unknown codes look exactly like known ones with no news.

    The hash and the lookup run whether or not the code parsed, so timing says nothing either. A
    code failing the check digit raises :class:`ReceiptMistyped` first (a property of the code
    alone, so answering it sooner tells nothing).
    """
    if receipt is not None:
        check_receipt(service, receipt)
    code = receipt or ReceiptCode("0" * 16)
    entry = service.inbox.board(service.receipts.hash(code))
    if entry is None or receipt is None:
        return BoardEntry(BoardStatus.RECEIVED, [])
    return entry


# -- single-use submissions: a form sent twice, an API request retried ------------------------------
ONCE_LABEL = "intake/v1/once"
ONCE_TTL = 24 * 3600
ONCE_PREFIX = b"once:"  # every Once key starts with it, so they are swept apart from SMS and call ids
_ONCE_END = b"once;"  # the first key after every b"once:..." key
ONCE_SWEEP_EVERY = 600.0


@dataclass(frozen=True)
class Once:
    """One submission that must take effect once, however often it is sent.

    A worker on a slow link taps Send twice, or reloads the receipt page; an API client retries
    after a timeout. The second send must show the first receipt, not make a second report that
    the worker may keep the wrong code of.

    ``token`` names the submission and is a secret: a web form's own token (128 random bits that
    only the worker's page holds, ``channels.web.security.Csrf``) or the ``Idempotency-Key`` an
    API client chose. ``fingerprint`` is a hash of what was sent, so the same token with other
    content is refused (:class:`IdempotencyConflict`) instead of being taken for a repeat.

    What the intake keeps is one row of ``seen_messages`` in inbox.db, as for an SMS MessageSid,
    written in the same transaction as the item, so two sends at the same moment store one:

    - key: ``once:`` + HMAC(once key, scope, token). The once key comes from intake.key; the token
      itself is never stored, so nothing on disk names the form.
    - memo: the receipt and the fingerprint, encrypted (XChaCha20-Poly1305) under a key derived
      from HMAC(once key, "memo", scope, token). Only a request carrying the token again can open
      it, and the always-on intake needs no passphrase to do so; a seized intake holds intake.key
      but no token, so it reads no receipt code (docs/threat-model.md#seizure). API clients should
      therefore send random keys (a UUID), never counters.
    - created_at: after 24 hours a row is ignored and swept, and the same token is a new
      submission (a web form's token has long expired by then: ``Csrf.MAX_AGE`` is 6 hours).
    """

    scope: str  # "web-report", "api-report", "web-followup", "api-followup": their keys never meet
    token: str = field(repr=False)
    fingerprint: bytes = field(repr=False)

    @classmethod
    def of(cls, scope: str, token: str, sent: Any) -> Once:
        """``sent``: what was submitted, as JSON-able values (the order of keys does not matter)."""
        canonical = json.dumps(sent, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        return cls(scope, token, hashlib.sha256(canonical.encode("utf-8", "replace")).digest())


def _once_keys(service: IntakeService, once: Once) -> tuple[bytes, bytes]:
    """(the row key, the memo key) for ``once``."""
    base = derive_key(service.csrf_key, ONCE_LABEL)
    name = once.scope.encode() + b"\0" + once.token.encode("utf-8", "replace")
    key = ONCE_PREFIX + hmac.new(base, b"key\0" + name, hashlib.sha256).digest()
    memo_key = derive_key(hmac.new(base, b"memo\0" + name, hashlib.sha256).digest(), "intake/v1/once-memo")
    return key, memo_key


def _put_once(
    service: IntakeService, once: Once, answer: dict[str, str], item_id: str, blob: bytes, board: ReceiptHash | None
) -> dict[str, Any] | None:
    """Store the item unless ``once`` was stored before; then store nothing and return its answer."""
    key, memo_key = _once_keys(service, once)
    context = b"once:" + once.scope.encode()
    memo = encrypt_field(memo_key, json.dumps({**answer, "fp": once.fingerprint.hex()}).encode(), context=context)
    now = int(clock.time())
    if clock.monotonic() - service.once_swept_at > ONCE_SWEEP_EVERY:
        service.once_swept_at = clock.monotonic()
        service.inbox.forget_seen_range(ONCE_PREFIX, _ONCE_END, now - ONCE_TTL)
    earlier = service.inbox.put_first(key, memo, item_id, blob, board=board, expired_before=now - ONCE_TTL)
    if earlier is None:
        return None
    try:
        doc = json.loads(decrypt_field(memo_key, earlier, context=context))
    except (CannotOpen, ValueError):
        raise IdempotencyConflict("earlier memo unreadable") from None
    if not isinstance(doc, dict) or not hmac.compare_digest(str(doc.get("fp", "")), once.fingerprint.hex()):
        raise IdempotencyConflict("same token, other content")
    return doc


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

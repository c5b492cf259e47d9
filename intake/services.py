"""The one way in (accept_report / accept_followup) and the status board a worker reads.

Channels never touch the stores: they build a domain object and call these. Everything a worker
wrote is sealed in memory to the node's public key before it reaches the inbox; the desk opens it
later (:mod:`intake.drain`). A submission sent twice is stored once (:mod:`intake.once`).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from nacl.public import PublicKey

from crypto import seal_item
from crypto.stream import seal_stream
from intake.alerts import note_urgent
from intake.domain import BoardStatus, FollowUp, ReceiptCode, ReceiptHash, Report
from intake.errors import InvalidInput, ReceiptMistyped, StoreUnavailable
from intake.evidence import Evidence
from intake.node import CSRF_LABEL, RECEIPT_LABEL, IntakeKeys, load_keyring, open_inbox
from intake.once import Once, put_once
from intake.receipts import SCHEME_META_KEY, ReceiptHasher, Scheme, mistyped, new_receipt
from intake.settings import Settings
from intake.store.inbox import BoardEntry, Inbox, SealedFile
from intake.triage import initial_severity

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
    once_swept_at: float = field(default=float("-inf"), repr=False)  # see intake.once
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


def _seal(service: IntakeService, doc: dict[str, Any], item_id: str | None = None) -> tuple[str, bytes]:
    item_id = item_id or secrets.token_hex(16)
    doc = {"v": ITEM_VERSION, "id": item_id, **doc}
    # sealed before it touches disk: a seized intake must reveal nothing (docs/threat-model.md#seizure)
    return item_id, seal_item(json.dumps(doc, ensure_ascii=False).encode("utf-8"), to=service.public_key)


def file_label(item_id: str, n: int) -> bytes:
    """What binds a sealed file to its item and place (crypto/stream.py's associated data)."""
    return f"{item_id}/{n}".encode()


class SealedFiles:
    """Files sealed one by one, as they arrive, for the item they will be stored with (whose id is
    chosen here, first). The web upload seals each file as soon as it is cleaned, so its clear copy
    can go at once instead of waiting beside the others for the report (bench/bench_files.py)."""

    def __init__(self, service: IntakeService, item_id: str | None = None) -> None:
        self.item_id = item_id or secrets.token_hex(16)
        self._public_key = service.public_key
        self._keep = bool(service.settings.keep_originals)
        self.described: list[dict[str, Any]] = []  # for the sealed doc's ``attachments``
        self.sealed: list[SealedFile] = []  # the streams to store with the item

    def add(self, f: Evidence) -> None:
        """Seal one cleaned file (and its original, with ``keep_originals``, as file ``-n``)."""
        n = len(self.described) + 1
        self.sealed.append(SealedFile(n, seal_stream(f.data, self._public_key, label=file_label(self.item_id, n))))
        original = self._keep and f.original is not None
        if self._keep and f.original is not None:
            label = file_label(self.item_id, -n)
            self.sealed.append(SealedFile(-n, seal_stream(f.original, self._public_key, label=label)))
        self.described.append(
            {"n": n, "type": f.type, "bytes": len(f.data), "warning": f.warning, "original": original}
        )

    def __len__(self) -> int:
        return len(self.described)


def sealed_files(service: IntakeService, files: Sequence[Evidence] | SealedFiles) -> SealedFiles:
    """``files`` sealed (already, or now) for one item."""
    if isinstance(files, SealedFiles):
        return files
    out = SealedFiles(service)
    for f in files:
        out.add(f)
    return out


def seal_files(
    service: IntakeService, item_id: str, files: Sequence[Evidence]
) -> tuple[list[dict[str, Any]], list[SealedFile]]:
    """Seal each cleaned file as a stream to the node key, in 64 KiB chunks; the list for the sealed
    doc (``attachments``) and the sealed streams to store. An original (``keep_originals``) is
    sealed as file ``-n``."""
    out = SealedFiles(service, item_id)
    for f in files:
        out.add(f)
    return out.described, out.sealed


def seal_report(
    service: IntakeService, report: Report, parts: Sequence[bytes] = (), *, recording_sid: str | None = None
) -> tuple[str, bytes, ReceiptCode, ReceiptHash]:
    """Seal a report (with any already-sealed text parts, e.g. an SMS conversation's, or the id of
    the call recording that will follow it) into one item."""
    item_id, blob, receipt, receipt_hash, _files = seal_report_with_files(
        service, report, parts, recording_sid=recording_sid
    )
    return item_id, blob, receipt, receipt_hash


def seal_report_with_files(
    service: IntakeService,
    report: Report,
    parts: Sequence[bytes] = (),
    *,
    recording_sid: str | None = None,
    files: Sequence[Evidence] | SealedFiles = (),
) -> tuple[str, bytes, ReceiptCode, ReceiptHash, list[SealedFile]]:
    """:func:`seal_report`, with files the worker attached: also the sealed streams to store with it."""
    if not report.has_substance() and not parts and not recording_sid and not files:
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
    bundle = sealed_files(service, files)
    if bundle:
        doc["attachments"] = bundle.described
    item_id, blob = _seal(service, doc, bundle.item_id)
    return item_id, blob, receipt, receipt_hash, bundle.sealed


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


def accept_media(
    service: IntakeService, media_sid: str, key: bytes, files: Sequence[Evidence] | None, reason: str = ""
) -> bool:
    """Seal and store the files of one MMS/WhatsApp message (``media_sid`` its MessageSid), once:
    ``key`` is the keyed hash of the MessageSid; False when it was already stored. ``files`` None
    stores a sealed "media missing" item with ``reason`` instead (like a recording that could not
    be downloaded), so a caseworker sees that something was sent."""
    doc: dict[str, Any] = {"kind": "media", "media_sid": media_sid}
    item_id = secrets.token_hex(16)
    sealed: list[SealedFile] = []
    if files is None:
        doc["missing"] = reason or "unknown"
    else:
        doc["attachments"], sealed = seal_files(service, item_id, files)
        if reason:  # some of the message's files were kept, others not: say so beside them
            doc["missing"] = reason
    item_id, blob = _seal(service, doc, item_id)
    stored = service.inbox.put_once(key, item_id, blob, files=sealed)
    if stored:
        log.info("media accepted files=%d", len(files or ()))
    return stored


#: Recorded under a message's media key when its worker wrote STOP: its files are never kept.
MEDIA_STOPPED = b"stop"


def stop_media(service: IntakeService, key: bytes) -> None:
    """Record that the message under media key ``key`` was a STOP: :func:`accept_media` then never
    stores it (its once-key is taken). An earlier record of the key is kept as it is."""
    service.inbox.mark_seen(key, MEDIA_STOPPED)


def accept_report(
    service: IntakeService,
    report: Report,
    once: Once | None = None,
    *,
    files: Sequence[Evidence] | SealedFiles = (),
) -> ReceiptCode:
    """Seal and durably store one report; return the worker's receipt code.

    Returns only after the item is committed with synchronous=FULL: an acknowledged report
    survives a crash or power loss. On any storage failure it raises StoreUnavailable (503) and
    nothing is acknowledged. With ``once``, a repeat of an earlier submission stores nothing and
    returns the earlier receipt (see :class:`Once`).
    """
    # decided on the clear report in memory; only a count is kept, nothing beside the item (alerts.py)
    urgent = service.settings.alerts_on and initial_severity(report) == "urgent"
    item_id, blob, receipt, receipt_hash, sealed = seal_report_with_files(service, report, files=files)
    if once is None:
        service.inbox.put(item_id, blob, board=receipt_hash, files=sealed)
    else:
        earlier = put_once(service, once, {"receipt": str(receipt)}, item_id, blob, receipt_hash, files=sealed)
        if earlier is not None:
            log.info("report sent again channel=%s; the first receipt is shown again", report.channel.value)
            return ReceiptCode(str(earlier["receipt"]))
    if urgent:  # after the report is stored: a count lost to a failure here never loses the report
        note_urgent(service.settings, service.inbox)
    log.info("report accepted channel=%s size=%d files=%d", report.channel.value, len(blob), len(sealed))
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


def accept_followup(
    service: IntakeService,
    receipt: ReceiptCode,
    followup: FollowUp,
    once: Once | None = None,
    *,
    files: Sequence[Evidence] | SealedFiles = (),
) -> None:
    """Seal and store text a worker adds with their receipt.

    Accepted for any code this node could have handed out, whether or not it is known (no oracle,
    and a code typed wrong in a way the check digit cannot see loses nothing: the desk opens it as
    a new case). A code failing the check digit raises :class:`ReceiptMistyped`, nothing stored.
    """
    check_receipt(service, receipt)
    receipt_hash = service.receipts.hash(receipt)
    doc: dict[str, Any] = {
        "kind": "followup",
        "receipt_hash": receipt_hash.hex(),
        "followup": followup.model_dump(mode="json"),
    }
    bundle = sealed_files(service, files)
    if bundle:
        doc["attachments"] = bundle.described
    item_id, blob = _seal(service, doc, bundle.item_id)
    sealed = bundle.sealed
    if once is None:
        service.inbox.put(item_id, blob, files=sealed)
    elif put_once(service, once, {}, item_id, blob, None, files=sealed) is not None:  # see Once
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


def normalize_phone(phone: str) -> str:
    """A phone number in E.164 where it parses (``+8613912345678``), else its digits alone."""
    try:
        parsed = phonenumbers.parse(phone, None)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in phone if ch.isdigit())

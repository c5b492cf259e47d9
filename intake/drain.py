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
from nacl.public import PrivateKey
from pydantic import ValidationError

from crypto import CannotOpen, NodeKeys, open_item
from crypto.fields import encrypt_field, new_key
from crypto.stream import open_stream_bytes
from intake.domain import MAX_DESCRIPTION, MAX_SHORT, FollowUp, ReceiptHash, Report
from intake.services import ITEM_VERSION, file_label, normalize_phone
from intake.store import attachments
from intake.store.answers import OpenedAnswer, open_answer, store_answer
from intake.store.cases import CasesStore, ContactRecord, DrainBatch, NewCase
from intake.store.db import IntegrityError
from intake.triage import initial_severity

log = logging.getLogger("intake.drain")


@dataclass
class DrainResult:
    cases: int = 0
    followups: int = 0
    already: int = 0
    unreadable: int = 0
    recordings: int = 0
    media: int = 0  # MMS/WhatsApp messages' files (issue 16), stored or waiting for their report
    files: int = 0  # evidence files stored, of every kind of item
    case_ids: list[int] = field(default_factory=list)
    stopped: bool = False  # ``stop`` said so between batches (a panic, intake/panic.py): the rest waits


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

    def files(self, item_id: str) -> dict[int, list[bytes]]: ...


ITEM_ERRORS = (CannotOpen, ValueError, KeyError, TypeError, ValidationError)
FILE_BYTES_PER_BATCH = 64 * 1024 * 1024  # opened files held at once: a batch is stored early past this
STORE_ITEM_ERRORS = (*ITEM_ERRORS, IntegrityError)  # e.g. a receipt hash another case has


def drain(
    inbox: ItemSource,
    cases: CasesStore,
    keys: NodeKeys,
    *,
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> DrainResult:
    """Open every sealed item into cases.db, ``batch`` items per write transaction, deleting each
    from the inbox only once its batch is committed.

    Items are opened and checked before the store's lock is taken; reports in a row are then
    written a run at a time, in a few statements. An item that cannot be opened or stored is
    counted ``unreadable`` and left in the inbox (a run holding one is written again item by item,
    each in a savepoint, so only that item's rows go); a store failure rolls the whole batch back
    and raises, deleting nothing.
    Evidence files (issue 16) are opened from the item's sealed streams with the item, and stored
    in the same transaction as its case or follow-up; an item whose stream is missing or does not
    open is unreadable like any other. Such items are written one by one, never in a run.
    Idempotent by item id: a crash between commit and delete leaves items whose ids are already in
    ``drained_items``; the next drain only deletes them. Nothing is lost or duplicated.
    ``progress`` gets the number of items each committed batch stored. ``stop`` is asked before
    each batch: when it says so (the node panicked), the drain ends there, every batch before it
    committed and acknowledged, nothing of the next one begun (``result.stopped``).
    """
    result = DrainResult()
    identity = keys.identity
    after = 0
    while True:
        if stop is not None and stop():
            result.stopped = True
            break
        rows = inbox.items(limit=batch, after_seq=after)
        if not rows:
            break
        after = rows[-1][0]
        before = result.cases + result.followups + result.recordings + result.media
        done = _drain_rows(inbox, rows, cases, keys, identity, result)
        stored = result.cases + result.followups + result.recordings + result.media - before
        if progress and stored:
            progress(stored)
        if done:
            inbox.delete(done)
    return result


def _drain_rows(
    source: ItemSource,
    rows: list[tuple[int, str, bytes]],
    cases: CasesStore,
    keys: NodeKeys,
    identity: PrivateKey,
    result: DrainResult,
) -> list[str]:
    """One batch: open its items (outside the store's lock), then store them in one transaction
    (in a few, when their files pass :data:`FILE_BYTES_PER_BATCH`). Returns the ids the inbox may
    now delete."""
    known = cases.drained([item_id for _, item_id, _ in rows])
    done: list[str] = []
    opened: list[_Opened] = []
    seen: set[str] = set()
    held = 0
    for _seq, item_id, blob in rows:
        if item_id in known or item_id in seen:
            result.already += 1
            done.append(item_id)
            continue
        seen.add(item_id)
        try:
            item = _open(keys, identity, item_id, blob)
            if item.wanted:
                held += _open_files(source, identity, item)
        except ITEM_ERRORS:
            _unreadable(result)
            continue
        opened.append(item)
        if held > FILE_BYTES_PER_BATCH:  # files held in memory: store these before opening more
            _store_batch(cases, opened, result, done)
            opened, held = [], 0
    _store_batch(cases, opened, result, done)
    return done


def _store_batch(cases: CasesStore, opened: list[_Opened], result: DrainResult, done: list[str]) -> None:
    if not opened:
        return
    with cases.drain_batch() as writes:
        raced = writes.drained([item.item_id for item in opened])  # another drain got there first
        run: list[NewCase] = []
        for item in opened:
            if item.item_id in raced:
                result.already += 1
                done.append(item.item_id)
            elif item.new_case is not None and not item.files and not item.media_sids:
                run.append(item.new_case)
            else:  # a follow-up or a recording may need a case of this run: the run goes first
                _store_run(writes, run, result, done)
                run = []
                _store_one(writes, item, result, done)
        _store_run(writes, run, result, done)


def _store_run(writes: DrainBatch, run: list[NewCase], result: DrainResult, done: list[str]) -> None:
    """Reports in a row, in a few statements; if one cannot be stored, each on its own."""
    if not run:
        return
    try:
        ids = writes.add_reports(run)
    except STORE_ITEM_ERRORS:
        for new in run:
            _store_one(writes, _Opened(new.item_id, "report", new_case=new), result, done)
        return
    result.cases += len(ids)
    result.case_ids.extend(ids)
    done.extend(new.item_id for new in run)


def _store_one(writes: DrainBatch, item: _Opened, result: DrainResult, done: list[str]) -> None:
    """One item in its own savepoint: stored whole, or counted unreadable and left in the inbox."""
    try:
        with writes.item():
            case_id = _store_item(writes, item)
    except STORE_ITEM_ERRORS:
        _unreadable(result)
        return
    result.files += len(item.files)
    if item.kind == "recording":
        result.recordings += 1
    elif item.kind == "media":
        result.media += 1
    elif item.kind == "report" or case_id < 0:
        result.cases += 1
    else:
        result.followups += 1
    if case_id:
        result.case_ids.append(abs(case_id))
    done.append(item.item_id)


def _unreadable(result: DrainResult) -> None:
    # Left in the inbox for a later release or a caseworker to look at; never deleted.
    result.unreadable += 1
    log.warning("inbox item could not be opened; left in place")


@dataclass(slots=True)
class _Opened:
    """A sealed item opened and checked, ready to store: a report, a follow-up or a recording."""

    item_id: str
    kind: str
    new_case: NewCase | None = None  # a report
    receipt_hash: ReceiptHash | None = None  # a follow-up's
    followup: FollowUp | None = None
    recording_sid: str = ""  # a recording's
    audio: bytes | None = None
    content_type: str = ""
    missing: str = ""
    answer: OpenedAnswer | None = None  # a worker's answer to a status-board question (issue 15)
    wanted: list[Any] | None = None  # the sealed doc's "attachments": files stored with the item
    files: list[_File] | tuple[()] = ()  # ... opened (see _open_files)
    media_sids: list[str] | tuple[()] = ()  # MMS/WhatsApp messages whose files belong to this case
    media_sid: str = ""  # a "media" item's message


@dataclass(slots=True, frozen=True)
class _File:
    """An evidence file opened from its sealed stream, checked against its item's description."""

    type: str
    data: bytes
    warning: str | None
    original: bytes | None


def _open(keys: NodeKeys, identity: PrivateKey, item_id: str, blob: bytes) -> _Opened:
    """Open and check one item; raises one of ITEM_ERRORS when it cannot be stored."""
    doc = json.loads(open_item(blob, identity).decode("utf-8"))  # sealed as UTF-8 (intake.services)
    if not isinstance(doc, dict):  # one odd item must not stop every later drain
        raise ValueError("item is not an object")
    if doc.get("v") != ITEM_VERSION or doc.get("id") != item_id:
        raise ValueError("item envelope mismatch")
    kind = doc["kind"]
    if kind == "recording":
        audio = base64.b64decode(doc["audio"]) if "audio" in doc else None
        return _Opened(
            item_id,
            kind,
            recording_sid=str(doc["recording_sid"]),
            audio=audio,
            content_type=str(doc.get("content_type", "")),
            missing=str(doc.get("missing", "")),
        )
    wanted = doc.get("attachments")  # issue 16: opened by _open_files, from the item's sealed streams
    if wanted is not None and not isinstance(wanted, list):
        raise TypeError("attachments is not a list")
    if kind == "media":  # an MMS/WhatsApp message's files, or why they could not be fetched
        sid = doc["media_sid"]
        if not isinstance(sid, str) or not sid:
            raise TypeError("media_sid is not text")
        return _Opened(item_id, kind, media_sid=sid, missing=str(doc.get("missing") or ""), wanted=wanted)
    receipt_hash = ReceiptHash(bytes.fromhex(doc["receipt_hash"]))
    media: list[str] = []
    if kind == "report":
        fields_in = dict(doc["report"])
        if doc.get("parts"):
            fields_in.update(_open_parts(identity, doc["parts"], fields_in, media))
        report = Report.model_validate(fields_in)
        recording_sid = doc.get("recording_sid")
        if not isinstance(recording_sid, str | None):
            raise TypeError("recording_sid is not text")
        link = reporter_link(keys, report.phone) if report.phone else None
        contact = None
        phone = report.phone if report.contact_ok else ""
        if phone or report.name:
            contact = seal_contact(keys, item_id.encode(), phone=phone, name=report.name)
        new = NewCase(item_id, report, receipt_hash, initial_severity(report), link, contact, recording_sid or None)
        return _Opened(item_id, kind, new_case=new, wanted=wanted, media_sids=media)
    if kind == "followup":
        if doc.get("parts"):  # only media parts: the follow-up's words are its own
            _open_parts(identity, doc["parts"], {}, media)
        followup = FollowUp.model_validate(doc["followup"])
        return _Opened(item_id, kind, receipt_hash=receipt_hash, followup=followup, wanted=wanted, media_sids=media)
    if kind == "answer":  # intake/store/answers.py
        return _Opened(item_id, kind, answer=open_answer(doc, keys))
    raise ValueError("unknown item kind")


def _open_files(source: ItemSource, identity: PrivateKey, item: _Opened) -> int:
    """Open the sealed streams an item says it carries (each bound to its item and number) into
    ``item.files``; returns the bytes now held. A stream missing, changed or of another length
    raises one of ITEM_ERRORS: the item is then left in the inbox, nothing of it stored."""
    streams = source.files(item.item_id)
    files: list[_File] = []
    held = 0
    for spec in item.wanted or ():
        n, type_, size = spec["n"], spec["type"], spec["bytes"]
        if not (isinstance(n, int) and n > 0 and isinstance(type_, str) and isinstance(size, int)):
            raise TypeError("attachment description")
        data = open_stream_bytes(streams[n], identity, label=file_label(item.item_id, n))
        if len(data) != size:
            raise ValueError("attachment length")
        original = None
        if spec.get("original"):
            original = open_stream_bytes(streams[-n], identity, label=file_label(item.item_id, -n))
        warning = spec.get("warning")
        files.append(_File(type_, data, str(warning) if warning else None, original))
        held += len(data) + len(original or b"")
    item.files = files
    return held


def _store_files(writes: DrainBatch, item: _Opened, case_id: int | None) -> None:
    conn = writes._conn
    sid = item.media_sid or None
    for f in item.files:
        attachments.add(
            conn, case_id, f.data, f.type, warning=f.warning, original=f.original, item_id=item.item_id, media_sid=sid
        )
    if case_id is not None:
        for media_sid in item.media_sids:
            attachments.link_media(conn, media_sid, case_id)


def _store_media(writes: DrainBatch, item: _Opened) -> int:
    """A "media" item: its files wait (case_id NULL) until the report naming its message is
    drained, unless that report came first. Returns the case id, 0 while it waits."""
    conn = writes._conn
    if item.wanted is None:  # could not be fetched: one row says a file was sent
        attachments.add(
            conn, None, None, "", item_id=item.item_id, media_sid=item.media_sid, missing=item.missing or "unknown"
        )
    else:
        _store_files(writes, item, None)
        if item.missing:  # some files of the message were kept, others not: one row says so
            attachments.add(conn, None, None, "", item_id=item.item_id, media_sid=item.media_sid, missing=item.missing)
    row = conn.execute("SELECT case_id FROM media_links WHERE media_sid = ?", (item.media_sid,)).fetchone()
    case_id = int(row[0]) if row else 0
    conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES (?, ?)", (item.item_id, case_id or None))
    return case_id


def _store_item(writes: DrainBatch, item: _Opened) -> int:
    """Returns the case id; negative when a follow-up had to become a new case."""
    if item.kind == "media":
        return _store_media(writes, item)
    if item.files or item.media_sids:
        case_id = _store_case_item(writes, item)
        _store_files(writes, item, abs(case_id))
        return case_id
    return _store_case_item(writes, item)


def _store_case_item(writes: DrainBatch, item: _Opened) -> int:
    if item.answer is not None:  # negative: a retaliation check-in's "yes" opened a case
        return store_answer(writes._conn, item.item_id, item.answer)
    if item.kind == "recording":
        return writes.add_recording(
            item.item_id, item.recording_sid, item.audio, item.content_type, missing=item.missing
        )
    if item.new_case is not None:
        new = item.new_case
        return writes.add_report(
            new.item_id,
            new.report,
            receipt_hash=new.receipt_hash,
            reporter_link=new.reporter_link,
            contact=new.contact,
            recording_sid=new.recording_sid,
        )
    if item.followup is None or item.receipt_hash is None:
        raise ValueError("unknown item kind")
    case_id = writes.add_followup(item.item_id, item.receipt_hash, item.followup)
    if case_id is not None:
        return case_id
    # A code no case has: keep the words as a case of their own rather than drop them.
    followup = item.followup
    orphan = Report(
        channel=followup.channel,
        received_at=followup.received_at,
        locale=followup.locale,
        description=followup.text,
    )
    return -writes.add_report(item.item_id, orphan, receipt_hash=item.receipt_hash, reporter_link=None, contact=None)


def _open_parts(identity: PrivateKey, parts: list[str], base: dict[str, Any], media: list[str]) -> dict[str, str]:
    """Open sealed text parts into report fields: description parts joined, the last factory wins;
    the MessageSids of messages that carried media (issue 16) are added to ``media``."""
    description = [base.get("description") or ""]
    out: dict[str, str] = {}
    for encoded in parts:
        part = json.loads(open_item(base64.b64decode(encoded), identity))
        if part["field"] == "media":
            sid = part["media_sid"]
            if not isinstance(sid, str) or not sid:
                raise TypeError("media_sid is not text")
            media.append(sid)
        elif part["field"] == "description":
            description.append(str(part["text"]))
        elif part["field"] in ("factory", "location") and len(str(part["text"])) > MAX_SHORT:
            # A story typed where the factory was asked (sealed before the engine kept such text
            # as story): kept whole in the description, never left unreadable in the inbox.
            description.append(str(part["text"]))
        elif part["field"] in ("factory", "location"):
            out[part["field"]] = str(part["text"])
    out["description"] = "\n\n".join(d for d in description if d)[:MAX_DESCRIPTION]
    return out

"""What every SMS provider shares: de-duplicate, run the engine, seal, store, queue replies.

Providers (Twilio webhook, Twilio polling, SMSSync) turn their request into an
:class:`SmsInbound` and call :func:`handle_inbound`. Per message, everything (session, sealed
parts, finished report, de-duplication key, cached replies) is committed in one transaction.

The phone number is never stored in clear: sessions are keyed by a keyed hash of it, and the
cached replies for a retried message are encrypted under a key derived from that message's own
provider id, which the intake does not keep (only its keyed hash).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import unicodedata
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import i18n
from channels.sms import texts, whatsapp
from channels.sms.conversation import SESSION_IDLE, Outcome, SmsState, Stage, step
from channels.sms.detect import detect_locale
from channels.sms.media import InboundMedia, MediaFetcher, media_key, media_part, record_stop
from channels.sms.questions import answer_turn, asking, question_text
from channels.voice.callback_token import call_token
from crypto import CannotOpen
from crypto.fields import decrypt_field, encrypt_field
from crypto.kdf import derive_key
from i18n import translations
from i18n.segments import count_segments
from intake import clock
from intake.alerts import note_urgent
from intake.answers import forget_sms_links
from intake.domain import BoardStatus, Category, Channel, Consent, ReceiptCode, ReceiptHash, Report
from intake.errors import ReceiptMistyped
from intake.node import SESSION_LABEL, SMS_OUTBOX_LABEL, SMS_REPLY_LABEL, SMS_SEEN_LABEL, IntakeKeys
from intake.receipts import format_receipt
from intake.services import IntakeService, read_status, seal_part, seal_report
from intake.triage import urgent_text

log = logging.getLogger("intake.sms")

SEEN_TTL = 7 * 24 * 3600
SWEEP_EVERY = 600.0
FLOOD_LIMIT = 30  # messages per reporter per 10 minutes before we go quiet
FLOOD_WINDOW = 600.0


@dataclass(frozen=True)
class SmsInbound:
    provider: str  # "twilio", "smssync"
    message_id: str
    sender: str
    body: str
    received_at: datetime | None = None
    media: InboundMedia | None = None  # MMS / WhatsApp files (channels/sms/media.py)


class SmsChannel:
    """The SMS channel of one process, bound to a service: its keys (from ``intake.key``, labels in
    intake/node.py), the in-memory flood limit and the per-number conversation locks."""

    def __init__(self, service: IntakeService) -> None:
        keys = IntakeKeys.load(service.settings.intake_key_path)
        self.service = service
        self._session_key = keys.key(SESSION_LABEL)
        self._seen_key = keys.key(SMS_SEEN_LABEL)
        self._outbox_key = keys.key(SMS_OUTBOX_LABEL)
        self._hits: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = float("-inf")
        self._last_prune = float("-inf")
        self._stripes = [threading.Lock() for _ in range(64)]
        self.media: MediaFetcher | None = None  # set where Twilio is configured (channels/server.py)
        # Conversations whose words read as urgent (intake/triage.py, on the clear text in memory
        # before it is sealed): counted for a content-free alert when their report is stored. In
        # memory only, never beside the session or the item (intake/alerts.py).
        self._urgent: dict[bytes, float] = {}

    def conversation_lock(self, reporter: bytes) -> threading.Lock:
        return self._stripes[reporter[0] % len(self._stripes)]

    def reporter(self, phone: str) -> bytes:
        """The keyed hash a conversation is kept under: a number on WhatsApp is another conversation."""
        return hmac.new(self._session_key, whatsapp.address(phone).encode(), hashlib.sha256).digest()

    def mark_urgent(self, reporter: bytes, keep: list[Any]) -> None:
        if self.service.settings.alerts_on and any(
            k.field in ("description", "factory") and urgent_text(k.text) for k in keep
        ):
            with self._lock:
                now = clock.monotonic()
                self._urgent = {r: t for r, t in self._urgent.items() if now - t < 2 * SESSION_IDLE.total_seconds()}
                self._urgent[reporter] = now

    def take_urgent(self, reporter: bytes) -> bool:
        """Whether this conversation was marked urgent (and forget it)."""
        with self._lock:
            return self._urgent.pop(reporter, None) is not None

    def seen_key(self, msg: SmsInbound) -> bytes:
        return hmac.new(self._seen_key, f"{msg.provider}:{msg.message_id}".encode(), hashlib.sha256).digest()

    def reply_key(self, msg: SmsInbound) -> bytes:
        # Keyed by the provider's message id, which is not stored: only a retry of it can read these.
        per_message = hmac.new(
            self._seen_key, b"reply\x00" + msg.message_id.encode("utf-8", "replace"), hashlib.sha256
        ).digest()
        return derive_key(per_message, SMS_REPLY_LABEL)

    def flooding(self, reporter: bytes) -> bool:
        now = clock.monotonic()
        with self._lock:
            hits = self._hits.setdefault(reporter, deque())
            while hits and now - hits[0] > FLOOD_WINDOW:
                hits.popleft()
            if len(hits) >= FLOOD_LIMIT:
                return True
            hits.append(now)
            if len(self._hits) > 10000 and now - self._last_prune > 60:
                self._last_prune = now  # at most once a minute, however many numbers are active
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= FLOOD_WINDOW}
            return False

    def sweep(self, now: datetime) -> None:
        """Every few minutes: store abandoned conversations, forget old de-duplication keys."""
        with self._lock:
            if clock.monotonic() - self._last_sweep < SWEEP_EVERY:
                return
            self._last_sweep = clock.monotonic()
        inbox = self.service.inbox
        cutoff = int((now - SESSION_IDLE).timestamp())
        for reporter, state_json, parts_json in inbox.stale_sessions(cutoff):
            state, parts = _load((state_json, parts_json, 0))
            items = abandoned_item(self.service, state, parts, None) if state else []
            inbox.sms_commit(reporter=reporter, session=None, seen=None, items=items, now=now)
            if self.take_urgent(reporter) and items:
                note_urgent(self.service.settings, inbox)
        inbox.forget_seen(int(now.timestamp()) - SEEN_TTL)
        whatsapp.forget_closed(self.service, now)
        forget_sms_links(inbox)  # numbers of questions texted a week ago: no longer read as answers

    def seal_recipient(self, phone: str, body: str) -> tuple[bytes, bytes]:
        return (
            encrypt_field(self._outbox_key, phone.encode(), context=b"recipient"),
            encrypt_field(self._outbox_key, body.encode(), context=b"body"),
        )

    def open_recipient(self, recipient: bytes, body: bytes) -> tuple[str, str]:
        return (
            decrypt_field(self._outbox_key, recipient, context=b"recipient").decode(),
            decrypt_field(self._outbox_key, body, context=b"body").decode(),
        )

    def whatsapp_waiting(self, address: str, now: float) -> int:
        """How many replies queued for this WhatsApp worker wait for them to write again (their
        24-hour window is closed: docs/sms.md#whatsapp); 0 for an SMS number. For the desk."""
        if not whatsapp.is_whatsapp(address) or whatsapp.window_open(self.service, self.reporter(address), now):
            return 0
        target = whatsapp.address(address)
        waiting = 0
        for _id, recipient, body, _attempts in self.service.inbox.outbox_due("twilio", 2**62, 1000):
            try:
                to, text = self.open_recipient(recipient, body)
            except (CannotOpen, ValueError):
                continue
            # a call-back the desk queued (issue 15) is a call, not a text: it does not wait
            if call_token(text) is None and whatsapp.is_whatsapp(to) and whatsapp.address(to) == target:
                waiting += 1
        return waiting


def handle_inbound(
    sms: SmsChannel,
    msg: SmsInbound,
    *,
    queue_replies: bool = False,
    now: datetime | None = None,
    submit_media: bool = True,
) -> list[str]:
    """Process one inbound SMS; return the replies to send (or queue them for the provider).

    A message id seen before returns the same replies and changes nothing. ``submit_media``: hand
    the message's files to the background fetcher (the webhook); ``intake sms pull`` passes False
    and fetches them itself before deleting the message (channels/sms/pull.py).
    """
    now = now or clock.now()
    service = sms.service
    inbox = service.inbox
    seen_key = sms.seen_key(msg)
    cached = inbox.seen(seen_key)
    if cached is not None:
        if submit_media and msg.media is not None and sms.media is not None:
            sms.media.submit(msg.media)  # stored once (its own key): a crash before the fetch loses nothing
        try:
            return list(json.loads(decrypt_field(sms.reply_key(msg), cached, context=b"replies")))
        except (ValueError, CannotOpen):
            return []
    reporter = sms.reporter(msg.sender)
    if sms.flooding(reporter):
        log.info("sms flood limit reached; message ignored")
        return []
    # One number's messages are handled one at a time (read session, step, write session).
    with sms.conversation_lock(reporter):
        return _handle(sms, msg, reporter, seen_key, queue_replies, now, submit_media)


def _handle(
    sms: SmsChannel,
    msg: SmsInbound,
    reporter: bytes,
    seen_key: bytes,
    queue_replies: bool,
    now: datetime,
    submit_media: bool = True,
) -> list[str]:
    service = sms.service
    inbox = service.inbox
    if inbox.seen(seen_key) is not None:  # the same message, handled while we waited for the lock
        return handle_inbound(sms, msg, queue_replies=queue_replies, now=now, submit_media=submit_media)

    sms.sweep(now)
    row = inbox.sms_session(reporter)
    state, parts = _load(row)
    items: list[tuple[str, bytes, ReceiptHash | None]] = []
    urgent = 0  # reports stored by this message that read as urgent (a count for intake/alerts.py)
    if state is not None and now - state.updated_at > SESSION_IDLE:
        # An abandoned conversation: what the worker wrote is kept (internal only), not dropped.
        abandoned = abandoned_item(service, state, parts, msg.sender)
        items.extend(abandoned)
        urgent += int(sms.take_urgent(reporter) and bool(abandoned))
        state, parts = None, []
    media = [media_part(service, msg.media.message_sid)] if msg.media is not None and msg.media.kept else []
    channel = Channel.WHATSAPP if whatsapp.is_whatsapp(msg.sender) else Channel.SMS
    turn = answer_turn(service, reporter, state, msg.body, now, media, channel)  # a status-board question (issue 15)
    if turn is not None:
        outcome = Outcome(turn.state, turn.replies)
        items.extend(turn.items)
    else:
        state = None if state is not None and state.stage is Stage.ANSWER else state  # left: as any message
        outcome = step(state, msg.body, now, media=bool(media))
    final = outcome.state
    if outcome.reset or outcome.stopped:
        parts = []
        sms.take_urgent(reporter)  # nothing of it is kept
    if turn is None:
        sms.mark_urgent(reporter, list(outcome.keep))
    parts = parts + [seal_part(service, k.field, k.text) for k in outcome.keep]
    # The media part links the report (or the follow-up, in turn) to the "media" item (docs/sms.md)
    if turn is None and not outcome.stopped:
        parts += media
    replies = list(outcome.replies)
    if msg.media is not None and msg.media.ignored and not outcome.stopped:
        locale = final.locale if final else _locale_of(state, msg.body)
        replies.append(translations(locale).gettext(texts.TOO_MANY_FILES).format(n=service.settings.max_files))
    if outcome.completed is not None:
        done = outcome.completed
        item_id, blob, receipt, receipt_hash = seal_report(service, _report(done, msg.sender), parts)
        items.append((item_id, blob, receipt_hash))
        urgent += int(sms.take_urgent(reporter) or Category.RETALIATION in done.categories)
        replies.append(translations(done.locale).gettext(texts.RECEIPT).format(receipt=format_receipt(receipt)))
        parts = []
    if outcome.status_query is not None:
        locale = outcome.state.locale if outcome.state else _locale_of(state, msg.body)
        lines, question = status_and_question(service, outcome.status_query, locale)
        replies.extend(lines)
        if question is not None and (final is None or (final.stage in (Stage.LANGUAGE, Stage.ANSWER) and not parts)):
            # a question is due for this code and no report is being written here: ask it (issue 15)
            final = asking(question.id, question.kind, question.subject, locale, now)
            replies.append(question_text(final))
    if outcome.stopped:
        replies = []
        if msg.media is not None:
            # Before the commit: a crash after it, then Twilio's retry or a pull, must find the
            # STOP and keep none of the files (channels/sms/media.py record_stop).
            record_stop(service, media_key(sms._seen_key, msg.media.message_sid))
    session = None
    if final is not None:
        session = (final.model_dump_json(), json.dumps([p.hex() for p in parts]).encode())
    cached_replies = encrypt_field(sms.reply_key(msg), json.dumps(replies).encode(), context=b"replies")
    outbox = [(msg.provider, *sms.seal_recipient(msg.sender, r)) for r in replies] if queue_replies else []
    inbox.sms_commit(
        reporter=reporter, session=session, seen=(seen_key, cached_replies), items=items, outbox=outbox, now=now
    )
    if urgent:  # after the commit: the report is stored whatever becomes of the count
        note_urgent(service.settings, inbox, urgent)
    if whatsapp.is_whatsapp(msg.sender):
        # free text may reach them for 24 hours from when they wrote (a pulled message: its time)
        whatsapp.wrote(service, reporter, min(msg.received_at or now, now))
    if submit_media and msg.media is not None and sms.media is not None:
        # After the commit, so the part is stored first; STOP: deleted at Twilio, not kept.
        sms.media.submit(msg.media, store=not outcome.stopped)
    if items:
        log.info("sms report accepted provider=%s", msg.provider)
    return replies


def _load(row: tuple[str, bytes, int] | None) -> tuple[SmsState | None, list[bytes]]:
    if row is None:
        return None, []
    try:
        return SmsState.model_validate_json(row[0]), [bytes.fromhex(p) for p in json.loads(row[1])]
    except ValueError:
        return None, []


def _report(state: SmsState, sender: str | None, *, consent: Consent | None = None) -> Report:
    return Report(
        channel=Channel.WHATSAPP if sender and whatsapp.is_whatsapp(sender) else Channel.SMS,
        received_at=state.started_at.replace(microsecond=0),
        locale=state.locale,
        categories=list(state.categories),
        consent=consent if consent is not None else (state.consent if state.consent is not None else Consent.INTERNAL),
        contact_ok=bool(state.contact_ok) and sender is not None,
        phone=whatsapp.address(sender) if sender else "",
    )


def abandoned_item(
    service: IntakeService, state: SmsState, parts: list[bytes], sender: str | None
) -> list[tuple[str, bytes, ReceiptHash | None]]:
    """A conversation left idle for a day with a description: store it, shared with nobody."""
    if not state.parts or not parts:
        return []
    report = _report(state.model_copy(update={"contact_ok": False}), sender, consent=Consent.INTERNAL)
    item_id, blob, _receipt, _hash = seal_report(service, report, parts)
    # No receipt was ever given, so no status board entry either.
    return [(item_id, blob, None)]


def _locale_of(state: SmsState | None, text: str = "") -> str:
    """The conversation's language; with no conversation, the language of the STATUS word typed."""
    if state is not None:
        return state.locale
    return query_locale(text)


def query_locale(text: str) -> str:
    """Which language a bare status query ("স্থিতি 1234-...", "查询1234...") was written in.

    A status word of one language only decides. A word several languages share (STATUS is English,
    Polish and Malay; स्थिति is Hindi and Nepali) leaves it to the script and cue words of the rest
    of the message, then to English if the word is English, else to the first of those languages.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    word = re.match(r"[^\d\s:：#-]+", folded)
    candidates: list[str] = []
    status_msgid = texts.KEYWORDS["status"]  # (not inline: the extractor would take the key for a msgid)
    if word:
        typed = word.group().casefold()
        for loc in i18n.available_locales():
            spellings = (
                status_msgid if loc == i18n.SOURCE_LOCALE else i18n.translations(loc).gettext(status_msgid)
            ).split("|")
            if typed in {unicodedata.normalize("NFKC", w).strip().casefold() for w in spellings}:
                candidates.append(loc)
    if len(candidates) == 1:
        return candidates[0]
    guessed = detect_locale(text)
    if candidates:
        if guessed in candidates:
            return guessed
        return i18n.SOURCE_LOCALE if i18n.SOURCE_LOCALE in candidates else candidates[0]
    return guessed or i18n.SOURCE_LOCALE


def status_replies(service: IntakeService, code: ReceiptCode, locale: str) -> list[str]:
    return status_and_question(service, code, locale)[0]


def status_and_question(service: IntakeService, code: ReceiptCode, locale: str) -> tuple[list[str], Any]:
    """The status SMS for a code, and the question due for it (issue 15) or None."""
    t = translations(locale)
    try:
        entry = read_status(service, code)
    except ReceiptMistyped:  # fails the check digit: decided from the code alone, nothing looked up
        return [t.gettext(texts.STATUS_CHECK)], None
    # "no reply yet" never stands above a reply (a caseworker answered before moving the case on)
    shown = BoardStatus.IN_REVIEW if entry.messages and entry.status is BoardStatus.RECEIVED else entry.status
    line = t.gettext(texts.STATUS_LINE).format(status=t.gettext(texts.SMS_STATUS[shown.value]))
    replies = [line]
    if entry.messages:
        latest = entry.messages[-1][1]
        text = t.gettext(texts.STATUS_REPLY).format(text=latest)
        while count_segments(text).segments > 2 and len(latest) > 10:
            latest = latest[: int(len(latest) * 0.9)]
            text = t.gettext(texts.STATUS_REPLY).format(text=latest + "…")
        replies.append(text)
    return replies, entry.question

"""WhatsApp's 24-hour customer service window, kept in the inbox (channels/sms/whatsapp.py uses it).

A business may send free text to a WhatsApp user only within 24 hours of that user's last message
(https://www.twilio.com/docs/api/errors/63016). The window is kept per keyed hash of the number
(the SMS session's ``reporter``), never the number itself, and forgotten once it has closed. The
SQL is :mod:`intake.store.whatsapp_window`'s; channels call these functions, never the store.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from crypto import CannotOpen
from crypto.fields import decrypt_field
from intake.node import SESSION_LABEL, SMS_OUTBOX_LABEL, IntakeKeys
from intake.services import IntakeService, normalize_phone
from intake.store import whatsapp_window as ww

WINDOW = timedelta(hours=24)
PREFIX = "whatsapp:"  # the address of a WhatsApp worker (channels/sms/whatsapp.py)
# An outbox body starting with NUL is a call-back to place (channels/voice/callback_token.py), not a text.
_NOT_A_TEXT = "\x00"


def wrote(service: IntakeService, reporter: bytes, now: datetime) -> None:
    """The worker wrote on WhatsApp at ``now``: their window is open for 24 hours from it."""
    with service.inbox._write() as conn:
        ww.wrote(conn, reporter, int(now.timestamp()))


def window_open(service: IntakeService, reporter: bytes, now: float) -> bool:
    """Whether free text may be sent to this worker now (their last message less than 24 h ago)."""
    with service.inbox._lock:
        last = ww.last_wrote(service.inbox._conn, reporter)
    return last is not None and now - last < WINDOW.total_seconds()


def forget_closed(service: IntakeService, now: datetime) -> None:
    """Delete windows that have closed (the SMS sweep calls this): nothing about a worker stays longer."""
    with service.inbox._write() as conn:
        ww.forget_before(conn, int((now - WINDOW).timestamp()))


def defer(service: IntakeService, outbox_id: int, next_at: int) -> None:
    """Leave a queued WhatsApp reply for later without counting a failed try (it has not failed)."""
    with service.inbox._write() as conn:
        ww.defer(conn, outbox_id, next_at)


def waiting_since(
    keys: IntakeKeys, outbox: Iterable[tuple[bytes, bytes, int]], last_wrote: Mapping[bytes, int], now: float
) -> list[int]:
    """When each queued text to a WhatsApp worker whose window is closed was queued (unix seconds):
    it waits for the worker to write again. ``outbox``: (recipient, body, created_at) rows of the
    inbox's outbox; ``last_wrote``: the ``whatsapp_window`` table. For ``intake doctor``, which reads
    them on a connection of its own; the numbers and words are opened in memory and dropped here.
    SmsChannel.whatsapp_waiting counts the same for one worker."""
    outbox_key, session_key = keys.key(SMS_OUTBOX_LABEL), keys.key(SESSION_LABEL)
    since = []
    for recipient, body, created_at in outbox:
        try:
            to = decrypt_field(outbox_key, recipient, context=b"recipient").decode()
            text = decrypt_field(outbox_key, body, context=b"body").decode()
        except (CannotOpen, ValueError):
            continue
        if not to.startswith(PREFIX) or text.startswith(_NOT_A_TEXT):
            continue
        address = PREFIX + normalize_phone(to[len(PREFIX) :])
        last = last_wrote.get(hmac.new(session_key, address.encode(), hashlib.sha256).digest())
        if last is None or now - last >= WINDOW.total_seconds():
            since.append(int(created_at))
    return since

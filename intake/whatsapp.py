"""WhatsApp's 24-hour customer service window, kept in the inbox (channels/sms/whatsapp.py uses it).

A business may send free text to a WhatsApp user only within 24 hours of that user's last message
(https://www.twilio.com/docs/api/errors/63016). The window is kept per keyed hash of the number
(the SMS session's ``reporter``), never the number itself, and forgotten once it has closed. The
SQL is :mod:`intake.store.whatsapp_window`'s; channels call these functions, never the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from intake.services import IntakeService
from intake.store import whatsapp_window as ww

WINDOW = timedelta(hours=24)


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

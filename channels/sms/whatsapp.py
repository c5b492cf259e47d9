"""WhatsApp through Twilio: the same conversation as SMS, under WhatsApp's 24-hour rule.

Twilio delivers WhatsApp messages with the SMS webhook's shape, ``From=whatsapp:+<number>``
(https://www.twilio.com/docs/messaging/guides/webhook-request). A business may send free text to
a WhatsApp user only within 24 hours of that user's last message (the customer service window);
outside it only an approved template goes out, and free text fails with error 63016
(https://www.twilio.com/docs/api/errors/63016). So a reply the desk queues is sent only while the
worker's window is open; otherwise it stays in the outbox (never dropped, never sent as free text)
and goes out after the worker writes again. Replies inside the webhook's answer (TwiML) are always
inside the window: the worker has just written.

The window is kept per keyed hash of the number (the SMS session's), never the number itself, by
the intake core (:mod:`intake.whatsapp`): this module only re-exports its functions.
"""

from __future__ import annotations

from intake.services import normalize_phone
from intake.whatsapp import WINDOW, defer, forget_closed, window_open, wrote

__all__ = ["DEFER", "PREFIX", "WINDOW", "address", "defer", "forget_closed", "is_whatsapp", "window_open", "wrote"]

PREFIX = "whatsapp:"
#: A reply outside the window is looked at again after this long (the worker may have written).
DEFER = 600


def is_whatsapp(address: str) -> bool:
    return address.startswith(PREFIX)


def address(sender: str) -> str:
    """The address to reach a worker at again: ``whatsapp:+E164`` for WhatsApp, else the E.164 number."""
    if is_whatsapp(sender):
        return PREFIX + normalize_phone(sender[len(PREFIX) :])
    return normalize_phone(sender)

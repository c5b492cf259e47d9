"""The call-back's opaque token and its place in the SMS outbox (issue 15).

A call-back is queued in the same durable outbox as SMS replies (provider ``twilio``, recipient
and body encrypted under the intake's outbox key): its body is :data:`CALL_PREFIX` followed by a
token, and ``intake sms pull`` places a call (Twilio's Calls resource) instead of sending a text.

The token is the question's id and the worker's language, encrypted and authenticated under a key
of its own derived from ``intake.key`` (the key the desk and its paired intake share): the URL
Twilio fetches never carries the question id, let alone the receipt, in clear, and a token nobody
issued cannot be forged. It is single-use in effect: once the question is answered (or withdrawn)
the token leads nowhere.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

from crypto import CannotOpen
from crypto.fields import decrypt_field, encrypt_field
from intake.errors import GatewayError
from intake.node import IntakeKeys
from intake.settings import Settings

CALL_PREFIX = "\x00voice-callback\x00"  # an outbox body that is a call to place, not an SMS to send
CALLBACK_PATH = "/twilio/voice/callback"
TOKEN_LABEL = "intake/v1/voice-callback-token"  # noqa: S105 - a key-derivation label, not a secret
_CONTEXT = b"voice-callback"
MAX_TOKEN = 400  # a longer query value is not one of ours: refused before any decryption


def _key(settings: Settings) -> bytes:
    return IntakeKeys.load(settings.intake_key_path).key(TOKEN_LABEL)


def seal_token(settings: Settings, question_id: str, locale: str) -> str:
    doc = json.dumps({"q": question_id, "l": locale}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(encrypt_field(_key(settings), doc, context=_CONTEXT)).decode().rstrip("=")


def open_token(settings: Settings, token: str) -> tuple[str, str] | None:
    """(question id, locale) of a token this node issued; None for anything else."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(decrypt_field(_key(settings), blob, context=_CONTEXT))
    except (CannotOpen, binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("q"), str) or not isinstance(doc.get("l"), str):
        return None
    return doc["q"], doc["l"]


def call_body(token: str) -> str:
    return CALL_PREFIX + token


def call_token(body: str) -> str | None:
    """The token of an outbox body that is a call-back; None for an SMS."""
    return body[len(CALL_PREFIX) :] if body.startswith(CALL_PREFIX) else None


def callback_url(settings: Settings, token: str) -> str:
    """The URL Twilio fetches the call's TwiML from (this intake's public URL)."""
    if not settings.public_url:
        raise GatewayError("call-back needs public_url (INTAKE_PUBLIC_URL)", retry=False)
    return f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}?{urlencode({'t': token})}"


__all__ = ["CALL_PREFIX", "call_body", "call_token", "callback_url", "open_token", "seal_token"]

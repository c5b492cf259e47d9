"""Checking that a request really comes from Twilio (X-Twilio-Signature), for SMS and voice alike."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.requests import Request
from twilio.request_validator import RequestValidator

from intake.errors import BadSignature, NotFound
from intake.settings import Settings

log = logging.getLogger("intake.twilio")


def signed_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the configured public base + the raw path + the raw query.

    Not ``request.url``: behind a reverse proxy its scheme and host are the proxy's view.
    """
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    url = settings.public_url.rstrip("/") + raw_path.decode("latin-1")
    return f"{url}?{query.decode('latin-1')}" if query else url


async def form_pairs(request: Request) -> dict[str, str]:
    body = await request.body()
    # Invalid UTF-8 becomes U+FFFD: such a request cannot carry a valid signature anyway, and
    # every later step (signature check, engine, sealing) gets a proper str.
    return dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"))


async def twilio_params(request: Request) -> dict[str, str]:
    """The form parameters of a request signed by Twilio; 404 if Twilio is not set up, else 403."""
    settings: Settings = request.app.state.settings
    if not settings.twilio_auth_token or not settings.public_url:
        raise NotFound("twilio not configured")
    params = await form_pairs(request)
    signature = request.headers.get("x-twilio-signature", "")
    validator = RequestValidator(settings.twilio_auth_token)
    if not signature or not validator.validate(signed_url(settings, request), params, signature):
        log.warning("twilio request: signature rejected")
        raise BadSignature("bad signature")
    return params

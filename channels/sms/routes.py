"""HTTP adapters for SMS: Twilio's signed webhook and the SMSSync Android gateway protocol.

Both turn a request into :class:`SmsInbound` and call :func:`handle_inbound`; neither touches a
store. Signature and secret failures are logged without any content and answered 403.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from twilio.twiml.messaging_response import MessagingResponse

from channels.sms.media import inbound_media
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.whatsapp import is_whatsapp
from channels.twilio_signature import form_pairs, twilio_params
from intake.errors import InvalidInput, NotFound, StoreUnavailable, WrongSecret
from intake.settings import Settings

log = logging.getLogger("intake.sms")
router = APIRouter(include_in_schema=False)
MAX_SMS_BODY = 5000


def _sms(request: Request) -> SmsChannel:
    sms: SmsChannel = request.app.state.sms
    return sms


@router.post("/twilio/sms")
async def twilio_sms(request: Request) -> Response:
    return await _twilio_message(request, await twilio_params(request))


@router.post("/twilio/whatsapp")
async def twilio_whatsapp(request: Request) -> Response:
    """WhatsApp through Twilio: the SMS conversation (docs/sms.md#whatsapp); 404 unless configured."""
    settings: Settings = request.app.state.settings
    if not settings.twilio_whatsapp_from:
        raise NotFound("whatsapp not configured")
    params = await twilio_params(request)
    if not is_whatsapp(params.get("From", "")):
        return _twiml([])  # signed by Twilio, but not a WhatsApp message: nothing to do here
    return await _twilio_message(request, params)


async def _twilio_message(request: Request, params: dict[str, str]) -> Response:
    """One signed message (SMS, MMS or WhatsApp): the conversation, and its media fetched after."""
    settings: Settings = request.app.state.settings
    msg = SmsInbound(
        provider="twilio",
        message_id=params.get("MessageSid", "")[:64],
        sender=params.get("From", "")[:60],
        body=params.get("Body", "")[:MAX_SMS_BODY],
        media=inbound_media(settings, params),
    )
    if not msg.message_id or not msg.sender:
        return _twiml([])
    try:
        replies = await run_in_threadpool(handle_inbound, _sms(request), msg)
    except StoreUnavailable:
        # Twilio keeps the message; `intake sms pull` or a retry brings it in later.
        return _twiml([], status=503)
    return _twiml(replies)


def _twiml(replies: list[str], status: int = 200) -> Response:
    twiml = MessagingResponse()
    for text in replies:
        twiml.message(text)
    return Response(str(twiml), status_code=status, media_type="application/xml")


# -- SMSSync ------------------------------------------------------------------------------------------
def _check_secret(settings: Settings, given: str | None) -> None:
    if not settings.smssync_secret:
        raise NotFound("smssync not configured")
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), settings.smssync_secret.encode()):
        log.warning("smssync: secret rejected")
        raise WrongSecret("bad secret")


@router.post("/smssync")
async def smssync_post(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    task = request.query_params.get("task")
    if task == "sent":
        return await _smssync_sent(request, settings)
    params = await form_pairs(request)
    _check_secret(settings, params.get("secret") or request.query_params.get("secret"))
    msg = SmsInbound(
        provider="smssync",
        message_id=(params.get("message_id") or "")[:64],
        sender=(params.get("from") or "")[:40],
        body=(params.get("message") or "")[:MAX_SMS_BODY],
    )
    if not msg.message_id or not msg.sender:
        return JSONResponse(
            {"payload": {"success": False, "error": "from and message_id are required"}}, status_code=400
        )
    try:
        await run_in_threadpool(handle_inbound, _sms(request), msg, queue_replies=True)
    except StoreUnavailable:
        # success=false: the phone keeps the message and sends it again later.
        return JSONResponse({"payload": {"success": False, "error": "temporarily unavailable"}}, status_code=503)
    return JSONResponse({"payload": {"success": True, "error": None}})


@router.get("/smssync")
async def smssync_get(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    _check_secret(settings, request.query_params.get("secret"))
    if request.query_params.get("task") != "send":
        return JSONResponse({"payload": {"success": True, "error": None}})
    sms = _sms(request)
    rows = await run_in_threadpool(sms.service.inbox.outbox_due, "smssync", 2**62, 50)
    messages: list[dict[str, Any]] = []
    for outbox_id, recipient, body, _attempts in rows:
        to, text = sms.open_recipient(recipient, body)
        messages.append({"to": to, "message": text, "uuid": _uuid_for(outbox_id)})
    return JSONResponse({"payload": {"task": "send", "secret": settings.smssync_secret, "messages": messages}})


async def _smssync_sent(request: Request, settings: Settings) -> JSONResponse:
    """The phone reports which queued replies it sent: ``{"secret": "...", "queued_messages":
    ["<uuid>", ...]}`` as JSON (SMSSync) or as a form (one uuid, or a JSON list of them)."""
    form = False
    try:
        data = await request.json()
    except ValueError:
        data, form = await form_pairs(request), True
    if not isinstance(data, dict):
        data = {}
    secret = data.get("secret") or request.query_params.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise InvalidInput("smssync: secret is not a string", fields={"secret": "invalid"})
    _check_secret(settings, secret)
    uuids = _queued_messages(data.get("queued_messages"), form=form)
    # A uuid that is not one of ours (an old install's, a typo) is ignored, as SMSSync expects.
    ids = [i for i in (_id_for(u) for u in uuids) if i is not None]
    sms = _sms(request)
    await run_in_threadpool(sms.service.inbox.outbox_done, ids)
    return JSONResponse({"message_uuids": [_uuid_for(i) for i in ids]})


def _queued_messages(value: object, *, form: bool) -> list[str]:
    """``queued_messages`` as a list of strings; anything else is the sender's mistake (400)."""
    if value is None or value == "":
        return []
    if form and isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidInput("smssync: queued_messages", fields={"queued_messages": "invalid"}) from None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise InvalidInput("smssync: queued_messages is not a list of strings", fields={"queued_messages": "invalid"})
    return value


_NS = uuid.UUID("6f1c1d52-3b1e-4d0a-9a57-3c1f0e2b7a10")


def _uuid_for(outbox_id: int) -> str:
    return str(uuid.UUID(int=(_NS.int & ~((1 << 64) - 1)) | outbox_id))


def _id_for(value: str) -> int | None:
    try:
        u = uuid.UUID(value)
    except ValueError:
        return None
    if u.int >> 64 != _NS.int >> 64:
        return None
    return u.int & ((1 << 64) - 1)

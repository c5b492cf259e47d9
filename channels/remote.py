"""The server half of the desk pull API (intake/pull.py does the work; intake/remote.py is the client).

The pull API a desk on another host uses to drain this intake: sealed items out, acks in; and
what the desk did for the workers back in (status board changes, replies, SMS replies to send).

Items stay sealed in transit (the intake cannot open them either); an item is deleted here only
when the desk acknowledges it, which it does after committing it to its cases store. Access needs
a bearer token made by ``intake desk pair`` on this intake; only its SHA-256 is kept here.

Pushes (``POST /desk/v1/board``, ``POST /desk/v1/outbox``) carry what this intake keeps anyway, as
it keeps it: statuses and reply texts for the worker's status page, and SMS replies whose number
and text stay encrypted with this intake's outbox key (the desk holds ``intake.key`` from the
node's backup). Each reply and SMS carries a stable id, so a retried push stores nothing twice.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from channels.sms.service import SmsChannel
from channels.web.errors import fields_error
from channels.web.security import require_json
from crypto import CannotOpen
from intake.answers import take_pushed_questions
from intake.domain import BoardStatus
from intake.errors import InvalidInput, MalformedRequest, TooLarge, Unauthorized
from intake.pull import FIRST, ack_items, sealed_file_chunks, sealed_items, take_board, take_outbox, token_ok
from intake.services import IntakeService

log = logging.getLogger("intake.desk_api")
router = APIRouter(prefix="/desk/v1", include_in_schema=False)
MAX_BATCH = 200
MAX_PUSH = 100  # entries of one kind per push
MAX_PUSH_BYTES = 256 * 1024  # and max_request_bytes (64 KiB by default) applies first
MAX_REPLY = 2000  # the desk's limit for a reply (intake/store/casework.py)
_ITEM_ID = re.compile(r"[0-9a-f]{32}")  # intake/services.py's item ids


def _check(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.service
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token_ok(service, given):
        log.warning("desk pull: token refused")
        raise Unauthorized("bad token")
    return service


@router.get("/items")
async def items(request: Request) -> JSONResponse:
    service = _check(request)
    try:
        after = max(0, int(request.query_params.get("after", "0")))
        limit = min(MAX_BATCH, max(1, int(request.query_params.get("limit", str(MAX_BATCH)))))
    except ValueError:
        raise MalformedRequest("bad paging") from None
    rows = await run_in_threadpool(sealed_items, service, limit, after)
    out = [{"seq": seq, "id": item_id, "blob": base64.b64encode(blob).decode("ascii")} for seq, item_id, blob in rows]
    return JSONResponse({"items": out})


@router.get("/items/{item_id}/files")
async def item_files(request: Request, item_id: str) -> JSONResponse:
    """One page of an item's sealed files (issue 16), after ``n`` and ``seq``: at most
    ``FILE_CHUNKS`` chunks (about 4 MiB), so a 10 MB file comes in a few answers of bounded size."""
    service = _check(request)
    if not _ITEM_ID.fullmatch(item_id):
        raise MalformedRequest("bad item id")
    try:
        after = (int(request.query_params.get("n", str(FIRST[0]))), int(request.query_params.get("seq", "-1")))
    except ValueError:
        raise MalformedRequest("bad paging") from None
    if not all(-(2**31) <= v < 2**31 for v in after):
        raise MalformedRequest("bad paging")
    rows, more = await run_in_threadpool(sealed_file_chunks, service, item_id, after)
    chunks = [[n, seq, base64.b64encode(chunk).decode("ascii")] for n, seq, chunk in rows]
    return JSONResponse({"chunks": chunks, "more": more})


@router.post("/items/ack")
async def ack(request: Request) -> JSONResponse:
    service = _check(request)
    try:
        data: Any = json.loads(await request.body())
        ids = [str(i) for i in data["ids"]][:MAX_BATCH]
    except (ValueError, KeyError, TypeError):
        raise MalformedRequest('body must be {"ids": [...]}') from None
    await run_in_threadpool(ack_items, service, ids)
    return JSONResponse({"deleted": len(ids)})


# -- what the desk pushes back: board changes and SMS replies ----------------------------------------
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Uid = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
Sealed = Annotated[str, Field(min_length=4, max_length=16384, pattern=r"^[A-Za-z0-9+/]+={0,2}$")]
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StatusIn(_Strict):
    receipt_hash: Hash
    status: BoardStatus


class MessageIn(_Strict):
    id: Uid
    receipt_hash: Hash
    at: int = Field(ge=0, le=2**40)  # when the caseworker wrote it (unix time); never later than now here
    text: str = Field(min_length=1, max_length=MAX_REPLY)


class BoardPush(_Strict):
    statuses: list[StatusIn] = Field(default_factory=list, max_length=MAX_PUSH)
    messages: list[MessageIn] = Field(default_factory=list, max_length=MAX_PUSH)


class SmsIn(_Strict):
    id: Uid
    provider: Literal["twilio", "smssync"]
    recipient: Sealed  # base64 of the number, encrypted with this intake's outbox key
    body: Sealed  # base64 of the text, the same


class OutboxPush(_Strict):
    sms: list[SmsIn] = Field(max_length=MAX_PUSH)


class QuestionIn(_Strict):
    """A status-board question a paired desk asked (issue 15; intake/desk/asking.py), or withdrew."""

    id: Uid
    receipt_hash: Hash
    kind: Literal["confirm", "retaliation"]
    subject: str = Field(max_length=40, pattern=r"^[a-z_]*$")
    due_at: int = Field(ge=0, le=2**40)
    withdrawn: bool = False
    reporter: Hash | None = None  # the SMS session's hash of the number a question was texted to
    reporter_until: int = Field(default=0, ge=0, le=2**40)
    locale: str = Field(default="", max_length=16, pattern=r"^[A-Za-z_]*$")


class QuestionsPush(_Strict):
    questions: list[QuestionIn] = Field(max_length=MAX_PUSH)


async def _push(request: Request, model: type[M]) -> M:
    """The pushed JSON body, read up to :data:`MAX_PUSH_BYTES` and validated strictly."""
    require_json(request)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_PUSH_BYTES:
            raise TooLarge("desk push too large")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise fields_error(exc.errors()) from None


@router.post("/board")
async def push_board(request: Request) -> JSONResponse:
    """Status changes and replies a paired desk made, for the workers' status page."""
    service = _check(request)
    push = await _push(request, BoardPush)
    statuses = [(bytes.fromhex(s.receipt_hash), s.status) for s in push.statuses]
    messages = [(m.id, bytes.fromhex(m.receipt_hash), m.text, m.at) for m in push.messages]
    new = await run_in_threadpool(take_board, service, statuses, messages)
    log.info("desk push: board statuses=%d messages=%d changed=%d", len(statuses), len(messages), new)
    return JSONResponse({"stored": new})


@router.post("/questions")
async def push_questions(request: Request) -> JSONResponse:
    """Questions for the workers' status board a paired desk asked or withdrew; a question pushed
    again changes nothing, and an answered one stays answered."""
    service = _check(request)
    push = await _push(request, QuestionsPush)
    rows = [
        (q.id, bytes.fromhex(q.receipt_hash), q.kind, q.subject, q.due_at, q.withdrawn,
         bytes.fromhex(q.reporter) if q.reporter else None, q.reporter_until, q.locale)
        for q in push.questions
    ]  # fmt: skip
    new = await run_in_threadpool(take_pushed_questions, service, rows)
    log.info("desk push: questions=%d changed=%d", len(rows), new)
    return JSONResponse({"stored": new})


@router.post("/outbox")
async def push_outbox(request: Request) -> JSONResponse:
    """SMS replies a paired desk queued; this intake sends them like its own. Answers with every id
    now committed here (new or taken before), which the desk may then delete."""
    service = _check(request)
    push = await _push(request, OutboxPush)
    channel: SmsChannel = request.app.state.sms
    rows: list[tuple[str, str, bytes, bytes]] = []
    for sms in push.sms:
        try:
            recipient, body = base64.b64decode(sms.recipient, validate=True), base64.b64decode(sms.body, validate=True)
            channel.open_recipient(
                recipient, body
            )  # in memory only: a row the sender cannot open would block the queue
        except (ValueError, CannotOpen):  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise InvalidInput("desk push: SMS not sealed with this intake's key", fields={"sms": "invalid"}) from None
        rows.append((sms.id, sms.provider, recipient, body))
    new = await run_in_threadpool(take_outbox, service, rows)
    log.info("desk push: sms=%d new=%d", len(rows), new)
    return JSONResponse({"taken": [sms.id for sms in push.sms]})

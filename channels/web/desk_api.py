"""The pull API a desk on another host uses to drain this intake: sealed items out, acks in.

Items stay sealed in transit (the intake cannot open them either); an item is deleted here only
when the desk acknowledges it, which it does after committing it to its cases store. Access needs
a bearer token made by ``intake desk pair`` on this intake; only its SHA-256 is kept here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from intake.errors import IntakeError, MalformedRequest
from intake.store.inbox import Inbox

log = logging.getLogger("intake.desk_api")
router = APIRouter(prefix="/desk/v1", include_in_schema=False)
TOKENS = "desk_tokens"
MAX_BATCH = 200


class Unauthorized(IntakeError):
    status = 401
    code = "unauthorized"


def new_token(inbox: Inbox) -> str:
    """Make a desk token; store only its hash. Shown once."""
    token = "dsk_" + secrets.token_urlsafe(32)
    hashes = json.loads(inbox.get_meta(TOKENS) or "[]")
    hashes.append(hashlib.sha256(token.encode()).hexdigest())
    inbox.set_meta(TOKENS, json.dumps(hashes))
    return token


def _check(request: Request) -> Inbox:
    inbox: Inbox = request.app.state.service.inbox
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    digest = hashlib.sha256(given.encode("utf-8", "replace")).hexdigest()
    known = json.loads(inbox.get_meta(TOKENS) or "[]")
    # Compare against every stored hash (constant time each), so timing says nothing.
    ok = bool(given) and any([hmac.compare_digest(digest, h) for h in known])
    if not ok:
        log.warning("desk pull: token refused")
        raise Unauthorized("bad token")
    return inbox


@router.get("/items")
async def items(request: Request) -> JSONResponse:
    inbox = _check(request)
    try:
        after = max(0, int(request.query_params.get("after", "0")))
        limit = min(MAX_BATCH, max(1, int(request.query_params.get("limit", str(MAX_BATCH)))))
    except ValueError:
        raise MalformedRequest("bad paging") from None
    rows = await run_in_threadpool(inbox.items, limit, after)
    out = [{"seq": seq, "id": item_id, "blob": base64.b64encode(blob).decode("ascii")} for seq, item_id, blob in rows]
    return JSONResponse({"items": out})


@router.post("/items/ack")
async def ack(request: Request) -> JSONResponse:
    inbox = _check(request)
    try:
        data: Any = json.loads(await request.body())
        ids = [str(i) for i in data["ids"]][:MAX_BATCH]
    except (ValueError, KeyError, TypeError):
        raise MalformedRequest('body must be {"ids": [...]}') from None
    await run_in_threadpool(inbox.delete, ids)
    return JSONResponse({"deleted": len(ids)})

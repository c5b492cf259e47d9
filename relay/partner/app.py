"""``intake partner serve``: the partner's inbox over HTTPS (behind the partner's TLS proxy).

``POST /relay/v1/envelopes``: a registered node's bearer token, the envelope as the body (at most
``MAX_ENVELOPE`` bytes) and the node's push signature over it (``Intake-Push-Signature``,
crypto/push.py), checked with the key registered for that token: an envelope pushed with another
node's token is refused (403, ``wrong_sender``) before anything is stored or a receipt signed. The
inbox reads only the header: it refuses an envelope sealed to another key, keeps the rest still
sealed (idempotent by envelope id) and answers with a receipt signed by the receipt key. It never holds the key that opens an envelope; ``intake partner open`` does that
with the passphrase, on whatever machine the partner chooses.

``POST /relay/v1/messages`` (issue 15, the other direction): the same token, the node's fetch
signature over the body (``crypto.message.sign_fetch``, in the same header), and a body
``{"ack": [{"id", "outcome", "reason"}, ...]}`` saying what became of the messages it took last time;
the answer is ``{"messages": [base64url, ...]}``, what still waits for that node (sealed to it).

Answers are JSON ``{"error": code, "reason": text}`` on refusal; nothing of the body is logged.
"""

from __future__ import annotations

import base64
import json
import logging
import re

from fastapi import FastAPI
from nacl.signing import VerifyKey
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crypto.envelope import MAX_ENVELOPE, EnvelopeError, recipient_hint
from crypto.message import verify_fetch
from crypto.push import HEADER as PUSH_HEADER
from crypto.push import verify_push
from intake.errors import DeliveredByAnotherNode
from relay.partner.home import PartnerHome
from relay.partner.inbox import receive

log = logging.getLogger("intake.partner")


MAX_FETCH = 1 << 16
_ACK_ID = re.compile(r"[0-9a-f]{32}")
_OUTCOMES = frozenset({"stored", "duplicate", "refused"})


def parse_acks(body: bytes) -> list[tuple[str, str]] | None:
    """The (message id, outcome) pairs of a fetch body, or None when it is not one."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    acks = doc.get("ack") if isinstance(doc, dict) else None
    if not isinstance(acks, list) or len(acks) > 256:
        return None
    out = []
    for ack in acks:
        if not isinstance(ack, dict) or not isinstance(ack.get("id"), str) or not _ACK_ID.fullmatch(ack["id"]):
            return None
        outcome, reason = ack.get("outcome"), ack.get("reason", "")
        if outcome not in _OUTCOMES or not isinstance(reason, str) or not re.fullmatch(r"[a-z_]{0,32}", reason):
            return None
        out.append((ack["id"], f"{outcome}:{reason}" if reason else str(outcome)))
    return out


def _refuse(status: int, code: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": code, "reason": reason}, status_code=status, headers={"Cache-Control": "no-store"})


def create_partner_app(home: PartnerHome) -> FastAPI:
    """The inbox app for ``home``; opens the inbox store once, closes it on shutdown."""
    inbox = home.open_inbox()
    hint = recipient_hint(home.keyring().public_key)
    receipt_key = home.inbox_keys().receipt

    app = FastAPI(title="Partner inbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.router.on_shutdown.append(inbox.close)
    app.state.inbox = inbox

    @app.get("/relay/v1/")
    async def hello() -> dict[str, str]:
        return {"service": "grievance-intake partner inbox", "version": "1"}

    @app.post("/relay/v1/envelopes")
    async def envelopes(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        node = await run_in_threadpool(inbox.node_for_token, token.strip()) if scheme.lower() == "bearer" else None
        if node is None:
            log.info("envelope refused: no valid token")
            return _refuse(401, "unauthorized", "a registered node's bearer token is needed")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_ENVELOPE:
            return _refuse(413, "too_large", f"an envelope is at most {MAX_ENVELOPE} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_ENVELOPE:
                return _refuse(413, "too_large", f"an envelope is at most {MAX_ENVELOPE} bytes")
        proof = request.headers.get(PUSH_HEADER)
        if not proof:
            log.info("envelope from %s refused: no push signature", node.name)
            return _refuse(
                401, "no_push_signature",
                f"a push needs the node's {PUSH_HEADER} header; update the node's software",
            )  # fmt: skip
        if not await run_in_threadpool(verify_push, bytes(body), proof, key=VerifyKey(node.key)):
            # The token is one node's, the signature another's (or none): the opener would refuse it
            # as wrong_sender, so no receipt may say it arrived (issue 12). Nothing is stored.
            log.info("envelope refused: pushed with %s's token but not signed by its key", node.name)
            return _refuse(
                403, "wrong_sender",
                "this envelope was not pushed by the node this token belongs to: check the token this node was given",
            )  # fmt: skip
        try:
            receipt = await run_in_threadpool(receive, inbox, hint, receipt_key, bytes(body), via="https", node=node)
        except DeliveredByAnotherNode as exc:
            log.info("envelope from %s refused: delivered by another node first", node.name)
            return _refuse(409, exc.code, exc.detail)
        except EnvelopeError as exc:
            log.info("envelope from %s refused: %s", node.name, exc.reason)
            status = 422 if exc.reason == "not_for_this_key" else 400
            return _refuse(status, exc.reason, str(exc))
        log.info("envelope received from %s", node.name)
        return Response(receipt, media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.post("/relay/v1/messages")
    async def messages(request: Request) -> Response:
        """A node collects the partner's messages for it, and acknowledges those it took last time."""
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        node = await run_in_threadpool(inbox.node_for_token, token.strip()) if scheme.lower() == "bearer" else None
        if node is None:
            return _refuse(401, "unauthorized", "a registered node's bearer token is needed")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FETCH:
                return _refuse(413, "too_large", f"a fetch is at most {MAX_FETCH} bytes")
        if not verify_fetch(bytes(body), request.headers.get(PUSH_HEADER, ""), key=VerifyKey(node.key)):
            log.info("message fetch refused: not signed by %s's key", node.name)
            return _refuse(403, "wrong_sender", "this fetch was not signed by the node this token belongs to")
        acks = parse_acks(bytes(body))
        if acks is None:
            return _refuse(400, "malformed", 'a fetch is {"ack": [{"id": ..., "outcome": ...}, ...]}')
        await run_in_threadpool(inbox.acknowledge, node.key, acks)
        waiting = await run_in_threadpool(inbox.waiting_for, node.key)
        log.info("messages for %s: %d acknowledged, %d sent", node.name, len(acks), len(waiting))
        return JSONResponse(
            {"messages": [base64.urlsafe_b64encode(data).rstrip(b"=").decode() for _id, data in waiting]},
            headers={"Cache-Control": "no-store"},
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("partner inbox error: %s", type(exc).__name__)
        return _refuse(500, "internal", "the inbox could not take this envelope now; try again later")

    return app

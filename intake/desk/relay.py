"""Desk routes for the relay's review gate (coordinators only).

``GET /relay``: cases whose worker consented to sharing, those needing a decision first, and the
partners with their outbox. ``GET /cases/{id}/relay``: the summary exactly as it would leave, every
removal highlighted, with the worker's words beside it; the coordinator can edit the narrative
(e.g. drop a sentence that singles someone out), list names to remove, set how many workers are
affected, confirm consent 2, and approve: the approval is bound to the hash of what the page showed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crypto import Role
from i18n import D_, d_, dn_
from intake.desk import remedy
from intake.desk.actions import WHO_LABELS
from intake.desk.http import current, form_of, page
from intake.desk.labels import t_worker
from intake.desk.sessions import Session, Sessions
from intake.domain import Category
from intake.errors import InvalidInput, NotEligible, Stale
from intake.evidence import extension
from intake.settings import Settings
from intake.store.casework import CaseWork
from relay.files import NotRelayable
from relay.gate import Relay, Review
from relay.partners import record
from relay.redact import Redacted
from relay.transport import PushReport, push

router = APIRouter()
log = logging.getLogger("intake.desk")
PUSH_EVERY = 300.0  # seconds between tries to send the outbox while a desk is unlocked

STATE_LABELS = {
    "not_shared": D_("Not shared: the worker did not consent"),
    "withdrawn": D_("Not shared: the case was withdrawn"),
    "needs_confirmation": D_("Consent 2 (with name): confirm it for this case first"),
    "to_review": D_("Waiting for review"),
    "changed": D_("Changed since approval: review again"),
    "step_overdue": D_("Summary out of date: step overdue; review it again"),
    "approved": D_("Approved"),
}
KIND_LABELS = {
    "phone": D_("phone number"), "email": D_("e-mail address"), "url": D_("link"),
    "national_id": D_("ID number"), "passport": D_("passport number"), "worker_id": D_("worker number"),
    "chat": D_("chat account"), "bank_card": D_("bank card"), "name": D_("name"), "dormitory": D_("room"),
    "department": D_("department"), "line": D_("production line"), "shift": D_("shift"), "number": D_("long number"),
}  # fmt: skip


WHY_NOT = {
    "document": D_(
        "Documents (PDF, office files) cannot be sent to partners in this version: they may carry their author's details."
    ),
    "too_large": D_("Too large to send with the summary in one envelope."),
    "missing": D_("No content."),
}
FILE_STATES = {
    "waiting": D_("approved; leaves with the next approved summary"),
    "queued": D_("approved; sealed, waiting to be sent"),
    "delivered": D_("approved; delivered"),
}


def _relay(session: Session, settings: Settings) -> Relay:
    return Relay(session.store, session.keys, patterns=settings.relay_patterns())


def push_now(session: Session, settings: Settings) -> PushReport:
    """Send what is due in the outbox, with this session's keys (blocking: run it in a thread)."""
    with httpx.Client(timeout=20.0, follow_redirects=False) as client:
        return push(_relay(session, settings), client)


async def push_in_background(sessions: Sessions, settings: Settings) -> PushReport | None:
    """While someone has the desk unlocked, the outbox goes out by itself (no passphrase on a timer)."""
    session = sessions.any_unlocked((Role.COORDINATOR, Role.CASEWORKER))
    if session is None:
        return None
    try:
        return await run_in_threadpool(push_now, session, settings)
    except Exception as exc:
        log.warning("relay push from the desk failed: %s", type(exc).__name__)
        return None


def original_pieces(text: str, redacted: Redacted) -> list[tuple[str, str | None]]:
    """The worker's words split into kept text and removed spans (kind), for the side-by-side view."""
    out: list[tuple[str, str | None]] = []
    at = 0
    for r in redacted.removals:
        if r.start > at:
            out.append((text[at : r.start], None))
        out.append((text[r.start : r.end], r.kind))
        at = r.end
    if at < len(text):
        out.append((text[at:], None))
    return out


async def _review_page(
    session: Session, settings: Settings, case_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    relay = _relay(session, settings)
    review: Review = await run_in_threadpool(relay.review, case_id)
    partners = await run_in_threadpool(relay.partners)
    words = review.draft.narrative
    source = await run_in_threadpool(lambda: relay.source_words(case_id))
    file_rows = await run_in_threadpool(relay.files.review, case_id)
    return page(
        "relay_case.html", status=status, session=session, r=review, s=review.draft.summary,
        pieces=words.pieces(), original=original_pieces(source, words),
        state_label=d_(STATE_LABELS[review.state]), kind_labels={k: d_(v) for k, v in KIND_LABELS.items()},
        partners=partners, eligible=review.state in ("to_review", "changed", "step_overdue", "approved"),
        who_labels={code: d_(label) for code, label in WHO_LABELS.items()},
        category_labels={c.value: t_worker(c) for c in Category},
        outcome_text=remedy.outcome_text, remedy_state_label=remedy.state_label, files=file_rows,
        why_not_labels={k: d_(v) for k, v in WHY_NOT.items()},
        file_state_labels={k: d_(v) for k, v in FILE_STATES.items()}, **extra,
    )  # fmt: skip


@router.get("/relay")
async def relay_list(request: Request) -> HTMLResponse:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    relay = _relay(session, settings)
    reviews = await run_in_threadpool(relay.reviews)
    partners = await run_in_threadpool(relay.partners)
    outbox = await run_in_threadpool(relay.outbox)
    per_partner = {
        p.name: (
            sum(1 for o in outbox if o.partner == p.name and o.delivered_at),
            sum(1 for o in outbox if o.partner == p.name and not o.delivered_at and not o.cancelled),
        )
        for p in partners
    }
    return page(
        "relay.html", session=session, reviews=reviews, partners=partners, per_partner=per_partner,
        state_labels={k: d_(v) for k, v in STATE_LABELS.items()},
    )  # fmt: skip


@router.get("/cases/{case_id}/relay")
async def relay_case(request: Request, case_id: int) -> HTMLResponse:
    session = current(request, Role.COORDINATOR)
    # The page shows the worker's words: a view of the case, in the audit log like any other.
    await run_in_threadpool(CaseWork(session.store, session.keys).open_case, case_id)
    return await _review_page(session, request.app.state.settings, case_id)


def _workers(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) <= 7 else -1


@router.post("/cases/{case_id}/relay/save")
async def relay_save(request: Request, case_id: int) -> Response:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    relay = _relay(session, settings)
    names = [line for line in str(form.get("names") or "").splitlines()]
    try:
        await run_in_threadpool(
            lambda: relay.save(
                case_id,
                narrative=None if form.get("reset") else str(form.get("narrative") or ""),
                reset_narrative=bool(form.get("reset")),
                names=names,
                workers_affected=_workers(form.get("workers_affected")),
                named_confirmed=form.get("named_confirmed") == "1",
            )
        )
    except InvalidInput as exc:
        return await _review_page(session, settings, case_id, status=400, error=d_(_message(exc)))
    return await _review_page(session, settings, case_id, notice=d_("Saved. Check the summary, then approve it."))


def _message(exc: InvalidInput) -> str:
    if "workers_affected" in exc.fields:
        return D_("Workers affected must be a number from 1.")
    if "narrative" in exc.fields:
        return D_("The narrative is too long (at most 8000 characters).")
    return D_("That could not be saved; check the form.")


@router.post("/cases/{case_id}/relay/approve")
async def relay_approve(request: Request, case_id: int) -> Response:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    relay = _relay(session, settings)
    try:
        queued = await run_in_threadpool(relay.approve, case_id, str(form.get("hash") or ""))
    except Stale:
        return await _review_page(
            session, settings, case_id, status=409,
            error=d_("The summary changed since you saw it (someone edited the case). Check it again, then approve."),
        )  # fmt: skip
    except NotEligible:
        return await _review_page(
            session, settings, case_id, status=409, error=d_("This case's summary may not leave the node.")
        )
    if queued:  # try to send at once; whatever fails is retried by the desk's timer
        request.app.state.relay_push = asyncio.create_task(push_in_background(request.app.state.sessions, settings))
    notice = (
        dn_(
            "Approved and sealed for {n} partner. Send with 'intake relay push' or 'intake relay export'.",
            "Approved and sealed for {n} partners. Send with 'intake relay push' or 'intake relay export'.",
            queued,
        ).format(n=queued)
        if queued
        else d_("Approved. No partner is registered yet, so nothing was queued.")
    )
    return await _review_page(session, settings, case_id, notice=notice)


@router.post("/cases/{case_id}/relay/withdraw")
async def relay_withdraw(request: Request, case_id: int) -> Response:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    await form_of(request, session)
    cancelled = await run_in_threadpool(_relay(session, settings).withdraw_approval, case_id)
    return await _review_page(
        session, settings, case_id,
        notice=dn_(
            "Approval withdrawn; {n} envelope not yet delivered was cancelled.",
            "Approval withdrawn; {n} envelopes not yet delivered were cancelled.",
            cancelled,
        ).format(n=cancelled),
    )  # fmt: skip


# -- evidence files (issue 16 item 7): one file for one partner, after seeing the copy that leaves ------
@router.get("/cases/{case_id}/relay/files/{n}")
async def relay_file_copy(request: Request, case_id: int, n: int) -> Response:
    """The copy of a file that would leave (downscaled, re-encoded, no metadata), from memory."""
    session = current(request, Role.COORDINATOR)
    relay = _relay(session, request.app.state.settings)
    try:
        copy = await run_in_threadpool(relay.files.copy, case_id, n)
    except NotRelayable:
        return Response(d_("This file cannot be sent to partners."), status_code=404, media_type="text/plain")
    await run_in_threadpool(_audit_view, session, case_id, n, copy.sha256)
    name = f"case-{case_id}-file-{n}-for-partners.{extension(copy.type)}"
    return Response(copy.data, media_type=copy.type, headers={"Content-Disposition": f'inline; filename="{name}"'})


def _audit_view(session: Session, case_id: int, n: int, sha256: str) -> None:
    with session.store.transaction() as conn:
        record(conn, session.keys, "relay_file_view", case_id, {"n": n, "sha256": sha256})


def _int(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else -1


@router.post("/cases/{case_id}/relay/files/{n}/approve")
async def relay_file_approve(request: Request, case_id: int, n: int) -> Response:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    relay = _relay(session, settings)
    partner_id, shown = _int(form.get("partner")), str(form.get("sha256") or "")
    try:
        queued = await run_in_threadpool(relay.files.approve, case_id, n, partner_id, shown)
    except Stale:
        return await _review_page(
            session, settings, case_id, status=409,
            error=d_("The file's copy is not the one you saw. Look at it again, then approve."),
        )  # fmt: skip
    except NotEligible:
        return await _review_page(
            session, settings, case_id, status=409, error=d_("This case's summary may not leave the node.")
        )
    except InvalidInput as exc:
        reason = getattr(exc, "reason", "")
        error = d_(WHY_NOT[reason]) if reason in WHY_NOT else d_("That could not be saved; check the form.")
        return await _review_page(session, settings, case_id, status=400, error=error)
    if queued:
        request.app.state.relay_push = asyncio.create_task(push_in_background(request.app.state.sessions, settings))
        notice = d_("File approved for this partner and sealed with the summary.")
    else:
        notice = d_("File approved for this partner. It leaves with the summary once the summary is approved.")
    return await _review_page(session, settings, case_id, notice=notice)


@router.post("/cases/{case_id}/relay/files/{n}/withdraw")
async def relay_file_withdraw(request: Request, case_id: int, n: int) -> Response:
    session = current(request, Role.COORDINATOR)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    try:
        await run_in_threadpool(_relay(session, settings).files.withdraw, case_id, n, _int(form.get("partner")))
    except InvalidInput:
        return await _review_page(
            session, settings, case_id, status=400, error=d_("That could not be saved; check the form.")
        )
    return await _review_page(
        session, settings, case_id,
        notice=d_("File approval withdrawn; if it had not been delivered, its envelope was cancelled."),
    )  # fmt: skip

"""Desk routes for the cases: the list and search, a case's page, its workflow, notes, replies, audio.

``GET /cases`` (filters in the query), ``GET /cases/{id}`` (``?template=`` pre-fills the reply),
``POST /cases/{id}/update``, ``/note`` and ``/reply``, ``GET /cases/{id}/audio/{n}``. Every form
needs a caseworker's session and its CSRF token (intake/desk/http.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import i18n
from channels.sms.service import SmsChannel
from i18n import d_
from intake import clock
from intake.desk import actions, asking, files, remedy
from intake.desk import partner_messages as partner_msgs
from intake.desk.drain import drain_if_due
from intake.desk.http import current, form_of, page
from intake.desk.labels import t_worker
from intake.desk.sessions import Session
from intake.domain import CaseStatus, Category, Channel
from intake.errors import CaseNotFound, InvalidInput
from intake.node import open_inbox
from intake.replies import REPLY_TEMPLATE_NAMES, reply_template
from intake.services import IntakeService
from intake.settings import Settings
from intake.store.caselist import Page
from intake.store.casework import SEVERITIES, TRANSITIONS, CaseWork, Filters
from intake.store.factories import Factories
from intake.store.remedy import CaseRemedy

router = APIRouter()


@router.get("/cases")
async def cases(request: Request) -> HTMLResponse:
    session = current(request)
    await drain_if_due(request, session)
    q = request.query_params
    filters = Filters(
        status=q.get("status", ""), category=q.get("category", ""), channel=q.get("channel", ""),
        locale=q.get("locale", ""), severity=q.get("severity", ""), q=q.get("q", "")[:200],
        overdue=q.get("overdue") == "1", factory_id=_int_or_none(q.get("factory")),
        before=_int_or_none(q.get("before")),
    )  # fmt: skip
    settings: Settings = request.app.state.settings
    work, deadlines = CaseWork(session.store, session.keys), settings.deadlines()
    found, listed = await run_in_threadpool(work.find_page, filters, deadlines)
    searched, older = _searched(request, listed)
    overdue = await run_in_threadpool(work.overdue, [c.id for c in found], deadlines)
    expired = await run_in_threadpool(work.expired, [c.id for c in found])  # retention: words destroyed
    states = await run_in_threadpool(CaseRemedy(work).states, [c.id for c in found])
    waiting = await run_in_threadpool(CaseRemedy(work).waiting_on)  # issue 15: escalation
    register = await run_in_threadpool(lambda: Factories(session.store, session.keys).find(limit=500, counts=False))
    return page(
        "cases.html", session=session, cases=found, f=filters, statuses=list(CaseStatus),
        categories=[(c.value, t_worker(c)) for c in Category], channels=list(Channel),
        severities=SEVERITIES, locales=i18n.available_locales(), overdue=overdue, register=register,
        remedy_states={i: remedy.desk_state_label(st) for i, st in states.items()},
        waiting=[(w, ", ".join(d_(actions.WHO_LABELS.get(c, c)) for c in w.who)) for w in waiting],
        searched=searched, older=older, expired=expired,
    )  # fmt: skip


def _searched(request: Request, listed: Page) -> tuple[str, str]:
    """What the list says when a search looked at part of the cases only (intake/store/caselist.py),
    and the link that goes on below where it stopped ("" when it looked at them all)."""
    if not listed.capped:
        return "", ""
    if listed.searched_to is None:
        return d_("One or two letters are looked for in the first cases of the list only: type three or more."), ""
    params = {**request.query_params, "before": str(listed.searched_to)}
    note = d_("Only the newest cases with these words were checked against the filters, down to case {n}.")
    return note.format(n=listed.searched_to), "/cases?" + urlencode(params)


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: int) -> HTMLResponse:
    session = current(request)
    extra: dict[str, Any] = {}
    key = request.query_params.get("template")
    if key:  # pre-fill the reply box with a template in the case's own language
        case = await run_in_threadpool(session.store.get_case, case_id)
        extra["reply_text"] = reply_template(key, case.locale) or ""
        # passing on a partner's message (issue 15): the reply form then says which one it answers
        pass_on = await run_in_threadpool(partner_msgs.pass_on_of, request.query_params, case_id, session)
        if pass_on is not None:
            extra["pass_on"] = pass_on
            extra["notice"] = d_("Read the reply below in the worker's language, change it if needed, then post it.")
    return await _case_page(session, request.app.state.settings, case_id, **extra)


async def _case_page(
    session: Session, settings: Settings, case_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    work = CaseWork(session.store, session.keys)
    case, entries = await run_in_threadpool(work.open_case, case_id)
    contact = await run_in_threadpool(work.contact, case_id)
    register = await run_in_threadpool(lambda: Factories(session.store, session.keys).find(limit=500, counts=False))
    with session.store._lock:
        row = session.store._conn.execute(
            "SELECT factory_id, expired_at FROM cases WHERE id = ?", (case_id,)
        ).fetchone()
    return page(
        "case.html", status=status, session=session, case=case, entries=entries,
        register=register, factory_id=row[0] if row else None,
        expired_on=str(row[1])[:10] if row and row[1] else "",  # retention (intake/retention.py)
        moves=sorted(TRANSITIONS[case.status], key=lambda s: list(CaseStatus).index(s)),
        severities=SEVERITIES, categories=[(c.value, t_worker(c)) for c in Category],
        can_sms=bool(contact and contact[0] and sms_provider(settings)),
        whatsapp_notice=await run_in_threadpool(_whatsapp_notice, settings, contact[0] if contact else ""),
        reply_templates=[(k, d_(v)) for k, v in REPLY_TEMPLATE_NAMES.items()],
        **await run_in_threadpool(actions.case_extra, session, settings, case_id),
        **await run_in_threadpool(remedy.case_extra, session, case_id),
        **await run_in_threadpool(partner_msgs.case_extra, session, case_id),
        **await run_in_threadpool(asking.case_extra, session, case_id),
        **await run_in_threadpool(files.case_extra, session, case_id), **extra,
    )  # fmt: skip


@router.post("/cases/{case_id}/update")
async def update(request: Request, case_id: int) -> HTMLResponse:
    session = current(request)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    work = CaseWork(session.store, session.keys)
    try:
        version = int(str(form.get("version") or "0"))
    except ValueError:
        version = 0
    try:  # resolving with an outcome (issue 15): a wrong outcome refuses the whole change
        outcome = remedy.outcome_from_form(form) if form.get("status") == "resolved" else None
    except InvalidInput as exc:
        return await _case_page(session, settings, case_id, status=400, error=remedy.problem_text(exc))
    # read before resolving shreds it: the worker who agreed to contact is texted "did it happen?" (issue 15)
    phone = await run_in_threadpool(asking.contact_phone, session, case_id) if form.get("status") == "resolved" else ""
    try:
        change = await run_in_threadpool(
            lambda: work.update(
                case_id,
                seen_version=version,
                status=str(form.get("status")) if form.get("status") else None,
                severity=str(form.get("severity")) if form.get("severity") else None,
                assignee=str(form.get("assignee")) if form.get("assignee") is not None else None,
                consent=_consent(form.get("consent")),
                categories=[str(c) for c in form.getlist("categories")] if form.get("categories_present") else None,
            )
        )
    except InvalidInput:
        return await _case_page(session, settings, case_id, status=400, error=d_("That change is not allowed."))
    if outcome is not None:
        await run_in_threadpool(CaseRemedy(work).add, case_id, outcome)
    if change.board is not None:
        await run_in_threadpool(_set_board, settings, *change.board)
        await run_in_threadpool(asking.after_status, settings, session, case_id, change.case.status, phone)
    notice = (
        d_(
            "Someone changed this case after you opened it. Your change was saved; the earlier values are in the audit log."
        )
        if change.conflict
        else d_("Saved.")
    )
    return await _case_page(session, settings, case_id, notice=notice)


@router.post("/cases/{case_id}/note")
async def note(request: Request, case_id: int) -> HTMLResponse:
    session = current(request)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    try:
        await run_in_threadpool(CaseWork(session.store, session.keys).add_note, case_id, str(form.get("text") or ""))
    except InvalidInput:
        return await _case_page(
            session, settings, case_id, status=400, error=d_("A note needs some text."),
            note_text=str(form.get("text") or ""),
        )  # fmt: skip
    return await _case_page(session, settings, case_id, notice=d_("Note added."))


@router.post("/cases/{case_id}/reply")
async def reply(request: Request, case_id: int) -> HTMLResponse:
    session = current(request)
    settings: Settings = request.app.state.settings
    form = await form_of(request, session)
    text = str(form.get("text") or "")
    work = CaseWork(session.store, session.keys)
    # Only a reply that really goes out by SMS is recorded as one (a contact can be gone by now).
    contact = await run_in_threadpool(work.contact, case_id) if form.get("sms") == "1" else None
    provider = sms_provider(settings)
    phone = contact[0] if contact and provider else ""
    pass_on = await run_in_threadpool(partner_msgs.pass_on_of, form, case_id, session)
    try:
        receipt_hash = await run_in_threadpool(work.add_reply, case_id, text, sms=bool(phone))
    except InvalidInput:
        return await _case_page(
            session, settings, case_id, status=400,
            error=d_("A reply needs some text (at most 2000 characters)."), reply_text=text, pass_on=pass_on,
        )  # fmt: skip
    if receipt_hash is not None:
        await run_in_threadpool(_post_board, settings, receipt_hash, text.strip())
    if pass_on is not None:
        await run_in_threadpool(partner_msgs.record_passed_on, session, case_id, pass_on)
    sent_sms = False
    if phone and provider:
        await run_in_threadpool(_queue_sms, settings, provider, phone, text.strip())
        sent_sms = True
    notice = (
        d_("Reply posted on the status board and queued as SMS.")
        if sent_sms
        else d_("Reply posted on the status board.")
    )
    return await _case_page(session, settings, case_id, notice=notice)


@router.get("/cases/{case_id}/audio/{n}")
async def audio(request: Request, case_id: int, n: int) -> Response:
    session = current(request)
    found = await run_in_threadpool(session.store.recording_audio, case_id)
    if not 0 <= n < len(found):
        raise CaseNotFound("no recording")
    _sid, content_type, data = found[n]
    await run_in_threadpool(CaseWork(session.store, session.keys).listened, case_id)
    # Decrypted in memory and streamed to the local browser only; never a file.
    return Response(data, media_type=content_type or "application/octet-stream")


def _int_or_none(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _consent(value: Any) -> int | None:
    """The consent field of the triage form: absent or empty means unchanged."""
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text in ("0", "1", "2") else -1  # -1: refused by CaseWork.update


def sms_provider(settings: Settings) -> str | None:
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_number:
        return "twilio"
    if settings.smssync_secret:
        return "smssync"
    return None


# On a desk paired with a remote intake these land in the desk's own inbox.db first, marked to be
# pushed there at the next drain (intake/remote.py): a reply written offline is never lost.
def _set_board(settings: Settings, receipt_hash: Any, status: Any) -> None:
    inbox = open_inbox(settings)
    try:
        inbox.set_status(receipt_hash, status, push=bool(settings.desk_remote_url))
    finally:
        inbox.close()


def _post_board(settings: Settings, receipt_hash: Any, text: str) -> None:
    inbox = open_inbox(settings)
    try:
        inbox.post_message(receipt_hash, text, push=bool(settings.desk_remote_url))
    finally:
        inbox.close()


def _whatsapp_notice(settings: Settings, phone: str) -> str:
    """Say so when a reply queued for this WhatsApp worker waits for their 24-hour window (docs/sms.md).
    Only where the outbox is here: a desk paired with a remote intake cannot see it ('intake sms pull' there says)."""
    if not phone.startswith("whatsapp:") or settings.desk_remote_url or sms_provider(settings) != "twilio":
        return ""
    service = IntakeService.open(settings)
    try:
        waiting = SmsChannel(service).whatsapp_waiting(phone, clock.time())
    finally:
        service.close()
    if not waiting:
        return ""
    return d_(
        "A WhatsApp reply waits: the worker last wrote more than 24 hours ago; it goes out when they write "
        "again (WhatsApp allows only approved templates outside that window)."
    )


def _queue_sms(settings: Settings, provider: str, phone: str, text: str) -> None:
    service = IntakeService.open(settings)
    try:
        recipient, body = SmsChannel(service).seal_recipient(phone, text)
        service.inbox.queue(provider, recipient, body, push=bool(settings.desk_remote_url))
    finally:
        service.close()


__all__ = ["router", "sms_provider"]

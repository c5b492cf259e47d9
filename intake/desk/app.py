"""``create_desk_app(settings)``: unlock, case list and search, case page, workflow, notes, replies.

Forms carry a per-session CSRF token, and the unlock form a token of its own (intake/desk/guard.py);
the session cookie is HttpOnly, SameSite=Strict and lives only in this process's memory. Every page is served with the same strict headers as the worker
surface, and loads nothing from any other origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import i18n
from crypto import Role, WrongPassphrase
from i18n import d_
from intake import clock
from intake.desk import dashboard, factories, labels
from intake.desk.guard import LoginGuard, host_allowed, host_name
from intake.desk.sessions import Membership, Session, Sessions
from intake.domain import BOARD_LABELS, CATEGORY_LABELS, CaseStatus, Category, Channel
from intake.errors import IntakeError, InvalidInput, NodeError
from intake.node import load_keyring, open_cases, open_inbox, unlock
from intake.remote import item_source, push_quietly
from intake.replies import REPLY_TEMPLATE_NAMES, reply_template
from intake.services import drain
from intake.settings import Settings
from intake.store.cases import CaseNotFound
from intake.store.casework import SEVERITIES, TRANSITIONS, CaseWork, Filters
from intake.store.factories import Factories

log = logging.getLogger("intake.desk")
HERE = Path(__file__).parent
COOKIE = "desk"
DRAIN_EVERY = 60.0
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(labels.GLOBALS)


class _Login(Exception):
    pass


class Forbidden(IntakeError):
    status = 403
    code = "forbidden"


def page(template: str, status: int = 200, session: Session | None = None, **ctx: Any) -> HTMLResponse:
    """Render a desk page (templates in intake/desk/templates, strings from the desk catalog)."""
    loc = i18n.desk_locale()
    html = env.get_template(template).render(
        _=d_, session=session, csrf=session.csrf if session else "", lang=i18n.html_lang(loc),
        dir=i18n.text_direction(loc), **ctx,
    )  # fmt: skip
    return HTMLResponse(html, status_code=status)


def current(request: Request, role: Role = Role.CASEWORKER) -> Session:
    """The unlocked session of this request, or a redirect to the unlock page; checks the role."""
    sessions: Sessions = request.app.state.sessions
    session = sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise _Login()
    if role is Role.COORDINATOR and session.keys.role is not Role.COORDINATOR:
        raise Forbidden("coordinator only")
    if role is Role.CASEWORKER and session.keys.role is Role.VIEWER:
        raise Forbidden("caseworkers only")
    return session


async def form_of(request: Request, session: Session) -> Any:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form(max_files=0, max_fields=64)
    if not hmac.compare_digest(str(form.get("csrf") or ""), session.csrf):
        raise Forbidden("csrf")
    return form


def create_desk_app(settings: Settings, *, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The desk. It answers to loopback names and to ``hosts`` (the ``--host`` it listens on) only."""
    allowed_hosts = frozenset(host_name(h) or h.lower() for h in hosts)
    sessions = Sessions(lifetime=settings.desk_session_hours * 3600.0, members=Membership(settings.keyring_path))
    guard = LoginGuard()
    state: dict[str, float] = {"last_drain": 0.0}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sweeper() -> None:
            from intake.desk.relay import PUSH_EVERY, push_in_background

            last_push = clock.monotonic()
            while True:
                await asyncio.sleep(30)
                if sessions.sweep():
                    log.info("idle desk session locked")
                if clock.monotonic() - last_push >= PUSH_EVERY:
                    last_push = clock.monotonic()
                    await push_in_background(sessions, settings)
                if settings.desk_remote_url:  # replies reach a remote intake within a tick, even while locked
                    await run_in_threadpool(_push_to_remote, settings)

        task = asyncio.create_task(sweeper())
        yield
        task.cancel()
        sessions.close_all()

    app = FastAPI(title="Grievance desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.sessions = sessions
    app.state.login_guard = guard
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(factories.router)
    app.include_router(dashboard.router)
    from intake.desk import actions  # here, not at the top: the router imports this module

    app.include_router(actions.router)
    from intake.desk import relay

    app.include_router(relay.router)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon, and no 404 in every browser's log

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        if not host_allowed(request.headers.get("host"), allowed_hosts):
            # Before any session, form or passphrase: see intake/desk/guard.py (DNS rebinding).
            refused = d_("This desk answers only at the address it listens on, such as http://127.0.0.1:8001.")
            return Response(refused, status_code=421, media_type="text/plain; charset=utf-8", headers=HEADERS)
        # The desk's language: the unlocked user's choice; on the unlock page, ?lang= or the browser's.
        session = sessions.get(request.cookies.get(COOKIE)) if request.cookies.get(COOKIE) else None
        if session is not None and session.locale:
            i18n.set_desk_locale(session.locale)
        else:
            i18n.set_desk_locale(
                _negotiate_desk(request.headers.get("accept-language"), request.query_params.get("lang"))
            )
        response: Response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(_Login)
    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(IntakeError)
    async def error(request: Request, exc: IntakeError) -> Response:
        # A refused form token is not a question of role (e.g. a page left open from before a new unlock).
        by_role = isinstance(exc, Forbidden) and exc.detail != "csrf"
        message = d_("This page is only for other roles.") if by_role else d_("That did not work.")
        if isinstance(exc, CaseNotFound):
            message = d_("There is no such case.")
        return page(
            "message.html", status=exc.status, message=message, session=sessions.get(request.cookies.get(COOKIE))
        )

    async def drain_now(session: Session) -> int:
        def run() -> int:
            inbox = item_source(settings)
            try:
                push_quietly(settings, inbox)  # replies and status changes made here, to a remote intake
                return drain(inbox, session.store, session.keys).cases
            finally:
                inbox.close()

        state["last_drain"] = clock.monotonic()
        try:
            return await run_in_threadpool(run)
        except IntakeError:
            log.warning("drain failed; the inbox is left as it was")
            return 0

    # -- unlock and lock ------------------------------------------------------------------------------
    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/cases", status_code=303)

    @app.get("/login")
    def login_form() -> HTMLResponse:
        users = list(load_keyring(settings).users)
        return page(
            "login.html", users=users, languages=_desk_languages(), chosen=i18n.desk_locale(), login_token=guard.token()
        )

    @app.post("/login")
    async def login(request: Request) -> Response:
        # Refused before the form is even read: another site's page must not make guesses count.
        cross_site = guard.cross_site(request.headers)
        form = None if cross_site else await request.form(max_files=0, max_fields=8)
        if form is None or not guard.valid(str(form.get("csrf") or "")):
            log.info("desk unlock refused: the form did not come from the desk's own page")
            return page(
                "login.html", status=403, users=list(load_keyring(settings).users), languages=_desk_languages(),
                chosen=i18n.desk_locale(), login_token=guard.token(),
                error=d_("This unlock form came from another page or is too old. Nothing was tried: unlock again here."),
            )  # fmt: skip
        user = str(form.get("user") or "")
        passphrase = str(form.get("passphrase") or "")
        chosen = str(form.get("lang") or "")
        chosen = chosen if chosen in i18n.available_locales(i18n.DESK_DOMAIN) else ""
        if chosen:
            i18n.set_desk_locale(chosen)
        users = list(load_keyring(settings).users)
        again: dict[str, Any] = {
            "users": users, "languages": _desk_languages(), "chosen": i18n.desk_locale(), "login_token": guard.token()
        }  # fmt: skip
        try:
            async with guard.queue():  # one try at a time: each waits out the delay the one before earned
                keys = await run_in_threadpool(unlock, settings, user or None, passphrase, sleep=guard.sleep)
        except WrongPassphrase:
            return page("login.html", status=401, error=d_("Wrong user or passphrase. Nothing was changed."), **again)
        except NodeError:
            return page("login.html", status=500, error=d_("The node's keyring cannot be read."), **again)
        store = await run_in_threadpool(open_cases, settings, keys)
        sessions.drop(request.cookies.get(COOKIE))  # unlocking again forgets the earlier session at once
        token = sessions.create(keys, store, locale=chosen)
        session = sessions.get(token)
        if session is None:  # the user was removed while unlocking
            return page("login.html", status=401, error=d_("Wrong user or passphrase. Nothing was changed."), **again)
        if keys.role is not Role.VIEWER:
            await drain_now(session)
        response = RedirectResponse("/cases", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        log.info("desk unlocked role=%s", keys.role.value)
        return response

    @app.post("/lock")
    async def lock(request: Request) -> Response:
        session = sessions.get(request.cookies.get(COOKIE))
        if session is not None:
            await form_of(request, session)
        sessions.drop(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- cases ----------------------------------------------------------------------------------------
    @app.get("/cases")
    async def cases(request: Request) -> HTMLResponse:
        session = current(request)
        if clock.monotonic() - state["last_drain"] > DRAIN_EVERY:
            await drain_now(session)
        q = request.query_params
        filters = Filters(
            status=q.get("status", ""), category=q.get("category", ""), channel=q.get("channel", ""),
            locale=q.get("locale", ""), severity=q.get("severity", ""), q=q.get("q", "")[:200],
            overdue=q.get("overdue") == "1", factory_id=_int_or_none(q.get("factory")),
        )  # fmt: skip
        work, deadlines = CaseWork(session.store, session.keys), settings.deadlines()
        found = await run_in_threadpool(work.find, filters, deadlines)
        overdue = await run_in_threadpool(work.overdue, [c.id for c in found], deadlines)
        register = await run_in_threadpool(lambda: Factories(session.store, session.keys).find(limit=500))
        return page(
            "cases.html", session=session, cases=found, f=filters, statuses=list(CaseStatus),
            categories=[(c.value, t_worker(c)) for c in Category], channels=list(Channel),
            severities=SEVERITIES, locales=i18n.available_locales(), overdue=overdue, register=register,
        )  # fmt: skip

    @app.get("/cases/{case_id}")
    async def case_page(request: Request, case_id: int) -> HTMLResponse:
        session = current(request)
        extra: dict[str, Any] = {}
        key = request.query_params.get("template")
        if key:  # pre-fill the reply box with a template in the case's own language
            case = await run_in_threadpool(session.store.get_case, case_id)
            extra["reply_text"] = reply_template(key, case.locale) or ""
        return await _case_page(session, case_id, **extra)

    async def _case_page(session: Session, case_id: int, status: int = 200, **extra: Any) -> HTMLResponse:
        work = CaseWork(session.store, session.keys)
        case, entries = await run_in_threadpool(work.open_case, case_id)
        contact = await run_in_threadpool(work.contact, case_id)
        register = await run_in_threadpool(lambda: Factories(session.store, session.keys).find(limit=500))
        with session.store._lock:
            row = session.store._conn.execute("SELECT factory_id FROM cases WHERE id = ?", (case_id,)).fetchone()
        return page(
            "case.html", status=status, session=session, case=case, entries=entries,
            register=register, factory_id=row[0] if row else None,
            moves=sorted(TRANSITIONS[case.status], key=lambda s: list(CaseStatus).index(s)),
            severities=SEVERITIES, categories=[(c.value, t_worker(c)) for c in Category],
            can_sms=bool(contact and contact[0] and sms_provider(settings)),
            reply_templates=[(k, d_(v)) for k, v in REPLY_TEMPLATE_NAMES.items()],
            **await run_in_threadpool(actions.case_extra, session, settings, case_id), **extra,
        )  # fmt: skip

    @app.post("/cases/{case_id}/update")
    async def update(request: Request, case_id: int) -> HTMLResponse:
        session = current(request)
        form = await form_of(request, session)
        work = CaseWork(session.store, session.keys)
        try:
            version = int(str(form.get("version") or "0"))
        except ValueError:
            version = 0
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
            return await _case_page(session, case_id, status=400, error=d_("That change is not allowed."))
        if change.board is not None:
            await run_in_threadpool(_set_board, settings, *change.board)
        notice = (
            d_(
                "Someone changed this case after you opened it. Your change was saved; the earlier values are in the audit log."
            )
            if change.conflict
            else d_("Saved.")
        )
        return await _case_page(session, case_id, notice=notice)

    @app.post("/cases/{case_id}/note")
    async def note(request: Request, case_id: int) -> HTMLResponse:
        session = current(request)
        form = await form_of(request, session)
        try:
            await run_in_threadpool(
                CaseWork(session.store, session.keys).add_note, case_id, str(form.get("text") or "")
            )
        except InvalidInput:
            return await _case_page(
                session, case_id, status=400, error=d_("A note needs some text."), note_text=str(form.get("text") or "")
            )
        return await _case_page(session, case_id, notice=d_("Note added."))

    @app.post("/cases/{case_id}/reply")
    async def reply(request: Request, case_id: int) -> HTMLResponse:
        session = current(request)
        form = await form_of(request, session)
        text = str(form.get("text") or "")
        work = CaseWork(session.store, session.keys)
        # Only a reply that really goes out by SMS is recorded as one (a contact can be gone by now).
        contact = await run_in_threadpool(work.contact, case_id) if form.get("sms") == "1" else None
        provider = sms_provider(settings)
        phone = contact[0] if contact and provider else ""
        try:
            receipt_hash = await run_in_threadpool(work.add_reply, case_id, text, sms=bool(phone))
        except InvalidInput:
            return await _case_page(
                session,
                case_id,
                status=400,
                error=d_("A reply needs some text (at most 2000 characters)."),
                reply_text=text,
            )
        if receipt_hash is not None:
            await run_in_threadpool(_post_board, settings, receipt_hash, text.strip())
        sent_sms = False
        if phone and provider:
            await run_in_threadpool(_queue_sms, settings, provider, phone, text.strip())
            sent_sms = True
        notice = (
            d_("Reply posted on the status board and queued as SMS.")
            if sent_sms
            else d_("Reply posted on the status board.")
        )
        return await _case_page(session, case_id, notice=notice)

    @app.get("/cases/{case_id}/audio/{n}")
    async def audio(request: Request, case_id: int, n: int) -> Response:
        session = current(request)
        found = await run_in_threadpool(session.store.recording_audio, case_id)
        if not 0 <= n < len(found):
            raise CaseNotFound("no recording")
        _sid, content_type, data = found[n]
        await run_in_threadpool(CaseWork(session.store, session.keys).listened, case_id)
        # Decrypted in memory and streamed to the local browser only; never a file.
        return Response(data, media_type=content_type or "application/octet-stream")

    return app


def _desk_languages() -> list[tuple[str, str]]:
    """(locale, its own name) for every locale the desk is translated into."""
    return [(loc, i18n.language_name(loc)) for loc in i18n.available_locales(i18n.DESK_DOMAIN)]


def _negotiate_desk(accept_language: str | None, explicit: str | None) -> str | None:
    desk = i18n.available_locales(i18n.DESK_DOMAIN)
    if explicit and i18n.normalize(explicit) in desk:
        return i18n.normalize(explicit)
    for part in (accept_language or "")[:512].split(","):
        chosen = i18n.normalize(part.split(";")[0])
        if chosen in desk:
            return chosen
    return None


def _int_or_none(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _consent(value: Any) -> int | None:
    """The consent field of the triage form: absent or empty means unchanged."""
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text in ("0", "1", "2") else -1  # -1: refused by CaseWork.update


def t_worker(category: Category) -> str:
    return i18n.translations(i18n.desk_locale()).gettext(CATEGORY_LABELS[category])


def sms_provider(settings: Settings) -> str | None:
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_number:
        return "twilio"
    if settings.smssync_secret:
        return "smssync"
    return None


def _push_to_remote(settings: Settings) -> None:
    try:
        source = item_source(settings)
        try:
            push_quietly(settings, source)
        finally:
            source.close()
    except Exception as exc:  # the sweeper that locks idle sessions must outlive any push
        log.warning("desk push failed (%s)", type(exc).__name__)


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


def _queue_sms(settings: Settings, provider: str, phone: str, text: str) -> None:
    from channels.sms.service import SmsDesk
    from intake.services import IntakeService

    service = IntakeService.open(settings)
    try:
        recipient, body = SmsDesk(service).seal_recipient(phone, text)
        service.inbox.queue(provider, recipient, body, push=bool(settings.desk_remote_url))
    finally:
        service.close()


__all__ = ["BOARD_LABELS", "create_desk_app"]

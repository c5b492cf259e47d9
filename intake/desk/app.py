"""``create_desk_app(settings)``: the desk, put together from its pages; routers and middleware only.

The pages: intake/desk/login.py (unlock, lock), cases.py (case list and search, case page, workflow,
notes, replies), factories.py, actions.py, remedy.py, dashboard.py, relay.py; what they share is in http.py.
Forms carry a per-session CSRF token, and the unlock form a token of its own (intake/desk/guard.py);
the session cookie is HttpOnly, SameSite=Strict and lives only in this process's memory. Every page is served with the same strict headers as the worker
surface, and loads nothing from any other origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import i18n
from crypto.keyring import Role
from i18n import d_
from intake import clock
from intake.desk import actions, cases, dashboard, factories, files, login, panic, relay, remedy
from intake.desk import backups as desk_backups
from intake.desk import maintenance as desk_maintenance
from intake.desk import retention as desk_retention
from intake.desk.drain import push_to_remote
from intake.desk.guard import LoginGuard, host_allowed, host_name
from intake.desk.health import store_unreadable
from intake.desk.http import COOKIE, HEADERS, HERE, _Login, page
from intake.desk.relay import PUSH_EVERY, push_in_background
from intake.desk.sessions import Membership, Sessions
from intake.desk.shared import SharedCases
from intake.errors import CaseNotFound, Forbidden, IntakeError
from intake.settings import Settings
from intake.store.db import DatabaseError

log = logging.getLogger("intake.desk")
PAGES = (factories, dashboard, actions, remedy, relay, login, files, panic, cases)


def create_desk_app(settings: Settings, *, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The desk. It answers to loopback names and to ``hosts`` (the ``--host`` it listens on) only."""
    allowed_hosts = frozenset(host_name(h) or h.lower() for h in hosts)
    sessions = Sessions(lifetime=settings.desk_session_hours * 3600.0, members=Membership(settings.keyring_path))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sweeper() -> None:
            last_push = clock.monotonic()
            while True:
                await asyncio.sleep(30)
                if sessions.sweep():
                    log.info("idle desk session locked")
                # retention (intake/desk/retention.py): hourly while someone has the desk unlocked
                desk_retention.kick(settings, sessions.any_unlocked((Role.COORDINATOR, Role.CASEWORKER)))
                # the search index's segments merged a little (intake/desk/maintenance.py): hourly, in a thread
                desk_maintenance.kick(settings, sessions.any_unlocked((Role.COORDINATOR, Role.CASEWORKER)))
                # full backups into backup_dir (intake/desk/backups.py): looked at hourly, in a thread
                backups.kick(sessions.any_unlocked((Role.COORDINATOR, Role.CASEWORKER)))
                if clock.monotonic() - last_push >= PUSH_EVERY:
                    last_push = clock.monotonic()
                    await push_in_background(sessions, settings)
                if settings.desk_remote_url:  # replies reach a remote intake within a tick, even while locked
                    await run_in_threadpool(push_to_remote, settings)

        task = asyncio.create_task(sweeper())
        watcher = asyncio.create_task(panic.watch(sessions, settings))  # locks within a second of a panic
        yield
        task.cancel()
        watcher.cancel()
        sessions.close_all()

    app = FastAPI(title="Grievance desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.sessions = sessions
    app.state.cases_db = SharedCases()  # one cases.db connection for every session (intake/desk/shared.py)
    app.state.login_guard = LoginGuard()
    app.state.settings = settings
    app.state.last_drain = 0.0  # intake/desk/drain.py
    app.state.decoys = {}  # what duress unlocks get (intake/desk/panic.py)
    app.state.backups = backups = desk_backups.DeskBackups(settings)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for pages in PAGES:
        app.include_router(pages.router)

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
        desk_backups.serving(backups)  # its banner, on this request's pages
        locked = await panic.guard(request)  # after a panic: nothing but a locked (or decoy) desk
        if locked is not None:
            for name, value in HEADERS.items():
                locked.headers.setdefault(name, value)
            return locked
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

    @app.exception_handler(DatabaseError)
    async def store_failed(request: Request, exc: Exception) -> Response:
        # A page of the case store that cannot be read (damaged, or the disk failing): one clear page
        # that says what to do, never a 500 with a traceback (issue 14).
        log.warning("desk request failed reading the case store (%s)", type(exc).__name__)
        session = sessions.get(request.cookies.get(COOKIE))
        return page("message.html", status=503, message=store_unreadable(), session=session)

    return app


def _negotiate_desk(accept_language: str | None, explicit: str | None) -> str | None:
    desk = i18n.available_locales(i18n.DESK_DOMAIN)
    if explicit and i18n.normalize(explicit) in desk:
        return i18n.normalize(explicit)
    for part in (accept_language or "")[:512].split(","):
        chosen = i18n.normalize(part.split(";")[0])
        if chosen in desk:
            return chosen
    return None


__all__ = ["create_desk_app"]

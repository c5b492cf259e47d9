"""Desk routes to unlock and lock: ``GET/POST /login``, ``POST /lock``, and ``/`` (to the case list).

The unlock form carries a token of its own and each try waits out the delay the one before earned
(intake/desk/guard.py). Unlocking opens the cases store and drains the inbox; locking forgets the
session's keys at once.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import i18n
from crypto import Role, WrongPassphrase
from i18n import d_
from intake.desk import retention as desk_retention
from intake.desk.alert_watch import start_watch
from intake.desk.drain import drain_now
from intake.desk.guard import LoginGuard
from intake.desk.health import start_check, store_unreadable
from intake.desk.http import COOKIE, form_of, page
from intake.desk.panic import duress
from intake.desk.sessions import Sessions
from intake.desk.shared import SharedCases
from intake.errors import NodeError, StoreError
from intake.node import load_keyring, open_cases, unlock
from intake.panic import is_duress
from intake.settings import Settings

log = logging.getLogger("intake.desk")
router = APIRouter()


def _desk_languages() -> list[tuple[str, str]]:
    """(locale, its own name) for every locale the desk is translated into."""
    return [(loc, i18n.language_name(loc)) for loc in i18n.available_locales(i18n.DESK_DOMAIN)]


def _form_context(request: Request) -> dict[str, Any]:
    """What the unlock page shows: the users, the languages, the chosen one, a fresh form token."""
    settings: Settings = request.app.state.settings
    guard: LoginGuard = request.app.state.login_guard
    users = list(load_keyring(settings).users)
    return {"users": users, "languages": _desk_languages(), "chosen": i18n.desk_locale(), "login_token": guard.token()}


@router.get("/")
def root() -> Response:
    return RedirectResponse("/cases", status_code=303)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)  # no icon, and no 404 in every browser's log


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page("login.html", **_form_context(request))


@router.post("/login")
async def login(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    guard: LoginGuard = request.app.state.login_guard
    sessions: Sessions = request.app.state.sessions
    # Refused before the form is even read: another site's page must not make guesses count.
    cross_site = guard.cross_site(request.headers)
    form = None if cross_site else await request.form(max_files=0, max_fields=8)
    if form is None or not guard.valid(str(form.get("csrf") or "")):
        log.info("desk unlock refused: the form did not come from the desk's own page")
        return page(
            "login.html", status=403, **_form_context(request),
            error=d_("This unlock form came from another page or is too old. Nothing was tried: unlock again here."),
        )  # fmt: skip
    user = str(form.get("user") or "")
    passphrase = str(form.get("passphrase") or "")
    chosen = str(form.get("lang") or "")
    chosen = chosen if chosen in i18n.available_locales(i18n.DESK_DOMAIN) else ""
    if chosen:
        i18n.set_desk_locale(chosen)
    again = _form_context(request)
    try:
        async with guard.queue():  # one try at a time: each waits out the delay the one before earned
            keys = await run_in_threadpool(unlock, settings, user or None, passphrase, sleep=guard.sleep)
    except WrongPassphrase:
        if await run_in_threadpool(is_duress, settings, passphrase):  # intake/panic.py: never an error
            return await duress(request, user or again["users"][0], chosen)
        return page("login.html", status=401, error=d_("Wrong user or passphrase. Nothing was changed."), **again)
    except NodeError:
        return page("login.html", status=500, error=d_("The node's keyring cannot be read."), **again)
    cases_db: SharedCases = request.app.state.cases_db  # one connection for every session (shared.py)
    try:  # constant time: opening reads no more than the schema (issue 14)
        store = await run_in_threadpool(cases_db.lease, keys, lambda: open_cases(settings, keys))
    except StoreError:
        log.warning("desk unlock: the case store does not open")
        return page("login.html", status=503, error=store_unreadable(), **again)
    sessions.drop(request.cookies.get(COOKIE))  # unlocking again forgets the earlier session at once
    token = sessions.create(keys, store, locale=chosen)
    session = sessions.get(token)
    if session is None:  # the user was removed while unlocking
        return page("login.html", status=401, error=d_("Wrong user or passphrase. Nothing was changed."), **again)
    start_check(session)  # reads every page, in the background: a damaged store shows on every page
    start_watch(session, settings)  # CAP steps gone overdue -> a content-free alert (alert_watch.py)
    if keys.role is not Role.VIEWER:
        await drain_now(request, session)
        desk_retention.kick(settings, session, force=True)  # after the drain: then every hour (app.py)
        request.app.state.backups.kick(session, unlock=True)  # if due (intake/desk/backups.py)
    response = RedirectResponse("/cases", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    log.info("desk unlocked role=%s", keys.role.value)
    return response


@router.post("/lock")
async def lock(request: Request) -> Response:
    sessions: Sessions = request.app.state.sessions
    session = sessions.get(request.cookies.get(COOKIE))
    if session is not None:
        await form_of(request, session)
    sessions.drop(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


__all__ = ["router"]

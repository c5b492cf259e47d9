"""Panic at the desk: the coordinator's button, the duress passphrase, and a desk that locks at once.

- ``GET /panic`` (coordinators) shows what panic does and a confirmation form; ``POST /panic``
  (coordinators, the session's CSRF token) runs :func:`intake.panic.panic` and locks every session.
- The duress passphrase (intake/panic.py), typed at the unlock form, runs the same panic and hands
  the browser a *decoy*: every page it asks for is an empty case list that looks like any other,
  never an error (intake/desk/login.py). The decoy holds no key; it is in this process's memory.
- :func:`guard` runs before every request: once the node's panic marker exists (written by this
  desk, by ``intake panic`` in a terminal, or by another desk), every session is locked and every
  page says the desk is locked. :func:`watch` checks the marker every second as well, so a desk left
  open locks, closing its store, with no request at all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import i18n
from crypto import Role
from i18n import d_
from intake.desk.http import COOKIE, current, form_of, page
from intake.desk.labels import t_worker
from intake.desk.sessions import Sessions
from intake.domain import CaseStatus, Category, Channel
from intake.panic import panic, panicked_at
from intake.settings import Settings
from intake.store.casework import SEVERITIES, Filters

log = logging.getLogger("intake.desk")
router = APIRouter()
WATCH_EVERY = 1.0  # seconds between two looks at the panic marker


@dataclass
class Decoy:
    """What a duress unlock gets instead of a session: a name and a role to show, nothing else."""

    user: str
    role: Role
    locale: str = ""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def as_session(self) -> Any:  # what base.html reads of a session: a stand-in, holding no key
        return SimpleNamespace(keys=SimpleNamespace(user=self.user, role=self.role), csrf=self.csrf, damage=None)


def decoys(request: Request) -> dict[str, Decoy]:
    found: dict[str, Decoy] = request.app.state.decoys  # intake/desk/app.py
    return found


def empty_desk(decoy: Decoy) -> HTMLResponse:
    """The case list as an unlocked desk with no cases shows it."""
    return page(
        "cases.html", session=decoy.as_session(), cases=[], f=Filters(), statuses=list(CaseStatus),
        categories=[(c.value, t_worker(c)) for c in Category], channels=list(Channel), severities=SEVERITIES,
        locales=i18n.available_locales(), overdue={}, register=[], remedy_states={}, waiting=[], searched="",
        older="",
    )  # fmt: skip


def locked_page(at: str) -> HTMLResponse:
    message = d_(
        "This desk is locked: the node's keys were destroyed on this machine (panic at {at}). No passphrase "
        "opens it again. Recover on another machine with a recovery kit and a backup."
    ).format(at=at)
    return page("panicked.html", message=message)


async def guard(request: Request) -> Response | None:
    """Before every request: after a panic, lock everything; a decoy browser sees its empty desk."""
    settings: Settings = request.app.state.settings
    at = panicked_at(settings.home)
    if at is None:
        return None
    sessions: Sessions = request.app.state.sessions
    if len(sessions):
        sessions.close_all()
        log.warning("desk locked: the node panicked")
    if request.url.path.startswith("/static/"):
        return None
    token = request.cookies.get(COOKIE) or ""
    decoy = decoys(request).get(token)
    if decoy is None:
        return locked_page(at)
    if decoy.locale:
        i18n.set_desk_locale(decoy.locale)
    if request.method == "POST" and request.url.path == "/lock":
        decoys(request).pop(token, None)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
    if request.method != "GET":
        return RedirectResponse("/cases", status_code=303)
    return empty_desk(decoy)


async def watch(sessions: Sessions, settings: Settings) -> None:
    """Lock every session within a second of a panic, wherever it was started."""
    while True:
        await asyncio.sleep(WATCH_EVERY)
        if len(sessions) and panicked_at(settings.home) is not None:
            sessions.close_all()
            log.warning("desk locked: the node panicked")


async def duress(request: Request, user: str, locale: str = "") -> Response:
    """The duress passphrase was typed: panic, then answer exactly like a good unlock (a redirect to
    the case list with a cookie), whose pages are an empty desk."""
    settings: Settings = request.app.state.settings
    from intake.node import load_keyring

    roles = load_keyring(settings).users
    await run_in_threadpool(panic, settings)
    request.app.state.sessions.close_all()
    token = secrets.token_urlsafe(32)
    decoys(request)[token] = Decoy(user, roles.get(user, Role.CASEWORKER), locale)
    log.warning("desk panic")  # the same words as the button's: a terminal in view must not say "duress"
    response = RedirectResponse("/cases", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


@router.get("/panic")
def panic_form(request: Request) -> HTMLResponse:
    session = current(request, Role.COORDINATOR)
    return page("panic.html", session=session)


@router.post("/panic")
async def panic_now(request: Request) -> Response:
    session = current(request, Role.COORDINATOR)
    await form_of(request, session)  # the session's CSRF token: another site cannot press the button
    settings: Settings = request.app.state.settings
    result = await run_in_threadpool(panic, settings)
    request.app.state.sessions.close_all()
    log.warning("desk panic")
    response = locked_page(result.at)
    response.delete_cookie(COOKIE, path="/")
    return response


__all__ = ["Decoy", "duress", "guard", "router", "watch"]

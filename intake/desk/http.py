"""What every desk page shares: the strict headers, the templates, the session of a request, the posted form.

The page modules (login, cases, factories, actions, dashboard, relay) import from here; nothing here
imports a page, and intake/desk/app.py puts the pages together. The session cookie is HttpOnly,
SameSite=Strict and lives only in this process's memory (intake/desk/sessions.py).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import i18n
from crypto import Role
from i18n import d_
from intake.desk import backups, labels
from intake.desk.sessions import Session, Sessions
from intake.errors import Forbidden

HERE = Path(__file__).parent
COOKIE = "desk"
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
env.globals["backup_banner"] = backups.banner  # a failed scheduled backup, on every page (backups.py)


class _Login(Exception):
    """No unlocked session: the app answers with a redirect to the unlock page."""


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
    if not hmac.compare_digest(str(form.get("csrf") or "").encode(), session.csrf.encode()):
        raise Forbidden("csrf")
    return form


__all__ = ["COOKIE", "CSP", "HEADERS", "HERE", "current", "env", "form_of", "page"]

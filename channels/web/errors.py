"""Errors rendered in one place: one JSON shape for the API, one page for people.

JSON: ``{"error": {"code": "...", "message": "...", "fields": {"name": "..."}}}``. The message is
translated to the request's language. A traceback never reaches the client, and what is logged is
the error's type and code location only: exception messages can quote user input.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

import i18n
from channels.web.asgi import HttpMiddleware, Message, Receive, Scope, Send, on_start
from channels.web.render import render, request_locale
from intake.errors import IntakeError, InvalidInput, MalformedRequest, NotFound

log = logging.getLogger("intake.web")

FIELD_MESSAGES = {
    "missing": i18n.N_("This is needed."),
    "too_long": i18n.N_("This is too long."),
    "invalid": i18n.N_("This value is not one we can use."),
    "receipt": i18n.N_("A receipt code has 16 digits, like 1234-5678-9012-3456."),
    "receipt_check": i18n.N_("Please check this code."),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/twilio/", "/smssync", "/desk/v1/"))


def describe(exc: BaseException) -> str:
    """Type and code locations only: safe to log, never a message that could quote input."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in reversed(frames))
    return f"{type(exc).__name__} at {where or '?'}"


def error_response(request: Request, exc: BaseException) -> Response:
    # Errors raised while a middleware's task group reads the body (BodyLimit's streamed TooLarge
    # under BaseHTTPMiddleware) arrive wrapped in an exception group: answer with the real one.
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if not isinstance(exc, IntakeError):
        log.error("unhandled error: %s", describe(exc))
        exc = IntakeError("unhandled")
    locale = request_locale(request)
    t = i18n.translations(locale)
    fields = {name: t.gettext(FIELD_MESSAGES.get(msg, msg)) for name, msg in exc.fields.items()}
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "message": t.gettext(exc.message)}
        if fields:
            body["fields"] = fields
        return JSONResponse({"error": body}, status_code=exc.status, headers=exc.headers())
    html = render(
        request,
        "error.html",
        locale,
        message=t.gettext(exc.message),
        fields=fields,
        status=exc.status,
    )
    return HTMLResponse(html, status_code=exc.status, headers=exc.headers())


async def handle_error(request: Request, exc: Exception) -> Response:
    return error_response(request, exc)


async def handle_http(request: Request, exc: HTTPException) -> Response:
    """Unknown paths and unreadable forms (too many fields, a file upload) get our translated page
    or JSON shape, not the framework's English JSON."""
    if exc.status_code == 404:
        return error_response(request, NotFound("no such path"))
    if exc.status_code == 400:
        return error_response(request, MalformedRequest("unreadable request"))
    return await http_exception_handler(request, exc)


async def handle_validation(request: Request, exc: RequestValidationError) -> Response:
    return error_response(request, fields_error(exc.errors()))


def fields_error(errors: Any, cls: type[IntakeError] = InvalidInput) -> IntakeError:
    """Map pydantic errors to our field messages, without echoing the input back."""
    fields: dict[str, str] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query")]
        name = loc[0] if loc else "body"
        kind = str(err.get("type", ""))
        if kind in ("missing", "string_too_short") or (kind == "value_error" and "empty" in str(err.get("msg"))):
            fields[name] = "missing"
        elif kind in ("string_too_long", "too_long", "list_too_long"):
            fields[name] = "too_long"
        elif kind in ("json_invalid", "model_attributes_type", "dict_type") and name == "body":
            return MalformedRequest("body not an object")
        else:
            fields.setdefault(name, "invalid")
    return cls("validation failed", fields=fields)


def error_app(scope: Any, exc: Exception) -> Any:
    """An ASGI app answering with ``exc``, for middleware that fails before routing."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        response = error_response(Request(scope), exc)
        await response(scope, receive, send)

    return app


class CatchAll(HttpMiddleware):
    """Innermost safety net: an unexpected exception becomes a translated 500, logged safely.

    A client that goes away before its request is read whole (a phone losing signal mid-upload)
    is no error of ours: nothing was stored, nobody is left to answer, and no 500 is logged.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started: list[Message] = []
        try:
            await self.app(scope, receive, on_start(send, started.append))
        except Exception as exc:
            if _gone(exc):
                log.info("client went away before its request was complete; nothing stored")
                return
            if started:
                log.error("error after response started: %s", describe(exc))
                return
            await error_app(scope, exc)(scope, receive, send)


def _gone(exc: BaseException) -> bool:
    """True for a client disconnect, also when a task group wrapped it."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return isinstance(exc, ClientDisconnect)

"""Errors rendered in one place: one JSON shape for the API, one page for people.

JSON: ``{"error": {"code": "...", "message": "...", "fields": {"name": "..."}}}``. The message is
translated to the request's language. A traceback never reaches the client, and what is logged is
the error's type and code location only: exception messages can quote user input.
"""

from __future__ import annotations

import logging
import traceback
import weakref
from typing import Any, TypeVar

from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

import i18n
from channels.web.asgi import HttpMiddleware, Message, Receive, Scope, Send, on_start
from channels.web.render import render, request_locale
from intake.errors import BadFile, IntakeError, InvalidInput, MalformedRequest, NotFound

log = logging.getLogger("intake.web")

FIELD_MESSAGES = {
    "missing": i18n.N_("This is needed."),
    "too_long": i18n.N_("This is too long."),
    "invalid": i18n.N_("This value is not one we can use."),
    "receipt": i18n.N_("A receipt code has 16 digits, like 1234-5678-9012-3456."),
    "receipt_check": i18n.N_("Please check this code."),
    # attached files (channels/web/uploads.py): {number} is the file's place among those sent, from 1
    "file_unsupported": i18n.N_(
        "File {number} is not a kind of file we can take. Please send a photo, a PDF or an office document."
    ),
    "file_damaged": i18n.N_("File {number} seems damaged or incomplete. Please choose it again or send another copy."),
    "file_too_big_image": i18n.N_("File {number} is a picture too large to open. Please send a smaller photo."),
    "file_archive": i18n.N_(
        "File {number} is an archive (such as a ZIP file). Please attach the photos or documents in it instead."
    ),
    "file_script": i18n.N_(
        "File {number} is a web page, script or program, which we cannot take. Please send a photo or a PDF instead."
    ),
    "file_empty": i18n.N_("File {number} is empty. Please choose it again."),
    "file_too_large": i18n.N_("File {number} is larger than {mb} MB. Please send a smaller copy or a photo of it."),
    "too_many_files": i18n.N_("Please attach at most {n} files."),
    "files_off": i18n.N_("Files cannot be sent here. Please describe in words what they show."),
}
#: HTTP status of a refused file, by BadFile.reason: a type we do not take is 415, a picture too
#: large to decode 413, a file that does not decode or is empty 422 (the request itself was fine).
FILE_STATUS = {"unsupported": 415, "archive": 415, "script": 415, "too_big_image": 413, "damaged": 422, "empty": 422}
_PARAMS: weakref.WeakKeyDictionary[BaseException, dict[str, int]] = weakref.WeakKeyDictionary()

E = TypeVar("E", bound=BaseException)


def worded(exc: E, **params: int) -> E:
    """Attach the numbers a field message names (``{number}``, ``{n}``, ``{mb}``) to ``exc``."""
    _PARAMS[exc] = params
    return exc


def field_message(t: Any, code: str, exc: BaseException) -> str:
    """A field's message in the language of ``t``, with the numbers :func:`worded` attached."""
    msgid = FIELD_MESSAGES.get(code, code)
    params = _PARAMS.get(exc)
    if not params:
        return str(t.gettext(msgid))
    try:
        return str(t.gettext(msgid).format(**params))
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder: the English
        return msgid.format(**params)


def status_of(exc: IntakeError) -> int:
    """The HTTP status to answer ``exc`` with (a refused file's depends on why)."""
    if isinstance(exc, BadFile):
        return FILE_STATUS.get(exc.reason, exc.status)
    return exc.status


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
    fields = {name: field_message(t, msg, exc) for name, msg in exc.fields.items()}
    status = status_of(exc)
    if wants_json(request):
        body: dict[str, Any] = {"code": exc.code, "message": t.gettext(exc.message)}
        if fields:
            body["fields"] = fields
        return JSONResponse({"error": body}, status_code=status, headers=exc.headers())
    html = render(
        request,
        "error.html",
        locale,
        message=t.gettext(exc.message),
        fields=fields,
        status=status,
    )
    return HTMLResponse(html, status_code=status, headers=exc.headers())


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

"""JSON API mirroring the form, with the same validation (documented in the OpenAPI schema).

Requests must be ``application/json``: a browser cannot send that cross-site without a CORS
preflight (which this app never grants), so the API needs no CSRF token. ``/reports`` and
``/followups`` also take ``multipart/form-data`` (the same fields as form fields, files under
``attachments``, channels/web/uploads.py), which a page elsewhere could make a browser send; that
gains it nothing: the API is anonymous, sets and reads no cookie, and the answer stays unreadable
to that page (no CORS), so it could only file a report it could as well file itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

import i18n
from channels.web.errors import fields_error
from channels.web.forms import build_followup, build_report
from channels.web.openapi import (
    IDEMPOTENCY_KEY_MAX,
    IDEMPOTENCY_KEY_MIN,
    MULTIPART_ENCODING,
    NOT_BLANK,
    RECEIPT_OUT,
    RETRY_AFTER,
    idempotency_key_parameter,
    multipart_schema,
    typed_receipt_pattern,
)
from channels.web.render import request_locale
from channels.web.security import rate_limit, require_json
from channels.web.uploads import FILE_FIELD, Upload, is_multipart, read_upload
from intake import questions
from intake.answers import accept_answer
from intake.domain import MAX_DESCRIPTION, MAX_SHORT, Category, Channel, Consent, board_label
from intake.errors import BadIdempotencyKey, InvalidInput, MalformedRequest
from intake.evidence import Evidence
from intake.once import Once
from intake.receipts import format_receipt, parse_receipt
from intake.services import SealedFiles, accept_followup, accept_report, read_status

router = APIRouter(prefix="/api/v1", tags=["reports"])


def _integer(value: Any) -> Any:
    """Consent is never guessed: 0, 1 or 2 as a JSON integer, not true, "2" or 1.0 (which pydantic's
    lax mode would turn into a decision to share)."""
    if type(value) is not int:
        raise ValueError("not an integer")
    return value


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[
        str,
        Field(
            min_length=1, max_length=MAX_DESCRIPTION, description="What happened, in the worker's words; not blank.",
            json_schema_extra={"pattern": NOT_BLANK},
        ),
    ]  # fmt: skip
    factory: Annotated[str, Field(max_length=MAX_SHORT)] = ""
    location: Annotated[str, Field(max_length=MAX_SHORT)] = ""
    categories: list[Category] = Field(default_factory=list, max_length=len(Category))
    consent: Annotated[Consent, BeforeValidator(_integer)] = Consent.INTERNAL
    locale: str | None = Field(None, description="e.g. en, zh_Hans; negotiated from Accept-Language if absent")
    name: Annotated[str, Field(max_length=MAX_SHORT)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    contact_ok: StrictBool = False


class ReceiptOut(BaseModel):
    receipt: str = Field(
        examples=["1234-5678-9012-3450"],
        description="16 digits in four groups, the last a check digit.",
        json_schema_extra={"pattern": RECEIPT_OUT},
    )
    locale: str
    status_url: str = "/status"
    attachments: int | None = Field(None, description="Files received (a multipart request only).")


RECEIPT_FORMAT = (
    "The receipt code as the worker typed it: 16 digits, in any script's digits (0-9, Thai, Devanagari, "
    "Bengali, Arabic-Indic, Extended Arabic-Indic, Burmese, Khmer, Tamil, full-width, ...), with or without "
    "spaces or dashes between groups. Codes issued now end in a Damm check digit: a code that fails it, on a "
    "node that never issued codes without one, is refused with 400 `receipt_mistyped` (decided from the "
    "code alone, never by a lookup). Any other 16-digit code is answered, known or not."
)
ReceiptIn = Annotated[
    str,
    Field(
        max_length=64, description=RECEIPT_FORMAT, examples=["1234-5678-9012-3450", "๑๒๓๔ ๕๖๗๘ ๙๐๑๒ ๓๔๕๐"],
        json_schema_extra={"pattern": typed_receipt_pattern()},  # documents; parse_receipt decides
    ),
]  # fmt: skip


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: ReceiptIn


class MessageOut(BaseModel):
    at: datetime
    text: str


class OptionOut(BaseModel):
    value: int = Field(description="What to send as `answer`.")
    label: str


class QuestionOut(BaseModel):
    """A question the labour group asks the worker (issue 15), in the request's language."""

    id: str = Field(description="Send it back as `question` with the answer.")
    text: str
    options: list[OptionOut]


class StatusOut(BaseModel):
    status: str
    status_text: str
    messages: list[MessageOut]
    question: QuestionOut | None = Field(
        None, description="Present when a question waits for this receipt's worker: answer it at /api/v1/answers."
    )


class AcceptedOut(BaseModel):
    accepted: bool = Field(description="Always true: the answer was taken (whether it was kept is not said).")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: ReceiptIn
    question: Annotated[str, Field(min_length=1, max_length=64, description="The question's `id` from /api/v1/status.")]
    answer: Annotated[
        int,
        BeforeValidator(_integer),
        Field(
            description="The `value` of the chosen option, as a JSON integer. Any other number is taken and ignored."
        ),
    ]
    locale: str | None = None


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: ReceiptIn
    text: Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": NOT_BLANK})]
    locale: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
    429: {"model": ErrorOut, "headers": RETRY_AFTER}, 503: {"model": ErrorOut},
}  # fmt: skip
ONCE_ERRORS = {**ERRORS, 422: {"model": ErrorOut, "description": "Idempotency-Key already used with another body"}}


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined: in the OpenAPI document a ``#/$defs/..``
    reference would resolve against the document root and dangle."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: inline(v) for k, v in node.items() if k != "$ref"}
                return {**inline(defs[ref.removeprefix("#/$defs/")]), **rest}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return dict(inline(schema))


async def _json(request: Request, model: type[BaseModel]) -> Any:
    rate_limit(request)
    require_json(request)
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deeply nested arrays
        raise MalformedRequest("body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedRequest("body is not an object")
    try:
        return model.model_validate(data)
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            raise fields_error(errors()) from None
        raise


_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no", "")


def _typed(fields: Any, model: type[BaseModel]) -> dict[str, Any]:
    """Form fields as the JSON body they stand for: a list field from its repeats, consent as an
    integer only when it is one of 0-2 written plainly (never guessed), contact_ok from true/false."""
    data: dict[str, Any] = {}
    lists = {name for name, f in model.model_fields.items() if getattr(f.annotation, "__origin__", None) is list}
    for name in dict.fromkeys(fields.keys()):
        values = [str(v) for v in fields.getlist(name)]
        if name in lists:
            data[name] = values
        elif len(values) > 1:
            raise InvalidInput("field repeated", fields={name: "invalid"})
        elif name == "consent" and values[0] in ("0", "1", "2"):
            data[name] = int(values[0])
        elif name == "contact_ok" and values[0].lower() in _TRUE + _FALSE:
            data[name] = values[0].lower() in _TRUE
        else:
            data[name] = values[0]
    return data


async def _body(request: Request, model: type[BaseModel]) -> tuple[Any, Upload | None]:
    """The request's body as ``model``, from JSON or (with its files) from multipart."""
    if not is_multipart(request):
        return await _json(request, model), None
    rate_limit(request)
    _once(request, "", {})  # a bad Idempotency-Key is refused before any file is read
    upload = await read_upload(request, request.app.state.settings)
    if upload.problem is not None:
        raise upload.problem
    try:
        return model.model_validate(_typed(upload.fields, model)), upload
    except ValidationError as exc:
        raise fields_error(exc.errors()) from None


def _sent(sent: dict[str, Any], upload: Upload | None) -> dict[str, Any]:
    """What a Once fingerprints: the body and, when files came, their SHA-256 in order (so the same
    key with other files is a conflict, not a repeat)."""
    return {**sent, FILE_FIELD: upload.digests} if upload and upload.digests else sent


def _once(request: Request, scope: str, sent: Any) -> Once | None:
    """The request's ``Idempotency-Key`` as a :class:`Once`, or None when it has none."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY_MIN <= len(key) <= IDEMPOTENCY_KEY_MAX or not all("!" <= c <= "~" for c in key):
        raise BadIdempotencyKey("unusable key")
    return Once.of(scope, key, sent)


@router.post(
    "/reports", status_code=201, response_model=ReceiptOut, responses=ONCE_ERRORS,
    openapi_extra={
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": body_schema(ReportIn)},
            "multipart/form-data": {"schema": multipart_schema(body_schema(ReportIn)), "encoding": MULTIPART_ENCODING},
        }},
        "parameters": [idempotency_key_parameter("report")],
    },
)  # fmt: skip
async def post_report(request: Request) -> JSONResponse:
    """File a report, as JSON or as ``multipart/form-data`` with files. Returns the receipt code the
    worker needs to come back (and, for multipart, how many files were received)."""
    body: ReportIn
    body, upload = await _body(request, ReportIn)
    locale = request_locale(request, body.locale)
    if body.locale and i18n.normalize(body.locale) is None:
        raise InvalidInput("unknown locale", fields={"locale": "invalid"})
    report = build_report(Channel.API, locale, body.model_dump(exclude={"locale"}))
    once = _once(request, "api-report", _sent(body.model_dump(mode="json"), upload))
    files: SealedFiles | list[Evidence] = upload.files if upload else []
    receipt = await run_in_threadpool(accept_report, request.app.state.service, report, once, files=files)
    out = ReceiptOut(receipt=format_receipt(receipt), locale=locale, attachments=len(files) if upload else None)
    return JSONResponse(out.model_dump(exclude_none=True), status_code=201)


@router.post(
    "/status", response_model=StatusOut, responses=ERRORS,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": body_schema(StatusIn)}}}},
)  # fmt: skip
async def post_status(request: Request) -> JSONResponse:
    """Status and replies for a receipt. An unknown code answers exactly like a known one with no news;
    a code failing its check digit gets 400 ``receipt_mistyped`` (decided from the code alone)."""
    body: StatusIn = await _json(request, StatusIn)
    code = parse_receipt(body.receipt)
    if code is None:
        raise InvalidInput("bad receipt", fields={"receipt": "receipt"})
    entry = await run_in_threadpool(read_status, request.app.state.service, code)
    t = i18n.translations(request_locale(request))
    out = StatusOut(
        status=entry.status.value,
        status_text=t.gettext(board_label(entry.status, replied=bool(entry.messages))),
        messages=[MessageOut(at=datetime.fromtimestamp(ts, UTC), text=text) for ts, text in entry.messages],
        question=None,
    )
    if entry.question is not None:  # issue 15: "did it happen?" or a retaliation check-in
        q = entry.question
        asked = questions.ask(q.id, q.kind, q.subject, request_locale(request))
        out.question = QuestionOut(
            id=asked.id, text=asked.text, options=[OptionOut(value=o.value, label=o.label) for o in asked.options]
        )
    return JSONResponse(out.model_dump(mode="json", exclude_none=True))


@router.post(
    "/followups", status_code=202, responses=ONCE_ERRORS,
    openapi_extra={
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": body_schema(FollowUpIn)},
            "multipart/form-data": {"schema": multipart_schema(body_schema(FollowUpIn)), "encoding": MULTIPART_ENCODING},
        }},
        "parameters": [idempotency_key_parameter("follow-up")],
    },
)  # fmt: skip
async def post_followup(request: Request) -> JSONResponse:
    """Add to a report, as JSON or as ``multipart/form-data`` with files. Accepted for any well-formed
    code (no oracle); a code failing its check digit gets 400 ``receipt_mistyped`` and nothing is stored."""
    body: FollowUpIn
    body, upload = await _body(request, FollowUpIn)
    code = parse_receipt(body.receipt)
    if code is None:
        raise InvalidInput("bad receipt", fields={"receipt": "receipt"})
    locale = request_locale(request, body.locale)
    followup = build_followup(Channel.API, locale, body.text)
    once = _once(request, "api-followup", _sent({"receipt": code, "text": body.text, "locale": body.locale}, upload))
    files: SealedFiles | list[Evidence] = upload.files if upload else []
    await run_in_threadpool(accept_followup, request.app.state.service, code, followup, once, files=files)
    answer: dict[str, Any] = {"accepted": True}
    if upload is not None:
        answer[FILE_FIELD] = len(files)
    return JSONResponse(answer, status_code=202)


@router.post(
    "/answers", status_code=202, response_model=AcceptedOut, responses=ERRORS,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": body_schema(AnswerIn)}}}},
)  # fmt: skip
async def post_answer(request: Request) -> JSONResponse:
    """Answer the question /api/v1/status showed (issue 15). Always 202 for a well-formed code: an
    unknown receipt, a question that is unknown, not this receipt's or answered already, and an
    answer that is not one of its options are taken alike and store nothing (no oracle; a question
    takes one answer). A code failing its check digit gets 400 ``receipt_mistyped``."""
    body: AnswerIn = await _json(request, AnswerIn)
    code = parse_receipt(body.receipt)
    if code is None:
        raise InvalidInput("bad receipt", fields={"receipt": "receipt"})
    if body.locale and i18n.normalize(body.locale) is None:
        raise InvalidInput("unknown locale", fields={"locale": "invalid"})
    locale = request_locale(request, body.locale)
    service = request.app.state.service
    await run_in_threadpool(accept_answer, service, code, body.question, body.answer, Channel.API, locale)
    return JSONResponse({"accepted": True}, status_code=202)

"""Server-rendered pages for workers: landing, report form, receipt, status and follow-up.

Work with JavaScript off on a small screen. A receipt code is never put in a URL (browser
history on a shared phone): it is shown in the POST response and typed back into a form.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

import i18n
from channels.web.errors import field_message, status_of
from channels.web.forms import build_followup, report_from_form
from channels.web.render import render, request_locale
from channels.web.security import Csrf, rate_limit
from channels.web.uploads import FILE_FIELD, Upload, file_mb, is_multipart, read_upload
from intake import questions
from intake.answers import accept_answer
from intake.domain import CATEGORY_LABELS, CONSENT_LABELS, Category, Channel, Consent, ReceiptCode, Report, board_label
from intake.errors import (
    FormAlreadySent,
    FormExpired,
    IdempotencyConflict,
    IntakeError,
    InvalidInput,
    RateLimited,
    ReceiptMistyped,
)
from intake.evidence import Evidence
from intake.once import Once
from intake.receipts import format_receipt, parse_receipt
from intake.services import SealedFiles, accept_followup, accept_report, read_status

log = logging.getLogger("intake.web")
router = APIRouter(include_in_schema=False)
HONEYPOT = "website"


def _page(
    request: Request, template: str, locale: str, status: int = 200, headers: dict[str, str] | None = None, **ctx: Any
) -> HTMLResponse:
    """Render a page with a CSRF token bound to the (possibly new) csrf cookie.

    Every page gets a new token, so every form on it is a new submission (see intake.once.Once).
    """
    csrf: Csrf = request.app.state.csrf
    cookie = request.cookies.get(Csrf.COOKIE) or Csrf.new_cookie()
    explicit = bool(request.query_params.get("lang")) or bool(ctx.pop("explicit", False))
    ctx = {**_files_context(request), **ctx}
    html = render(request, template, locale, explicit=explicit, csrf_token=csrf.token(cookie), **ctx)
    response = HTMLResponse(html, status_code=status, headers=headers)
    if request.cookies.get(Csrf.COOKIE) != cookie:
        secure = request.url.scheme == "https" or request.app.state.settings.public_url.startswith("https://")
        response.set_cookie(Csrf.COOKIE, cookie, httponly=True, samesite="strict", secure=secure, path="/")
    return response


def _form_context(locale: str) -> dict[str, Any]:
    t = i18n.translations(locale)
    return {
        "categories": [(c.value, t.gettext(CATEGORY_LABELS[c])) for c in Category],
        "consents": [(int(c), t.gettext(CONSENT_LABELS[c])) for c in Consent],
    }


def _field_messages(locale: str, error: IntakeError) -> dict[str, str]:
    t = i18n.translations(locale)
    return {name: field_message(t, code, error) for name, code in error.fields.items()}


def _files_context(request: Request) -> dict[str, Any]:
    """What the file input and its hint need (no input at all when ``max_files`` is 0)."""
    settings = request.app.state.settings
    return {"max_files": settings.max_files, "file_mb": file_mb(settings)}


def _problem_context(locale: str, problem: IntakeError, upload: Upload | None) -> dict[str, Any]:
    """The form's words for ``problem``. A refused file is named in the file field's own message;
    the page says what it means for the rest: nothing saved, the text is still here, files must be
    chosen again (a browser never refills a file input)."""
    t = i18n.translations(locale)
    message = InvalidInput.message if FILE_FIELD in problem.fields else problem.message
    return {
        "error": t.gettext(message),
        "field_errors": _field_messages(locale, problem),
        "files_again": bool(upload and upload.sent),
    }


async def _checked_form(request: Request) -> tuple[Any, str, IntakeError | None]:
    """Parse the form, apply the rate limit, and check CSRF. Returns (form, locale, problem).

    A rate-limited or expired form is not an error page: the caller shows the form again with
    what the worker typed, so nothing they wrote is lost.
    """
    problem: IntakeError | None = None
    try:
        rate_limit(request)
    except RateLimited as exc:
        problem = exc
    form = await request.form(max_files=0, max_fields=64)
    lang = form.get("lang")
    locale = request_locale(request, str(lang) if lang else None)
    csrf: Csrf = request.app.state.csrf
    if problem is None and not csrf.valid(request.cookies.get(Csrf.COOKIE), str(form.get("csrf") or "")):
        problem = FormExpired("csrf")
    return form, locale, problem


async def _checked_upload(request: Request) -> tuple[Any, str, IntakeError | None, Upload | None]:
    """:func:`_checked_form` for the forms that take files: a multipart body is read as it arrives
    (channels/web/uploads.py), its files cleaned only when the form's token is good, the client is
    within its rate and the honeypot is empty (the forms send those fields before the files)."""
    if not is_multipart(request):
        return (*await _checked_form(request), None)
    problem: IntakeError | None = None
    try:
        rate_limit(request)
    except RateLimited as exc:
        problem = exc
    csrf: Csrf = request.app.state.csrf
    cookie = request.cookies.get(Csrf.COOKIE)

    def gate(fields: Any) -> bool:
        return problem is None and csrf.valid(cookie, str(fields.get("csrf") or "")) and not fields.get(HONEYPOT)

    upload = await read_upload(request, request.app.state.settings, gate)
    form = upload.fields
    lang = form.get("lang")
    locale = request_locale(request, str(lang) if lang else None)
    if problem is None and not csrf.valid(cookie, str(form.get("csrf") or "")):
        problem = FormExpired("csrf")
    if problem is None and upload.problem is not None:
        problem = upload.problem
    return form, locale, problem, upload


@router.get("/")
def index(request: Request) -> HTMLResponse:
    locale = request_locale(request)
    return _page(request, "index.html", locale)


@router.get("/report")
def report_form(request: Request) -> HTMLResponse:
    locale = request_locale(request)
    return _page(
        request,
        "report.html",
        locale,
        values={"consent": "0", "categories": []},
        **_form_context(locale),
    )


@router.post("/report")
async def report_submit(request: Request) -> HTMLResponse:
    form, locale, problem, upload = await _checked_upload(request)
    values, result = report_from_form(form, locale)
    files: SealedFiles | list[Evidence] = upload.files if upload else []
    if problem is None and form.get(HONEYPOT):
        # Filled by bots (the field is hidden from people). Nothing stored; the form comes back.
        log.info("honeypot tripped")
        problem = InvalidInput("honeypot")
    elif problem is None and isinstance(result, InvalidInput):
        problem = result
    if problem is None and isinstance(result, Report):
        # The form's token makes this send single-use: a double tap or a reload shows this receipt again.
        sent = result.model_dump(mode="json", exclude={"received_at"})
        once = Once.of("web-report", str(form.get("csrf")), _with_files(sent, upload))
        try:
            receipt = await run_in_threadpool(accept_report, request.app.state.service, result, once, files=files)
        except IdempotencyConflict:
            problem = FormAlreadySent("form sent again with other text")
        else:
            # No language links here: following one leaves this page, and the code is shown only once.
            return _page(
                request, "receipt.html", locale, explicit=True, receipt=format_receipt(receipt), show_languages=False,
                files_received=len(files),
            )  # fmt: skip
    problem = problem or InvalidInput("report")
    return _page(
        request, "report.html", locale, status=status_of(problem), headers=problem.headers(), explicit=True,
        values=values, **_problem_context(locale, problem, upload), **_form_context(locale),
    )  # fmt: skip


def _with_files(sent: dict[str, Any], upload: Upload | None) -> dict[str, Any]:
    """What a Once fingerprints: the fields and, when files came, their SHA-256 in order, so the
    same form sent again with other files is not taken for a repeat (intake/once.py)."""
    return {**sent, "files": upload.digests} if upload and upload.digests else sent


@router.get("/status")
def status_form(request: Request) -> HTMLResponse:
    return _page(request, "status.html", request_locale(request))


@router.post("/status")
async def status_submit(request: Request) -> HTMLResponse:
    form, locale, err = await _checked_form(request)
    t = i18n.translations(locale)
    raw = str(form.get("receipt") or "")
    if err is not None:
        return _page(
            request,
            "status.html",
            locale,
            status=err.status,
            headers=err.headers(),
            explicit=True,
            receipt_value=raw[:64],  # the message promises the worker's text is still there
            error=t.gettext(err.message),
        )
    code = parse_receipt(raw)
    try:
        if code is None:
            raise InvalidInput("bad receipt", fields={"receipt": "receipt"})
        entry = await run_in_threadpool(read_status, request.app.state.service, code)
    except InvalidInput as bad:  # not 16 digits, or (ReceiptMistyped) a check digit that does not match
        return _page(
            request, "status.html", locale, status=400, explicit=True, receipt_value=raw[:64],
            error=t.gettext(bad.message), field_errors=_field_messages(locale, bad),
        )  # fmt: skip
    return _status_page(request, locale, code, entry)


def _status_page(request: Request, locale: str, code: ReceiptCode, entry: Any, **extra: Any) -> HTMLResponse:
    """The worker's status, replies, and the question waiting for them if one is due (issue 15)."""
    t = i18n.translations(locale)
    q = entry.question
    asked = questions.ask(q.id, q.kind, q.subject, locale) if q is not None else None
    return _page(
        request, "status_result.html", locale, explicit=True, receipt=format_receipt(code),
        status_text=t.gettext(board_label(entry.status, replied=bool(entry.messages))), messages=entry.messages,
        question=asked, **extra,
    )  # fmt: skip


@router.post("/status/add")
async def status_add(request: Request) -> HTMLResponse:
    form, locale, checked, upload = await _checked_upload(request)
    files: SealedFiles | list[Evidence] = upload.files if upload else []
    raw = str(form.get("receipt") or "")
    text = str(form.get("text") or "")
    code = parse_receipt(raw)
    problem: IntakeError | None = None
    followup = None
    if checked is not None:
        problem = checked
    elif code is None:
        problem = InvalidInput("bad receipt", fields={"receipt": "receipt"})
    else:
        try:
            followup = build_followup(Channel.WEB, locale, text)
        except InvalidInput as exc:
            problem = exc
    if problem is None and followup is not None and code is not None:
        sent = _with_files({"receipt": code, "text": followup.text, "locale": locale}, upload)
        once = Once.of("web-followup", str(form.get("csrf")), sent)
        service = request.app.state.service
        try:
            await run_in_threadpool(accept_followup, service, code, followup, once, files=files)
        except ReceiptMistyped as exc:  # only a tampered form: /status checked the code it carries
            problem = exc
        except IdempotencyConflict:  # this form was sent before, with other text
            problem = FormAlreadySent("form sent again with other text")
        else:
            return _page(request, "added.html", locale, explicit=True, files_received=len(files))
    problem = problem or InvalidInput("follow-up")
    return _page(
        request, "status_result.html", locale, status=status_of(problem), headers=problem.headers(), explicit=True,
        receipt=format_receipt(code) if code else raw[:64], text=text, status_text=None, messages=[],
        **_problem_context(locale, problem, upload),
    )  # fmt: skip


@router.post("/status/answer")
async def status_answer(request: Request) -> HTMLResponse:
    """The answer to the question on the status page (issue 15). Every well-formed answer gets the same
    thank-you page, whether it was kept or not (an unknown code or question, one answered already, a
    value that is not an option): the page says nothing about the code (no oracle)."""
    form, locale, problem = await _checked_form(request)
    t = i18n.translations(locale)
    raw = str(form.get("receipt") or "")
    code = parse_receipt(raw)
    value = str(form.get("answer") or "").strip()
    if problem is None and code is None:
        problem = InvalidInput("bad receipt", fields={"receipt": "receipt"})
    if problem is None and code is not None and not (value.isascii() and value.isdigit() and len(value) <= 3):
        # No answer chosen: the status page again, with its question and a word on what to do.
        try:
            entry = await run_in_threadpool(read_status, request.app.state.service, code)
        except ReceiptMistyped as exc:
            problem = exc
        else:
            return _status_page(request, locale, code, entry, answer_error=t.gettext(questions.CHOOSE_ONE))
    if problem is None and code is not None:
        service = request.app.state.service
        question_id = str(form.get("question") or "")[:64]
        try:
            await run_in_threadpool(accept_answer, service, code, question_id, int(value), Channel.WEB, locale)
        except ReceiptMistyped as exc:  # only a tampered form: /status checked the code it carries
            problem = exc
        else:
            return _page(request, "answered.html", locale, explicit=True)
    problem = problem or InvalidInput("answer")
    return _page(
        request, "status.html", locale, status=problem.status, headers=problem.headers(), explicit=True,
        receipt_value=raw[:64], error=t.gettext(problem.message), field_errors=_field_messages(locale, problem),
    )  # fmt: skip

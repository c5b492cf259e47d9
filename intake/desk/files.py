"""Desk routes for a case's evidence files (issue 16): listed on the case page, served from memory,
attached by caseworkers to the steps of a corrective action plan.

``GET /cases/{id}/files/{n}`` (``?original=1`` for a kept original) serves one file out of cases.db,
decrypted in memory and never written to disk: a JPEG or PNG ``inline`` (shown on the case page),
everything else, whatever type the store says, as an ``attachment`` under a name made of the case
and file numbers only, with ``nosniff`` and the desk's CSP. Every view is audited (``file_view``).
``POST /cases/{id}/actions/{aid}/files`` attaches a file to a CAP step: read from the request stream
in memory (intake/desk/upload.py), cleaned (intake/evidence.py: metadata stripped, hostile files
refused), stored and audited (``file_attach``) in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

import i18n
from i18n import D_, d_
from intake import audit, evidence
from intake.desk.http import current, page
from intake.desk.sessions import Session
from intake.desk.upload import UploadRefused, read_upload
from intake.errors import BadFile, CaseNotFound
from intake.settings import Settings
from intake.store import attachments
from intake.store.attachments import AttachmentInfo

router = APIRouter()

INLINE = frozenset({"image/jpeg", "image/png"})  # the only types a browser is ever asked to show
_HEAD = 64 * 1024  # enough of a cleaned image (no metadata before its frame header) for its size
_ORIGINAL_EXTENSIONS = {"image/gif": "gif", "image/webp": "webp"}

# Why a file was not attached, by intake.errors.BadFile reason (and the reader's refusals).
EMPTY = "empty"  # a constant, not a literal inside d_(): Babel would extract the key as a message
REFUSED: dict[str, str] = {
    "unsupported": D_("This kind of file cannot be kept. Attach a photo (JPEG, PNG), a PDF or an office document."),
    "damaged": D_("The file is damaged or incomplete. Save it again and attach the new copy."),
    "too_big_image": D_("The picture is too large (too many pixels). Attach a smaller copy."),
    "archive": D_("Archives (zip, rar, 7z) cannot be attached. Attach the files themselves."),
    "script": D_("The file contains a program or macros, which could harm whoever opens it. It was refused."),
    "empty": D_("Choose a file to attach."),
    "too_big": D_("The file is larger than this node accepts ({size})."),
    "too_many": D_("Attach one file at a time."),
    "malformed": D_("The file did not arrive whole. Try again."),
}


@dataclass(frozen=True)
class FileView:
    """One file as the case page lists it."""

    info: AttachmentInfo
    url: str
    label: str  # its kind and size, e.g. "PDF · 120 KB"
    inline: bool
    width: int | None = None
    height: int | None = None

    @property
    def original_url(self) -> str:
        return f"{self.url}?original=1"


def size_label(size: int) -> str:
    """A file size in the desk's language: KB below a megabyte, MB with one decimal above."""
    loc = i18n.desk_locale()
    if size < 1024 * 1024:
        return d_("{size} KB").format(size=format_decimal(max(1, round(size / 1024)), locale=loc))
    return d_("{size} MB").format(size=format_decimal(round(size / (1024 * 1024), 1), locale=loc))


def kind_label(type_: str) -> str:
    """The file's kind as its extension in capitals ("PDF", "DOCX"); "?" for a type not kept."""
    try:
        return evidence.extension(type_).upper()
    except ValueError:
        return "?"


def _dimensions(session: Session, case_id: int, n: int) -> tuple[int, int] | None:
    """An image's width and height from the first bytes of its stored file (its header only)."""
    with session.store._lock:
        row = session.store._conn.execute(
            "SELECT substr(data, 1, ?) FROM attachments WHERE case_id = ? AND n = ? AND data IS NOT NULL",
            (_HEAD, case_id, n),
        ).fetchone()
    if row is None or row[0] is None:
        return None
    try:
        with Image.open(io.BytesIO(bytes(row[0])), formats=["JPEG", "PNG"]) as image:
            width, height = image.size
    except Exception:  # a damaged header: the picture is shown without its size
        return None
    return (width, height) if width > 0 and height > 0 else None


def case_extra(session: Session, case_id: int) -> dict[str, Any]:
    """What the case page shows of the case's files (no audit entry: the page view has one)."""
    views = []
    for info in session.store.attachments(case_id):
        inline = info.type in INLINE and not info.missing
        size = _dimensions(session, case_id, info.n) if inline else None
        views.append(
            FileView(
                info=info,
                url=f"/cases/{case_id}/files/{info.n}",
                label=f"{kind_label(info.type)} · {size_label(info.bytes)}",
                inline=inline,
                width=size[0] if size else None,
                height=size[1] if size else None,
            )
        )
    by_action: dict[int, list[FileView]] = {}
    for view in views:
        if view.info.action_id is not None:
            by_action.setdefault(view.info.action_id, []).append(view)
    return {"files": [v for v in views if v.info.action_id is None], "files_by_action": by_action}


def _number(text: str) -> int:
    """A number in the path; anything else is "no such file" (a 404 page, never a 422 or a 500)."""
    if not text.isdigit() or len(text) > 9:
        raise CaseNotFound("no such file")
    return int(text)


def file_headers(case_id: int, info: AttachmentInfo, data: bytes, *, original: bool) -> dict[str, str]:
    """Content-Type, Content-Disposition and the rest for one served file.

    Only a JPEG or PNG is shown inline; any other type, even one the store was made to hold by
    someone writing to it directly (text/html, say), is a download of unknown type, never rendered.
    """
    if original:  # the file as the phone sent it: never shown, always a download
        try:
            kind = evidence.sniff(data)
            ext = evidence.TYPES.get(kind) or _ORIGINAL_EXTENSIONS.get(kind, "bin")
        except BadFile:
            ext = "bin"
        content_type, disposition, name = "application/octet-stream", "attachment", f"-file-{info.n}-original"
    else:
        kept = info.type in evidence.TYPES
        content_type = info.type if kept else "application/octet-stream"
        ext = evidence.extension(info.type) if kept else "bin"
        disposition = "inline" if info.type in INLINE else "attachment"
        name = f"-file-{info.n}"
    return {
        "Content-Type": content_type,
        "Content-Disposition": f'{disposition}; filename="case-{case_id}{name}.{ext}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def _viewed(session: Session, case_id: int, n: int, original: bool) -> None:
    audit.AuditLog(session.store, session.keys).record(
        user=session.keys.user, action="file_view", case_id=case_id, detail={"n": n, "original": original}
    )


@router.get("/cases/{case_id}/files/{n}")
async def file(request: Request, case_id: str, n: str) -> Response:
    session = current(request)
    case, number = _number(case_id), _number(n)
    original = request.query_params.get("original") == "1"
    found = await run_in_threadpool(lambda: session.store.attachment(case, number, original=original))
    if found is None:  # no such case or file, a file that never arrived, or no original kept
        raise CaseNotFound("no such file")
    info, data = found
    await run_in_threadpool(_viewed, session, case, number, original)
    # Decrypted in memory and sent to the local browser only; never a file on this machine.
    return Response(data, headers=file_headers(case, info, data, original=original))


def _refused(session: Session, case_id: int, message: str, status: int = 400) -> Response:
    return page("message.html", status=status, session=session, message=message, back=f"/cases/{case_id}#plan")


def _attach(session: Session, case_id: int, action_id: int, kept: evidence.Evidence) -> int | None:
    """Store the cleaned file on the step and audit it in one transaction; None: no such step."""
    with session.store.transaction() as conn:
        found = conn.execute("SELECT 1 FROM actions WHERE id = ? AND case_id = ?", (action_id, case_id)).fetchone()
        if found is None:
            return None
        n = attachments.add(
            conn, case_id, kept.data, kept.type, source="caseworker", action_id=action_id, warning=kept.warning
        )
        detail = {"n": n, "action_id": action_id, "ext": evidence.extension(kept.type)}
        audit.record(conn, audit.audit_key(session.keys), user=session.keys.user, action="file_attach",
                     case_id=case_id, detail=detail)  # fmt: skip
    return n


@router.post("/cases/{case_id}/actions/{action_id}/files")
async def attach(request: Request, case_id: str, action_id: str) -> Response:
    """Attach one evidence file to a step of the plan (metadata stripped before it is stored)."""
    session = current(request)
    case, step = _number(case_id), _number(action_id)
    settings: Settings = request.app.state.settings
    limit = settings.max_file_bytes
    try:
        upload = await read_upload(request, session, max_file_bytes=limit)
    except UploadRefused as exc:
        status = 413 if exc.reason == "too_big" else 400
        return _refused(session, case, d_(REFUSED[exc.reason]).format(size=size_label(limit)), status)
    await run_in_threadpool(session.store.get_case, case)  # no such case: the 404 page
    if not upload.files:
        return _refused(session, case, d_(REFUSED[EMPTY]))
    try:
        kept = await run_in_threadpool(evidence.clean, upload.files[0])
    except BadFile as exc:
        return _refused(session, case, d_(REFUSED[exc.reason]))
    if await run_in_threadpool(_attach, session, case, step, kept) is None:
        return _refused(session, case, d_("There is no such action on this case."))
    return RedirectResponse(f"/cases/{case}#action-{step}", status_code=303)


__all__ = ["INLINE", "REFUSED", "FileView", "case_extra", "file_headers", "router", "size_label"]

"""A desk form with a file, read in memory from the request stream (issue 16): never spooled to disk.

Starlette's ``request.form()`` writes any file part over 1 MB to a temporary file, so a photo of a
pay slip would land in clear in /tmp. Here the body is pushed chunk by chunk into python-multipart's
streaming parser (the core the worker forms use too: ``Parts`` in channels/web/uploads.py); file
parts collect in memory up to ``max_file_bytes``, everything else is capped too (the fields, their
size, the parts' headers, the whole body). The form's CSRF token must come before any file (the
desk's forms put it first), so a forged post is refused before a file byte is kept. Filenames are
never kept: a stored file is known only by its number and type. Here: the desk's rules and words.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from channels.web.uploads import Caps, Parts, Refused
from intake.desk.sessions import Session
from intake.errors import Forbidden

MAX_FIELDS = 16
MAX_FIELD_BYTES = 4096  # the small fields together
SLACK = 64 * 1024  # what a body may hold beyond its files: boundaries, part headers, small fields
# The streaming core's refusals in the desk's words (intake/desk/files.py REFUSED); the rest: malformed.
_REASONS = {
    "files_off": "too_many",
    "too_many_files": "too_many",
    "too_many_fields": "too_many",
    "file_too_large": "too_big",
    "fields_too_large": "too_big",
    "body_too_large": "too_big",
}


class UploadRefused(Exception):
    """The body cannot be taken: ``reason`` is ``too_big``, ``too_many`` or ``malformed``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Upload:
    """The small fields of the form, and the content of its file parts (no filenames)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[bytes] = field(default_factory=list)

    def __repr__(self) -> str:  # never the content
        return f"Upload(fields={sorted(self.fields)}, files={[len(f) for f in self.files]})"


def _check_token(fields: dict[str, str], session: Session) -> None:
    if not hmac.compare_digest(fields.get("csrf", "").encode(), session.csrf.encode()):
        raise Forbidden("csrf")


async def read_upload(request: Request, session: Session, *, max_file_bytes: int, max_files: int = 1) -> Upload:
    """The posted ``multipart/form-data`` form, its CSRF token checked; raises :class:`UploadRefused`
    for a body that is too big, has too many parts or is not a form, and ``Forbidden("csrf")``."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise UploadRefused("malformed")
    limit = max_files * max_file_bytes + SLACK
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadRefused("too_big")  # refused before a byte of the body is read
    upload = Upload()

    async def keep(_number: int, data: bytes) -> None:
        if data:  # a file input left empty sends an empty part: no file
            upload.files.append(data)

    caps = Caps(max_files, max_file_bytes, MAX_FIELDS, MAX_FIELD_BYTES, limit)
    # No file byte is kept for a form whose token is missing or wrong: it must come before any file.
    parts = Parts(caps, file_field=None, before_file=lambda fields: _check_token(dict(fields), session), strict=True)
    try:
        await parts.read(request, keep)
    except Refused as exc:  # a cut-off body too: nothing is taken
        raise UploadRefused(_REASONS.get(exc.reason, "malformed")) from None
    except ClientDisconnect:
        raise UploadRefused("malformed") from None
    upload.fields = dict(parts.fields)
    _check_token(upload.fields, session)
    return upload


__all__ = ["Upload", "UploadRefused", "read_upload"]

"""Reading a ``multipart/form-data`` body with files as it arrives: the report and follow-up forms
and ``POST /api/v1/reports`` / ``/api/v1/followups`` (issue 16).

Never ``request.form()`` here: Starlette spools a file part above 1 MB into a temporary file, which
would put a worker's photo, GPS and all, in clear on the intake's disk (docs/threat-model.md#seizure).
Instead python-multipart's push parser is fed from ``request.stream()`` and every cap is applied
while the bytes arrive, so an oversized body is refused without being read to its end:

- at most ``max_files`` files (parts named ``attachments``; the empty part a browser sends when no
  file was chosen is ignored), each at most ``max_file_bytes``;
- the whole body at most ``max_files * max_file_bytes + max_request_bytes`` (channels/server.py's
  BodyLimit lets only these routes have that much);
- the other fields at most ``max_request_bytes`` together and :data:`MAX_FIELDS` in number.

Memory stays bounded: a file's clear bytes are held only until its part ends, then cleaned right
away (``intake.evidence.clean``, in a worker thread so the event loop keeps serving), sealed to the
node key at once (``intake.services.SealedFiles``) and dropped. So at most one file is held in clear
(``max_file_bytes``, twice for the moment its buffer becomes bytes, plus Pillow's decoding of one
image, intake/evidence.py MAX_PIXELS) besides the sealed files of the submission, whatever the
body's size (figures: bench/README.md, bench_files). A file's name is
parsed by python-multipart but never kept, logged or stored: names often carry the worker's own.

The streaming core (:class:`Parts`: the parser, the caps, the cut-off check, the hook before the
first file byte) also reads the desk's CAP-item upload (intake/desk/upload.py), in its own words.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from channels.web.errors import worded
from intake.errors import BadFile, IntakeError, MalformedRequest, TooLarge
from intake.evidence import clean
from intake.services import SealedFiles
from intake.settings import Settings

if TYPE_CHECKING:  # a TypedDict python-multipart declares for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "attachments"
#: The routes that take files (when multipart): only these get the larger body cap (channels/server.py).
UPLOAD_PATHS = frozenset({"/report", "/status/add", "/api/v1/reports", "/api/v1/followups"})
MAX_FIELDS = 64
MB = 1024 * 1024

# python-multipart logs the offending byte of a malformed body: no byte of a worker's body is logged.
_QUIET = logging.getLogger("channels.web.uploads.parser")
_QUIET.disabled = True
# (Pillow's own DEBUG logging of EXIF values is capped in intake/evidence.py, for every channel.)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def upload_limit(settings: Settings) -> int:
    """The largest body an upload route takes: every file at its cap, plus the usual fields."""
    return settings.max_files * settings.max_file_bytes + settings.max_request_bytes


def file_mb(settings: Settings) -> int:
    """``max_file_bytes`` in whole MB for people (rounded down, at least 1)."""
    return max(1, settings.max_file_bytes // MB)


@dataclass
class Upload:
    """What a multipart body held: its fields, its files (cleaned and already sealed for the item
    they will be stored with, intake.services.SealedFiles), and the problem that stopped it.

    ``problem`` set means nothing may be stored; ``fields`` still holds every field read before
    it, so a form can be shown again with the worker's words (the forms put the file input last).
    """

    fields: FormData
    files: SealedFiles
    digests: list[str] = field(default_factory=list)  # SHA-256 of each file as received (Once)
    sent: int = 0  # non-empty file parts seen, cleaned or not
    problem: IntakeError | None = None


#: Called once, at the first file, with the fields read so far: False = read the files (within the
#: caps) but do not clean them (a form whose token is wrong, a rate-limited client, a bot).
Gate = Callable[[FormData], bool]
#: The streaming core's hook, called once before the first byte of the first file with the fields
#: read so far; it may raise (the desk refuses there a form whose token has not come first).
BeforeFile = Callable[[list[tuple[str, str]]], None]
#: Called with each file's number (from 1) and clear bytes once its part has ended, between reads.
OnFile = Callable[[int, bytes], Awaitable[None]]


class Refused(Exception):
    """A body the streaming core will not take, for each caller to word. ``reason`` is the rule:
    ``malformed``; a count passed, ``files_off``, ``too_many_files``, ``too_many_fields``; a size
    passed, ``file_too_large``, ``fields_too_large``, ``body_too_large``. ``detail`` names the rule
    only (never a byte of the body); ``number`` is the file's place among those sent, from 1."""

    def __init__(self, reason: str, detail: str, number: int = 0) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.number = reason, detail, number


@dataclass(frozen=True)
class Caps:
    """What one body may hold: ``files`` files of ``file_bytes`` each, ``fields`` other fields of
    ``field_bytes`` together, and ``body`` bytes in all."""

    files: int
    file_bytes: int
    fields: int
    field_bytes: int
    body: int


class Parts:
    """The streaming core of both readers (this one and the desk's, intake/desk/upload.py): feeds
    python-multipart's push parser from ``request.stream()``, one part at a time, every cap checked
    as its bytes arrive. A file part is one named ``file_field`` (None: any part with a filename; a
    filename under another name is refused); a file's name is never kept. ``fields`` and ``files``
    (non-empty or chosen file parts begun) stay readable after a refusal. ``strict``: a field that
    is not UTF-8 is refused (else it is decoded with replacement characters)."""

    def __init__(
        self, caps: Caps, *, file_field: str | None, before_file: BeforeFile | None = None, strict: bool = False
    ) -> None:
        self.caps, self.file_field, self.before_file, self.strict = caps, file_field, before_file, strict
        self.fields: list[tuple[str, str]] = []
        self.field_bytes = 0
        self.files = 0  # non-empty file parts begun
        self.ended = False
        self._done: list[tuple[int, bytes]] = []  # (file number, clear bytes): ended, not yet handed on
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._is_file = False
        self._chosen = False
        self._number = 0  # this part's file number, 0 until its first byte
        self._buf = bytearray()

    async def read(self, request: Request, on_file: OnFile) -> None:
        """Read the whole body, handing each file to ``on_file`` once its part has ended. Raises
        :class:`Refused` at the first rule broken, without reading further; what ``before_file``
        and ``on_file`` raise goes through, and so does Starlette's ClientDisconnect."""
        seen = 0
        try:
            _ctype, options = parse_options_header(request.headers.get("content-type"))
            boundary = options.get(b"boundary")
            if not boundary:
                raise Refused("malformed", "multipart without a boundary")
            parser = MultipartParser(boundary, self.callbacks())
            parser.logger = _QUIET
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > self.caps.body:  # BodyLimit says so first when it runs; this holds without it
                    raise Refused("body_too_large", "upload body too large")
                if chunk:
                    parser.write(chunk)
                while self._done:
                    number, data = self._done.pop(0)
                    await on_file(number, data)
                    del data  # the clear bytes go as soon as the caller is done with them
        except (FormParserError, ValueError):  # MultipartParseError is a FormParserError
            raise Refused("malformed", "unreadable multipart body") from None
        if not self.ended:
            raise Refused("malformed", "body ended before its last boundary")

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._headers = {}
        self._name, self._is_file, self._chosen, self._number = "", False, False, 0
        self._buf = bytearray()

    def header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in params:
            raise Refused("malformed", "part without a form-data name")
        self._name = params[b"name"].decode("utf-8", "replace")
        has_filename = b"filename" in params  # the name itself is never kept or logged
        if self.file_field is None:
            self._is_file = has_filename
        elif self._name == self.file_field:
            self._is_file = True
        elif has_filename:
            raise Refused("malformed", "a file under another field")
        if self._is_file:
            self._chosen = bool(params.get(b"filename"))  # a browser sends filename="" for no file
        elif len(self.fields) >= self.caps.fields:
            raise Refused("too_many_fields", "too many fields")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if end <= start:
            return
        if not self._is_file:
            self.field_bytes += end - start
            if self.field_bytes > self.caps.field_bytes:
                raise Refused("fields_too_large", "form fields too large")
            self._buf.extend(data[start:end])
            return
        if not self._number:
            self._begin_file()
        if len(self._buf) + (end - start) > self.caps.file_bytes:
            raise Refused("file_too_large", "file over max_file_bytes", self._number)
        self._buf.extend(data[start:end])

    def _begin_file(self) -> None:
        self.files += 1
        self._number = self.files
        if self.caps.files == 0:
            raise Refused("files_off", "files are turned off", self._number)
        if self.files > self.caps.files:
            raise Refused("too_many_files", "too many files", self._number)
        if self.files == 1 and self.before_file is not None:
            self.before_file(list(self.fields))

    def part_end(self) -> None:
        if not self._is_file:
            self.fields.append((self._name, self._text(bytes(self._buf))))
        else:
            if not self._number and self._chosen:  # a chosen file of 0 bytes counts (the web refuses it)
                self._begin_file()
            if self._number:  # else the empty part a browser sends when no file was chosen
                self._done.append((self._number, bytes(self._buf)))
        self._buf = bytearray()

    def _text(self, data: bytes) -> str:
        try:
            return data.decode("utf-8", "strict" if self.strict else "replace")
        except UnicodeDecodeError:
            raise Refused("malformed", "a field that is not UTF-8") from None

    def end(self) -> None:
        self.ended = True


async def read_upload(request: Request, settings: Settings, gate: Gate | None = None) -> Upload:
    """Read a ``multipart/form-data`` body, cleaning each file as its part ends.

    Never raises for what the client sent: a cap passed (413), a refused file (its BadFile, worded
    with its number), a malformed or cut-off body (400) come back as ``Upload.problem``, with the
    fields read before it. A client that goes away raises Starlette's ClientDisconnect (nobody is
    left to answer; channels/web/errors.py CatchAll logs it). Stops reading at the first problem.
    """
    upload = Upload(FormData(), SealedFiles(request.app.state.service))
    keep_original = bool(settings.keep_originals)
    keep = True  # the gate's answer, asked at the first file

    def before_file(fields: list[tuple[str, str]]) -> None:
        nonlocal keep
        keep = gate(FormData([*fields])) if gate else True

    async def on_file(number: int, data: bytes) -> None:
        upload.digests.append(hashlib.sha256(data).hexdigest())
        if not keep:
            return
        try:
            # cleaned, then sealed at once: its clear copy goes now, not when the report is stored
            upload.files.add(await run_in_threadpool(clean, data, keep_original=keep_original))
        except BadFile as exc:
            raise worded(exc, number=number) from None

    caps = Caps(
        settings.max_files, settings.max_file_bytes, MAX_FIELDS, settings.max_request_bytes, upload_limit(settings)
    )
    parts = Parts(caps, file_field=FILE_FIELD, before_file=before_file)
    try:
        await parts.read(request, on_file)
    except Refused as exc:
        upload.problem = _problem(exc, settings)
    except IntakeError as exc:
        upload.problem = exc
    upload.fields = FormData([*parts.fields])
    upload.sent = parts.files
    if upload.problem is not None:  # nothing half-stored: one refused file refuses the whole submission
        upload.files = SealedFiles(request.app.state.service)
    return upload


def _problem(exc: Refused, settings: Settings) -> IntakeError:
    """A refusal in the workers' terms: 413 for a cap passed (a file's worded under ``attachments``
    with its number), 400 for a body that cannot be read."""
    if exc.reason == "malformed":
        return MalformedRequest(exc.detail)
    if exc.reason == "file_too_large":
        return worded(TooLarge(exc.detail, fields={FILE_FIELD: exc.reason}), number=exc.number, mb=file_mb(settings))
    if exc.reason == "too_many_files":
        return worded(TooLarge(exc.detail, fields={FILE_FIELD: exc.reason}), n=settings.max_files)
    return TooLarge(exc.detail, fields={FILE_FIELD: exc.reason} if exc.reason == "files_off" else None)

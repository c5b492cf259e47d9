"""Evidence files in the relay (issue 16 item 7): the copy that may leave, and how it travels.

Files never leave by default. A coordinator approves ONE file for ONE partner after seeing the copy
that would leave: the stored cleaned file (never a kept original) decoded and re-encoded again,
metadata-free, its longest side at most :data:`MAX_SIDE` (``intake.evidence.downscale``). The
approval is bound to that copy's SHA-256 (``relay_file_approvals`` in cases.db). Documents (PDF,
office) cannot be relayed in this version: they may carry their author's details.

An approved file travels inside the same signed, sealed envelope as the case's approved summary:
the payload is the summary's JSON with one more member, ``files`` (docs/envelope.md#files), left
out when there is none, so a summary without files is byte for byte what it was before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.envelope import MAX_PAYLOAD
from intake.errors import BadFile, InvalidInput
from intake.evidence import Evidence, downscale
from intake.store import attachments
from intake.store.db import Connection
from relay.summary import CaseSummary, canonical

MAX_SIDE = 1600
#: At most this many files in one envelope (a payload is at most 1 MiB anyway).
MAX_FILES = 8
#: What can leave: re-encoded images only, each known by its first bytes.
MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
_FILE_KEYS = frozenset({"n", "type", "bytes", "sha256", "data"})
_HEX = frozenset("0123456789abcdef")


class NotRelayable(InvalidInput):
    """This file cannot leave: ``reason`` is ``missing`` (no content), ``document`` (a PDF or
    office file: not in this version) or ``too_large`` (with the summary, over one envelope)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, fields={"file": reason})
        self.reason = reason


class BadFiles(ValueError):
    """An envelope's ``files`` member is not valid (a partner refuses the envelope as ``bad_file``).
    The message names the problem, never a file's content."""


@dataclass(frozen=True)
class RelayFile:
    """A file as it travels: the node's number for it within the case, its type and its bytes."""

    n: int
    type: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def wire(self) -> dict[str, Any]:
        return {"n": self.n, "type": self.type, "bytes": self.size, "sha256": self.sha256, "data": b64url(self.data)}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes | None:
    """Strict base64url without padding (docs/envelope.md#conventions), or None."""
    if "=" in text or len(text) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if b64url(raw) == text else None  # non-zero unused bits: not canonical


# -- the copy that may leave --------------------------------------------------------------------------
def copy_of(conn: Connection, case_id: int, n: int) -> RelayFile:
    """The copy of file ``n`` of a case that would leave: from the stored cleaned file, never the
    kept original, downscaled and re-encoded. Raises :class:`NotRelayable`."""
    found = attachments.content(conn, case_id, n)  # original=False: the original never leaves
    if found is None:
        raise NotRelayable("missing", f"case {case_id} has no file {n} with content")
    info, data = found
    if info.type not in MAGIC:
        raise NotRelayable("document", "only images can be relayed in this version")
    try:
        small = downscale(Evidence(info.type, data), max_side=MAX_SIDE)
    except BadFile:
        raise NotRelayable("document", "this file does not decode as an image") from None
    return RelayFile(n, small.type, small.data)


def payload(summary: CaseSummary, files: Sequence[RelayFile] = ()) -> bytes:
    """What an envelope carries: the summary's bytes, with ``files`` only when there are some."""
    if not files:
        return summary.to_bytes()
    doc = summary.wire()
    doc["files"] = [f.wire() for f in sorted(files, key=lambda f: f.n)]
    return canonical(doc)


def fits(summary: CaseSummary, files: Sequence[RelayFile]) -> bool:
    return len(files) <= MAX_FILES and len(payload(summary, files)) <= MAX_PAYLOAD


def pack(summary: CaseSummary, files: Sequence[RelayFile]) -> tuple[list[list[RelayFile]], list[RelayFile]]:
    """Files grouped into envelopes (each group travels with the summary; the first may be empty),
    and the files that do not fit in any envelope with this summary."""
    groups: list[list[RelayFile]] = [[]]
    too_big: list[RelayFile] = []
    for f in files:
        if not fits(summary, [f]):
            too_big.append(f)
            continue
        for group in groups:
            if fits(summary, [*group, f]):
                group.append(f)
                break
        else:
            groups.append([f])
    return groups, too_big


# -- reading an envelope's payload (the partner) ------------------------------------------------------
def read_payload(data: bytes) -> tuple[CaseSummary, list[RelayFile]]:
    """The summary and the files of an opened envelope's payload. Raises :class:`BadFiles` when the
    ``files`` member is not valid (a file whose bytes do not match its SHA-256 included), pydantic's
    ``ValidationError`` when the summary is not."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or "files" not in doc:
        return CaseSummary.model_validate_json(data), []
    files = _files(doc.pop("files"))
    return CaseSummary.model_validate_json(canonical(doc)), files


def _files(items: Any) -> list[RelayFile]:
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_FILES:
        raise BadFiles(f"'files' is a list of 1 to {MAX_FILES} files (left out when there is none)")
    out: list[RelayFile] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or set(item) != _FILE_KEYS:
            raise BadFiles(f"file {i}: exactly the members n, type, bytes, sha256 and data")
        n, kind, size, digest, text = (item[k] for k in ("n", "type", "bytes", "sha256", "data"))
        if type(n) is not int or n < 1 or any(f.n == n for f in out):
            raise BadFiles(f"file {i}: 'n' is a number from 1, once per envelope")
        if kind not in MAGIC:
            raise BadFiles(f"file {n}: type is not one of {', '.join(sorted(MAGIC))}")
        if type(size) is not int or not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _HEX:
            raise BadFiles(f"file {n}: 'bytes' is a number and 'sha256' 64 lowercase hex digits")
        raw = unb64url(text) if isinstance(text, str) else None
        if raw is None:
            raise BadFiles(f"file {n}: 'data' is not base64url without padding")
        if len(raw) != size:
            raise BadFiles(f"file {n}: {len(raw)} bytes, not the {size} it declares")
        if not hmac.compare_digest(hashlib.sha256(raw).hexdigest(), digest):
            raise BadFiles(f"file {n}: its bytes do not match its SHA-256")
        if not raw.startswith(MAGIC[kind]):
            raise BadFiles(f"file {n}: its bytes are not {kind}")
        out.append(RelayFile(n, kind, raw))
    if [f.n for f in out] != sorted(f.n for f in out):
        raise BadFiles("files are listed in the order of their numbers")
    return out


# -- approvals in cases.db (the caller's connection and transaction) ----------------------------------
@dataclass(frozen=True)
class FileApproval:
    n: int
    partner_id: int
    partner: str
    sha256: str
    type: str
    bytes: int
    approved_by: str
    approved_at: str
    envelope_id: str  # '' while it waits for an approved summary
    state: str  # waiting | queued | delivered (the envelope carrying it); a cancelled one waits again


def approvals(conn: Connection, case_id: int) -> list[FileApproval]:
    rows = conn.execute(
        "SELECT a.n, a.partner_id, p.name, a.sha256, a.type, a.bytes, a.approved_by, a.approved_at, a.envelope_id, "
        "o.delivered_at, o.cancelled FROM relay_file_approvals a JOIN relay_partners p ON p.id = a.partner_id "
        "LEFT JOIN relay_outbox o ON o.envelope_id = a.envelope_id "
        "WHERE a.case_id = ? AND p.removed_at = '' ORDER BY a.n, p.name",
        (case_id,),
    ).fetchall()
    out = []
    for n, pid, name, digest, kind, size, by, at, eid, delivered, cancelled in rows:
        state = "waiting" if not eid or cancelled else ("delivered" if delivered else "queued")
        out.append(FileApproval(int(n), int(pid), name, digest, kind, int(size), by, at, eid, state))
    return out


def pending(conn: Connection, case_id: int, partner_id: int) -> list[tuple[int, str]]:
    """(n, approved SHA-256) of the files approved for this partner and not in a live envelope."""
    rows = conn.execute(
        "SELECT a.n, a.sha256 FROM relay_file_approvals a LEFT JOIN relay_outbox o ON o.envelope_id = a.envelope_id "
        "WHERE a.case_id = ? AND a.partner_id = ? AND (a.envelope_id = '' OR o.cancelled != '' OR o.envelope_id IS NULL) "
        "ORDER BY a.n",
        (case_id, partner_id),
    ).fetchall()
    return [(int(n), str(d)) for n, d in rows]


def pending_copies(conn: Connection, case_id: int, partner_id: int) -> list[RelayFile]:
    """The copies of the files waiting for this partner, each still exactly the approved bytes (a
    copy that came out differently, which nothing should cause, waits: it is not what was shown)."""
    out = []
    for n, approved in pending(conn, case_id, partner_id):
        try:
            copy = copy_of(conn, case_id, n)
        except NotRelayable:
            continue
        if hmac.compare_digest(copy.sha256, approved):
            out.append(copy)
    return out


def sealed_in(conn: Connection, case_id: int, partner_id: int, files: Sequence[RelayFile], envelope_id: str) -> None:
    conn.executemany(
        "UPDATE relay_file_approvals SET envelope_id = ? WHERE case_id = ? AND partner_id = ? AND n = ?",
        [(envelope_id, case_id, partner_id, f.n) for f in files],
    )

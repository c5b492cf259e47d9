"""The intake's side of the desk pull API, without HTTP: desk tokens, sealed items out, acks in,
and what a paired desk pushes back (status board changes, replies, SMS replies to send).

channels/remote.py serves these over HTTP; intake/remote.py is the desk's client. Items stay
sealed: the intake cannot open them. A desk token is shown once; only its SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence

from intake.domain import BoardStatus
from intake.services import IntakeService
from intake.store.inbox import Inbox

TOKENS = "desk_tokens"  # the inbox meta key holding the tokens' hashes


def new_token(inbox: Inbox) -> str:
    """Make a desk token; store only its hash. Shown once."""
    token = "dsk_" + secrets.token_urlsafe(32)
    hashes = json.loads(inbox.get_meta(TOKENS) or "[]")
    hashes.append(hashlib.sha256(token.encode()).hexdigest())
    inbox.set_meta(TOKENS, json.dumps(hashes))
    return token


def token_ok(service: IntakeService, given: str) -> bool:
    """Whether ``given`` is a token made by :func:`new_token` and not revoked since."""
    digest = hashlib.sha256(given.encode("utf-8", "replace")).hexdigest()
    known = json.loads(service.inbox.get_meta(TOKENS) or "[]")
    # Compare against every stored hash (constant time each), so timing says nothing.
    return bool(given) and any([hmac.compare_digest(digest, h) for h in known])


def sealed_items(service: IntakeService, limit: int, after: int) -> list[tuple[int, str, bytes]]:
    """Up to ``limit`` sealed items after sequence number ``after``: ``(seq, id, blob)``."""
    return service.inbox.items(limit, after)


FILE_CHUNKS = 64  # sealed chunks per page of an item's files: about 4 MiB (crypto/stream.py's CHUNK)
FIRST = (-(2**31), -1)  # before every (n, seq): originals are numbered -n


def sealed_file_chunks(
    service: IntakeService, item_id: str, after: tuple[int, int] = FIRST, limit: int = FILE_CHUNKS
) -> tuple[list[tuple[int, int, bytes]], bool]:
    """One page of an item's sealed files (issue 16): ``(n, seq, chunk)`` after ``(n, seq)``, and
    whether more may follow. Still sealed: the intake cannot open them either."""
    rows = service.inbox.file_chunks(item_id, after, limit)
    return rows, len(rows) == limit


def ack_items(service: IntakeService, ids: list[str]) -> None:
    """Delete items the desk has committed to its cases store (and their sealed files)."""
    service.inbox.delete(ids)


def take_board(
    service: IntakeService,
    statuses: Sequence[tuple[bytes, BoardStatus]],
    messages: Sequence[tuple[str, bytes, str, int]],
) -> int:
    """Store status changes and replies a desk pushed; return how many rows changed. ``messages``
    are ``(uid, receipt_hash, text, unix time)``; a uid taken before is skipped."""
    return service.inbox.take_pushed(statuses=statuses, messages=messages)


def take_outbox(service: IntakeService, rows: Sequence[tuple[str, str, bytes, bytes]]) -> int:
    """Queue SMS replies a desk pushed, ``(uid, provider, recipient, body)`` with recipient and body
    sealed under the intake's outbox key; return how many are new."""
    return service.inbox.take_pushed(outbox=rows)

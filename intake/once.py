"""Single-use submissions: a form sent twice or an API request retried takes effect once.

:func:`intake.services.accept_report` and :func:`~intake.services.accept_followup` take a
:class:`Once`; :func:`put_once` stores the sealed item unless the same submission was stored before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crypto import CannotOpen
from crypto.fields import decrypt_field, encrypt_field
from crypto.kdf import derive_key
from intake import clock
from intake.domain import ReceiptHash
from intake.errors import IdempotencyConflict
from intake.store.inbox import Inbox, SealedFile

ONCE_LABEL = "intake/v1/once"
ONCE_TTL = 24 * 3600
ONCE_PREFIX = b"once:"  # every Once key starts with it, so they are swept apart from SMS and call ids
_ONCE_END = b"once;"  # the first key after every b"once:..." key
ONCE_SWEEP_EVERY = 600.0


class OnceHolder(Protocol):
    """What :func:`put_once` needs of the intake (an :class:`intake.services.IntakeService`)."""

    inbox: Inbox
    csrf_key: bytes
    once_swept_at: float  # clock.monotonic() of the last sweep of expired keys


@dataclass(frozen=True)
class Once:
    """One submission that must take effect once, however often it is sent.

    A worker on a slow link taps Send twice, or reloads the receipt page; an API client retries
    after a timeout. The second send must show the first receipt, not make a second report that
    the worker may keep the wrong code of.

    ``token`` names the submission and is a secret: a web form's own token (128 random bits that
    only the worker's page holds, ``channels.web.security.Csrf``) or the ``Idempotency-Key`` an
    API client chose. ``fingerprint`` is a hash of what was sent, so the same token with other
    content is refused (:class:`IdempotencyConflict`) instead of being taken for a repeat.

    What the intake keeps is one row of ``seen_messages`` in inbox.db, as for an SMS MessageSid,
    written in the same transaction as the item, so two sends at the same moment store one:

    - key: ``once:`` + HMAC(once key, scope, token). The once key comes from intake.key; the token
      itself is never stored, so nothing on disk names the form.
    - memo: the receipt and the fingerprint, encrypted (XChaCha20-Poly1305) under a key derived
      from HMAC(once key, "memo", scope, token). Only a request carrying the token again can open
      it, and the always-on intake needs no passphrase to do so; a seized intake holds intake.key
      but no token, so it reads no receipt code (docs/threat-model.md#seizure). API clients should
      therefore send random keys (a UUID), never counters.
    - created_at: after 24 hours a row is ignored and swept, and the same token is a new
      submission (a web form's token has long expired by then: ``Csrf.MAX_AGE`` is 6 hours).
    """

    scope: str  # "web-report", "api-report", "web-followup", "api-followup": their keys never meet
    token: str = field(repr=False)
    fingerprint: bytes = field(repr=False)

    @classmethod
    def of(cls, scope: str, token: str, sent: Any) -> Once:
        """``sent``: what was submitted, as JSON-able values (the order of keys does not matter)."""
        canonical = json.dumps(sent, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        return cls(scope, token, hashlib.sha256(canonical.encode("utf-8", "replace")).digest())


def _once_keys(service: OnceHolder, once: Once) -> tuple[bytes, bytes]:
    """(the row key, the memo key) for ``once``."""
    base = derive_key(service.csrf_key, ONCE_LABEL)
    name = once.scope.encode() + b"\0" + once.token.encode("utf-8", "replace")
    key = ONCE_PREFIX + hmac.new(base, b"key\0" + name, hashlib.sha256).digest()
    memo_key = derive_key(hmac.new(base, b"memo\0" + name, hashlib.sha256).digest(), "intake/v1/once-memo")
    return key, memo_key


def put_once(
    service: OnceHolder,
    once: Once,
    answer: dict[str, str],
    item_id: str,
    blob: bytes,
    board: ReceiptHash | None,
    *,
    files: Sequence[SealedFile] = (),
) -> dict[str, Any] | None:
    """Store the item unless ``once`` was stored before; then store nothing and return its answer."""
    key, memo_key = _once_keys(service, once)
    context = b"once:" + once.scope.encode()
    memo = encrypt_field(memo_key, json.dumps({**answer, "fp": once.fingerprint.hex()}).encode(), context=context)
    now = int(clock.time())
    if clock.monotonic() - service.once_swept_at > ONCE_SWEEP_EVERY:
        service.once_swept_at = clock.monotonic()
        service.inbox.forget_seen_range(ONCE_PREFIX, _ONCE_END, now - ONCE_TTL)
    earlier = service.inbox.put_first(key, memo, item_id, blob, board=board, expired_before=now - ONCE_TTL, files=files)
    if earlier is None:
        return None
    try:
        doc = json.loads(decrypt_field(memo_key, earlier, context=context))
    except (CannotOpen, ValueError):
        raise IdempotencyConflict("earlier memo unreadable") from None
    if not isinstance(doc, dict) or not hmac.compare_digest(str(doc.get("fp", "")), once.fingerprint.hex()):
        raise IdempotencyConflict("same token, other content")
    return doc

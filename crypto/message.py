"""Partner messages: the relay envelope in the other direction, partner -> node (docs/envelope.md#messages).

A partner answers a node (a question about a case, a brand's or buyer's response, an escalation
decision, a request for an update) in the envelope's framing, with the roles swapped: signed by the
partner's Ed25519 *receipt key* (the half of the partner key string ``intake-partner1:`` that the
node already holds) and sealed to the node's *box key*, which is the node's Ed25519 key mapped to
X25519 (``crypto_sign_ed25519_pk_to_curve25519``, as age's ``ssh-ed25519`` recipients do). So a
pairing made for summaries carries answers as it is: no new key string, no new fingerprint call.

Layout (every length fixed except the payload)::

    grievance-intake/message/v1\\n
    id <32 lowercase hex>\\n
    to <16 lowercase hex>\\n          SHA-256(node box key)[0:8]
    ---\\n
    SealedBox(node box key, pad256(sender[32] || sequence[8] || created_at[8] || payload || signature[64]))

    signature = Ed25519(MESSAGE_CONTEXT || header || node_ed25519[32] || sender || ... || payload)

Refusals are :class:`crypto.envelope.EnvelopeError` with the envelope's reasons. Also here: the
signature over an HTTPS fetch of messages (:func:`sign_fetch`), with its own domain prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import nacl.bindings as b
import nacl.exceptions
import nacl.utils
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from crypto.envelope import (
    _FIXED,
    _MAX_SECONDS,
    _SIG,
    _U64,
    _U64_MAX,
    BUCKET,
    EnvelopeError,
    Header,
    Opened,
    _b64url,
    _read_inner,
    _seconds,
    _unb64url,
)

__all__ = [
    "FETCH_CONTEXT",
    "MAX_MESSAGE",
    "MAX_MESSAGE_PAYLOAD",
    "MESSAGE_CONTEXT",
    "MESSAGE_HEADER_LEN",
    "MIN_MESSAGE",
    "node_box_key",
    "open_message",
    "read_message_header",
    "seal_message",
    "sign_fetch",
    "verify_fetch",
]

MESSAGE_VERSION = 1
MAX_MESSAGE = 1 << 16  # 64 KiB: a few thousand characters of text, never a file
MAGIC = b"grievance-intake/message/"
_VERSION_LINE = MAGIC + b"v1\n"
_HEADER_V1 = re.compile(rb"id ([0-9a-f]{32})\nto ([0-9a-f]{16})\n---\n")
_VERSION_TOKEN = re.compile(rb"v([1-9][0-9]{0,8})")
_VERSION_PREFIX = re.compile(rb"(v([1-9][0-9]{0,8})?)?")
_SHAPE = b"id " + b"x" * 32 + b"\nto " + b"x" * 16 + b"\n---\n"
_HEX = frozenset(b"0123456789abcdef")
_MAX_VERSION_LINE = len(MAGIC) + 11
MESSAGE_HEADER_LEN = len(_VERSION_LINE) + len(_SHAPE)  # 88

_MESSAGE_ID = re.compile(r"[0-9a-f]{32}")
_SEAL = b.crypto_box_SEALBYTES
MIN_MESSAGE = MESSAGE_HEADER_LEN + _SEAL + BUCKET
MAX_MESSAGE_PAYLOAD = ((MAX_MESSAGE - MESSAGE_HEADER_LEN - _SEAL) // BUCKET) * BUCKET - 1 - _FIXED - _SIG

MESSAGE_CONTEXT = b"grievance-intake/message/v1 signature\x00"
# An HTTPS fetch of waiting messages is signed by the node like a push, under its own prefix, so
# that no envelope, push or receipt signature can stand in for one (crypto/push.py).
FETCH_CONTEXT = b"grievance-intake/messages-fetch/v1 signature\x00"


def node_box_key(node: VerifyKey) -> PublicKey:
    """The X25519 key messages to ``node`` are sealed to: its Ed25519 key mapped to Curve25519."""
    if not isinstance(node, VerifyKey):
        raise TypeError("node must be a VerifyKey")
    return node.to_curve25519_public_key()


def _as_bytes(data: Any, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"{what} must be bytes")
    return bytes(data)


def _check_id(message_id: Any) -> str:
    if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a message id is 32 lowercase hexadecimal characters")
    return message_id


def _hint(box: PublicKey) -> bytes:
    return hashlib.sha256(bytes(box)).digest()[:8]


def _header(message_id: str, hint: bytes) -> bytes:
    return _VERSION_LINE + b"id " + message_id.encode("ascii") + b"\nto " + hint.hex().encode("ascii") + b"\n---\n"


def seal_message(
    payload: bytes,
    *,
    sender: SigningKey,
    recipient: VerifyKey,
    sequence: int,
    created_at: datetime,
    message_id: str | None = None,
) -> bytes:
    """Sign ``payload`` with the partner's receipt key and seal it to the node whose key is ``recipient``.

    ``sequence`` is the partner's next number toward this node (1 to 2**64-1); ``created_at`` the
    partner's clock (information for the reader, never a gate). A payload over
    :data:`MAX_MESSAGE_PAYLOAD` raises ``EnvelopeError("too_large")``.
    """
    body = _as_bytes(payload, "payload")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= _U64_MAX:
        raise ValueError("sequence must be an integer from 1 to 2**64-1")
    seconds = _seconds(created_at, "created_at")
    if seconds > _MAX_SECONDS:
        raise ValueError("created_at is too far in the future")
    message_id = nacl.utils.random(16).hex() if message_id is None else _check_id(message_id)
    if len(body) > MAX_MESSAGE_PAYLOAD:
        raise EnvelopeError(
            "too_large", f"a payload of {len(body)} bytes is over the {MAX_MESSAGE_PAYLOAD} byte limit of a message"
        )
    if not isinstance(sender, SigningKey):
        raise TypeError("sender must be a SigningKey")
    box = node_box_key(recipient)
    header = _header(message_id, _hint(box))
    inner = bytes(sender.verify_key) + sequence.to_bytes(_U64, "big") + seconds.to_bytes(_U64, "big") + body
    signature = sender.sign(MESSAGE_CONTEXT + header + bytes(recipient) + inner).signature
    return header + SealedBox(box).encrypt(b.sodium_pad(inner + signature, BUCKET))


def _parse(data: bytes) -> tuple[Header, bytes, bytes]:
    """Header, exact header bytes and sealed body; every check that needs no key (as for envelopes)."""
    if len(data) > MAX_MESSAGE:
        raise EnvelopeError("too_large", f"the message is {len(data)} bytes, over the {MAX_MESSAGE} byte limit")
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise EnvelopeError("truncated", f"the message is incomplete: only {len(data)} bytes of its first line")
        raise EnvelopeError("malformed", "this is not a partner message: it does not start with the message line")
    end = data.find(b"\n", len(MAGIC), _MAX_VERSION_LINE)
    if end < 0:
        if len(data) < _MAX_VERSION_LINE and _VERSION_PREFIX.fullmatch(data, len(MAGIC)):
            raise EnvelopeError("truncated", "the message is incomplete: it ends inside its version line")
        raise EnvelopeError("malformed", "the message's version line is not valid")
    token = _VERSION_TOKEN.fullmatch(data[len(MAGIC) : end])
    if token is None:
        raise EnvelopeError("malformed", "the message's version line is not valid")
    if int(token.group(1)) != MESSAGE_VERSION:
        raise EnvelopeError(
            "unknown_version",
            f"the message is format version {int(token.group(1))}; this release reads version {MESSAGE_VERSION} only",
        )
    fields = _HEADER_V1.fullmatch(data, len(_VERSION_LINE), MESSAGE_HEADER_LEN)
    if fields is None:
        partial = data[len(_VERSION_LINE) :]
        if len(data) < MESSAGE_HEADER_LEN and all(
            (c in _HEX) if s == ord("x") else c == s for c, s in zip(partial, _SHAPE, strict=False)
        ):
            raise EnvelopeError("truncated", f"the message is incomplete: {len(data)} bytes, its header is longer")
        raise EnvelopeError("malformed", "the message's header lines are not valid (id, to, ---)")
    header = Header(MESSAGE_VERSION, fields.group(1).decode("ascii"), bytes.fromhex(fields.group(2).decode("ascii")))
    mid, body = header.envelope_id, data[MESSAGE_HEADER_LEN:]
    if len(body) < _SEAL + BUCKET:
        raise EnvelopeError(
            "truncated", f"message {mid} is incomplete: {len(data)} bytes, at least {MIN_MESSAGE}", envelope_id=mid
        )
    if (len(body) - _SEAL) % BUCKET:
        raise EnvelopeError(
            "malformed", f"message {mid} has a wrong length ({len(data)} bytes): cut or added to", envelope_id=mid
        )
    return header, data[:MESSAGE_HEADER_LEN], body


def read_message_header(data: bytes) -> Header:
    """Read and check a message's public header with no key (``envelope_id`` is the message id)."""
    return _parse(_as_bytes(data, "message"))[0]


def open_message(
    data: bytes,
    *,
    recipient: SigningKey,
    senders: Mapping[bytes, str],
    seen: Callable[[bytes, int, str], bool] | None = None,
) -> Opened:
    """Decrypt and verify a message sealed to the node whose Ed25519 key is ``recipient``.

    ``senders`` maps each known partner's receipt key (32 bytes) to its name. The checks and their
    order are the envelope's: size, header, recipient hint, decryption, inner layout, known sender,
    signature, and last ``seen(sender, sequence, message_id)`` (replay). ``Opened.sender`` is the
    partner's receipt key; ``Opened.created_at`` the partner's clock, told, not trusted.
    """
    header, head, body = _parse(_as_bytes(data, "message"))
    mid = header.envelope_id
    ours = recipient.verify_key
    box = node_box_key(ours)
    if not hmac.compare_digest(header.recipient_hint, _hint(box)):
        raise EnvelopeError(
            "not_for_this_key",
            f"message {mid} is addressed to node key {header.recipient_hint.hex()}, not to this one ({_hint(box).hex()})",
            envelope_id=mid,
        )
    try:
        padded = SealedBox(recipient.to_curve25519_private_key()).decrypt(body)
    except nacl.exceptions.CryptoError:
        raise EnvelopeError(
            "altered", f"message {mid} cannot be decrypted: altered, or sealed to another key", envelope_id=mid
        ) from None
    inner = _read_inner(
        padded,
        "message",
        mid,
        senders,
        lambda key: f"message {mid} was signed by receipt key {key.hex()[:16]}..., which is no registered partner's",
    )
    sender, name, sequence = inner.sender, inner.name, inner.sequence
    try:
        VerifyKey(sender).verify(MESSAGE_CONTEXT + head + bytes(ours) + inner.signed, inner.signature)
    except nacl.exceptions.BadSignatureError:
        raise EnvelopeError(
            "bad_signature",
            f"message {mid} claims to be from {name} but its signature does not match: changed after signing",
            envelope_id=mid,
        ) from None
    if seen is not None and seen(sender, sequence, mid):
        raise EnvelopeError(
            "replayed", f"message {mid} from {name} (sequence {sequence}) repeats one already received", envelope_id=mid
        )
    return inner.opened(header)


def sign_fetch(body: bytes, *, key: SigningKey) -> str:
    """The node's signature over a fetch request's exact body: base64url, 86 characters."""
    return _b64url(key.sign(FETCH_CONTEXT + bytes(body)).signature)


def verify_fetch(body: bytes, proof: str, *, key: VerifyKey) -> bool:
    """True when ``proof`` is ``key``'s fetch signature over exactly ``body``."""
    signature = _unb64url(proof.strip(), _SIG) if isinstance(proof, str) else None
    if signature is None:
        return False
    try:
        key.verify(FETCH_CONTEXT + bytes(body), signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True

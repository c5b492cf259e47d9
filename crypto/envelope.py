"""Relay envelopes: a node's case summaries, signed inside and sealed to a partner (docs/envelope.md).

An envelope is a short text header that anyone can read (version, envelope id, recipient hint),
then a libsodium sealed box to the partner's X25519 key. Inside the box: the node's Ed25519 key,
a per-node sequence number, the creation time, the payload and the node's signature over all of
it *and* the exact header bytes and the partner's full public key, so a swapped id, a re-addressed
header or a body moved to another envelope does not verify. The partner's inbox server reads the
header with no key at all (to deduplicate by id and refuse envelopes for another partner) and
answers with a receipt signed by a separate Ed25519 *receipt key*.

Layout (every length fixed except the payload)::

    grievance-intake/envelope/v1\\n
    id <32 lowercase hex>\\n
    to <16 lowercase hex>\\n
    ---\\n
    SealedBox(partner, pad256(sender[32] || sequence[8] || created_at[8] || payload || signature[64]))

    signature = Ed25519(SIGNATURE_CONTEXT || header || partner_x25519[32] || sender || ... || payload)
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import nacl.bindings as b
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from crypto.errors import CryptoError

__all__ = [
    "BUCKET",
    "HEADER_LEN",
    "MAX_ENVELOPE",
    "MAX_PAYLOAD",
    "MAX_RECEIPT",
    "MIN_ENVELOPE",
    "NODE_KEY_PREFIX",
    "PARTNER_KEY_PREFIX",
    "REASONS",
    "RECEIPT_FORMAT",
    "SIGNATURE_CONTEXT",
    "VERSION",
    "EnvelopeError",
    "Header",
    "Opened",
    "node_key_string",
    "open_envelope",
    "parse_node_key",
    "parse_partner_key",
    "partner_key_string",
    "read_header",
    "recipient_hint",
    "seal",
    "sign_receipt",
    "verify_receipt",
]

VERSION = 1
MAX_ENVELOPE = 1 << 20
MAX_RECEIPT = 1024

MAGIC = b"grievance-intake/envelope/"
_VERSION_LINE = MAGIC + b"v1\n"
_ID_HEX = 32
_HINT_BYTES = 8
HEADER_LEN = len(_VERSION_LINE) + len(b"id \n") + _ID_HEX + len(b"to \n") + 2 * _HINT_BYTES + len(b"---\n")
_HEADER_V1 = re.compile(rb"id ([0-9a-f]{32})\nto ([0-9a-f]{16})\n---\n")
_VERSION_TOKEN = re.compile(rb"v([1-9][0-9]{0,8})")
_VERSION_PREFIX = re.compile(rb"(v([1-9][0-9]{0,8})?)?")
# The v1 header after its version line, one byte class per position ("x": a lowercase hex digit).
_HEADER_SHAPE = b"id " + b"x" * _ID_HEX + b"\nto " + b"x" * (2 * _HINT_BYTES) + b"\n---\n"
_HEX_DIGITS = frozenset(b"0123456789abcdef")
_MAX_VERSION_LINE = len(MAGIC) + 11  # "v" + at most 9 digits + "\n"

# Inner layout, before padding: sender, sequence, created_at, payload, signature.
_KEY = 32
_U64 = 8
_SIG = 64
_FIXED = _KEY + _U64 + _U64
BUCKET = 256
_SEAL = b.crypto_box_SEALBYTES
MIN_ENVELOPE = HEADER_LEN + _SEAL + BUCKET
# The largest payload whose padded, sealed envelope still fits in MAX_ENVELOPE.
MAX_PAYLOAD = ((MAX_ENVELOPE - HEADER_LEN - _SEAL) // BUCKET) * BUCKET - 1 - _FIXED - _SIG

SIGNATURE_CONTEXT = b"grievance-intake/envelope/v1 signature\x00"
RECEIPT_FORMAT = "grievance-intake/receipt/v1"
RECEIPT_CONTEXT = b"grievance-intake/receipt/v1 signature\x00"

PARTNER_KEY_PREFIX = "intake-partner1:"
NODE_KEY_PREFIX = "intake-node1:"

_U64_MAX = (1 << 64) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_SECONDS = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
_ENVELOPE_ID = re.compile(r"[0-9a-f]{32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_RFC3339_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_RECEIPT_KEYS = frozenset({"receipt", "envelope_id", "received_at", "signature"})
# Any clamped scalar turns a small-order X25519 point into zero, which libsodium refuses.
_PROBE_SCALAR = hashlib.sha256(b"grievance-intake/v1 key check").digest()

REASONS = frozenset(
    {
        "truncated",
        "unknown_version",
        "malformed",
        "not_for_this_key",
        "altered",
        "unknown_sender",
        "bad_signature",
        "replayed",
        "too_large",
    }
)

_DEFAULT_MESSAGES = {
    "truncated": "the envelope is incomplete: it was cut short in transfer or copying",
    "unknown_version": "the envelope was made by a newer or unknown version of the format",
    "malformed": "the envelope does not follow the envelope format",
    "not_for_this_key": "the envelope is addressed to another partner key",
    "altered": "the envelope's sealed contents were altered, or sealed to another key",
    "unknown_sender": "the envelope was signed by a node that is not in the list of known nodes",
    "bad_signature": "the signature does not match: the envelope or its header was changed after signing",
    "replayed": "this envelope, or another with the same sender and sequence number, was already opened",
    "too_large": f"the envelope is larger than the {MAX_ENVELOPE} byte limit",
}


class EnvelopeError(CryptoError):
    """An envelope or receipt was refused. ``reason`` is one of :data:`REASONS`.

    ``str(err)`` is a one-line message for an operator; it never holds payload bytes. Where the
    header could be read, ``envelope_id`` names the envelope.
    """

    def __init__(self, reason: str, message: str | None = None, *, envelope_id: str | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown envelope error reason {reason!r}")
        super().__init__(message or _DEFAULT_MESSAGES[reason])
        self.reason = reason
        self.envelope_id = envelope_id


@dataclass(frozen=True)
class Header:
    """What anyone can read from an envelope without a key."""

    version: int
    envelope_id: str  # 32 lowercase hex characters (16 random bytes)
    recipient_hint: bytes  # first 8 bytes of SHA-256 over the partner's X25519 public key


@dataclass(frozen=True)
class Opened:
    """A verified, decrypted envelope."""

    header: Header
    sender: bytes  # the node's 32-byte Ed25519 public key
    sender_name: str  # the display name the opener knows that key by
    sequence: int
    created_at: datetime  # UTC, whole seconds
    payload: bytes = field(repr=False)  # never in logs by accident


# -- small helpers ----------------------------------------------------------------------------------
def _as_bytes(data: Any, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"{what} must be bytes")
    return bytes(data)


def _check_id(envelope_id: Any) -> str:
    if not isinstance(envelope_id, str) or not _ENVELOPE_ID.fullmatch(envelope_id):
        raise ValueError("an envelope id is 32 lowercase hexadecimal characters")
    return envelope_id


def _seconds(when: datetime, what: str) -> int:
    """Whole seconds since 1970 (UTC), rounded down. The caller reads the clock (intake.clock):
    crypto never does, so one clock moves every timestamp at once."""
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    seconds = (when - _EPOCH) // timedelta(seconds=1)
    if seconds < 0:
        raise ValueError(f"{what} must not be before 1970")
    return seconds


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str, size: int) -> bytes | None:
    """Strict base64url without padding: the right alphabet, length and unused bits, or None."""
    if len(text) != (size * 4 + 2) // 3 or not _B64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    # Non-zero unused bits in the last character decode to the same bytes: refuse them.
    return raw if len(raw) == size and _b64url(raw) == text else None


def recipient_hint(key: PublicKey) -> bytes:
    """First 8 bytes of SHA-256 over the partner's X25519 public key: the header's ``to`` line."""
    return _hint(bytes(key))


@functools.lru_cache(maxsize=64)
def _hint(key: bytes) -> bytes:
    # A node seals to, and a partner opens with, one or a few keys: hash each once, not per envelope.
    return hashlib.sha256(key).digest()[:_HINT_BYTES]


def _header_prefix_ok(partial: bytes) -> bool:
    """Could ``partial`` be the start of a v1 header's lines (an envelope cut short there)?"""
    return all(
        (c in _HEX_DIGITS) if shape == ord("x") else c == shape
        for c, shape in zip(partial, _HEADER_SHAPE, strict=False)
    )


def _header_bytes(envelope_id: str, hint: bytes) -> bytes:
    return _VERSION_LINE + b"id " + envelope_id.encode("ascii") + b"\nto " + hint.hex().encode("ascii") + b"\n---\n"


def _signed_message(header: bytes, recipient: bytes, inner: bytes, signature: bytes = b"") -> bytes:
    """What the node signs; with ``signature`` in front, libsodium's combined form for checking it."""
    return b"".join((signature, SIGNATURE_CONTEXT, header, recipient, inner))


# -- sealing ----------------------------------------------------------------------------------------
def seal(
    payload: bytes,
    *,
    sender: SigningKey,
    recipient: PublicKey,
    sequence: int,
    created_at: datetime,
    envelope_id: str | None = None,
) -> bytes:
    """Sign ``payload`` with the node's key and seal it to the partner; returns the envelope.

    ``sequence`` is the node's next sequence number (1 to 2**64-1), ``created_at`` a timezone-aware
    time (stored as whole UTC seconds), ``envelope_id`` 32 lowercase hex characters
    (default 16 random bytes). A payload over :data:`MAX_PAYLOAD` raises ``EnvelopeError("too_large")``.
    """
    body = _as_bytes(payload, "payload")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= _U64_MAX:
        raise ValueError("sequence must be an integer from 1 to 2**64-1")
    seconds = _seconds(created_at, "created_at")
    if seconds > _MAX_SECONDS:
        raise ValueError("created_at is too far in the future")
    envelope_id = nacl.utils.random(_ID_HEX // 2).hex() if envelope_id is None else _check_id(envelope_id)
    if len(body) > MAX_PAYLOAD:
        raise EnvelopeError(
            "too_large", f"a payload of {len(body)} bytes is over the {MAX_PAYLOAD} byte limit of one envelope"
        )
    if not isinstance(sender, SigningKey) or not isinstance(recipient, PublicKey):
        raise TypeError("sender must be a SigningKey and recipient a PublicKey")
    partner = bytes(recipient)
    header = _header_bytes(envelope_id, _hint(partner))
    inner = b"".join((bytes(sender.verify_key), sequence.to_bytes(_U64, "big"), seconds.to_bytes(_U64, "big"), body))
    signature = sender.sign(_signed_message(header, partner, inner)).signature
    padded = b.sodium_pad(inner + signature, BUCKET)
    try:
        sealed = b.crypto_box_seal(padded, partner)  # SealedBox(recipient).encrypt, minus a wrapper object
    except nacl.exceptions.RuntimeError:
        raise ValueError("the partner's X25519 key is not usable (a small-order point)") from None
    return header + sealed


# -- reading ----------------------------------------------------------------------------------------
def _parse(data: bytes) -> tuple[Header, bytes, bytes]:
    """Header, exact header bytes and sealed body; checks everything that needs no key."""
    if len(data) > MAX_ENVELOPE:
        raise EnvelopeError("too_large", f"the envelope is {len(data)} bytes, over the {MAX_ENVELOPE} byte limit")
    # The common case, a v1 line then well-formed header lines, in one comparison and one match;
    # anything else takes the long way below, which says what exactly is wrong.
    fields = _HEADER_V1.fullmatch(data, len(_VERSION_LINE), HEADER_LEN) if data.startswith(_VERSION_LINE) else None
    if fields is None:
        fields = _parse_slow(data)
    header = Header(VERSION, fields.group(1).decode("ascii"), bytes.fromhex(fields.group(2).decode("ascii")))
    body = data[HEADER_LEN:]
    if len(body) < _SEAL + BUCKET:
        raise EnvelopeError(
            "truncated",
            f"envelope {header.envelope_id} is incomplete: {len(data)} bytes, at least {MIN_ENVELOPE} expected",
            envelope_id=header.envelope_id,
        )
    if (len(body) - _SEAL) % BUCKET:
        raise EnvelopeError(
            "malformed",
            f"envelope {header.envelope_id} has a wrong length ({len(data)} bytes): cut short or with bytes added",
            envelope_id=header.envelope_id,
        )
    return header, data[:HEADER_LEN], body


def _parse_slow(data: bytes) -> re.Match[bytes]:
    """The header lines of an envelope that did not pass :func:`_parse`'s quick look, or the error."""
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise EnvelopeError("truncated", f"the envelope is incomplete: only {len(data)} bytes of its first line")
        raise EnvelopeError("malformed", "this is not a relay envelope: it does not start with the envelope line")
    end = data.find(b"\n", len(MAGIC), _MAX_VERSION_LINE)
    if end < 0:
        if len(data) < _MAX_VERSION_LINE and _VERSION_PREFIX.fullmatch(data, len(MAGIC)):
            raise EnvelopeError("truncated", "the envelope is incomplete: it ends inside its version line")
        raise EnvelopeError("malformed", "the envelope's version line is not valid")
    token = _VERSION_TOKEN.fullmatch(data[len(MAGIC) : end])
    if token is None:
        raise EnvelopeError("malformed", "the envelope's version line is not valid")
    if int(token.group(1)) != VERSION:
        raise EnvelopeError(
            "unknown_version",
            f"the envelope is format version {int(token.group(1))}; this release reads version {VERSION} only",
        )
    fields = _HEADER_V1.fullmatch(data, len(_VERSION_LINE), HEADER_LEN)
    if fields is None:
        if len(data) < HEADER_LEN and _header_prefix_ok(data[len(_VERSION_LINE) :]):
            raise EnvelopeError(
                "truncated", f"the envelope is incomplete: {len(data)} bytes, its header alone is longer"
            )
        raise EnvelopeError("malformed", "the envelope's header lines are not valid (id, to, ---)")
    return fields


class _Inner(NamedTuple):
    """A decrypted body's fields, checked but not yet verified: the signature is the caller's."""

    sender: bytes
    name: str  # what ``senders`` calls ``sender``
    sequence: int
    seconds: int
    signed: bytes  # sender || sequence || created_at || payload
    signature: bytes

    def opened(self, header: Header) -> Opened:
        return Opened(
            header=header,
            sender=self.sender,
            sender_name=self.name,
            sequence=self.sequence,
            created_at=_EPOCH + timedelta(seconds=self.seconds),
            payload=self.signed[_FIXED:],
        )


def _read_inner(
    padded: bytes, what: str, ident: str, senders: Mapping[bytes, str], stranger: Callable[[bytes], str]
) -> _Inner:
    """Unpad a decrypted envelope or partner message (``what``, id ``ident``) and check its inner
    layout and sender, in that order. Envelopes and messages share the layout and these refusals;
    ``stranger(sender)`` words the one refusal each words its own way, a key not in ``senders``."""
    try:
        inner = b.sodium_unpad(padded, BUCKET)
    except (nacl.exceptions.CryptoError, ValueError):
        raise EnvelopeError("malformed", f"{what} {ident} has invalid padding inside", envelope_id=ident) from None
    if len(inner) < _FIXED + _SIG:
        raise EnvelopeError("malformed", f"{what} {ident} is too short inside", envelope_id=ident)
    sender = inner[:_KEY]
    sequence = int.from_bytes(inner[_KEY : _KEY + _U64], "big")
    seconds = int.from_bytes(inner[_KEY + _U64 : _FIXED], "big")
    if sequence == 0:
        raise EnvelopeError("malformed", f"{what} {ident} has sequence number 0", envelope_id=ident)
    if seconds > _MAX_SECONDS:
        raise EnvelopeError("malformed", f"{what} {ident} has an impossible creation time", envelope_id=ident)
    name = senders.get(sender)
    if name is None:
        raise EnvelopeError("unknown_sender", stranger(sender), envelope_id=ident)
    return _Inner(sender, name, sequence, seconds, inner[:-_SIG], inner[-_SIG:])


def read_header(data: bytes) -> Header:
    """Read and check an envelope's public header; needs no key.

    Checks everything that can be checked without the partner's private key: size, version,
    header grammar and the sealed body's length. Raises :class:`EnvelopeError`.
    """
    return _parse(_as_bytes(data, "envelope"))[0]


def open_envelope(
    data: bytes,
    *,
    recipient: PrivateKey,
    senders: Mapping[bytes, str],
    seen: Callable[[bytes, int, str], bool] | None = None,
) -> Opened:
    """Decrypt and verify an envelope sealed to ``recipient``.

    ``senders`` maps each known node's Ed25519 public key (32 bytes) to its display name.
    ``seen(sender, sequence, envelope_id)`` returns True when that (sender, sequence) or that
    envelope id was opened before; it is asked only once everything else has verified, and
    recording what was opened is the caller's job (after storing it). Checks, in this order:
    size, header, recipient hint, decryption, inner layout, known sender, signature, replay.
    """
    header, head, body = _parse(_as_bytes(data, "envelope"))
    eid = header.envelope_id
    ours = bytes(recipient.public_key)
    hint = _hint(ours)
    if not hmac.compare_digest(header.recipient_hint, hint):
        raise EnvelopeError(
            "not_for_this_key",
            f"envelope {eid} is addressed to partner key {header.recipient_hint.hex()}, not to this one ({hint.hex()})",
            envelope_id=eid,
        )
    try:
        # SealedBox(recipient).decrypt(body), minus a wrapper object per envelope.
        padded = b.crypto_box_seal_open(body, ours, bytes(recipient))
    except nacl.exceptions.CryptoError:
        raise EnvelopeError(
            "altered", f"envelope {eid} cannot be decrypted: altered, or sealed to another key", envelope_id=eid
        ) from None
    inner = _read_inner(
        padded,
        "envelope",
        eid,
        senders,
        lambda key: (
            f"envelope {eid} was signed by node key {node_key_string(VerifyKey(key))}, which is not a known node"
        ),
    )
    sender, name, sequence = inner.sender, inner.name, inner.sequence
    try:
        # VerifyKey(sender).verify(message, signature), minus the key object and one copy.
        b.crypto_sign_open(_signed_message(head, ours, inner.signed, inner.signature), sender)
    except nacl.exceptions.BadSignatureError:
        raise EnvelopeError(
            "bad_signature",
            f"envelope {eid} claims to be from {name} but its signature does not match: changed after signing",
            envelope_id=eid,
        ) from None
    if seen is not None and seen(sender, sequence, eid):
        raise EnvelopeError(
            "replayed",
            f"envelope {eid} from {name} (sequence {sequence}) repeats an envelope already opened",
            envelope_id=eid,
        )
    return inner.opened(header)


# -- receipts ---------------------------------------------------------------------------------------
def _receipt_message(envelope_id: str, received_at: str) -> bytes:
    return RECEIPT_CONTEXT + envelope_id.encode("ascii") + b"\x00" + received_at.encode("ascii")


def sign_receipt(envelope_id: str, *, key: SigningKey, received_at: datetime) -> bytes:
    """The partner inbox's signed word that it stored envelope ``envelope_id``: a small JSON document."""
    _check_id(envelope_id)
    when = (_EPOCH + timedelta(seconds=_seconds(received_at, "received_at"))).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = key.sign(_receipt_message(envelope_id, when)).signature
    doc = {"receipt": RECEIPT_FORMAT, "envelope_id": envelope_id, "received_at": when, "signature": _b64url(signature)}
    return json.dumps(doc, separators=(",", ":")).encode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member")
    return out


def verify_receipt(receipt: bytes, *, envelope_id: str, key: VerifyKey) -> datetime:
    """Check a receipt for ``envelope_id`` from the partner's receipt key; returns when it was received.

    Raises ``EnvelopeError("malformed")`` for anything that is not a well-formed receipt and
    ``EnvelopeError("bad_signature")`` for a receipt for another envelope or from another key.
    """
    _check_id(envelope_id)
    raw = _as_bytes(receipt, "receipt")
    if len(raw) > MAX_RECEIPT:
        raise EnvelopeError("malformed", f"the receipt is {len(raw)} bytes, over the {MAX_RECEIPT} byte limit")
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("malformed", "the receipt is not a JSON document") from None
    if (
        not isinstance(doc, dict)
        or set(doc) != _RECEIPT_KEYS
        or not all(isinstance(v, str) for v in doc.values())
        or doc["receipt"] != RECEIPT_FORMAT
    ):
        raise EnvelopeError("malformed", f"the receipt is not a {RECEIPT_FORMAT} document")
    got_id, when, sig_text = doc["envelope_id"], doc["received_at"], doc["signature"]
    if not _ENVELOPE_ID.fullmatch(got_id):
        raise EnvelopeError("malformed", "the receipt's envelope id is not valid")
    if not _RFC3339_UTC.fullmatch(when):
        raise EnvelopeError("malformed", "the receipt's time is not in the form YYYY-MM-DDTHH:MM:SSZ")
    try:
        received = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise EnvelopeError("malformed", "the receipt's time is not a real date and time") from None
    signature = _unb64url(sig_text, _SIG)
    if signature is None:
        raise EnvelopeError("malformed", "the receipt's signature is not 64 bytes of base64url")
    if got_id != envelope_id:
        raise EnvelopeError(
            "bad_signature", f"the receipt is for envelope {got_id}, not {envelope_id}", envelope_id=envelope_id
        )
    try:
        key.verify(_receipt_message(got_id, when), signature)
    except nacl.exceptions.BadSignatureError:
        raise EnvelopeError(
            "bad_signature",
            f"the receipt for envelope {envelope_id} was not signed by this partner's receipt key",
            envelope_id=envelope_id,
        ) from None
    return received


# -- key strings ------------------------------------------------------------------------------------
def partner_key_string(box: PublicKey, receipts: VerifyKey) -> str:
    """The partner's public keys as one line to copy to nodes: X25519 (sealing) then Ed25519 (receipts)."""
    return PARTNER_KEY_PREFIX + _b64url(bytes(box) + bytes(receipts))


def node_key_string(key: VerifyKey) -> str:
    """A node's Ed25519 public key as one line to give to its partners."""
    return NODE_KEY_PREFIX + _b64url(bytes(key))


def _key_body(text: Any, prefix: str, other: str, what: str, size: int) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"a {what} must be text")
    text = text.strip()
    if not text.startswith(prefix):
        if text.startswith(other):
            raise ValueError(f"this is a {'node' if other == NODE_KEY_PREFIX else 'partner'} key, not a {what}")
        raise ValueError(f"a {what} starts with {prefix!r}")
    body = text[len(prefix) :]
    if not _B64URL.fullmatch(body):
        raise ValueError(f"a {what} has only the characters A-Z, a-z, 0-9, '-' and '_' after {prefix!r}")
    length = (size * 4 + 2) // 3
    if len(body) != length:
        raise ValueError(f"a {what} has exactly {length} characters after {prefix!r}, not {len(body)}; check the copy")
    raw = _unb64url(body, size)
    if raw is None:
        raise ValueError(f"the last character of this {what} is not valid there; check the copy")
    return raw


def _check_ed25519(raw: bytes, what: str) -> VerifyKey:
    if not b.crypto_core_ed25519_is_valid_point(raw):
        raise ValueError(f"the {what} is not a valid Ed25519 public key")
    return VerifyKey(raw)


def parse_partner_key(text: str) -> tuple[PublicKey, VerifyKey]:
    """Parse ``intake-partner1:...`` into (X25519 sealing key, Ed25519 receipt key); ``ValueError`` if bad."""
    raw = _key_body(text, PARTNER_KEY_PREFIX, NODE_KEY_PREFIX, "partner key", 2 * _KEY)
    try:
        b.crypto_scalarmult(_PROBE_SCALAR, raw[:_KEY])
    except nacl.exceptions.RuntimeError:
        raise ValueError("the partner key's sealing half is not a usable X25519 public key") from None
    return PublicKey(raw[:_KEY]), _check_ed25519(raw[_KEY:], "partner key's receipt half")


def parse_node_key(text: str) -> VerifyKey:
    """Parse ``intake-node1:...`` into the node's Ed25519 key; ``ValueError`` if bad."""
    return _check_ed25519(_key_body(text, NODE_KEY_PREFIX, PARTNER_KEY_PREFIX, "node key", _KEY), "node key")

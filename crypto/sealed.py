"""Sealed items: what the always-on intake stores, and cannot itself open.

A report is sealed in memory to the node's X25519 public key (libsodium sealed box) before it
touches disk: a seized intake server reveals no complaint text (docs/threat-model.md#seizure).
Payloads are padded to 256-byte buckets (ISO/IEC 7816-4, libsodium's ``sodium_pad``) so the
stored length says little about what a worker wrote.

Layout: ``0x01 || SealedBox(pad(payload, 256))``.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import CannotOpen

VERSION = b"\x01"
BUCKET = 256
OVERHEAD = 1 + nacl.bindings.crypto_box_SEALBYTES


def seal_item(payload: bytes, *, to: PublicKey) -> bytes:
    """Seal ``payload`` so only the holder of the matching private key can open it."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError("payload must be bytes")
    padded = nacl.bindings.sodium_pad(bytes(payload), BUCKET)
    return VERSION + SealedBox(to).encrypt(padded)


def open_item(blob: bytes, identity: PrivateKey) -> bytes:
    """Open a sealed item. Every failure raises the same :class:`CannotOpen`."""
    try:
        if len(blob) < OVERHEAD + BUCKET or blob[:1] != VERSION:
            raise CannotOpen("cannot open")
        padded = SealedBox(identity).decrypt(bytes(blob[1:]))
        return bytes(nacl.bindings.sodium_unpad(padded, BUCKET))
    except CannotOpen:
        raise
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotOpen("cannot open") from None

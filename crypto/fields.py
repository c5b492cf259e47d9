"""Field encryption: XChaCha20-Poly1305 with a random nonce and bound associated data.

Used for values kept inside cases.db that must be shreddable on their own (a worker's contact):
deleting the small per-case key (with secure_delete on) makes the value unreadable in the live
store. A backup taken before the deletion still holds the wrapped per-case key, so it can still be
opened with the node's master secret: backups must be rotated (docs/threat-model.md).
"""

from __future__ import annotations

import nacl.bindings as b
import nacl.exceptions
import nacl.utils

from crypto.errors import CannotOpen

KEY_BYTES = b.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_NONCE = b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_VERSION = b"\x01"


def new_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def encrypt_field(key: bytes, plaintext: bytes, *, context: bytes) -> bytes:
    """Encrypt ``plaintext``; ``context`` (e.g. the case id) must be given again to decrypt."""
    nonce = nacl.utils.random(_NONCE)
    aad = _VERSION + context
    return _VERSION + nonce + b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def decrypt_field(key: bytes, blob: bytes, *, context: bytes) -> bytes:
    if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
        raise CannotOpen("cannot open")
    nonce, ct = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    try:
        return bytes(b.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, _VERSION + context, nonce, key))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotOpen("cannot open") from None

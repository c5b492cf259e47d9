"""Cryptography for the intake node: keyring, KDF, sealed items, fingerprints.

Callers say what they mean (``seal_item(payload, to=public)``, ``open_item(blob, identity)``);
nonces, salts and randomness are made inside, and every failure to open is one opaque error.
"""

from crypto.errors import CannotOpen, CryptoError, KeyringError, WrongPassphrase
from crypto.fingerprint import fingerprint
from crypto.kdf import PROFILES, KdfProfile, derive_key, get_profile
from crypto.keyring import Keyring, NodeKeys, Role
from crypto.sealed import open_item, seal_item
from crypto.secret import Secret

__all__ = [
    "PROFILES",
    "CannotOpen",
    "CryptoError",
    "KdfProfile",
    "Keyring",
    "KeyringError",
    "NodeKeys",
    "Role",
    "Secret",
    "WrongPassphrase",
    "derive_key",
    "fingerprint",
    "get_profile",
    "open_item",
    "seal_item",
]

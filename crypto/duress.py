"""A duress passphrase: typed at the desk's unlock form, it triggers panic (intake/panic.py).

Only an Argon2id verifier is kept (libsodium's ``crypto_pwhash_str``: salt and cost inside the
string), so the file tells nobody the passphrase; checking it costs what one unlock costs. It can
never equal a user's real passphrase: the caller checks that before saving (intake/panic.py).
"""

from __future__ import annotations

import nacl.exceptions
from nacl.pwhash import argon2id

from crypto.kdf import KdfProfile


def make_verifier(passphrase: str, profile: KdfProfile) -> bytes:
    return bytes(argon2id.str(passphrase.encode("utf-8"), opslimit=profile.opslimit, memlimit=profile.memlimit))


def matches(verifier: bytes, passphrase: str) -> bool:
    """Whether ``passphrase`` is the duress passphrase of ``verifier``. Never raises for a wrong one."""
    try:
        return bool(argon2id.verify(verifier, passphrase.encode("utf-8")))
    except (nacl.exceptions.InvalidkeyError, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False

"""Key derivation: Argon2id for passphrases, keyed BLAKE2b for purpose keys.

Every derived key has a purpose label (``intake/v1/cases-db``, ...), so one key can never be
mistaken for another, after age's ``x25519Label`` and magic-wormhole's ``derive_key``.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.hash
import nacl.pwhash

KEY_BYTES = 32
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES


@dataclass(frozen=True)
class KdfProfile:
    """Argon2id cost parameters under a name that is stored in the keyring."""

    name: str
    opslimit: int
    memlimit: int


PROFILES: dict[str, KdfProfile] = {
    "interactive": KdfProfile(
        "interactive",
        nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ),
    "moderate": KdfProfile("moderate", nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    # Not libsodium's SENSITIVE (opslimit 4, 1 GiB): unlocking runs inside the desk, so its peak is
    # the desk's resident size plus memlimit, and 1 GiB more does not fit a 4 GB laptop that also runs
    # the desk, a browser and its desktop (docs/laptop.md). Half the memory and three times the
    # passes cost at least as much time, and still 2x moderate's memory and 4x its passes. Measured by
    # bench/bench_memory.py (issue 14; CPU seconds of one unlock, 2 shared cores, load 5-10; peak = the
    # unlocking process's VmHWM, 20 MiB of it the process itself):
    #   moderate            opslimit  3, 256 MiB:  0.4-0.8 s, peak  276 MiB
    #   sensitive, before   opslimit  4,   1 GiB:  3.0-3.5 s, peak 1045 MiB
    #   sensitive, now      opslimit 12, 512 MiB:  3.7-4.1 s, peak  533 MiB
    # Keyrings keep each user's own opslimit and memlimit (crypto/keyring.py), so a keyring made
    # with the old values unlocks as before; a new passphrase takes these.
    "sensitive": KdfProfile("sensitive", 12, 512 * 2**20),
    # For the test suite only: the name says so, and `intake init` refuses it unless asked twice
    # (see intake.cli). Never protects anything (after SecureDrop's insecure_scrypt fixture).
    "insecure-test-only": KdfProfile(
        "insecure-test-only", nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN
    ),
}
DEFAULT_PROFILE = "moderate"
INSECURE_PROFILES = frozenset({"insecure-test-only"})


def get_profile(name: str) -> KdfProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown KDF profile {name!r}; one of {', '.join(PROFILES)}") from None


def passphrase_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Argon2id(passphrase, salt) -> 32-byte wrapping key."""
    return nacl.pwhash.argon2id.kdf(KEY_BYTES, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit)


def derive_key(master: bytes, purpose: str, size: int = KEY_BYTES) -> bytes:
    """A key for one purpose, derived from ``master`` with keyed BLAKE2b over the label."""
    if len(master) < 16:
        raise ValueError("master key too short")
    if not purpose.startswith("intake/"):
        raise ValueError("purpose labels start with 'intake/'")
    return nacl.hash.blake2b(purpose.encode("ascii"), key=master, digest_size=size, encoder=nacl.encoding.RawEncoder)

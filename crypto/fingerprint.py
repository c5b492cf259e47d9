"""Fingerprints two people can read to each other over the phone: 12 groups of 5 digits.

After Signal's safety numbers: SHA-512 over a label and the key, each 5-byte chunk taken
modulo 100000. 60 decimal digits carry ~199 bits, far beyond what a second-preimage search reaches.
"""

from __future__ import annotations

import hashlib

_LABEL = b"intake/v1/fingerprint\x00"


def fingerprint(public_key: bytes, *, kind: str) -> str:
    """``kind`` ("x25519", "ed25519") is hashed in, so two key types never share a fingerprint."""
    digest = hashlib.sha512(_LABEL + kind.encode("ascii") + b"\x00" + bytes(public_key)).digest()
    groups = [int.from_bytes(digest[i : i + 5], "big") % 100000 for i in range(0, 60, 5)]
    return " ".join(f"{g:05d}" for g in groups)

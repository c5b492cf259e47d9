"""Receipt codes: 16 random digits a worker keeps to come back; stored only as a slow keyed hash.

Sixteen digits (~53 bits) are easy to read out and type on a feature phone. The status board is
keyed by Argon2id(code, salt = a secret from intake.key): without that key nobody can test a
guess at all, and with it (a seized intake server) each guess still costs an Argon2id run, so
walking 10^16 codes is out of reach.
"""

from __future__ import annotations

import secrets
import unicodedata

import nacl.pwhash

from intake.domain import ReceiptCode, ReceiptHash

DIGITS = 16
# ~1 ms and 1 MiB per hash on a laptop: cheap for one worker, ruinous for 10^16 guesses.
OPSLIMIT = 2
MEMLIMIT = 1 << 20
_SEPARATORS = frozenset(" -_.\u00a0\u2010\u2011\u2012\u2013\u2014\u2212\u30fc\u3000")


def new_receipt() -> ReceiptCode:
    return ReceiptCode(f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}")


def format_receipt(code: ReceiptCode) -> str:
    """``1234567890123456`` -> ``1234-5678-9012-3456``."""
    return "-".join(code[i : i + 4] for i in range(0, DIGITS, 4))


def parse_receipt(text: str) -> ReceiptCode | None:
    """Accept what a worker types: spaces, dashes, full-width digits (NFKC). None if not a code."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    normalized = unicodedata.normalize("NFKC", text).strip()
    digits = []
    for ch in normalized:
        if ch in _SEPARATORS:
            continue
        if not ("0" <= ch <= "9"):
            return None
        digits.append(ch)
    if len(digits) != DIGITS:
        return None
    return ReceiptCode("".join(digits))


class ReceiptHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("receipt key too short")
        self._salt = key[: nacl.pwhash.argon2id.SALTBYTES]

    def hash(self, code: ReceiptCode) -> ReceiptHash:
        return ReceiptHash(
            nacl.pwhash.argon2id.kdf(32, code.encode("ascii"), self._salt, opslimit=OPSLIMIT, memlimit=MEMLIMIT)
        )

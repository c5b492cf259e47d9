"""Receipt codes: 16 digits a worker keeps to come back; stored only as a slow keyed hash.

Sixteen digits are easy to read out and type on a feature phone. The status board is keyed by
Argon2id(code, salt = a secret from intake.key): without that key nobody can test a guess at all,
and with it (a seized intake server) each guess still costs an Argon2id run, so walking the code
space is out of reach.

Check digit
-----------
A code is 15 random digits and a Damm check digit (``damm(code) == 0``). Damm's quasigroup catches
every single-digit substitution and every swap of two neighbouring digits, the two mistakes people
make most when copying numbers, so a typo is told "please check the code" instead of the
"no reply yet" every unknown code gets. 15 random digits are ~50 bits, still far beyond online
guessing behind the rate limit and one Argon2id run per guess.

Codes issued before check digits existed are 16 uniformly random digits: every 16-digit string,
9 in 10 of them failing the check. No prefix or digit range within 16 digits can tell an old code
from a mistyped new one (old codes used them all), and looking the code up to decide ("fails the
check and unknown, so it is a typo") would be an existence oracle: whoever found a slip of paper
with 16 digits on it could learn whether its holder filed a report, which is the one thing a worker
with no news yet must be able to deny. A new length (17 digits) would be a sound marker, but it
changes the code workers know, the voice read-back, and the SMS receipt, which in six languages fits
two segments only with today's 19 characters; and a dropped digit would fall back to an old code.
So the decision never depends on the code's own lookup, only on:

* the code itself (a pure function: :func:`has_check_digit`), and
* one fact about the whole node, :data:`CHECKED` or :data:`MIXED`, decided once, when a service
  first opens the inbox, and kept in its ``meta`` table: an empty board means no code without a
  check digit was ever handed out (a node installed with check digits), otherwise the board may hold
  old codes (a node upgraded with receipts out). A backup restored from before the upgrade carries
  no such fact and is decided again from its own board.

On a CHECKED node a code failing the check is a typo: the status page, the JSON API, follow-ups and
SMS STATUS say "please check the code", store nothing and look nothing up. On a MIXED node old
codes must keep working, so a code failing the check is answered exactly as before check digits
(looked up; unknown codes look like known ones with no news): there a typo is not caught, and
nothing else changes. Codes passing the check are answered the same way on every node. What an
outsider can learn is thus only what they could compute offline (does this string pass the check)
plus one bit per node (was it installed before check digits); never whether a given code exists.
A found number that passes the check is 10 times likelier to be a receipt than a random one: that
is the price of any check digit, and the status page still answers it like every other code.

Workers type codes in their own script: any Unicode decimal digit (Thai ๐-๙, Devanagari ०-९,
Bengali ০-৯, Arabic-Indic ٠-٩, Extended Arabic-Indic ۰-۹, Burmese ၀-၉, Khmer ០-៩, Tamil ௦-௯,
full-width ０-９, ...) counts as that digit, and spaces, dashes and invisible direction marks
between groups are ignored.
"""

from __future__ import annotations

import enum
import secrets
import unicodedata

import nacl.pwhash

from intake.domain import ReceiptCode, ReceiptHash

DIGITS = 16
# ~1 ms and 1 MiB per hash on a laptop: cheap for one worker, ruinous for 10^15 guesses.
OPSLIMIT = 2
MEMLIMIT = 1 << 20
MAX_TYPED = 64  # what a worker may type around the digits (separators, spaces) before it is not a code
_SEPARATORS = frozenset(" -_.\u00a0\u2010\u2011\u2012\u2013\u2014\u2212\u30fc\u3000\u066b\u066c")

# Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004): interim = T[interim][digit].
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class Scheme(enum.StrEnum):
    """Which codes a node's board can hold (see the module docstring)."""

    CHECKED = "checked"  # every code this node handed out ends in a Damm check digit
    MIXED = "mixed"  # codes from before check digits may still be out: a failing code is looked up


CHECKED, MIXED = Scheme.CHECKED, Scheme.MIXED
SCHEME_META_KEY = "receipt_scheme"


def damm(digits: str) -> int:
    """The Damm interim digit of ASCII ``digits``: 0 when the last digit checks the others."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def has_check_digit(code: ReceiptCode) -> bool:
    return damm(code) == 0


def new_receipt() -> ReceiptCode:
    body = f"{secrets.randbelow(10 ** (DIGITS - 1)):0{DIGITS - 1}d}"
    return ReceiptCode(body + str(damm(body)))


def mistyped(code: ReceiptCode, scheme: Scheme) -> bool:
    """True when ``code`` cannot be one this node handed out: decided without any lookup."""
    return scheme is Scheme.CHECKED and not has_check_digit(code)


def format_receipt(code: ReceiptCode) -> str:
    """``1234567890123456`` -> ``1234-5678-9012-3456``."""
    return "-".join(code[i : i + 4] for i in range(0, DIGITS, 4))


def parse_receipt(text: str) -> ReceiptCode | None:
    """Accept what a worker types: digits of any script, spaces, dashes. None if not 16 digits.

    Returns ASCII digits, so a code typed in Thai and one typed in Latin digits hash the same.
    """
    if not isinstance(text, str) or len(text) > MAX_TYPED:
        return None
    normalized = unicodedata.normalize("NFKC", text).strip()
    digits = []
    for ch in normalized:
        if ch in _SEPARATORS or unicodedata.category(ch) in ("Zs", "Pd", "Cf"):
            continue  # Cf: the direction marks an Arabic-script or Urdu keyboard puts around numbers
        value = unicodedata.decimal(ch, None)
        if value is None:
            return None
        digits.append(str(value))
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

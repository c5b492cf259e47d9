"""National IDs, bank cards and long numbers among digit runs; IDs with letters (HKID, Taiwan, CURP,
passports)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay import idcheck
from relay.redact.core import (
    _P_CARD,
    _P_CHECKSUM,
    _P_ID_SHAPE,
    _P_NUMBER,
    _P_PASSPORT,
    _Cand,
)


def _cn18(d: str) -> int:
    """0, or the priority of an 18-character Chinese resident ID (check digit right, or only its shape)."""
    valid = idcheck.cn18(d)
    return 0 if valid is None else (_P_CHECKSUM if valid else _P_ID_SHAPE)


def _id_by_digits(d: str, shape: tuple[int, ...], plus: bool) -> tuple[int, str] | None:
    """Classify one window of a digit run: ``(priority, kind)`` or None."""
    n = len(d)
    if n == 18:
        p = _cn18(d)
        if p:
            return p, "national_id"
    if plus:
        return None
    if n == 13 and idcheck.thai_id(d):
        return _P_CHECKSUM, "national_id"
    if 13 <= n <= 19 and d.isdigit() and idcheck.luhn(d) and (d[0] in "23456" or d.startswith(("9704", "9792"))):
        return _P_CARD, "bank_card"
    if n == 15 and d[0] in "12345678" and idcheck.valid_date(2000, int(d[8:10]), int(d[10:12])):
        return _P_ID_SHAPE, "national_id"  # China, the old 15-digit form
    if n == 16 and idcheck.nik(d):
        return _P_ID_SHAPE, "national_id"
    if n == 12 and (idcheck.vn_cccd(d) or idcheck.my_nric(d) or shape in ((4, 4, 4), (6, 2, 4))):
        return _P_ID_SHAPE, "national_id"
    if n == 10 and shape == (2, 7, 1):  # Philippines SSS
        return _P_ID_SHAPE, "national_id"
    return None


_RUN = re.compile(r"[0-9](?:[ .\-]?[0-9])*(?:[ .\-]?[Xx](?![A-Za-z0-9]))?")
_GROUP = re.compile(r"[0-9Xx]+")


def _digit_runs(masked: str, phones: list[_Cand]) -> list[_Cand]:
    """National IDs and cards among runs of digits, and what is left of a run as a long number."""
    found: list[_Cand] = []
    for m in _RUN.finditer(masked):
        raw = m.group()
        plus = masked[max(0, m.start() - 2) : m.start()].rstrip().endswith("+")
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _GROUP.finditer(raw)]
        hits: list[_Cand] = []
        for i in range(min(len(groups), 12)):
            for j in range(i + 1, min(len(groups), 12) + 1):
                window = groups[i:j]
                d = "".join(masked[a:b] for a, b in window)
                if not 9 <= len(d) <= 19:
                    continue
                hit = _id_by_digits(d, tuple(b - a for a, b in window), plus)
                # Part of a longer run is believed only on a check digit, not on its shape alone.
                if hit and (hit[0] > _P_ID_SHAPE or j - i == len(groups)):
                    hits.append((window[0][0], window[-1][1], *hit))
        found += hits
        # What no phone, ID or card explains is a number when 7 digits or more remain together.
        known = hits + [c for c in phones if c[0] < m.end() and c[1] > m.start()]
        rest: list[tuple[int, int]] = []
        for a, b in groups:
            if any(k[0] < b and k[1] > a for k in known):
                rest.append((-1, -1))
            else:
                rest.append((a, b))
        for chunk in _split(rest):
            if sum(c.isdigit() for c in masked[chunk[0] : chunk[1]]) >= 7:
                a, b = chunk
                while a > 0 and masked[a - 1].isascii() and masked[a - 1].isalnum():
                    a -= 1
                while b < len(masked) and masked[b].isascii() and masked[b].isalnum():
                    b += 1
                found.append((a, b, _P_NUMBER, "number"))
    return found


def _split(groups: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Consecutive groups joined into spans, ``(-1, -1)`` breaking them."""
    start = end = -1
    for a, b in [*groups, (-1, -1)]:
        if a < 0:
            if start >= 0:
                yield start, end
            start = -1
        else:
            start = a if start < 0 else start
            end = b


# --- IDs with letters ------------------------------------------------------------------------------

_HKID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,2})(\d{6})\s?(?:\(\s?([0-9Aa])\s?\)|([0-9Aa]))(?![A-Za-z0-9])")
_TWID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z])([1289]\d{8})(?![A-Za-z0-9])")
_CURP = re.compile(
    r"(?<![A-Za-z0-9])(?i:[A-Z][AEIOUX][A-Z]{2}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[HMX]"
    r"(?:AS|BC|BS|CC|CL|CM|CS|CH|DF|CX|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)"
    r"[B-DF-HJ-NP-TV-Z]{3}[A-Z0-9]\d)(?![A-Za-z0-9])"
)
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d{6,9}(?![A-Za-z0-9])")


def _lettered_ids(norm: str) -> list[_Cand]:
    """HKID, Taiwan ID and CURP (by check digit, else by shape), and passport-shaped tokens."""
    found: list[_Cand] = []
    for m in _HKID.finditer(norm):
        letters, digits, paren, bare = m.groups()
        ok = idcheck.hkid(letters, digits, paren or bare)
        if paren:
            found.append((m.start(), m.end(), _P_CHECKSUM if ok else _P_ID_SHAPE, "national_id"))
        elif ok:  # A1234567 may as well be a passport: let the passport shape win
            found.append((m.start(), m.end(), _P_ID_SHAPE, "national_id"))
    for m in _TWID.finditer(norm):
        if idcheck.taiwan_id(m.group(1), m.group(2)):
            found.append((m.start(), m.end(), _P_CHECKSUM, "national_id"))
    for m in _CURP.finditer(norm):
        found.append((m.start(), m.end(), _P_CHECKSUM if idcheck.curp(m.group()) else _P_ID_SHAPE, "national_id"))
    found.extend((m.start(), m.end(), _P_PASSPORT, "passport") for m in _PASSPORT.finditer(norm))
    return found

"""Phone numbers: stretches of digits and separators valid for one of :data:`REGIONS`."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from relay.redact.core import _P_PHONE, _Cand

#: Regions whose phone numbering plans are tried for numbers written without ``+``.
REGIONS = (
    "CN", "VN", "MX", "ID", "PH", "TH", "MY", "IN", "BD", "PK", "HK", "TW", "NP", "MM", "KH",
    "CZ", "PL", "UA", "FR", "KE", "TZ", "CD", "US", "GB",
)  # fmt: skip


@lru_cache(maxsize=4096)
def _is_phone(raw: str) -> bool:
    """Whether ``raw`` (separators allowed) is a valid number in one of :data:`REGIONS`."""
    regions: tuple[str | None, ...] = (None,) if raw.lstrip("( ").startswith("+") else REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


_PHONE_AREA = re.compile(
    r"(?<![A-Za-z0-9])(?:\+\s?|\(\s?\+?)?[0-9](?:[0-9]|[ .\-/]{1,2}(?=[0-9(])|\(\s?(?=[0-9])|\)\s?(?=[0-9]))*"
    r"(?![A-Za-z0-9])"
)


def _phones(masked: str) -> list[_Cand]:
    """Valid phone numbers: only stretches of digits and separators are shown to ``phonenumbers``."""
    found: list[_Cand] = []
    for m in _PHONE_AREA.finditer(masked):
        raw = m.group()
        digits = sum(c.isdigit() for c in raw)
        if digits < 7 or digits > 40:
            continue
        if _is_phone(raw):
            found.append((m.start(), m.end(), _P_PHONE, "phone"))
            continue
        found.extend(_phones_in_a_row(masked, m.start(), raw))
    return found


def _phones_in_a_row(masked: str, offset: int, raw: str) -> list[_Cand]:
    """Several numbers written one after the other ("13812345678 13987654321 ...").

    Whitespace-separated groups are joined into the longest valid phones of 9 digits or more; this
    is believed only when every group left over is long enough (9 digits) to be a number of its own.
    """
    groups = [(g.start() + offset, g.end() + offset) for g in re.finditer(r"\S+", raw)]
    if not 1 < len(groups) <= 8:
        return []
    found: list[_Cand] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            a, b = groups[i][0], groups[j - 1][1]
            n = sum(c.isdigit() for c in masked[a:b])
            if 9 <= n <= 15 and (j - i < len(groups)) and _is_phone(masked[a:b]):
                found.append((a, b, _P_PHONE, "phone"))
                i = j
                break
        else:
            if sum(c.isdigit() for c in masked[groups[i][0] : groups[i][1]]) < 9:
                return []
            i += 1
    return found

"""Check digits and structure of the identity numbers redaction looks for (pure functions).

Each returns whether a string of digits (or letters and digits) is a well-formed number of its
kind: a valid check digit where the scheme has one, a real date and a known region code where it
encodes them. Redaction (``relay.redact``) removes a number that passes with more confidence than
one that merely has the shape.
"""

from __future__ import annotations


def luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def valid_date(yyyy: int, mm: int, dd: int) -> bool:
    if not 1 <= mm <= 12 or dd < 1:
        return False
    days = (31, 29 if yyyy % 4 == 0 and (yyyy % 100 or yyyy % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return dd <= days[mm - 1]


def cn18(d: str) -> bool | None:
    """China's 18-character resident ID (``X`` check allowed): True with a valid check digit,
    False with the right shape and date but a wrong check digit, None when it is not one at all."""
    if len(d) != 18 or not d[:17].isdigit() or d[0] not in "12345678":
        return None
    if not 1900 <= int(d[6:10]) <= 2099 or not valid_date(int(d[6:10]), int(d[10:12]), int(d[12:14])):
        return None
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(d[:17], weights, strict=True)) % 11]
    return d[17].upper() == check


def thai_id(d: str) -> bool:
    if len(d) != 13 or d[0] == "0":
        return False
    return (11 - sum(int(c) * (13 - i) for i, c in enumerate(d[:12])) % 11) % 10 == int(d[12])


_NIK_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "21",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "51",
        "52",
        "53",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "72",
        "73",
        "74",
        "75",
        "76",
        "81",
        "82",
        "91",
        "92",
        "93",
        "94",
    ]
)
_VN_PROVINCES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)


def nik(d: str) -> bool:
    if len(d) != 16 or d[:2] not in _NIK_PROVINCES:
        return False
    day = int(d[6:8])
    day = day - 40 if day > 40 else day
    return valid_date(2000, int(d[8:10]), day) and d[12:] != "0000"


def my_nric(d: str) -> bool:
    return len(d) == 12 and valid_date(2000, int(d[2:4]), int(d[4:6])) and 1 <= int(d[6:8]) <= 99


def vn_cccd(d: str) -> bool:
    return len(d) == 12 and d[:3] in _VN_PROVINCES and d[3] in "0123"


_TW_LETTERS = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))


def hkid(letters: str, digits: str, check: str) -> bool:
    values = [36] * (2 - len(letters)) + [ord(c) - 55 for c in letters.upper()] + [int(c) for c in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    expected = (11 - total % 11) % 11
    return check.upper() == ("A" if expected == 10 else str(expected))


def taiwan_id(letter: str, digits: str) -> bool:
    code = _TW_LETTERS[letter.upper()]
    total = code // 10 + (code % 10) * 9 + sum(int(c) * w for c, w in zip(digits[:8], range(8, 0, -1), strict=True))
    return (total + int(digits[8])) % 10 == 0


def curp(curp: str) -> bool:
    alphabet = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * (18 - i) for i, c in enumerate(curp[:17].upper()))
    return (10 - total % 10) % 10 == int(curp[17])

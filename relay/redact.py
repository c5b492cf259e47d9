"""Redaction: what a case summary's free text loses before it leaves the node (issue 6, DESIGN "Relay").

A summary's narrative and free-text fields go to an international partner; a worker's phone number,
ID card, badge number, chat account or name must not. :func:`redact` finds them and replaces each
with a short placeholder in the summary's language (:mod:`relay.tokens`), and says what it removed
so the desk can show the caseworker who approves the text exactly what went.

What is found (kinds as in :data:`relay.tokens.TOKENS`):

- ``phone``: numbers valid for one of :data:`REGIONS` (``phonenumbers``), with ``+``/``00`` prefixes;
- ``email``, ``url`` (with or without a scheme), ``chat`` (a handle after WeChat/微信/QQ/Zalo/LINE/...,
  and ``@handles``);
- ``national_id``: China 18 digits (ISO 7064 MOD 11-2) and 15, Hong Kong HKID, Taiwan, Thailand
  (checksums), Malaysia NRIC, Indonesia NIK, Vietnam CCCD, Philippines PhilSys/SSS (by structure),
  Mexico CURP (check digit), and anything ID-like after an ID-card cue (身份证, CCCD, cédula, ...);
- ``passport``: 1-2 letters and 6-9 digits, or any 6-10 letters and digits after a passport cue;
- ``worker_id``: badge and worker numbers after a cue (工号, badge, mã NV, número de empleado, ...)
  and whatever the labour group's own ``patterns`` match;
- ``bank_card``: 13-19 digits passing Luhn with a card-scheme prefix; account numbers after a cue;
- ``name``: the case's known names, names that follow a self-introduction (my name is, 我叫,
  tôi tên là, me llamo, ...) or a title (Mr. Chen, anh Tuấn, 刘主管, 老王), wherever they recur;
- ``dormitory``, ``line``, ``shift``, ``department``: the quasi-identifiers the design says never
  leave ("宿舍B栋305", "line 3", "夜班", "tổ 3", "departamento de calidad"), the mention only;
- ``number``: any other run of 7 or more digits (spaces, dots or dashes between them).

Money with a currency, dates, times and quantities ("2000元", "$300", "7.000.000 đồng", "2026-03-04",
"08.00-17.00", "12 hours") stay: they are the evidence. When in doubt it removes: a partner losing
a digit run hurts less than a worker exposed. The text is matched after NFKC (full-width forms,
other digit scripts), names also without case or Latin diacritics; removals are spans of the text
as given. Overlapping finds become one removal, of the most specific kind.

Known gaps: names nobody introduced, listed or titled ("Li Wei told me"); numbers spelt out or in
Chinese numerals; phones under 7 digits; handles without a cue or ``@``; badge numbers under 7
digits without a cue (a labour group's ``patterns`` cover its own formats); rooms without a cue word
("住在305"); a Thai surname after the given name; bare domains on word-like TLDs (``.in``, ``.me``)
unless followed by a path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from relay import idcheck
from relay.names import _introductions, _names
from relay.text import (
    _B,
    _CNNUM,
    _E,
    _HAN,
    _kw,
    _lead,
    _normalize,
    _words,
)
from relay.tokens import token

__all__ = ["REGIONS", "Redacted", "Removal", "redact"]

#: Regions whose phone numbering plans are tried for numbers written without ``+``.
REGIONS = (
    "CN", "VN", "MX", "ID", "PH", "TH", "MY", "IN", "BD", "PK", "HK", "TW", "NP", "MM", "KH",
    "CZ", "PL", "UA", "FR", "KE", "TZ", "CD", "US", "GB",
)  # fmt: skip


@dataclass(frozen=True)
class Removal:
    """One removed identifier: ``[start, end)`` in the original text."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redacted:
    """A redacted text, its removals (sorted, non-overlapping, in the original text) and the
    placeholders' locale, which :meth:`pieces` needs to find them again."""

    text: str
    removals: tuple[Removal, ...]
    locale: str = "en"

    def pieces(self) -> list[tuple[str, str | None]]:
        """The text split into ``(text, kind)``: ``kind`` for a placeholder, ``None`` for kept text."""
        out: list[tuple[str, str | None]] = []
        pos = shift = 0
        for removal in self.removals:
            placeholder = token(removal.kind, self.locale)
            start = removal.start + shift
            end = start + len(placeholder)
            if self.text[start:end] != placeholder:
                raise ValueError("the text does not match its removals")
            if start > pos:
                out.append((self.text[pos:start], None))
            out.append((placeholder, removal.kind))
            pos = end
            shift += len(placeholder) - (removal.end - removal.start)
        if pos < len(self.text):
            out.append((self.text[pos:], None))
        return out


# --- priorities: the most specific find wins an overlap -------------------------------------------

_P_EMAIL = 100
_P_URL = 95
_P_CUE_ID = 92  # passport or ID card, said so
_P_CHECKSUM = 90  # national ID with a valid check digit
_P_BANK_CUE = 88
_P_CARD = 85
_P_CUE = 82  # chat handle or worker number after its cue, the labour group's patterns
_P_PASSPORT = 80
_P_PHONE = 70
_P_ID_SHAPE = 60  # national ID by structure alone
_P_NAME = 55
_P_QUASI = 50
_P_NUMBER = 10

_Cand = tuple[int, int, int, str]  # start, end, priority, kind (in normalised coordinates)

# --- what stays: money, dates, times, quantities ------------------------------------------------

_AMOUNT = r"(?:\d{1,3}(?:[., \u00a0']\d{3})+(?:[.,]\d{1,2})?|\d{1,12}(?:[.,]\d{1,2})?)"
_CUR_PRE = (
    r"(?:US\$|HK\$|NT\$|MX\$|[$€£¥₫₱₹฿₴₩₭₦৳]|"
    r"(?i:rmb|cny|usd|vnd|mxn|php|idr|myr|thb|inr|czk|pln|uah|eur|kes|tzs|cdf|npr|bdt|pkr|khr|mmk|rp\.?|rm|rs\.?|ksh|tsh))"
)
_CUR_SUF = (
    r"(?:元|块钱|块|万元|万|千元|百元|毛|角|人民币|美元|美金|港币|港元|台币|越南盾|比索|卢比|泰铢|"
    r"(?i:đồng|dong|vnđ|vnd|đ|nghìn|ngàn|triệu|tr|k|pesos?|dólares?|dolares?|mxn|usd|dollars?|bucks|yuan|"
    r"rmb|cny|rupiah|ribu|juta|ringgit|rm|baht|บาท|piso|rupees?|rs|रुपये|रुपए|kč|kc|korun[ay]?|czk|zł|zl|"
    r"złotych|zlotych|pln|грн|гривень|гривні|uah|€|euros?|eur|shillings?|ksh|tsh|francs?|fc|cdf|kyats?|"
    r"riels?|taka|tk|৳|₫|₹|฿|₱|\$))"
)
_UNITS = (
    r"(?:个小时|小时|天|周|个月|月|年|岁|日|号|点钟|点|分钟|分|秒|个人|人|名|位|次|件|个|斤|公斤|度|"
    r"(?i:hours?|hrs?|h|days?|weeks?|months?|years?|yrs?|minutes?|mins?|seconds?|people|persons?|workers?|"
    r"times|pieces|pcs|kg|g|km|m|cm|mm|degrees|giờ|tiếng|ngày|tuần|tháng|năm|tuổi|người|lần|phút|cái|"
    r"chiếc|horas?|días?|dias?|semanas?|meses|mes|años?|anos?|personas|trabajadores|veces|minutos?|piezas|"
    r"jam|hari|minggu|bulan|tahun|orang|kali|menit|oras|araw|linggo|buwan|taon|tao|beses|heures?|jours?|"
    r"semaines?|mois|ans|personnes|fois|hodin|hodiny|dní|dnů|dny|měsíců|let|lidí|godzin|godziny|dni|"
    r"miesięcy|lat|osób|razy|годин|днів|місяців|років|людей|разів|часов|дней|घंटे|दिन|महीने|साल|लोग|"
    r"ชั่วโมง|วัน|เดือน|ปี|คน|ครั้ง)|%|°)"
)
_TIME = r"(?:[01]?\d|2[0-4])[:.h][0-5]\d"
_PROTECT = tuple(
    re.compile(part)
    for part in (
        rf"{_lead(_CUR_PRE)}(?<![0-9]){_CUR_PRE}\s?{_AMOUNT}(?![0-9])",
        rf"(?=[0-9])(?<![0-9]){_AMOUNT}\s?{_CUR_SUF}(?![^\W\d_])",
        # dates: 2026-03-04, 04.03.2026, 4/3/26, and 20260304 standing alone
        r"(?=[0-9])(?<![0-9])(?<![0-9][-./])(?:(?:19|20)\d{2}([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
        r"|(?:0?[1-9]|[12]\d|3[01])([-./])(?:0?[1-9]|1[0-2])\2(?:19|20)?\d{2})(?![0-9])(?![-./][0-9])",
        r"(?=[12])(?<![0-9])(?<![0-9][-./ ])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![0-9])(?![-./ ][0-9])",
        r"(?=[12])(?<![0-9])(?:19|20)\d{2}\s?[-–/]\s?(?:19|20)\d{2}(?![0-9])",  # 2025-2026
        # times and ranges: 8:00, 08.00-17.00, 8h00 à 17h00
        rf"(?=[0-9])(?<![0-9])(?<![0-9][.:]){_TIME}(?:\s?(?:-|–|~|to|until|đến|tới|a|al|hasta|sampai|hingga|à|do|до)\s?{_TIME})?"
        r"(?![0-9])(?![.:][0-9])",
        rf"(?=[0-9])(?<![0-9])\d{{1,4}}(?:[.,]\d{{1,2}})?\s?{_UNITS}(?![^\W\d_])",
    )
)


def _mask(text: str) -> str:
    """``text`` with its evidence (money, dates, times, quantities) blanked, same length."""
    chars = list(text)
    for pattern in _PROTECT:
        for m in pattern.finditer(text):
            chars[m.start() : m.end()] = "\x00" * (m.end() - m.start())
    return "".join(chars)


# --- digits: phones, national IDs, cards, long numbers ------------------------------------------


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


# --- e-mail, links, handles ----------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62})+"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s*[\[({]\s*(?i:at|@)\s*[\])}]\s*[A-Za-z0-9\-]+"
    r"(?:\s*(?:[\[({]\s*(?i:dot)\s*[\])}]|\.)\s*[A-Za-z0-9\-]+)+"
)
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TLD = (
    "com|net|org|info|biz|io|app|dev|xyz|top|site|online|vip|club|shop|link|live|news|blog|cn|hk|tw|mo|vn|th|"
    "ph|np|bd|mm|kh|pk|mx|cz|pl|ua|fr|ke|tz|cd|uk|ru|jp|kr|sg|au|nz|br|ar|cl|pe|gov|edu|ly|gl|cc|tk|ws|eu|asia|tv"
)
_TLD_WORDLIKE = "in|me|to|id|my|co|us|be|it|at|no|so|do|am|la|de|es|ca|is|ai|ac|ng|lk|ae|se|sk|ro|nl|ch|pt|tr"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_URL = re.compile(
    rf"(?i:(?:https?|ftp)://|www\.){_URL_CHARS}+"
    rf"|(?<![A-Za-z0-9@.\-_/])(?:{_LABEL}\.)+(?:(?i:{_TLD})(?![A-Za-z0-9\-])"
    rf"|(?i:com|co|org|net|gov|edu|ac)\.(?i:{_TLD_WORDLIKE})(?![A-Za-z0-9\-])|(?i:{_TLD_WORDLIKE})(?=/))"
    rf"(?:[/?#]{_URL_CHARS}*)?"
)


def _trim_url(s: str) -> int:
    """How much of a matched link to keep: no trailing punctuation, no unbalanced closing bracket."""
    end = len(s)
    while end and s[end - 1] in ".,;:!?'\")]}":
        if s[end - 1] == ")" and s[:end].count("(") >= s[:end].count(")"):
            break
        end -= 1
    return end


_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+\-@/])@[A-Za-z0-9_](?:[A-Za-z0-9_]|\.(?=[A-Za-z0-9_])){2,30}")


def _links(norm: str) -> list[_Cand]:
    """E-mail addresses, links and ``@handles``."""
    found: list[_Cand] = [(m.start(), m.end(), _P_EMAIL, "email") for m in _EMAIL.finditer(norm)]
    for m in _URL.finditer(norm):
        end = m.start() + _trim_url(m.group())
        if end - m.start() > 4:
            found.append((m.start(), end, _P_URL, "url"))
    found.extend((m.start(), m.end(), _P_CUE, "chat") for m in _HANDLE.finditer(norm))
    return found


# --- values after a cue ----------------------------------------------------------------------------

_CONNECT = (
    r"(?P<c>(?:\s*(?:[:：#=＝\-–№]|(?i:no\.?|nr\.?|n[º°]\.?|num\.?|number|numero|número|số|là|la|is|es|est|ay|"
    r"adalah|ialah|je|jest|id|saya|aku|của\s+tôi|tôi|mi|ko|my)(?![A-Za-z])|是|为|為|号码|號碼|号|號|码|碼|账号|帳號)\s*){0,3}\s*)"
)


def _cue(cues: str, value: str) -> re.Pattern[str]:
    return re.compile(f"{_lead(cues)}{_B}(?P<cue>{cues}){_CONNECT}(?P<v>{value})")


_ALNUM_VALUE = r"[A-Za-z0-9](?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9]))*"
_WORKER = _cue(
    r"员工编号|員工編號|员工号|員工號|工号|工號|工牌号?|工卡号?|厂牌号?|廠牌號?|工作证号?|编号|編號|"
    r"(?i:(?:employee|staff|worker|emp\.?|payroll)\s*(?:id|no\.?|number|num\.?|#|code)|id\s*(?:no\.?|number|#)|"
    r"badge(?:\s*(?:id|no\.?|number|#))?|mã\s*(?:số\s*)?(?:nv|nhân\s+viên)|msnv|số\s+thẻ(?:\s+nhân\s+viên)?|"
    r"thẻ\s+nhân\s+viên|mã\s+thẻ|número\s+de\s+(?:empleado|trabajador|nómina)|n[º°o]\.?\s*de\s+empleado|"
    r"nómina|nomina|ficha|gafete|credencial|no\.?\s*(?:pekerja|karyawan|pegawai)|"
    r"nomor\s+(?:pekerja|karyawan|pegawai|induk)|id\s+karyawan|nombor\s+pekerja|nip|numero\s+ng\s+empleyado|"
    r"matricule|numéro\s+d['’]employé|osobní\s+číslo|číslo\s+zaměstnance|numer\s+(?:pracownika|służbowy)|"
    r"табельн\w*\s+номер)|कर्मचारी\s*(?:आईडी|संख्या|नंबर)|รหัสพนักงาน|เลขพนักงาน",
    _ALNUM_VALUE,
)
_PASSPORT_CUE = _cue(
    r"护照|護照|पासपोर्ट|หนังสือเดินทาง|(?i:passport|pasaporte|pasaport|paspor|passeport|cestovní\s+pas|"
    r"paszport|паспорт\w*|hộ\s*chiếu)",
    r"[A-Za-z0-9]{6,10}(?![A-Za-z0-9])",
)
_NATIONAL_CUE = _cue(
    r"身份证|身份證|身分證|证件|證件|आधार|บัตรประชาชน|เลขประจำตัวประชาชน|"
    r"(?i:id\s*card|identity\s*card|national\s*id|citizen\s*id|hkid|nric|mykad|ktp|cccd|cmnd|"
    r"căn\s*cước(?:\s*công\s*dân)?|chứng\s*minh\s*(?:nhân\s*dân|thư)|cédula|cedula|curp|philsys|umid|"
    r"aadhaa?r|pesel|rodné\s*číslo|občansk\w*\s*průkaz\w*|dowód\s*osobisty|carte\s*d['’]identité|"
    r"інн|іпн|рнокпп|ідентифікаційн\w*\s*код\w*|инн)|IC|INE|NIK|DNI|SSS|PSN|CNI",
    r"(?:[A-Za-z]{1,4}[-\s]?)?[0-9](?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9])|\s(?=[0-9]))*(?:\s?\([0-9A-Za-z]\))?",
)
_BANK_CUE = _cue(
    r"银行卡|銀行卡|卡号|卡號|银行账号|銀行帳號|账户|帳戶|"
    r"(?i:bank\s*(?:card|account)|card\s*(?:no\.?|number)|account\s*(?:no\.?|number)|acct\.?|"
    r"số\s+tài\s+khoản|stk|tài\s+khoản(?:\s+ngân\s+hàng)?|số\s+thẻ\s+ngân\s+hàng|thẻ\s+atm|"
    r"número\s+de\s+(?:cuenta|tarjeta)|cuenta|tarjeta|clabe|rekening|no\.?\s*rek\.?|akaun(?:\s+bank)?|"
    r"numer\s+(?:konta|karty)|číslo\s+(?:účtu|karty)|номер\s+(?:картки|рахунку|карты|счета)|iban|"
    r"compte(?:\s+bancaire)?)",
    r"[0-9](?:[0-9]|[ \-.](?=[0-9]))*",
)
_CHAT_CUE = _cue(
    r"微信|微訊|威信|薇信|[Vv]信|抖音|快手|脸书|臉書|"
    r"(?i:we\s*chat|weixin|wx|vx|qq|line\s*id|whats\s*app|zalo|telegram|viber|facebook|fb|messenger|"
    r"instagram|tiktok|kakao(?:\s*talk)?|skype)|LINE|Line|WA|TG|IG",
    r"\+?[0-9](?:[0-9]|[ \-.](?=[0-9]))*(?![A-Za-z_])|@?[A-Za-z0-9_](?:[A-Za-z0-9_]|[.\-](?=[A-Za-z0-9_]))*",
)
_PROFILE_CUES = ("facebook", "fb", "zalo", "messenger", "kakao", "skype", "viber", "脸书", "臉書")
_STRONG_CONNECT = re.compile(r"[:：#=＝]|(?i:id)|号|號|账号|帳號")
_NOT_HANDLES = _words(
    "please group groups account message messages call calls chat chats friend friends only also number name here "
    "there now then later today tomorrow yesterday not yes okay and the with for from this that them him her our "
    "their your blocked deleted nhóm của tôi với và hoặc grupo cuenta para con por mensaje"
)
_CAP_WORDS = re.compile(r"[A-ZÀ-ÖØ-ÞĐƠƯ\u1e00-\u1efe][^\W\d_]*(?:\s+[A-ZÀ-ÖØ-ÞĐƠƯ\u1e00-\u1efe][^\W\d_]*){0,3}")


def _cued(norm: str) -> list[_Cand]:
    """Values after a cue word: worker numbers, passports, ID cards, bank accounts, chat handles."""
    found: list[_Cand] = []
    for m in _WORKER.finditer(norm):
        v = m.group("v")
        if 2 <= len(v) <= 24 and any(c.isdigit() for c in v):
            found.append((m.start("v"), m.end("v"), _P_CUE, "worker_id"))
    for m in _PASSPORT_CUE.finditer(norm):
        if sum(c.isdigit() for c in m.group("v")) >= 2:
            found.append((m.start("v"), m.end("v"), _P_CUE_ID, "passport"))
    for m in _NATIONAL_CUE.finditer(norm):
        v = m.group("v").rstrip()
        if len(v) >= 6 and sum(c.isdigit() for c in v) >= 4:
            found.append((m.start("v"), m.start("v") + len(v), _P_CUE_ID, "national_id"))
    for m in _BANK_CUE.finditer(norm):
        if sum(c.isdigit() for c in m.group("v")) >= 8:
            found.append((m.start("v"), m.end("v"), _P_BANK_CUE, "bank_card"))
    for m in _CHAT_CUE.finditer(norm):
        span = _chat_value(norm, m)
        if span:
            found.append((*span, _P_CUE, "chat"))
    return found


def _chat_value(norm: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The handle after a chat cue, if it looks like one: digits, ``_`` or ``.`` in it, a ``:`` or
    "ID" before it, or a Chinese cue; a profile name after "Facebook:" and the like."""
    v = m.group("v").rstrip(".-")
    start, end = m.start("v"), m.start("v") + len(v)
    bare = v.lstrip("@+")
    strong = bool(_STRONG_CONNECT.search(m.group("c")))
    cue = m.group("cue")
    if len(bare) < 4:
        return None
    if v[0] in "@+" or any(c.isdigit() or c in "_." for c in bare):
        return start, end
    if cue.casefold() in _PROFILE_CUES and (strong or m.group("c").strip()) and v[0].isupper():
        names = _CAP_WORDS.match(norm, start)
        return (start, names.end()) if names else None
    if v.casefold() in _NOT_HANDLES:
        return None
    if strong or not cue.isascii():
        return start, end
    return None


# --- dormitories, lines, shifts, departments --------------------------------------------------

_NUMWORD = r"(?:(?i:no\.?|nr\.?|n[º°o]\.?|number|numero|número|num\.?|số|č\.|#|№)\s*)?"
_NOT_HOURS = r"(?!\s*(?i:h\b|hours?|hrs?|giờ|tiếng|horas?|jam|oras|heures?|hodin|godzin|годин|часов|小时))"
_DES = (
    rf"(?:[A-Z]{{1,3}}[- ]?\d{{1,4}}[A-Z]?|\d{{1,4}}(?:[-/]\d{{1,4}})?[A-Z]?|[A-ZА-ЯІЇЄҐ])(?![A-Za-z0-9]){_NOT_HOURS}"
)
_DES_CN = rf"(?:[A-Za-z]{{1,3}}-?\d{{0,4}}|\d{{1,4}}[A-Za-z]?|{_CNNUM})"
_D_CN = rf"(?:第\s*{_DES_CN}\s*[号號条條]?|(?:{_DES_CN})\s*[号號]|[A-Za-z]{{1,3}}\d{{0,4}}|\d{{1,4}}[A-Za-z]?)"
_AFTER_CN = r"(?![人个個名天小时時年月日元块塊岁歲次线線班组組车車拉])"

# Chinese mentions led by a designator ("3号宿舍楼202室", "B栋305", "A线", "第三车间"): looked for only
# around their keyword, ``re`` being slow to try a designator at every letter and digit of a text.
_CN_TRIGGER = re.compile("宿舍|寝室|寢室|[线線栋棟幢座楼樓组組]|车间|車間|工段")
_DORMITORY_CN = (
    rf"(?:{_DES_CN}[号號]?)?(?:员工|員工)?(?:宿舍楼|宿舍樓|宿舍区|宿舍區|宿舍|寝室|寢室)"
    rf"(?:[\s:：#\-]*{_DES_CN}(?:号楼|號樓|号房|號房|[号號栋棟幢座楼樓层層单元區区室房间間])?{_AFTER_CN}){{1,4}}"
    "|"
    rf"(?:{_DES_CN}[区區]\s*)?{_DES_CN}(?:号楼|號樓|[栋棟幢座])(?:[\s\-]*{_DES_CN}(?:号房|號房|[号號室房层層楼樓]|单元)?{_AFTER_CN}){{0,3}}"
)
_LINE_CN = rf"{_D_CN}\s*(?:生产线|生產線|产线|產線|流水线|流水線|拉线|拉線|线|線)"
_DEPARTMENT_CN = rf"(?:{_D_CN}\s*(?:车间|車間|工段|班组|班組|组|組)|{_CNNUM}(?:车间|車間)){_AFTER_CN}"
_DORMITORY_PARTS = (
    r"(?<![0-9])\d{3,4}(?:号房|號房|[室房])",
    _B
    + _kw(
        r"dorm(?:itory)?|hostel|room|rm\.?|ký\s+túc\s+xá|ktx|phòng|nhà\s+trọ|dãy\s+trọ|habitación|"
        r"habitacion|cuarto|dormitorio|albergue|chambre|foyer|dortoir|asrama|kamar|bilik|kuwarto|kwarto|silid|"
        r"dormitoryo|pokoj|pokoji|ubytovna|ubytovně|pokój|pokoju|akademik|hotel\s+pracowniczy|кімнат\w*|"
        r"гуртожит\w*|комнат\w*|общежит\w*|कमरा|हॉस्टल|छात्रावास|หอพัก|ห้อง"
    )
    + _E
    + r"(?:\s*[,:]?\s*(?:(?i:block|blk\.?|building|bldg\.?|floor|fl\.?|room|rm\.?|unit|khu|dãy|tòa|toà|nhà|"
    r"tầng|lầu|phòng|edificio|bloque|piso|cuarto|habitación|bâtiment|bloc|étage|blok|gedung|lantai|gusali|"
    rf"budova|patro|budynek|piętro|корпус|поверх|этаж|ตึก|อาคาร|ชั้น)\s*)?{_NUMWORD}{_DES}){{1,3}}",
)
_LINE_PARTS = (
    rf"(?:生产线|生產線|产线|產線|流水线|流水線|拉线|拉線)\s*[:：#\-]?\s*(?:{_DES_CN}|{_CNNUM})[号號]?",
    rf"{_B}(?=[AaPpSsTtCcWwMmLlDdЛллलไ])(?:(?i:assembly|production|prod\.?|packing|packaging|smt|test(?:ing)?|"
    r"sewing|cutting|welding|molding|moulding|painting)\s+)?(?i:line|línea|linea|dây\s+chuyền|chuyền|lini|linya|"
    rf"ligne|linka|lince|linia|linii|лінія|лінії|линия|линии|लाइन|ไลน์){_E}\s*(?:(?i:de\s+(?:ensamble|producción|produccion|montaje|"
    rf"empaque)|sản\s+xuất|lắp\s+ráp)\s*)?{_NUMWORD}(?!I(?![A-Za-z0-9])){_DES}",
)
_SHIFT_PARTS = (
    r"(?:大夜班|小夜班|[早中晚夜白]班)(?:\s*[A-Za-z0-9]班)?",
    r"(?<![A-Za-z0-9])[A-Za-z]班(?![组組])",
    rf"{_B}(?i:(?:day|night|morning|evening|afternoon|graveyard|swing|early|late|first|second|third|1st|2nd|"
    rf"3rd|overnight)\s+shift){_E}(?:\s*{_NUMWORD}{_DES})?",
    rf"{_B}(?i:shift){_E}\s*{_NUMWORD}{_DES}",
    rf"(?<![A-Za-z0-9])[B-HJ-Z]\s+(?i:shift){_E}",
    rf"{_B}(?i:ca\s+(?:đêm|ngày|sáng|chiều|tối|khuya|gãy|hành\s+chính)){_E}(?:\s*{_NUMWORD}{_DES})?",
    rf"{_B}(?i:ca){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:turno\s+(?:de\s+(?:la\s+)?(?:noche|día|dia|mañana|manana|tarde)|nocturno|diurno|matutino|"
    rf"vespertino|mixto)){_E}(?:\s*{_DES})?",
    rf"{_B}(?i:turno){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:shift|sif)\s+(?:malam|pagi|siang|sore|petang)){_E}(?:\s*{_DES})?",
    rf"{_B}(?i:panggabi|pang-gabi|(?:équipe|poste)\s+de\s+(?:nuit|jour|matin|soir|l['’]après-midi)){_E}",
    rf"{_B}(?i:équipe){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:noční|denní|ranní|odpolední)\s+směn\w*|(?:nocn|dzienn|porann|popołudniow)\w*\s+zmian\w*|"
    r"zmian\w*\s+(?:nocn|dzienn|porann|popołudniow)\w*|змін\w*\s+(?:нічн|денн)\w*|смен\w*\s+(?:ночн|дневн)\w*)",
    rf"{_B}(?i:směn[aěuy]|zmian[aęiy]|змін[аиіу]|смен[аыу]){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:нічн|денн|ранков|вечірн|ночн|дневн|утренн|вечерн)\w*\s+(?:змін|смен)\w*)",
    rf"(?:रात|दिन|सुबह|शाम)\s+की\s+(?:पाली|शिफ्ट)|(?:शिफ्ट|पाली)\s*{_DES}",
    r"กะ(?:ดึก|กลางคืน|เช้า|บ่าย|กลางวัน|\s?[A-Z0-9](?![A-Za-z0-9]))",
)
_DEPT_KNOWN_CN = (
    "冲压|沖壓|注塑|喷涂|噴塗|喷漆|噴漆|组装|組裝|装配|裝配|包装|包裝|焊接|电镀|電鍍|抛光|拋光|检测|檢測|测试|測試|成型|"
    "机加|機加|压铸|壓鑄|丝印|絲印|贴片|貼片|后段|後段|前段|总装|總裝|选矿|選礦|冶炼|冶煉|裁床|针车|針車|缝纫|縫紉|"
    "后道|印刷|模具|五金|品质|品質|质量|質量|品管|品保|生产|生產|人事|人力资源|人力資源|行政|工程|采购|採購|仓库|"
    "倉庫|仓储|倉儲|物流|财务|財務|研发|研發|技术|技術|销售|銷售|后勤|後勤|保安|设备|設備|制造|製造|计划|計劃|物料|"
    "IQC|OQC|IPQC|QC|QA|PMC|HR|SMT"
)
_DEPT_KNOWN = (
    "quality|qc|qa|hr|human\\s+resources|packing|packaging|assembly|warehouse|production|maintenance|engineering|"
    "finance|accounting|purchasing|logistics|security|cutting|sewing|finishing|molding|moulding|painting|welding|"
    "stamping|injection|testing|inspection|shipping|canteen|admin(?:istration)?|smt|electroplating|polishing|"
    "processing|smelting"
)
_DEPARTMENT_PARTS = (
    rf"(?:车间|車間|工段|班组|班組)\s*[:：#\-]?\s*(?:{_DES_CN})[号號]?{_AFTER_CN}",
    rf"(?:{_DEPT_KNOWN_CN})(?:车间|車間|部门|部門|工段|部|课|課|科|组|組|处|處)",
    rf"(?:部门|部門)\s*[:：是为為]\s*[{_HAN}A-Za-z]{{1,6}}?(?:部|课|課|科|组|組|车间|車間)",
    _B
    + _kw(
        r"department|dept\.?|workshop|section|division|team|unit|group|zone|cell|area|bay|hall|"
        r"workstation|station|departamento|depto\.?|sección|seccion|taller|nave|módulo|modulo|célula|celula|"
        r"equipo|tổ|nhóm|xưởng|phân\s+xưởng|bộ\s+phận|atelier|service|département|secteur|bagian|departemen|divisi|"
        r"jabatan|seksyen|regu|kelompok|seksyon|oddělení|dílna|dílně|hala|hale|úsek|úseku|dział|dziale|wydział|"
        r"wydziale|hali|brygada|brygadzie|відділ|відділі|цех|цеху|дільниця|дільниці|бригада|бригаді|отдел|"
        r"отделе|участок|участке|विभाग|แผนก"
    )
    + rf"{_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}{_kw(_DEPT_KNOWN)}\s+(?i:department|dept\.?|workshop|section|division|team|unit|area){_E}",
    rf"{_B}(?i:department|dept\.?|division|section)\s+of\s+[A-Za-z]+",
    _B + _kw(r"departamento|depto\.?|sección|seccion|taller|service|département|atelier") + r"\s+"
    r"(?i:de|del|du|des|de\s+la|de\s+l['’]|ng)\s*[^\W\d_]+",
    _B + _kw(r"bộ\s+phận|phân\s+xưởng|xưởng|phòng|bagian|divisi|departemen") + r"\s+(?i:kho|qc|qa|may|cắt|hàn|sơn|"
    r"đóng\s+gói|lắp\s+ráp|kiểm\s+tra|kiểm\s+hàng|nhân\s+sự|kế\s+toán|bảo\s+vệ|in|ép|dập|hoàn\s+thiện|"
    rf"sản\s+xuất|kỹ\s+thuật|hành\s+chính|bảo\s+trì|thu\s+mua|smt|gudang|produksi|packing|jahit|potong|"
    rf"perakitan|finishing|cutting|sewing|assembly){_E}",
    r"แผนก\s*[\u0e00-\u0e7f]+",
)


_QUASI = tuple(
    (re.compile(part), kind)
    for parts, kind in (
        (_DORMITORY_PARTS, "dormitory"),
        (_LINE_PARTS, "line"),
        (_SHIFT_PARTS, "shift"),
        (_DEPARTMENT_PARTS, "department"),
    )
    for part in parts
)
_QUASI_CN = tuple(
    (re.compile(src), kind)
    for src, kind in ((_DORMITORY_CN, "dormitory"), (_LINE_CN, "line"), (_DEPARTMENT_CN, "department"))
)


def _quasi(norm: str) -> list[_Cand]:
    """Mentions of a dormitory room, production line, shift or department."""
    found: list[_Cand] = []
    for pattern, kind in _QUASI:
        found.extend((m.start(), m.end(), _P_QUASI, kind) for m in pattern.finditer(norm) if m.end() > m.start())
    windows: list[list[int]] = []
    for m in _CN_TRIGGER.finditer(norm):
        lo, hi = max(0, m.start() - 16), min(len(norm), m.end() + 48)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    for lo, hi in windows:
        for pattern, kind in _QUASI_CN:
            for m in pattern.finditer(norm, lo, hi):
                end = m.end()
                if end == hi < len(norm):  # cut short by the window: match again on the whole text
                    whole = pattern.match(norm, m.start())
                    end = whole.end() if whole else end
                if end > m.start():
                    found.append((m.start(), end, _P_QUASI, kind))
    return found


# --- the labour group's own patterns ---------------------------------------------------------------


@lru_cache(maxsize=64)
def _custom(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """The labour group's worker-number patterns, compiled once; a bad one is a clear error."""
    compiled: list[re.Pattern[str]] = []
    for p in patterns:
        try:
            compiled.append(re.compile(p))
        except re.error as exc:
            raise ValueError(f"invalid worker-number pattern {p!r}: {exc}") from None
    return tuple(compiled)


# --- putting it together ---------------------------------------------------------------------------


def redact(
    text: str,
    *,
    locale: str,
    names: Iterable[str] = (),
    patterns: Iterable[str] = (),
) -> Redacted:
    """Replace every identifier in ``text`` with its placeholder in ``locale``.

    ``names`` are the case's own known names (reporter, people a caseworker listed): matched
    anywhere, whatever the case, width or Latin diacritics, and each part of a several-word name
    on its own (names and parts of three letters or fewer only when capitalised). ``patterns`` are
    regular expressions a labour group configures for its factories' worker numbers, matched against
    the NFKC form of the text; an invalid one raises :class:`ValueError`. An unknown ``locale`` gets
    the English placeholders.
    """
    if isinstance(names, str):
        names = (names,)
    if isinstance(patterns, str):
        patterns = (patterns,)
    custom = _custom(tuple(patterns))
    norm = _normalize(text)
    masked = _mask(norm.text)

    found: list[_Cand] = _phones(masked)
    found += _digit_runs(masked, found)
    found += _lettered_ids(norm.text)
    found += _links(norm.text)
    found += _cued(norm.text)
    found += _quasi(norm.text)
    for pattern in custom:
        found.extend(
            (m.start(), m.end(), _P_CUE, "worker_id") for m in pattern.finditer(norm.text) if m.end() > m.start()
        )
    introduced = _introductions(norm.text)

    cands: list[_Cand] = []
    for a, b, priority, kind in found:
        cands.append((*norm.span(a, b), priority, kind))
    introduced_names: list[str] = []
    for a, b in introduced:
        start, end = norm.span(a, b)
        cands.append((start, end, _P_NAME, "name"))
        introduced_names.append(text[start:end])
    cands.extend((a, b, _P_NAME, "name") for a, b in _names(text, [*names, *introduced_names]))
    removals = _resolve(text, cands)

    placeholders = {kind: token(kind, locale) for kind in {r.kind for r in removals}}
    out: list[str] = []
    pos = 0
    for r in removals:
        out.append(text[pos : r.start])
        out.append(placeholders[r.kind])
        pos = r.end
    out.append(text[pos:])
    return Redacted("".join(out), tuple(removals), locale)


def _resolve(text: str, cands: list[_Cand]) -> list[Removal]:
    """Overlapping finds become one removal covering them all, of the most specific kind."""
    trimmed: list[_Cand] = []
    for start, end, priority, kind in cands:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            trimmed.append((start, end, priority, kind))
    trimmed.sort(key=lambda c: (c[0], -c[1]))
    removals: list[Removal] = []
    group_start = group_end = -1
    best: tuple[int, int, str] = (-1, 0, "")
    for start, end, priority, kind in trimmed:
        if start >= group_end:
            if group_end > 0:
                removals.append(Removal(group_start, group_end, best[2]))
            group_start, group_end, best = start, end, (priority, end - start, kind)
            continue
        group_end = max(group_end, end)
        best = max(best, (priority, end - start, kind))
    if group_end > 0:
        removals.append(Removal(group_start, group_end, best[2]))
    return removals

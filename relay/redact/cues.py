"""Values after a cue word: worker numbers, passports, ID cards, bank accounts, chat handles."""

from __future__ import annotations

import re

from relay.redact.core import _P_BANK_CUE, _P_CUE, _P_CUE_ID, _Cand
from relay.text import _B, _lead, _words

_CONNECT = (
    r"(?P<c>(?:\s*(?:[:：#=＝\-–№]|(?i:no\.?|nr\.?|n[º°]\.?|num\.?|number|numero|número|số|là|la|is|es|est|ay|"
    r"adalah|ialah|je|jest|to|ni|id|saya|aku|của\s+tôi|tôi|mi|ko|my)(?![A-Za-z])|是|为|為|号码|號碼|号|號|码|碼|账号|帳號)\s*){0,3}\s*)"
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
    r"табельн\w*\s+номер|namba\s+(?:yangu\s+)?ya\s+mfanyakazi)|कर्मचारी\s*(?:आईडी|संख्या|नंबर|नम्बर)|"
    r"কর্মী\s*নম্বর|ঊழியர்\s*எண்|ஊழியர்\s*எண்|ملازم\s*نمبر|รหัสพนักงาน(?:ของ(?:ฉัน|ผม))?(?:คือ)?|เลขพนักงาน|"
    r"លេខបុគ្គលិក(?:របស់ខ្ញុំ)?(?:គឺ)?|ဝန်ထမ်းနံပါတ်(?:က)?",
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

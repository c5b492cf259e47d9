"""What every detector shares: the candidate type, the priorities that settle an overlap (the most
specific find wins), and what stays (money, dates, times, quantities), masked before digits are read."""

from __future__ import annotations

import re

from relay.text import _lead

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

"""Guess a message's language from its script, and for Latin script from diacritics and cue words.

``guess`` names the candidate locales, whatever ships; ``detect_locale`` keeps the shipped ones and
answers with one locale or None, which means "ask with the language menu" (a wrong guess costs the
worker more than one extra message). The rules, as docs/sms.md#which-language describes them:

- One script per locale where a script has one shipped language: Thai, Myanmar (Burmese), Khmer,
  Bengali, Tamil, Arabic script (Urdu), Cyrillic (Ukrainian: Ukrainian workers in Central Europe
  often text in Russian, and Ukrainian is the nearer of the shipped languages).
- Han: Traditional Chinese when the text has more Traditional-only than Simplified-only characters,
  else Simplified (a text with neither, such as 你好, goes to the larger group of workers).
- Devanagari is Hindi or Nepali: they share the script and many words, so cue words decide (Hindi
  है/नहीं/का..., Nepali छ/छैन/भयो/हामी... and the endings -्छ, -छन्, -यो, -लाई, -हरू); no clear winner
  means the menu.
- Latin: letters only one shipped language uses (Vietnamese ơ ư đ ă and tone marks, Czech ě ř ů š
  č ž, Polish ą ę ł ś ź ż, Spanish ñ ¿ ¡, French ç œ è ê) and cue words of English, Spanish,
  French, Malay, Indonesian, Filipino, Swahili, Czech, Polish and unaccented Vietnamese. Malay and
  Indonesian share most words: only words that differ (kilang/pabrik, wang/uang...) decide between
  them, and a tie means the menu.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import i18n

# (first code point, last code point, script)
_SCRIPTS = [
    (0x4E00, 0x9FFF, "han"), (0x3400, 0x4DBF, "han"), (0xF900, 0xFAFF, "han"), (0x20000, 0x2FA1F, "han"),
    (0x3040, 0x30FF, "kana"), (0xAC00, 0xD7AF, "hangul"),
    (0x0E00, 0x0E7F, "thai"), (0x1000, 0x109F, "myanmar"), (0xA9E0, 0xA9FF, "myanmar"), (0xAA60, 0xAA7F, "myanmar"),
    (0x1780, 0x17FF, "khmer"), (0x19E0, 0x19FF, "khmer"),
    (0x0900, 0x097F, "devanagari"), (0xA8E0, 0xA8FF, "devanagari"),
    (0x0980, 0x09FF, "bengali"), (0x0B80, 0x0BFF, "tamil"), (0x11FC0, 0x11FFF, "tamil"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0x0400, 0x052F, "cyrillic"),
]  # fmt: skip
_ONE_LOCALE = {
    "thai": "th", "myanmar": "my", "khmer": "km", "bengali": "bn", "tamil": "ta", "arabic": "ur", "cyrillic": "uk",
    "kana": "ja", "hangul": "ko",  # not shipped: recognised so that kanji are not taken for Chinese
}  # fmt: skip
# When only one of a pair ships, a text of the other still reads better in it than in English.
_FALLBACK = {"zh_Hant": "zh_Hans", "zh_Hans": "zh_Hant"}

# Characters of one written standard whose counterpart differs: Traditional[i] <-> Simplified[i].
# Only characters the other standard does not also use (后, 里, 干, 只, 台... are left out).
TRADITIONAL = (
    "們這個來時說會對沒資廠號錢發給還問題從長間開關讓請過經現實點當為與麼幾書話電動學產業務員車東見門頭"
    "買賣錯難離雙氣萬億種樣應總幫覺認識讀寫聽報導險傷兒醫勞獎懲費簽約試場機線組證護飯壓罰罵無歲區縣鄉"
    "鎮廣戶紅綠藍黃鐘鬧義議歡幣處備隊隨結辦漢衛華傳錄"
)
SIMPLIFIED = (
    "们这个来时说会对没资厂号钱发给还问题从长间开关让请过经现实点当为与么几书话电动学产业务员车东见门头"
    "买卖错难离双气万亿种样应总帮觉认识读写听报导险伤儿医劳奖惩费签约试场机线组证护饭压罚骂无岁区县乡"
    "镇广户红绿蓝黄钟闹义议欢币处备队随结办汉卫华传录"
)
_TRAD_ONLY = frozenset(TRADITIONAL) - frozenset(SIMPLIFIED)
_SIMP_ONLY = frozenset(SIMPLIFIED) - frozenset(TRADITIONAL)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HINDI = _words(
    "है हैं था थे थी नहीं का की के में और हम हमें हमारा हमारी हमारे मेरा मेरी मेरे मुझे वेतन पैसे पैसा मिला मिली "
    "मिले रहा रहे रही लिए क्या यह वह भी से तो गया गई गए दिया किया साथ बहुत कोई कंपनी ठेकेदार"
)
_NEPALI = _words(
    "छ छन् छैन छौं छौँ छैनौं हो होइन थियो थिए भयो भएको भएन गर्न गरेको गर्छ गर्छन् मेरो हाम्रो हामी हामीलाई तलब "
    "पाएका पाएनौं पनि र लाई मा बाट कति दिइएको दिएन कम्पनीले साहु"
)
# Verb endings -्छ -छन् -छौं -छैन and -यो (गर्छ, हुन्छ, भयो), the postposition -लाई, the plural -हरू.
# Not a bare -छ: Hindi कुछ ends so too.
_NEPALI_ENDINGS = ("्छ", "छन्", "छौं", "छौँ", "छैन", "छैनौं", "यो", "लाई", "हरू")

# Letters that, among the shipped languages, only one uses (checked on lower-cased NFC text).
_LETTERS = {
    "vi": set("ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĩũ"),
    "cs": set("ěščřžůňťď"),
    "pl": set("ąęłńśźżć"),
    "es": set("ñ¿¡"),
    "fr": set("çœèêëîïûÿ"),
}

# Cue words: common words of workers' messages. A word listed for two languages counts for neither.
_CUES: dict[str, frozenset[str]] = {
    loc: _words(words)
    for loc, words in {
        "en": "the and we is are not my our work factory hello hi pay paid they was were have has i me boss overtime "
        "hours help please what this that with from salary wages money job agent dormitory passport line leader",
        "es": "el los las trabajo fábrica fabrica nos pagan pagaron hola horas salario sueldo patrón patron jefe empresa "
        "me somos estamos tenemos muy pero buenos buenas días dias gracias despidieron maquiladora planta turno del",
        "fr": "le les des est nous pas je travail usine salaire bonjour heures sont avec pour une ne mon ma notre patron "
        "nos payé payés depuis mois chef il elle sur dans au aux aussi mais salut",
        "ms": "tak kilang wang kerana sahaja awak nak mahu helo syarikat pejabat",
        "id": "pabrik uang karena bisa saja nggak gak enggak mau halo perusahaan kantor lembur aja banget gimana",
        "fil": "ang ng mga sa hindi po namin sahod trabaho pabrika kumusta ako ko kasi wala ba ito yung nila sila amo "
        "ahensya bayad oras araw salamat tulong opo nang lang din rin naman",
        "sw": "ya wa kwa ni kazi mshahara kiwanda sisi mimi habari jambo hapana ndiyo lakini hakuna tunafanya mgodi "
        "hatujalipwa tafadhali asante bosi wafanyakazi siku mwezi pesa malipo nini hii kampuni",
        "cs": "jsme není nám práce továrna továrny mzda mzdu výplatu výplata dobrý den ahoj nezaplatili přesčasy "
        "šéf hodin peníze jsou byl byli",
        "pl": "nie jest praca fabryka pracy wypłaty wypłata dzień dobry cześć i się nas pieniądze godziny szef agencja "
        "nadgodziny są był byli pracujemy",
        "vi": "toi khong cong ty tien luong lam viec chung xin chao chào duoc nhung nguoi cua xuong tang ca",
    }.items()
}
# Malay and Indonesian share these; they set the pair apart from the rest but never decide between them.
_MALAY_FAMILY = _words(
    "saya kami tidak gaji yang dan kerja bekerja ini itu ada dengan untuk sudah belum lebih masa kita mereka bos "
    "agen paspor hari bulan selamat pagi terima kasih tolong apa kenapa majikan cuti duit sana sini boleh sebab"
)


def _unique(cues: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    seen: dict[str, int] = {}
    for words in [*cues.values(), _MALAY_FAMILY]:
        for w in words:
            seen[w] = seen.get(w, 0) + 1
    return {loc: frozenset(w for w in words if seen[w] == 1) for loc, words in cues.items()}


CUES = _unique(_CUES)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")  # letters (with their combining marks)
_SPLIT = re.compile(r"[\s\u0964\u0965.,;:!?\"'()\[\]{}\-–—/|…]+")


def _script_of(cp: int) -> str | None:
    for lo, hi, script in _SCRIPTS:
        if lo <= cp <= hi:
            return script
    return None


def guess(text: str) -> tuple[str, ...]:
    """Candidate locales for ``text`` (shipped or not): () no idea, one locale, or several when ambiguous."""
    text = unicodedata.normalize("NFC", text or "")
    counts: dict[str, int] = {}
    latin = 0
    for ch in text:
        script = _script_of(ord(ch))
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            latin += 1
    if counts:
        best = max(counts, key=lambda k: counts[k])
        if counts[best] >= latin:
            if best == "han":
                return ("ja",) if counts.get("kana", 0) else (_chinese(text),)
            if best == "devanagari":
                return _devanagari(text)
            return (_ONE_LOCALE[best],)
    return _latin(text) if latin else ()


def _chinese(text: str) -> str:
    traditional = sum(ch in _TRAD_ONLY for ch in text)
    simplified = sum(ch in _SIMP_ONLY for ch in text)
    return "zh_Hant" if traditional > simplified else "zh_Hans"


def _devanagari(text: str) -> tuple[str, ...]:
    tokens = [t for t in _SPLIT.split(text) if t]
    hindi = sum(t in _HINDI for t in tokens)
    nepali = sum(t in _NEPALI or (len(t) > 2 and t.endswith(_NEPALI_ENDINGS)) for t in tokens)
    if hindi > nepali:
        return ("hi",)
    if nepali > hindi:
        return ("ne",)
    return ("hi", "ne")


def _latin(text: str) -> tuple[str, ...]:
    lowered = text.casefold()
    scores = dict.fromkeys([*CUES, "ms", "id"], 0)
    for loc, letters in _LETTERS.items():
        scores[loc] += sum(ch in letters for ch in lowered)
    if scores["vi"]:
        scores["fr"] = 0  # à è ê ô are Vietnamese letters too
    words = _WORD.findall(lowered)
    for w in words:
        for loc, cues in CUES.items():
            if w in cues:
                scores[loc] += 2
        if w in _MALAY_FAMILY:
            scores["ms"] += 2
            scores["id"] += 2
    return _top(scores)


def _top(scores: dict[str, int]) -> tuple[str, ...]:
    best = max(scores.values())
    if best == 0:
        return ()
    return tuple(sorted(loc for loc, s in scores.items() if s == best))


def detect_locale(text: str, shipped: Iterable[str] | None = None) -> str | None:
    """The shipped locale ``text`` is written in, or None when unsure (then the menu asks)."""
    available = set(i18n.available_locales() if shipped is None else shipped)
    candidates = [loc for loc in guess(text) if loc in available]
    if not candidates:
        candidates = [_FALLBACK[loc] for loc in guess(text) if loc in _FALLBACK and _FALLBACK[loc] in available]
    return candidates[0] if len(candidates) == 1 else None

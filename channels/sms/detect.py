"""Guess a message's language from its script (and, for Latin script, its diacritics).

Only shipped locales are returned; None means "ask with the language menu".
"""

from __future__ import annotations

import unicodedata

import i18n

# (first code point, last code point, locale)
_SCRIPTS = [
    (0x4E00, 0x9FFF, "zh_Hans"), (0x3400, 0x4DBF, "zh_Hans"), (0xF900, 0xFAFF, "zh_Hans"),
    (0x0E00, 0x0E7F, "th"), (0x1000, 0x109F, "my"), (0x1780, 0x17FF, "km"),
    (0x0900, 0x097F, "hi"), (0x0980, 0x09FF, "bn"), (0x0B80, 0x0BFF, "ta"),
    (0x0600, 0x06FF, "ur"), (0x0750, 0x077F, "ur"), (0x0400, 0x04FF, "uk"),
]  # fmt: skip
_VIETNAMESE = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
_CZECH = set("ěščřžůňťď")
_POLISH = set("ąęłńśźż")
_SPANISH = set("ñ¿¡")
_SPANISH_WORDS = {"el", "la", "los", "las", "que", "de", "trabajo", "fábrica", "nos", "pagan", "hola", "horas", "no"}
_ENGLISH_WORDS = {"the", "and", "we", "is", "are", "not", "my", "our", "work", "factory", "hello", "hi", "pay", "no"}


def detect_locale(text: str) -> str | None:
    shipped = set(i18n.available_locales())
    counts: dict[str, int] = {}
    latin = 0
    for ch in text:
        cp = ord(ch)
        for lo, hi, loc in _SCRIPTS:
            if lo <= cp <= hi:
                counts[loc] = counts.get(loc, 0) + 1
                break
        else:
            if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
                latin += 1
    if counts:
        best = max(counts, key=lambda k: counts[k])
        if counts[best] >= latin:
            return best if best in shipped else None
    if latin == 0:
        return None
    lowered = text.lower()
    letters = set(lowered)
    for marks, loc in ((_VIETNAMESE, "vi"), (_CZECH, "cs"), (_POLISH, "pl"), (_SPANISH, "es")):
        if letters & marks and loc in shipped:
            return loc
    words = set(lowered.replace(",", " ").replace(".", " ").split())
    if "es" in shipped and len(words & _SPANISH_WORDS) > len(words & _ENGLISH_WORDS):
        return "es"
    return "en" if "en" in shipped else None

"""Names nobody introduced (issue 12 item 4): "Maria here.", "王小明被打了", "Lan bị đánh".

The worker leaves the name field empty (the form asks them to; SMS and calls have none), so the
names in a story come with no list. They are found from:

- a list of first and last names (``relay/namedata.txt.gz``, made from the ``names-dataset``
  package by ``scripts/make_namedata.py``; loaded once, on first use, ~0.3 s);
- the shape of the text: a capitalised word inside a sentence (Latin, Cyrillic), a run of
  capitalised words, the position that opens a message or a sentence;
- words that stand before or after a name in each language: titles and roles ("co-worker",
  "coworker", 工友, คุณ, ဦး, បង, सहकर्मी), and what follows a subject ("here", 被, ถูก, က);
- for Vietnamese, Chinese and Burmese, the closed sets their names are built from (surnames,
  given-name syllables), which the dataset lacks (it has no Vietnam, Thailand or Myanmar);
- Thai (:mod:`relay.namefind_thai`, the Thai Names Corpus and where a person stands) and Khmer
  (:mod:`relay.namefind_khmer`, names compiled by hand); in Devanagari, Bengali, Tamil and Urdu, a
  word no list holds where a person stands and no frequent word (:mod:`relay.namefind_indic`).

When in doubt it removes, like the rest of redaction. Spans are in the coordinates of the NFKC text
it is given. Figures per language: ``bench/bench_redact.py``.
"""

from __future__ import annotations

import re

from relay import namefind_indic
from relay.namelists import ARABIC_AS_URDU as ARABIC_AS_URDU
from relay.namelists import common_words as common_words
from relay.namelists import lexicon as lexicon
from relay.names import _COMPOUND_SURNAMES, _SURNAMES
from relay.namewords import (
    AFTER_NAME,
    AND,
    BEFORE_NAME,
    CAP_NOT_NAMES,
    HAN_AFTER,
    HAN_AFTER_WORDS,
    HAN_CUES,
    HAN_NOT_IN_NAMES,
    HAN_NOT_NAMES,
    HAN_TITLE_CHARS,
    LOCATIVES,
    MY_CUES,
    MY_PARTICLES,
    MY_SYLLABLES,
    NATIVE_STOP,
    NATIVE_SUFFIXES,
    PARTICLES,
    SE_ASIAN_CUES,
    SE_ASIAN_STOPS,
    VN_FOLLOWERS,
    VN_NAME_SYLLABLES,
    VN_NOT_NAMES,
)
from relay.text import _fold

Span = tuple[int, int]


def folded(word: str) -> str:
    return "".join(_fold(c) for c in word)


# --- words --------------------------------------------------------------------------------------

_PUNCT = "!-/:-@\\[-`{-~\u00a1-\u00bf\u0964\u0965\u06d4\u061f\u060c\u066b\u066c\u104a\u104b\u17d4-\u17da\u2010-\u206f\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
# Characters of scripts without spaces end a word here: they have their own finders below.
_UNSPACED_RANGES = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WCH = f"[^\\s\\d{_PUNCT}{_UNSPACED_RANGES}]"
_WORD = re.compile(f"{_WCH}+(?:['’\\-]{_WCH}+)*")
_SENTENCE_END = frozenset(".!?;:\n\u0964\u0965\u06d4\u061f\u104b\u17d4\u3002\uff01\uff1f")


def _script(c: str) -> str:
    o = ord(c)
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x400 <= o <= 0x4FF:
        return "cyrillic"
    if 0x900 <= o <= 0x97F:
        return "devanagari"
    if 0x980 <= o <= 0x9FF:
        return "bengali"
    if 0xB80 <= o <= 0xBFF:
        return "tamil"
    if 0x600 <= o <= 0x6FF or 0x750 <= o <= 0x77F:
        return "arabic"
    if 0xE00 <= o <= 0xE7F:
        return "thai"
    if 0x1780 <= o <= 0x17FF:
        return "khmer"
    if 0x1000 <= o <= 0x109F:
        return "myanmar"
    if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or o >= 0x20000:
        return "han"
    return "other"


def _initial(text: str, start: int) -> bool:
    """Whether a sentence (or the message) starts at ``start``."""
    i = start - 1
    while i >= 0 and (text[i].isspace() or text[i] in "\"'“”‘’«»(（[「『-–—*•"):
        if text[i] == "\n":
            return True
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _is_vietnamese(word: str) -> bool:
    return any(c in "ăâđêôơưĩũĂÂĐÊÔƠƯĨŨ" or "\u1ea0" <= c <= "\u1ef9" for c in word)


def _spaced(text: str) -> list[Span]:
    """Names in scripts written with spaces: Latin, Cyrillic, Devanagari, Bengali, Tamil, Arabic."""
    lex = lexicon()
    words = list(_WORD.finditer(text))
    verdict: list[str] = []  # "name", "maybe" (a capitalised word that opens a sentence), "cap", ""
    for i, m in enumerate(words):
        w = m.group()
        script = _script(w[0])
        key = folded(w)
        prev = folded(words[i - 1].group()) if i else ""
        nxt = folded(words[i + 1].group()) if i + 1 < len(words) else ""
        gap_next = text[m.end() : words[i + 1].start()] if i + 1 < len(words) else ""
        cue_before = prev in BEFORE_NAME and text[words[i - 1].end() : m.start()].strip() in ("", ",")
        after = nxt in AFTER_NAME or gap_next.strip() in (",", "،")
        if script in ("latin", "cyrillic"):
            # "Tuấn" is a name where Malay "tuan" is a title: the folded list skips Vietnamese words,
            # which have a list of their own with their diacritics ("Mình", "I", but "Minh").
            stop = (key in CAP_NOT_NAMES and not _is_vietnamese(w)) or w.casefold() in VN_NOT_NAMES
            if not w[0].isupper() or w.isupper() or stop or key.endswith(("'m", "’m")):
                verdict.append("")  # lowercase, an initial or an acronym, a month, a title
                continue
            if key.endswith(("'s", "’s")):
                key = key[:-2]
            initial = _initial(text, m.start())
            flagged = lex[script].get(key)
            if _is_vietnamese(w) or (script == "latin" and key in VN_NAME_SYLLABLES and initial):
                vn = w.casefold() in VN_NAME_SYLLABLES or key in VN_NAME_SYLLABLES
                if not initial or cue_before or (vn and (nxt in VN_FOLLOWERS or gap_next.strip() == ",")):
                    verdict.append("name")
                elif i + 1 < len(words) and gap_next == " " and words[i + 1].group()[0].isupper():
                    verdict.append("maybe")  # "Trần Thị Hoa" opening a sentence
                else:
                    verdict.append("")
                continue
            if cue_before:
                verdict.append("name")
            elif not initial:
                # "at" is "and" in Filipino: after a name ("sina Rey at Bayani") it locates nothing.
                locative = prev in LOCATIVES and not (i > 1 and verdict[i - 2] == "name" and prev in AND)
                verdict.append("place" if locative and flagged is not False else "name")
            elif flagged is False or (after and (i == 0 or nxt in AFTER_NAME)):
                verdict.append("name")
            elif flagged is None and i + 1 < len(words) and gap_next == " " and words[i + 1].group()[0].isupper():
                verdict.append("maybe")  # "Tamsin Fotheringham", "Наталія Шевченко" opening a sentence
            elif flagged is None and nxt in AND and i + 2 < len(words) and words[i + 2].group()[0].isupper():
                verdict.append("name")  # "Wszebora i Michał"
            else:
                verdict.append("")
            continue
        if script in ("devanagari", "bengali", "tamil", "arabic"):
            names = lex.get(script, {})
            if script == "arabic":
                key = key.translate(ARABIC_AS_URDU)
            stem = _stem(key, script)
            initial = _initial(text, m.start())
            if script == "arabic":
                nxt = nxt.translate(ARABIC_AS_URDU)
            if key in NATIVE_STOP or key in BEFORE_NAME or key in AFTER_NAME:
                verdict.append("")
            elif (key in names or stem in names) and not namefind_indic.listed_word(key, script):
                verdict.append("name")  # not প্রতিদিন ("every day"), which the names dataset holds
            elif after and initial:
                verdict.append("name")
            elif cue_before and not namefind_indic.common(key, script, namefind_indic.CUE_COMMON.get(script, 4.5)):
                verdict.append("name")  # "सुपरवाइजर रमेश", not "सुपरवाइजर हर सुबह"
            elif namefind_indic.placed(key, script, nxt, initial) and not namefind_indic.common(key, script):
                verdict.append("name")  # "धनपत को": where a person stands, and no ordinary word
            else:
                verdict.append("")
            continue
        verdict.append("")
    _extend_native_names(text, words, verdict)
    # A run of capitalised words with a name in it is one name ("Tamsin Fotheringham", "Juan de la Cruz").
    spans: list[Span] = []
    i = 0
    while i < len(words):
        if verdict[i] not in ("name", "maybe") or len(words[i].group()) < 2:
            i += 1
            continue
        j = i
        while j + 1 < len(words):
            gap = text[words[j].end() : words[j + 1].start()]
            if gap not in (" ", "-"):
                break
            nxt_word = words[j + 1].group()
            if verdict[j + 1] in ("name", "maybe", "place") and not _initial(text, words[j + 1].start()):
                j += 1
            elif folded(nxt_word) in PARTICLES:
                k = j + 1
                while k < len(words) and folded(words[k].group()) in PARTICLES and k - j <= 3:
                    k += 1
                if k < len(words) and verdict[k] in ("name", "maybe") and words[k].group()[0].isupper():
                    j = k
                else:
                    break
            else:
                break
        kinds = {verdict[k] for k in range(i, j + 1)}
        if "name" in kinds or (j > i and "place" not in kinds):
            a, b = words[i].start(), words[j].end()
            spans.append((a, b))
        i = j + 1
    return [_trim_suffix(text, a, b) for a, b in spans]


def _extend_native_names(text: str, words: list[re.Match[str]], verdict: list[str]) -> None:
    """A given name before a found family name ("धनपत कुशवाहा को") is part of it, when it is no
    ordinary word: the words before a name in scripts without capitals, up to two."""
    for i in range(len(words) - 1, 0, -1):
        if verdict[i] != "name" or verdict[i - 1] or _initial(text, words[i].start()):
            continue
        if text[words[i - 1].end() : words[i].start()] != " ":
            continue
        w = folded(words[i - 1].group())
        script = _script(w[0])
        if script not in namefind_indic.COMMON_ZIPF or _script(words[i].group()[0]) != script:
            continue
        key = w.translate(ARABIC_AS_URDU) if script == "arabic" else w
        if key in NATIVE_STOP or key in BEFORE_NAME or namefind_indic.common(key, script, namefind_indic.VERY_COMMON):
            continue
        if i < 2 or verdict[i - 2] != "name":  # not a third word: "राम के बेटे मोहन ..."
            verdict[i - 1] = "name"


def _stem(word: str, script: str) -> str:
    for suffix in NATIVE_SUFFIXES.get(script, ()):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)]
    return word


def _trim_suffix(text: str, a: int, b: int) -> Span:
    """ "सीताले" loses its case ending: the name is what stays."""
    word = text[a:b]
    script = _script(word[0])
    if word.rpartition(" ")[2] in lexicon().get(script, {}):
        return (a, b)  # "शर्मा" is a name, not "शर्" with the locative मा
    stem = _stem(word, script)
    return (a, a + len(stem)) if script in NATIVE_SUFFIXES else (a, b)


# --- scripts without spaces --------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SURNAME_CLASS = "".join(sorted(_SURNAMES))
_HAN_RUN = re.compile(f"[{_HAN}]+")


def _han(text: str) -> list[Span]:
    """Chinese names: a surname and one or two characters where a name stands (opening a clause,
    after 工友/同事/主管, before 被/和/说), or a listed given name after a surname or alone."""
    given = lexicon().get("han", {})
    spans: list[Span] = []
    for run in _HAN_RUN.finditer(text):
        s, e = run.span()
        i = s
        while i < e:
            found = _han_name_at(text, i, e, given)
            if found:
                spans.append((i, found))
                i = found
            else:
                i += 1
    return spans


def _han_clause_start(text: str, i: int) -> bool:
    """Whether a clause starts at ``i``, or a cue word (工友, 主管, 和) ends there."""
    if i == 0 or text[i - 1] in _HAN_CLAUSE_MARKS:
        return True
    cue = _HAN_CUE_BEFORE.search(text, max(0, i - 4), i)
    return cue is not None


_HAN_CLAUSE_MARKS = frozenset('，。！？；：、,.!?;: \n"“”（）()')
_HAN_CUE_BEFORE = re.compile(f"(?:{HAN_CUES})$")


def _han_name_at(text: str, i: int, e: int, given: dict[str, bool]) -> int | None:
    """The end of a name starting at ``i`` (``e``: the end of this run of Chinese), or None.

    A surname with a listed two-character given name, anywhere; a surname with one or two other
    characters where a name stands (a clause start or a cue before, a particle such as 被 or 说
    after); a listed given name alone ("小明被打了") where a name stands.
    """
    clause_start = _han_clause_start(text, i)
    compound = text[i : i + 2] in _COMPOUND_SURNAMES
    if text[i] in _SURNAMES or compound:
        first = i + (2 if compound else 1)
        if first + 2 <= e and text[first : first + 2] in given:
            return first + 2
        if clause_start:
            for n in (2, 1):
                end = first + n
                if end > e:
                    continue
                given_part = text[first:end]
                if (
                    text[i:end] not in HAN_NOT_NAMES
                    and all(c not in HAN_AFTER for c in given_part)
                    and given_part[0] not in HAN_TITLE_CHARS
                    and given_part[0] != text[i]  # 谢谢, 常常: a doubled character is a word
                ):
                    after = text[end : end + 1]
                    if after in HAN_AFTER or not after or not ("\u4e00" <= after <= "\u9fff"):
                        return end
                    if text[end : end + 2] in HAN_AFTER_WORDS:
                        return end  # "把王伟开除了": 开除 follows the name
    after_given = text[i + 2 : i + 3] in HAN_AFTER | {""} or text[i + 2 : i + 4] in HAN_AFTER_WORDS
    if clause_start and text[i : i + 2] in given and after_given:
        return i + 2
    # An uncommon surname: three characters opening a clause before 被 or 和 ("仉振宇被主管打了").
    three = text[i : i + 3]
    plain = not any(c in HAN_NOT_IN_NAMES for c in three) and three[:2] not in HAN_NOT_NAMES
    if clause_start and text[i + 3 : i + 4] in ("被", "和") and _HAN_RUN.fullmatch(three) and len(three) == 3 and plain:
        return i + 3
    return None


def _se_asian(text: str) -> list[Span]:
    """Thai, Khmer and Burmese names after a title or role ("คุณสมชาย", "បងសុខា", "ဦးအောင်ကျော်"),
    and Burmese names made of name syllables before a particle."""
    spans: list[Span] = []
    for m in SE_ASIAN_CUES.finditer(text):
        start = m.end()
        end = start
        limit = min(len(text), start + 24)
        while end < limit and not text[end].isspace() and text[end] not in _PUNCT_SET:
            if SE_ASIAN_STOPS.match(text, end) and end > start + 1:
                break
            end += 1
        if end > start:
            spans.append((start, end))
    for m in SE_ASIAN_OPENING.finditer(text):
        spans.append(m.span("n"))
    for m in MY_NAME.finditer(text):
        spans.append(m.span())
    return spans


_PUNCT_SET = frozenset("。，、！？：；,.!?:;()\"'“”\u104a\u104b\u17d4\u17d5\u0e2f")
SE_ASIAN_OPENING = re.compile(
    r"^\s*(?P<n>[\u0e00-\u0e7f\u1780-\u17ff]{2,20}?)(?=เอง|นี่|នេះ)",
)
MY_NAME = re.compile(f"(?:{MY_CUES})?(?:{MY_SYLLABLES}){{2,5}}(?=(?:{MY_PARTICLES})|[\\s\u104a\u104b])")


def find(norm: str) -> list[Span]:
    """Names in ``norm`` (an NFKC text) that no cue introduced, as spans of it."""
    spans = _spaced(norm)
    if re.search(f"[{_HAN}]", norm):
        spans += _han(norm)
    if re.search("[\u0e00-\u0e7f\u1000-\u109f\u1780-\u17ff]", norm):
        spans += _se_asian(norm)
    if re.search("[\u1780-\u17ff]", norm):
        from relay import namefind_khmer  # below this module, like namefind_thai

        spans += namefind_khmer.find(norm)
    if re.search("[\u0e01-\u0e4e]", norm):
        from relay import namefind_thai  # below this module: it reads the lists loaded here

        spans += namefind_thai.find(norm)
    return spans

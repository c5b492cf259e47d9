"""Thai names with no cue (issue 12 item 4): "สมชายถูกหัวหน้างานตี", "ผู้จัดการไล่มาลีออก".

Thai is written without spaces between words, so a name is found by what it is and where it stands:

- a listed given or family name (``relay/namedata_th.txt.gz``, from the Thai Names Corpus) wherever
  it starts and ends on a syllable boundary; one that is also a frequent word (มาลี "jasmine",
  ประเสริฐ "excellent") only where a person stands;
- where a person stands: after a title or a verb that takes a person (คุณ, พี่, ไล่, บังคับให้, กับ),
  or opening a phrase, up to the word that follows a person (ถูก, ไม่, กับ, เห็น, ออก, ทำ): the stretch
  between is a name when it is listed, or when frequent words (TNC) cannot make it up;
- a family name after a given name and a space ("สมชาย ใจดี").

When in doubt it removes; spans are in the coordinates of the NFKC text it is given.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from relay.namelists import common_words, lexicon

Span = tuple[int, int]

# Signs that belong to the consonant before them: no word starts with one, and a word whose next
# character is one was cut in the middle of a syllable. Leading vowels belong to the consonant after.
_MARKS = frozenset(
    "\u0e30\u0e31\u0e32\u0e33\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e45\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
)
_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")
_RUN = re.compile("[\u0e01-\u0e4e]+")
_LONGEST = 20


def _nfkc(pattern: str) -> re.Pattern[str]:
    """The pattern as the text is matched: NFKC, where ำ is written ํา."""
    return re.compile(unicodedata.normalize("NFKC", pattern))


# Titles and kinship words a worker puts before a person (not before นายจ้าง "employer", พี่น้อง
# "siblings", คุณภาพ "quality"): a name follows them.
TITLES = _nfkc(
    "(?:นางสาว|น\\.ส\\.|คุณ(?!ภาพ|ค่า|สมบัติ|ธรรม|ครู)|นาย(?!จ้าง|หน้า|ก(?:รัฐ)?มนตรี|ทุน|ทหาร|ตำรวจ|อำเภอ|ช่าง|ประตู|ตรวจ|ด่าน|ท่า)|"
    "นาง(?!งาน|ฟ้า|พยาบาล|แบบ)|พี่(?!น้อง|ๆ)|น้อง(?!ๆ|สาว|ชาย)|ป้า|ลุง|น้า|ยาย|เจ๊|เฮีย|ชื่อ(?!เสียง))"
)
# Roles before a person, and verbs and words after which one stands (the object, the second of two).
BEFORE = _nfkc(
    "(?:หัวหน้า(?:งาน|แผนก|ไลน์)?|เพื่อน(?:ร่วมงาน)?|ผู้จัดการ|โฟร์แมน|ซุป(?:เปอร์ไวเซอร์)?|"
    "บังคับให้|บังคับ|ไล่|ด่า|ตี|ทำร้าย|ข่มขู่|ขู่|ต่อย|ตบ|เตะ|ลวนลาม|ไล่ออก|เลิกจ้าง|ปลด|"
    "กับ|และ|บอก|ถาม|เรียก)"
)
# Words that follow a person: where a name after a title or in a person's place ends.
AFTER = _nfkc(
    "(?:ถูก|ไม่|ได้|กับ|และ|เห็น|บอก|ทำ|ออก|เอง|ค่ะ|คะ|ครับ|นะ|ที่|ซึ่ง|จะ|ก็|ว่า|ให้|ของ|ตี|ด่า|ล็อก|"
    "ยัง|เคย|โดน|เป็น|อยู่|มา|ไป|ด้วย|ก่อน|เลย|นี่|นี้|พูด|เขียน|ซึ่ง|แล้ว|จาก|ใน|ตั้งแต่|เพราะ|คน|เจ็บ)"
)


def _title_starts(text: str, s: int, i: int) -> bool:
    """Whether a title can start at ``i``: not inside a syllable (ห before a low consonant is part
    of the consonant's syllable, as in หน้าที่)."""
    return _start_ok(text, i) and text[i - 1] != "ห"


def _start_ok(text: str, i: int) -> bool:
    return text[i] not in _MARKS and (i == 0 or text[i - 1] not in _LEADING)


def _end_ok(text: str, j: int) -> bool:
    return (j >= len(text) or text[j] not in _MARKS) and text[j - 1] not in _LEADING


@lru_cache(maxsize=1)
def _ranks() -> dict[str, int]:
    return {w: int(r) for w, r in common_words().get("thai", {}).items()}


def _made_of_words(s: str, *, titled: bool = False) -> bool:
    """Whether frequent words make up ``s`` whole. After a title (``titled``) a person stands, whose
    name is often made of words ("บุญ" + "เรือน"): there only one of the 5,000 most frequent words
    alone is no name."""
    ranks = _ranks()
    if titled:
        return ranks.get(s, 10**9) < 5000
    best: list[int | None] = [None] * (len(s) + 1)  # the lowest rank on a way to cut s[:i], or None
    best[0] = 10**9
    for i in range(len(s)):
        if best[i] is None:
            continue
        for j in range(i + 1, min(len(s), i + _LONGEST) + 1):
            r = ranks.get(s[i:j])
            if r is not None:
                low = min(best[i] or 10**9, r)
                best[j] = low if best[j] is None else min(best[j] or 10**9, low)
    return best[-1] is not None


def _listed(text: str, i: int, end: int) -> tuple[int, bool] | None:
    """The longest listed name at ``i`` ending on a syllable boundary: its end, and whether it is
    also a frequent word."""
    names = lexicon().get("thai", {})
    for j in range(min(end, i + _LONGEST), i + 1, -1):
        flagged = names.get(text[i:j])
        if flagged is not None and _end_ok(text, j):
            return j, flagged
    return None


def _inside_a_word(text: str, s: int, i: int, j: int, e: int) -> bool:
    """Whether the stretch ``[i, j)`` of the run ``[s, e)`` cuts a frequent word: one that starts
    before it and ends inside it ("คุณ" in "คุณชัยวัฒน์" holds ณ), or starts there and runs
    past its end ("มีนาคม" holds "มีนาค")."""
    ranks = _ranks()
    for h in range(max(s, i - _LONGEST), i):
        for k in range(i + 1, min(e, j, h + _LONGEST) + 1):
            if text[h:k] in ranks and _end_ok(text, k):
                return True
    return any(text[i:k] in ranks and _end_ok(text, k) for k in range(j + 1, min(e, i + _LONGEST) + 1))


def _stop(text: str, i: int, end: int) -> int:
    """Where a name starting at ``i`` ends: before the first word that follows a person."""
    k = i + 1
    while k < end and k - i <= _LONGEST:
        if _start_ok(text, k) and AFTER.match(text, k) and k > i + 1:
            return k
        k += 1
    return k if k >= end else -1


def find(text: str) -> list[Span]:
    """Thai names in ``text``, as spans of it."""
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        spans += _in_run(text, run.start(), run.end())
    return [_with_family(text, a, b) for a, b in spans]


def _in_run(text: str, s: int, e: int) -> list[Span]:
    # A title inside a word is none: น้า in หน้าที่ ("duty"), นาง in ทางนาง.
    titled = {m.end() for m in TITLES.finditer(text, s, e) if m.start() == s or _title_starts(text, s, m.start())}
    placed = {m.end() for m in BEFORE.finditer(text, s, e)} | {s}
    out: list[Span] = []
    i = s
    while i < e:
        if not _start_ok(text, i):
            i += 1
            continue
        anchored = i in titled or i in placed
        listed = _listed(text, i, e)
        if listed:
            j, flagged = listed
            if ((not flagged and j - i >= 3) or (anchored and (j == e or AFTER.match(text, j)))) and not (
                _inside_a_word(text, i if anchored else s, i, j, e)
            ):
                out.append((i, j))
                i = j
                continue
        if anchored:
            k = _stop(text, i, e)
            if k > i + 1 and not _made_of_words(text[i:k], titled=i in titled):
                out.append((i, k))
                i = k
                continue
        i += 1
    return out


def _with_family(text: str, a: int, b: int) -> Span:
    """A family name after the given name and a space ("สมชาย ใจดี") joins it."""
    run = _RUN.match(text, b + 1) if text[b : b + 1] == " " else None
    if run is None:
        return a, b
    listed = _listed(text, b + 1, run.end())
    if listed:
        return a, listed[0]
    k = _stop(text, b + 1, run.end())
    if k > b + 2 and not AFTER.match(text, b + 1) and not _made_of_words(text[b + 1 : k]):
        return a, k
    return a, b

"""Khmer names with no cue (issue 12 item 4): "សុខាត្រូវអ្នកគ្រប់គ្រងវាយ", "ពួកគេបង្ខំដារាឱ្យធ្វើការ".

Khmer puts spaces between phrases, not words. A name is found where a listed name
(:data:`relay.namehand.KHMER`) starts and ends on a syllable boundary, a family and a given name
across one space making one name; a listed name that is also a word (សុខ "well") only next to a
title, a verb that takes a person, another name, or a word that follows a person. Where a person
stands (after បណ្តេញ "fire", បង្ខំ "force", និង "and", opening a phrase before ត្រូវ "is made to"),
a short stretch up to such a word is a name too.
"""

from __future__ import annotations

import re

from relay.namehand import KHMER_WORDS
from relay.namelists import lexicon

Span = tuple[int, int]

_RUN = re.compile("[\u1780-\u17d3\u17dd]+")  # not the punctuation ។ ៕
_SIGNS = re.compile("[\u17b6-\u17d3\u17dd]")  # vowels and signs: they belong to the consonant before
_COENG = "\u17d2"
_LONGEST = 16
# A person stands after these (verbs that take one, "and", "with", titles).
BEFORE = re.compile(
    "(?:បណ្តេញ|បណ្ដេញ|បង្ខំ|វាយ|ជេរ|គំរាម|ប្រាប់|និង|ជាមួយ|ឈ្មោះ|លោកស្រី|អ្នកស្រី|លោក|កញ្ញា|បង(?![\u17b6-\u17d3])|"
    "ប្អូន|ពូ(?![\u17b6-\u17d3])|មីង|អ៊ំ|ឱ្យ)"
)
# ... and these follow one.
AFTER = re.compile(
    "(?:ត្រូវ|មិន|និង|ឃើញ|បាន|ចាក់|នេះ|ជា|ដែល|របស់|ឱ្យ|ចេញ|ធ្វើ|សរសេរ|ថា|ក៏|នៅ|មក|ទៅ|ទទួល)(?![\u17b6-\u17d3\u17d2])"
)


# What follows a person opening a phrase ("សំបូរត្រូវ...", "ណយនិង..."): fewer words, as a phrase
# opens with anything.
SUBJECT_AFTER = re.compile("(?:ត្រូវ|មិនបាន|និង|ឃើញ)(?![\u17b6-\u17d3\u17d2])")


def _start_ok(text: str, i: int) -> bool:
    return not _SIGNS.match(text, i) and (i == 0 or text[i - 1] != _COENG) and text[i] != _COENG


def _end_ok(text: str, j: int) -> bool:
    return j >= len(text) or (not _SIGNS.match(text, j) and text[j] != _COENG)


def _listed(text: str, i: int, end: int) -> int | None:
    names = lexicon().get("khmer", {})
    for j in range(min(end, i + _LONGEST), i, -1):
        if text[i:j] in names and _end_ok(text, j):
            return j
    return None


# Everyday words of a complaint: a stretch holding one is no name.
COMMON = re.compile(
    "យើង|ខ្ញុំ|គាត់|ពួក|អ្នក|ប្រាក់|ក្រុមហ៊ុន|សន្តិសុខ|រោងចក្រ|កម្មករ|កម្មការិនី|គ្មាន|នរណា|មិត្ត|"
    "ការងារ|ម៉ោង|ថ្ងៃ|ខែ|ឆ្នាំ|ព្រឹក|ល្ងាច|យប់|ម៉ាស៊ីន|ដៃ|ជើង|ទ្វារ|បង្គន់|សោ|កាបូប|លិខិត|"
    "ប៉ូលិស|មេ|ចៅហ្វាយ|ប្រធាន|ផ្នែក|ដេរ|ការ|ទាំង|អស់|ច្រើន|តិច|ទេ|ហើយ|ប៉ុន្តែ|ព្រោះ|ដោយ|សម្រាប់|"
    "សូម|លេខ|ទូរស័ព្ទ|អ៊ីមែល|បុគ្គលិក|លិខិតឆ្លងដែន|អត្តសញ្ញាណ|បណ្តឹង|សរសេរ|ទីនេះ|ទីនោះ"
)


PRONOUNS = frozenset({"គេ", "នាង", "វា", "ឯង", "បង", "អូន"})


def find(text: str) -> list[Span]:
    """Khmer names in ``text``, as spans of it."""
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        spans += _in_run(text, run.start(), run.end())
    joined: list[Span] = []
    for a, b in spans:  # "សុខ ដារា": a family and a given name across one space
        if joined and text[joined[-1][1] : a] == " ":
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def _in_run(text: str, s: int, e: int) -> list[Span]:
    verbs = {m.end() for m in BEFORE.finditer(text, s, e)}
    placed = verbs | {s}
    found: list[Span] = []
    i = s
    while i < e:
        if not _start_ok(text, i):
            i += 1
            continue
        j = _listed(text, i, e)
        ends = j is not None and (j == e or AFTER.match(text, j) is not None)
        if j and (ends or (text[i:j] not in KHMER_WORDS and i not in placed)):
            found.append((i, j))
            i = j
            continue
        k = _stop(text, i, e) if i in placed and not AFTER.match(text, i) else -1
        if i == s and i not in verbs and k > 0 and not SUBJECT_AFTER.match(text, k):
            k = -1  # a phrase's first words are a name only before what follows a subject
        if k < 0 and i in placed and text[e : e + 1] == " " and e - i <= 8:
            nxt = _RUN.match(text, e + 1)  # "បង្ខំប៊ុន ធឿនឱ្យ": a family and a given name
            k = _stop(text, e + 1, nxt.end()) if nxt else -1
            if nxt and k < 0 and text[nxt.end() : nxt.end() + 1] == " " and AFTER.match(text, nxt.end() + 1):
                k = nxt.end()  # "ឈ្មោះប៊ុន ធឿន ចាក់សោ"
            k = k if k - e - 1 <= 8 else -1
        if 2 <= k - i <= 16 and not COMMON.search(text, i, k) and text[i:k] not in PRONOUNS:
            found.append((i, k))  # "បណ្តេញសំបូរចេញ": between a verb and what follows a person
            i = k
            continue
        if j and i in placed:
            found.append((i, j))
            i = j
            continue
        i += 1
    return found


def _stop(text: str, i: int, e: int) -> int:
    """Where a name that starts at ``i`` ends: before a word that follows a person; -1 if none does."""
    for k in range(i + 2, min(e, i + 13)):
        if _start_ok(text, k) and AFTER.match(text, k):
            return k
    return -1

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

Known gaps: names nobody introduced and no list holds (:mod:`relay.namefind`); numbers spelt out or in
Chinese numerals; phones under 7 digits; handles without a cue or ``@``; badge numbers under 7
digits without a cue (a labour group's ``patterns`` cover its own formats); rooms without a cue word
("住在305"); a Thai surname after the given name; bare domains on word-like TLDs (``.in``, ``.me``)
unless followed by a path.

The detectors, one module per family: :mod:`.phones`, :mod:`.ids` (digit runs, lettered IDs),
:mod:`.links`, :mod:`.cues`, :mod:`.places` (quasi-identifiers), :mod:`.names`; :mod:`.core` holds
the priorities and what stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from relay.redact.core import _P_CUE, _Cand, _mask
from relay.redact.cues import _cued
from relay.redact.ids import _digit_runs, _lettered_ids
from relay.redact.links import _links
from relay.redact.names import _name_cands
from relay.redact.phones import REGIONS, _phones
from relay.redact.places import _quasi
from relay.text import _normalize
from relay.tokens import token

__all__ = ["REGIONS", "Redacted", "Removal", "redact"]


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
    unlisted_names: bool = True,
) -> Redacted:
    """Replace every identifier in ``text`` with its placeholder in ``locale``.

    ``names`` are the case's own known names (reporter, people a caseworker listed): matched
    anywhere, whatever the case, width or Latin diacritics, and each part of a several-word name
    on its own (names and parts of three letters or fewer only when capitalised). ``patterns`` are
    regular expressions a labour group configures for its factories' worker numbers, matched against
    the NFKC form of the text; an invalid one raises :class:`ValueError`. An unknown ``locale`` gets
    the English placeholders. ``unlisted_names=False`` skips finding names nobody listed or
    introduced (:mod:`relay.namefind`), for a field that is a name by design: the factory's.
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
    cands: list[_Cand] = [(*norm.span(a, b), priority, kind) for a, b, priority, kind in found]
    cands += _name_cands(text, norm, names, unlisted_names)
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

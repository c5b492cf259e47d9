"""The SMS conversation: a pure function of (state, inbound text, now). No I/O, no randomness.

language -> factory -> what happened (one or more messages; DONE or 30 minutes idle closes it)
-> categories -> consent -> may we text you back -> complete (the adapter stores the report and
sends the receipt). A first message over ~100 characters is taken as the description at once.

The state holds no free text: the factory name and description arrive in ``Outcome.keep`` and the
adapter seals them to the node's key straight away (they are never readable on the intake).
Keywords (HELP, STATUS <code>, LANG, RESTART, STOP) work at any point, in every shipped language.

The language menu numbers every shipped locale once (1 English, 2 ..., always the same number) and
is sent in pages that each fit two SMS segments in the worker's current language; ``0`` shows the
next page (after the last, the first again). A reply with a language's name, or written in a
language the script detection recognises, chooses it too.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

import i18n
from channels.sms import texts
from channels.sms.detect import detect_locale
from i18n.segments import count_segments
from intake.domain import Category, Consent, ReceiptCode, clean_text
from intake.receipts import parse_receipt

LONG_FIRST_MESSAGE = 100
DESCRIPTION_IDLE = timedelta(minutes=30)
SESSION_IDLE = timedelta(hours=24)
MAX_PARTS = 40  # a flood of description messages stops adding text here
MAX_SEGMENTS = 2  # every SMS we send, the language menu's pages included
MORE = 0  # the language menu's "more languages" answer

# The SMS category menu's order (numbers 1..13 in texts.ASK_CATEGORIES).
MENU: list[Category] = [
    Category.WAGES, Category.WORKING_HOURS, Category.HEALTH_SAFETY, Category.FORCED_LABOUR,
    Category.RECRUITMENT_FEES, Category.CHILD_LABOUR, Category.FREEDOM_OF_ASSOCIATION, Category.DISCRIMINATION,
    Category.HARASSMENT, Category.EMPLOYMENT, Category.DORMITORY, Category.RETALIATION, Category.OTHER,
]  # fmt: skip


class Stage(enum.StrEnum):
    LANGUAGE = "language"
    FACTORY = "factory"
    DESCRIPTION = "description"
    CATEGORIES = "categories"
    CONSENT = "consent"
    CONTACT = "contact"


class SmsState(BaseModel):
    """Where a conversation stands. Serialised into the inbox; deliberately holds no free text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Stage
    locale: str = i18n.SOURCE_LOCALE
    has_factory: bool = False
    parts: int = 0  # description messages kept so far
    categories: tuple[Category, ...] = ()
    consent: Consent | None = None
    contact_ok: bool | None = None
    resume: Stage | None = None  # where to go back to after the language menu
    page: int = 0  # the language menu's page on the worker's screen
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Keep:
    """Free text the adapter must seal into the session right away."""

    field: Literal["factory", "description"]
    text: str


@dataclass(frozen=True)
class Outcome:
    state: SmsState | None
    replies: list[str] = field(default_factory=list)
    keep: list[Keep] = field(default_factory=list)
    completed: SmsState | None = None  # a finished report: seal it, store it, send RECEIPT
    status_query: ReceiptCode | None = None  # look this code up and send the status
    stopped: bool = False  # STOP: delete everything, send nothing
    reset: bool = False  # RESTART: forget the text kept so far in this conversation


def _t(locale: str, msgid: str, **params: str) -> str:
    text = i18n.translations(locale).gettext(msgid)
    return text.format(**params) if params else text


@cache
def keyword_words(name: str) -> frozenset[str]:
    """Every spelling of a keyword in every shipped locale (English always included)."""
    words: set[str] = set()
    for loc in i18n.available_locales():
        for w in i18n.translations(loc).gettext(texts.KEYWORDS[name]).split("|"):
            if w.strip():
                words.add(_fold(w))
    words.update(_fold(w) for w in texts.KEYWORDS[name].split("|"))
    return frozenset(words)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _bare(text: str) -> str:
    """Folded, without the punctuation phones and people add around a word ("完成。", "“是”", "Yes!")."""
    folded = _fold(text)
    stripped = "".join(ch for ch in folded if not unicodedata.category(ch).startswith(("P", "Z")) or ch == " ").strip()
    return stripped or folded


def _keyword(text: str) -> tuple[str | None, str]:
    """(keyword name, rest of the message) if the message is a keyword (STATUS: followed by a code)."""
    folded, bare = _fold(text), _bare(text)
    for name in ("stop", "help", "status", "lang", "restart", "done"):
        for word in keyword_words(name):
            if bare == word:
                return name, ""
            if name == "status" and folded.startswith(word) and len(folded) > len(word):
                rest = folded[len(word) :]
                code = rest.lstrip(" :：#")
                # Only digits and separators may follow: "查询一下工资" is a story, not a query.
                if (rest[:1] in (" ", ":", "：", "#") or rest[:1].isdigit()) and not any(ch.isalpha() for ch in code):
                    return name, code
    return None, text


@cache
def language_pages(locale: str) -> tuple[tuple[str, ...], ...]:
    """The language menu's lines (``"3 Čeština"``), split into pages that fit ``MAX_SEGMENTS`` under
    the CHOOSE_LANGUAGE header in ``locale``, each page but a single one ending with the MORE line.

    A line's number is its place among the shipped locales, whatever the page: the worker can
    answer with a number from an earlier page, and a number never changes with the language.
    """
    t = i18n.translations(locale)
    header = t.gettext(texts.CHOOSE_LANGUAGE)
    more = f"{MORE} {t.gettext(texts.MORE_LANGUAGES)}"
    lines = [f"{n} {i18n.language_name(loc)}" for n, loc in enumerate(i18n.available_locales(), 1)]

    def fits(*parts: str) -> bool:
        return count_segments("\n".join(parts)).segments <= MAX_SEGMENTS

    if fits(header, *lines):
        return (tuple(lines),)
    greedy: list[list[str]] = [[]]
    for line in lines:
        if greedy[-1] and not fits(header, *greedy[-1], line, more):
            greedy.append([])
        greedy[-1].append(line)
    # As many pages as filling each one needs, but evened out (6 5 5 5, not 7 7 6 1) when they fit.
    size, extra = divmod(len(lines), len(greedy))
    bounds = [j * size + min(j, extra) for j in range(len(greedy) + 1)]
    even = [lines[bounds[j] : bounds[j + 1]] for j in range(len(greedy))]
    pages = even if all(fits(header, *page, more) for page in even) else greedy
    return tuple((*page, more) for page in pages)


def language_menu(locale: str = i18n.SOURCE_LOCALE, page: int = 0) -> str:
    """One page of the language menu as one SMS: the CHOOSE_LANGUAGE header in ``locale``, then lines."""
    pages = language_pages(locale)
    lines = pages[page % len(pages)]
    return "\n".join((_t(locale, texts.CHOOSE_LANGUAGE), *lines))


@cache
def _language_names() -> dict[str, str]:
    """Every way to name a shipped locale in a reply: its name in itself and in English (not its
    code: "hi" is a greeting before it is Hindi)."""
    names: dict[str, str] = {}
    for loc in i18n.available_locales():
        for name in (i18n.language_name(loc), i18n.babel_locale(loc).get_display_name("en") or loc):
            names.setdefault(_bare(name), loc)
    return names


def _language_named(text: str) -> str | None:
    return _language_names().get(_bare(text))


def _numbers(text: str) -> list[int] | None:
    cleaned = unicodedata.normalize("NFKC", text)
    tokens = [t for t in re.split(r"[\s,;.、，。/+&]+", cleaned) if t]
    if not tokens or not all(t.isdigit() and len(t) <= 3 for t in tokens):
        return None
    return [int(t) for t in tokens]


def _yes_no(text: str) -> bool | None:
    folded = _bare(text)
    if folded in keyword_words("yes") or folded == "1":
        return True
    if folded in keyword_words("no") or folded in ("2", "0"):
        return False
    return None


def new_state(now: datetime, stage: Stage, locale: str) -> SmsState:
    return SmsState(stage=stage, locale=locale, started_at=now, updated_at=now)


def step(state: SmsState | None, inbound: str, now: datetime) -> Outcome:
    """Advance one conversation by one inbound message."""
    text = _clean(inbound)
    if state is not None and now - state.updated_at > SESSION_IDLE:
        state = None  # expired: the adapter has already forgotten its sealed parts
    keyword, rest = _keyword(text)
    locale = state.locale if state else (detect_locale(text) or i18n.SOURCE_LOCALE)

    if keyword == "stop":
        return Outcome(None, stopped=True)
    if keyword == "help":
        return Outcome(_touch(state, now), [_t(locale, texts.HELP)])
    if keyword == "status":
        code = parse_receipt(rest)
        if code is None:
            return Outcome(_touch(state, now), [_t(locale, texts.STATUS_INVALID)])
        return Outcome(_touch(state, now), status_query=code)
    if keyword == "lang":
        base = state or new_state(now, Stage.LANGUAGE, locale)
        resume = base.resume or (base.stage if base.stage is not Stage.LANGUAGE else None)
        update = {"stage": Stage.LANGUAGE, "resume": resume, "page": 0, "updated_at": now}
        return Outcome(base.model_copy(update=update), [_menu(locale)])
    if keyword == "restart":
        fresh = new_state(now, Stage.FACTORY, locale)
        return Outcome(fresh, [_t(locale, texts.RESTARTED), _t(locale, texts.ASK_FACTORY)], reset=True)

    if state is None:
        return _first(text, now)
    if not text:
        return Outcome(_touch(state, now), [_t(state.locale, texts.EMPTY)])
    return _answer(state, text, keyword, now)


_QUESTION = {
    Stage.FACTORY: texts.ASK_FACTORY,
    Stage.DESCRIPTION: texts.ASK_DESCRIPTION,
    Stage.CATEGORIES: texts.ASK_CATEGORIES,
    Stage.CONSENT: texts.ASK_CONSENT,
    Stage.CONTACT: texts.ASK_CONTACT,
}


def _menu(locale: str, page: int = 0) -> str:
    return language_menu(locale, page)


def _first(text: str, now: datetime) -> Outcome:
    detected = _language_named(text) or detect_locale(text)  # "Nepali", "नेपाली" or a sentence in it
    if not text:
        return Outcome(new_state(now, Stage.LANGUAGE, i18n.SOURCE_LOCALE), [_menu(i18n.SOURCE_LOCALE)])
    if len(text) > LONG_FIRST_MESSAGE:
        locale = detected or i18n.SOURCE_LOCALE
        state = new_state(now, Stage.FACTORY, locale).model_copy(update={"parts": 1})
        keep = [Keep("description", text)]
        if detected is None:
            return Outcome(state.model_copy(update={"stage": Stage.LANGUAGE}), [_menu(locale)], keep)
        return Outcome(state, [_t(locale, texts.ASK_FACTORY_AFTER)], keep)
    if detected is None:
        return Outcome(new_state(now, Stage.LANGUAGE, i18n.SOURCE_LOCALE), [_menu(i18n.SOURCE_LOCALE)])
    return Outcome(new_state(now, Stage.FACTORY, detected), [_t(detected, texts.ASK_FACTORY)])


def _after_factory(state: SmsState) -> tuple[SmsState, str]:
    if state.parts:
        return state.model_copy(update={"stage": Stage.CATEGORIES}), texts.ASK_CATEGORIES
    return state.model_copy(update={"stage": Stage.DESCRIPTION}), texts.ASK_DESCRIPTION


def _answer(state: SmsState, text: str, keyword: str | None, now: datetime) -> Outcome:
    loc = state.locale
    idle = now - state.updated_at
    state = state.model_copy(update={"updated_at": now})

    if state.stage is Stage.DESCRIPTION and state.parts and idle > DESCRIPTION_IDLE and keyword != "done":
        # 30 minutes of silence closed the description. Numbers answer the category question;
        # anything else is kept as more of the story (nothing is dropped) and the question asked.
        numbers = _numbers(text)
        if numbers and all(1 <= n <= len(MENU) for n in numbers):
            state = state.model_copy(update={"stage": Stage.CATEGORIES})
        else:
            nxt = state.model_copy(update={"stage": Stage.CATEGORIES, "parts": state.parts + 1})
            return Outcome(nxt, [_t(loc, texts.ASK_CATEGORIES)], [Keep("description", text)])

    if state.stage is Stage.LANGUAGE:
        numbers = _numbers(text)
        locales = i18n.available_locales()
        if numbers == [MORE]:
            page = (state.page + 1) % len(language_pages(loc))
            return Outcome(state.model_copy(update={"page": page}), [_menu(loc, page)])
        chosen: str | None = None
        if numbers and len(numbers) == 1 and 1 <= numbers[0] <= len(locales):
            chosen = locales[numbers[0] - 1]
        elif not numbers:
            chosen = _language_named(text) or detect_locale(text)
        if chosen is not None:
            state = state.model_copy(update={"page": 0})
            if state.resume is not None and state.resume is not Stage.FACTORY:
                nxt = state.model_copy(update={"locale": chosen, "stage": state.resume, "resume": None})
                return Outcome(nxt, [_t(chosen, _QUESTION[state.resume])])
            nxt = state.model_copy(update={"locale": chosen, "stage": Stage.FACTORY, "resume": None})
            if state.has_factory:
                nxt, msg = _after_factory(nxt)
                return Outcome(nxt, [_t(chosen, msg)])
            return Outcome(nxt, [_t(chosen, texts.ASK_FACTORY_AFTER if state.parts else texts.ASK_FACTORY)])
        return Outcome(state, [_menu(loc, state.page)])

    if state.stage is Stage.FACTORY:
        nxt, msg = _after_factory(state.model_copy(update={"has_factory": True}))
        return Outcome(nxt, [_t(loc, msg)], [Keep("factory", text)])

    if state.stage is Stage.DESCRIPTION:
        if keyword == "done":
            if not state.parts:
                return Outcome(state, [_t(loc, texts.DESCRIPTION_FIRST)])
            return Outcome(state.model_copy(update={"stage": Stage.CATEGORIES}), [_t(loc, texts.ASK_CATEGORIES)])
        if state.parts >= MAX_PARTS:
            return Outcome(state.model_copy(update={"stage": Stage.CATEGORIES}), [_t(loc, texts.ASK_CATEGORIES)])
        nxt = state.model_copy(update={"parts": state.parts + 1})
        replies = [_t(loc, texts.GOT_PART)] if state.parts == 0 else []
        return Outcome(nxt, replies, [Keep("description", text)])

    if state.stage is Stage.CATEGORIES:
        numbers = _numbers(text)
        if not numbers or not all(1 <= n <= len(MENU) for n in numbers):
            return Outcome(state, [_t(loc, texts.CATEGORIES_INVALID)])
        cats = tuple(dict.fromkeys(MENU[n - 1] for n in numbers))
        return Outcome(
            state.model_copy(update={"categories": cats, "stage": Stage.CONSENT}), [_t(loc, texts.ASK_CONSENT)]
        )

    if state.stage is Stage.CONSENT:
        numbers = _numbers(text)
        if not numbers or len(numbers) != 1 or numbers[0] not in (0, 1, 2):
            return Outcome(state, [_t(loc, texts.CONSENT_INVALID)])
        return Outcome(
            state.model_copy(update={"consent": Consent(numbers[0]), "stage": Stage.CONTACT}),
            [_t(loc, texts.ASK_CONTACT)],
        )

    # Stage.CONTACT
    answer = _yes_no(text)
    if answer is None:
        return Outcome(state, [_t(loc, texts.CONTACT_INVALID)])
    return Outcome(None, completed=state.model_copy(update={"contact_ok": answer}))


def _touch(state: SmsState | None, now: datetime) -> SmsState | None:
    return state.model_copy(update={"updated_at": now}) if state else None


def _clean(text: str) -> str:
    """Lone surrogates and control characters out; NFC; trimmed. Never raises."""
    if not isinstance(text, str):
        return ""
    return clean_text(text)[:5000]

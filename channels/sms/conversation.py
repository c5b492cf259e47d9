"""The SMS conversation: a pure function of (state, inbound text, now). No I/O, no randomness.

language -> factory -> what happened (one or more messages; DONE or 30 minutes idle closes it)
-> categories -> consent -> may we text you back -> complete (the adapter stores the report and
sends the receipt).

Nothing the worker writes is dropped: every message that is not a bare keyword, a greeting, a
language choice or a menu answer is part of their story, whatever its length, script or the
question it answers. A first message that says what happened ("工资三个月没发") is kept as the
description; the factory is still asked, then "anything more, or DONE"; story text sent where a
menu answer was expected is added too, and the question asked again.

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
from channels.sms.greetings import is_greeting
from i18n.segments import count_segments
from intake.domain import MAX_SHORT, Category, Consent, ReceiptCode, clean_text
from intake.receipts import parse_receipt

DESCRIPTION_IDLE = timedelta(minutes=30)
SESSION_IDLE = timedelta(hours=24)
MAX_PARTS = 40  # a flood of story messages stops adding text here
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
    ANSWER = "answer"  # a question on the status board is asked (channels/sms/questions.py, issue 15)


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
    # Stage.ANSWER: the question asked (its id, kind and subject code: no free text) and how often
    question: str = ""
    question_kind: str = ""
    question_subject: str = ""
    asked: int = 0
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
    # isdecimal, not isdigit: "²" or "𐩀" are digits int() refuses, and must not raise here.
    if not tokens or not all(t.isdecimal() and len(t) <= 3 for t in tokens):
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


def step(state: SmsState | None, inbound: str, now: datetime, *, media: bool = False) -> Outcome:
    """Advance one conversation by one inbound message (``media``: it carried a photo or document,
    which the adapter adds to the conversation as a sealed part)."""
    outcome = _step(state, inbound, now)
    if not media or outcome.stopped or outcome.completed is not None:
        return outcome
    return _with_media(outcome, None if state is None or now - state.updated_at > SESSION_IDLE else state,
                       _clean(inbound), now)  # fmt: skip


def _with_media(outcome: Outcome, before: SmsState | None, text: str, now: datetime) -> Outcome:
    """A message with a file is part of the story, even with no text: it counts as one more message
    of it (so DONE is accepted and an abandoned conversation is kept), and a file alone is answered
    as a story message would be."""
    if text:
        nxt = outcome.state or new_state(now, Stage.LANGUAGE, i18n.SOURCE_LOCALE)
        if not outcome.keep:
            nxt = nxt.model_copy(update={"parts": min(nxt.parts + 1, MAX_PARTS)})
        return Outcome(nxt, outcome.replies, outcome.keep, status_query=outcome.status_query, reset=outcome.reset)
    if before is None:
        first = new_state(now, Stage.LANGUAGE, i18n.SOURCE_LOCALE).model_copy(update={"parts": 1})
        return Outcome(first, [_menu(i18n.SOURCE_LOCALE)])
    nxt = before.model_copy(update={"parts": min(before.parts + 1, MAX_PARTS), "updated_at": now})
    loc = nxt.locale
    if nxt.stage is Stage.LANGUAGE:
        return Outcome(nxt, [_menu(loc, nxt.page)])
    if nxt.stage is Stage.DESCRIPTION:
        return Outcome(nxt, [_t(loc, texts.GOT_PART)] if before.parts == 0 else [])
    return Outcome(nxt, [_t(loc, texts.ADDED), _t(loc, _question(nxt))])


def _step(state: SmsState | None, inbound: str, now: datetime) -> Outcome:
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
        return _first(text, keyword, now)
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


def is_story(text: str, keyword: str | None = None) -> bool:
    """Whether a (cleaned) message is part of the worker's story: anything but a bare keyword
    (``keyword`` as :func:`_keyword` found it, or YES/NO), a greeting, a language's name, numbers
    (a menu answer), a bare receipt code (a status query without STATUS: never written into a
    case) or nothing but punctuation and spaces."""
    if keyword is not None or not any(unicodedata.category(ch)[0] not in "PZC" for ch in text):
        return False
    if parse_receipt(text) is not None:
        return False
    bare = _bare(text)
    if bare in keyword_words("yes") or bare in keyword_words("no"):
        return False
    return _numbers(text) is None and _language_named(text) is None and not is_greeting(text)


def _add(state: SmsState, text: str) -> tuple[SmsState, list[Keep]]:
    """Keep ``text`` as more of the story (up to ``MAX_PARTS`` messages)."""
    if state.parts >= MAX_PARTS:
        return state, []
    return state.model_copy(update={"parts": state.parts + 1}), [Keep("description", text)]


def _question(state: SmsState) -> str:
    """What to ask at ``state``'s stage, knowing whether the worker already told their story."""
    if state.stage is Stage.FACTORY:
        return texts.ASK_FACTORY_AFTER if state.parts else texts.ASK_FACTORY
    if state.stage is Stage.DESCRIPTION:
        return texts.ASK_MORE if state.parts else texts.ASK_DESCRIPTION
    return _QUESTION.get(state.stage, texts.CHOOSE_LANGUAGE)  # (the language menu is sent by _menu)


def _first(text: str, keyword: str | None, now: datetime) -> Outcome:
    if not text:
        return Outcome(new_state(now, Stage.LANGUAGE, i18n.SOURCE_LOCALE), [_menu(i18n.SOURCE_LOCALE)])
    detected = _language_named(text) or detect_locale(text)  # "Nepali", "नेपाली" or a sentence in it
    state = new_state(now, Stage.FACTORY, detected or i18n.SOURCE_LOCALE)
    keep: list[Keep] = []
    if is_story(text, keyword):  # "工资三个月没发" is a whole complaint: keep it, still ask the factory
        state, keep = _add(state, text)
    if detected is None:
        return Outcome(state.model_copy(update={"stage": Stage.LANGUAGE}), [_menu(i18n.SOURCE_LOCALE)], keep)
    return Outcome(state, [_t(detected, _question(state))], keep)


def _after_factory(state: SmsState) -> tuple[SmsState, str]:
    nxt = state.model_copy(update={"stage": Stage.DESCRIPTION})
    return nxt, _question(nxt)


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
            nxt, keep = _add(state.model_copy(update={"stage": Stage.CATEGORIES}), text)
            return Outcome(nxt, [_t(loc, texts.ASK_CATEGORIES)], keep)

    if state.stage is Stage.LANGUAGE:
        return _choose_language(state, text, keyword)

    if state.stage is Stage.FACTORY:
        if keyword == "done":  # no factory to give ("I told you"): go on without one
            nxt = state.model_copy(update={"stage": Stage.CATEGORIES if state.parts else Stage.DESCRIPTION})
            return Outcome(nxt, [_t(loc, _question(nxt))])
        if len(text) > MAX_SHORT:  # no factory's name is this long: it is more of the story
            nxt, keep = _add(state, text)
            return Outcome(nxt, [_t(loc, texts.ASK_FACTORY_AFTER)], keep)
        nxt, msg = _after_factory(state.model_copy(update={"has_factory": True}))
        return Outcome(nxt, [_t(loc, msg)], [Keep("factory", text)])

    if state.stage is Stage.DESCRIPTION:
        if keyword == "done":
            if not state.parts:
                return Outcome(state, [_t(loc, texts.DESCRIPTION_FIRST)])
            return Outcome(state.model_copy(update={"stage": Stage.CATEGORIES}), [_t(loc, texts.ASK_CATEGORIES)])
        if state.parts >= MAX_PARTS:
            return Outcome(state.model_copy(update={"stage": Stage.CATEGORIES}), [_t(loc, texts.ASK_CATEGORIES)])
        nxt, keep = _add(state, text)
        replies = [_t(loc, texts.GOT_PART)] if state.parts == 0 else []
        return Outcome(nxt, replies, keep)

    if state.stage is Stage.CATEGORIES:
        numbers = _numbers(text)
        if numbers and all(1 <= n <= len(MENU) for n in numbers):
            cats = tuple(dict.fromkeys(MENU[n - 1] for n in numbers))
            nxt = state.model_copy(update={"categories": cats, "stage": Stage.CONSENT})
            return Outcome(nxt, [_t(loc, texts.ASK_CONSENT)])
        return _not_an_answer(state, text, keyword, texts.CATEGORIES_INVALID)

    if state.stage is Stage.CONSENT:
        numbers = _numbers(text)
        if numbers and len(numbers) == 1 and numbers[0] in (0, 1, 2):
            nxt = state.model_copy(update={"consent": Consent(numbers[0]), "stage": Stage.CONTACT})
            return Outcome(nxt, [_t(loc, texts.ASK_CONTACT)])
        return _not_an_answer(state, text, keyword, texts.CONSENT_INVALID)

    # Stage.CONTACT
    answer = _yes_no(text)
    if answer is None:
        return _not_an_answer(state, text, keyword, texts.CONTACT_INVALID)
    return Outcome(None, completed=state.model_copy(update={"contact_ok": answer}))


def _not_an_answer(state: SmsState, text: str, keyword: str | None, invalid: str) -> Outcome:
    """A menu question got something else: more of the story is added (and the question asked
    again in full); anything else gets the short "please reply ..." line."""
    loc = state.locale
    if not is_story(text, keyword):
        return Outcome(state, [_t(loc, invalid)])
    nxt, keep = _add(state, text)
    return Outcome(nxt, [_t(loc, texts.ADDED), _t(loc, _question(nxt))], keep)


def _choose_language(state: SmsState, text: str, keyword: str | None) -> Outcome:
    """The language menu's answer: a number, a language's name, or a message in a language we
    recognise (which is also kept as story, unless it is only a greeting)."""
    loc = state.locale
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
    keep: list[Keep] = []
    if is_story(text, keyword):
        state, keep = _add(state, text)
    if chosen is None:
        return Outcome(state, [_menu(loc, state.page)], keep)
    resume = state.resume
    state = state.model_copy(update={"page": 0, "locale": chosen, "resume": None})
    if resume is not None and resume is not Stage.FACTORY:
        nxt = state.model_copy(update={"stage": resume})
    elif state.has_factory:
        nxt, _msg = _after_factory(state)
    else:
        nxt = state.model_copy(update={"stage": Stage.FACTORY})
    return Outcome(nxt, [_t(chosen, _question(nxt))], keep)


def _touch(state: SmsState | None, now: datetime) -> SmsState | None:
    return state.model_copy(update={"updated_at": now}) if state else None


def _clean(text: str) -> str:
    """Lone surrogates and control characters out; NFC; trimmed. Never raises."""
    if not isinstance(text, str):
        return ""
    return clean_text(text)[:5000]

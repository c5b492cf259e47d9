"""Translations with Babel: catalog loading, language negotiation, and the extraction markers.

Two catalogs per locale under ``i18n/locales/<lang>/LC_MESSAGES/``:

- ``messages.po``: everything a worker can see (web pages, SMS replies, voice prompts, errors);
- ``desk.po``: everything a caseworker sees (CLI, desk app).

The ``.po`` files are the source of truth; they are compiled in memory with Babel when first used,
so there is no build step and no stale ``.mo``. ``docs/translating.md`` has the workflow.

Markers: ``N_("...")`` marks a worker string translated later (per request);
``D_("...")`` marks a caseworker string translated later; ``d_("...")`` translates a caseworker
string now, in the CLI's locale; ``dn_(singular, plural, n)`` does so for a count.
"""

from __future__ import annotations

import io
import os
import threading
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LOCALE = "en"
WORKER_DOMAIN = "messages"
DESK_DOMAIN = "desk"

# Script subtags map Chinese onto the two written standards, whatever region is asked for.
_CHINESE = {
    "zh": "zh_Hans", "zh_cn": "zh_Hans", "zh_sg": "zh_Hans", "zh_my": "zh_Hans", "zh_hans": "zh_Hans",
    "zh_tw": "zh_Hant", "zh_hk": "zh_Hant", "zh_mo": "zh_Hant", "zh_hant": "zh_Hant",
}  # fmt: skip


def N_(message: str) -> str:
    """Mark a worker-facing string for extraction; translate it later with the request's locale."""
    return message


def D_(message: str) -> str:
    """Mark a caseworker-facing string for extraction; translate it later."""
    return message


@cache
def available_locales(domain: str = WORKER_DOMAIN) -> tuple[str, ...]:
    """Locales that ship a catalog for ``domain``, English first."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain}.po"))
    return tuple(sorted(set(found) | {SOURCE_LOCALE}, key=lambda x: (x != SOURCE_LOCALE, x)))


_lock = threading.Lock()


@cache
def translations(locale: str, domain: str = WORKER_DOMAIN) -> NullTranslations:
    """The compiled catalog for ``locale`` (falls back to the English msgids)."""
    po = LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po.is_file():
        return NullTranslations()
    with _lock, po.open("rb") as fh:
        catalog = read_po(fh, locale=babel_locale(locale), domain=domain)
        buf = io.BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=domain)


def babel_locale(locale: str) -> Locale:
    """Babel's Locale for one of our tags (``zh_Hans`` -> ``zh_Hans``; ``fil`` -> ``fil``)."""
    return Locale.parse(locale)


def normalize(tag: str) -> str | None:
    """Map a BCP 47 / POSIX tag (``zh-CN``, ``en_US.UTF-8``, ``pt-BR``) to a shipped locale or None."""
    tag = tag.strip().split(".")[0].split("@")[0].replace("-", "_")
    if not tag or tag == "*":
        return None
    lowered = tag.lower()
    shipped = {loc.lower(): loc for loc in available_locales()}
    if lowered in shipped:
        return shipped[lowered]
    parts = lowered.split("_")
    if parts[0] == "zh":
        key = "_".join(parts[:2]) if len(parts) > 1 else "zh"
        if len(parts) > 2 and parts[1] in ("hans", "hant"):
            key = f"zh_{parts[1]}"
        choice = _CHINESE.get(key, "zh_Hans")
        return choice if choice in available_locales() else None
    if parts[0] == "tl":  # Tagalog: Filipino is its standard form
        parts[0] = "fil"
    return shipped.get(parts[0])


def negotiate(accept_language: str | None, explicit: str | None = None, default: str = SOURCE_LOCALE) -> str:
    """Pick a shipped locale: an explicit choice wins, then Accept-Language by q-value."""
    if explicit:
        chosen = normalize(explicit)
        if chosen:
            return chosen
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "")[:512].split(",")):
        piece, _, params = part.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            ranked.append((-q, i, piece))
    for _q, _i, piece in sorted(ranked):
        chosen = normalize(piece)
        if chosen:
            return chosen
    return default if default in available_locales() else SOURCE_LOCALE


def language_name(locale: str) -> str:
    """The language's name in itself (for language switchers)."""
    try:
        name = babel_locale(locale).get_display_name(babel_locale(locale)) or locale
    except (UnknownLocaleError, ValueError):
        return locale
    return name[:1].upper() + name[1:] if locale not in ("zh_Hans", "zh_Hant") else name


def text_direction(locale: str) -> str:
    try:
        return "rtl" if babel_locale(locale).character_order == "right-to-left" else "ltr"
    except (UnknownLocaleError, ValueError):
        return "ltr"


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")


def as_date(value: date | datetime | float) -> date:
    """A unix time (seconds) or datetime as its UTC calendar day; a date as it is."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return datetime.fromtimestamp(value, UTC).date()


def format_date(value: date | datetime | float, locale: str, style: str = "long") -> str:
    """A day as a worker in ``locale`` writes it (CLDR via Babel): 21 November 2026, 2026年11月21日."""
    return _babel_date(as_date(value), format=style, locale=babel_locale(locale))


def format_number(value: int | float | Decimal, locale: str) -> str:
    """A count or amount with the locale's digits grouping and decimal sign (12,345 / 12 345 / 12.345)."""
    return format_decimal(value, locale=babel_locale(locale))


@cache
def cli_locale() -> str:
    """The CLI's locale, from the usual gettext environment variables."""
    for var in ("INTAKE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            chosen = normalize(value.split(":")[0])
            if chosen and chosen in available_locales(DESK_DOMAIN):
                return chosen
            if value.split(":")[0] not in ("C", "POSIX", "C.UTF-8"):
                break
    return SOURCE_LOCALE


# The desk app sets this per request to the unlocked user's chosen language; elsewhere it is unset
# and caseworker strings follow the CLI's locale.
_desk_locale: ContextVar[str | None] = ContextVar("desk_locale", default=None)


def desk_locale() -> str:
    """The locale caseworker strings are translated into right now."""
    return _desk_locale.get() or cli_locale()


def set_desk_locale(locale: str | None) -> None:
    """Use ``locale`` (a shipped desk locale, else the CLI's) for caseworker strings in this context."""
    _desk_locale.set(locale if locale in available_locales(DESK_DOMAIN) else None)


def d_(message: str) -> str:
    """Translate a caseworker-facing string now, in the desk user's or else the CLI's locale."""
    return translations(desk_locale(), DESK_DOMAIN).gettext(message)


def dn_(singular: str, plural: str, n: int) -> str:
    """:func:`d_` for a count: the form of ``n`` in the desk user's language ("1 envelope", "2 envelopes").

    Each catalog's ``Plural-Forms`` picks the form (one in Chinese, three in Polish and Ukrainian).
    """
    return translations(desk_locale(), DESK_DOMAIN).ngettext(singular, plural, n)

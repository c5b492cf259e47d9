"""The worker's pages in every shipped language: lang and dir, the language switcher in the URL,
translated categories, and dates written the worker's way (Babel).

Nothing here names a translation: every expectation is read from the catalogs and CLDR, so the
tests hold for any set of shipped locales (tests/browser renders the same pages in Chromium).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from babel.dates import format_date
from markupsafe import escape

import i18n
from intake.domain import CATEGORY_LABELS, CONSENT_LABELS, Category
from intake.receipts import parse_receipt
from tests.channels.web import Web, gettext, html_lang, html_page, post_form, web_app
from tests.conftest import receipt_in

LOCALES = i18n.available_locales()
REPLY = "We spoke to the factory; the back pay is promised for Friday."


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_app(tmp_path_factory.mktemp("locales") / "node") as w:
        yield w


@pytest.fixture(scope="module")
def answered(web: Web) -> str:
    """A report with one reply from the labour group: its receipt code, as shown to the worker."""
    code = receipt_in(html_page(post_form(web.client, "/report", {"description": "Unpaid overtime since May."}), 200))
    parsed = parse_receipt(code)
    assert parsed is not None
    web.service.inbox.post_message(web.service.receipts.hash(parsed), REPLY)
    return code


def html_dir(html: str) -> str:
    match = re.search(r'<html lang="[^"]+" dir="(ltr|rtl)">', html)
    assert match, "page has no html dir"
    return match.group(1)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("path", ["/", "/report", "/status"])
def test_every_page_says_its_language_and_direction(web: Web, path: str, locale: str) -> None:
    html = html_page(web.client.get(path, params={"lang": locale}), 200)
    assert html_lang(html) == i18n.html_lang(locale)
    assert html_dir(html) == ("rtl" if locale == "ur" else "ltr")
    assert escape(gettext(locale, "Workers' grievance line")) in html
    # The switcher: every language by its own name, tagged with its language, chosen by URL.
    for other in LOCALES:
        name = escape(i18n.language_name(other))
        tag = i18n.html_lang(other)
        if other == locale:
            assert f'<strong lang="{tag}" dir="auto" aria-current="true">{name}</strong>' in html
        else:
            assert f'<a lang="{tag}" dir="auto" hreflang="{tag}" href="?lang={other}">{name}</a>' in html
    # Internal links keep the choice, so it is remembered without a cookie.
    for href in re.findall(r'href="(/[^"]*)"', html):
        if not href.startswith("/static/"):
            assert href.endswith(f"?lang={locale}"), href


def test_urdu_is_right_to_left_and_the_others_are_not() -> None:
    if "ur" in LOCALES:
        assert i18n.text_direction("ur") == "rtl"
    for locale in LOCALES:
        if locale != "ur":
            assert i18n.text_direction(locale) == "ltr", locale


def test_choosing_a_language_sets_no_cookie_but_the_csrf_one(web: Web) -> None:
    for locale in LOCALES:
        web.client.cookies.clear()
        response = web.client.get("/", params={"lang": locale})
        names = [c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")]
        assert names == ["csrf"], names


@pytest.mark.parametrize("locale", LOCALES)
def test_the_form_lists_categories_and_choices_in_the_language(web: Web, locale: str) -> None:
    html = html_page(web.client.get("/report", params={"lang": locale}), 200)
    for category in Category:
        label = gettext(locale, CATEGORY_LABELS[category])
        assert f'value="{category.value}"> {escape(label)}</label>' in html, (locale, category)
    for msgid in CONSENT_LABELS.values():
        assert escape(gettext(locale, msgid)) in html
    assert f'name="lang" value="{locale}"' in html


@pytest.mark.parametrize("locale", LOCALES)
def test_reply_dates_are_written_the_workers_way(web: Web, answered: str, locale: str) -> None:
    html = html_page(post_form(web.client, "/status", {"receipt": answered, "lang": locale}), 200)
    assert html_lang(html) == i18n.html_lang(locale)
    [(when, shown)] = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})">([^<]+)</time>', html)
    day = datetime.strptime(when, "%Y-%m-%d").replace(tzinfo=UTC).date()
    assert abs((day - datetime.now(UTC).date()).days) <= 1
    assert shown == escape(format_date(day, format="long", locale=i18n.babel_locale(locale)))
    assert escape(REPLY) in html


def test_dates_differ_by_language(web: Web, answered: str) -> None:
    shown = set()
    for locale in [loc for loc in ("en", "zh_Hans", "ur", "th", "fr") if loc in LOCALES]:
        html = post_form(web.client, "/status", {"receipt": answered, "lang": locale}).text
        shown.add(re.findall(r"<time [^>]+>([^<]+)</time>", html)[0])
    assert len(shown) == len([loc for loc in ("en", "zh_Hans", "ur", "th", "fr") if loc in LOCALES])


def test_the_receipt_page_has_no_language_links(web: Web) -> None:
    """Following one would leave the only page that shows the code."""
    for locale in LOCALES[:3]:
        sent = post_form(web.client, "/report", {"description": "Kept passports.", "lang": locale})
        html = html_page(sent, 200)
        assert receipt_in(html)
        assert 'class="langs"' not in html
        assert 'href="?lang=' not in html
        assert html_lang(html) == i18n.html_lang(locale)


def test_free_text_follows_its_own_direction(web: Web) -> None:
    """A worker may write Latin text on an Urdu page or Urdu on an English one: dir="auto"."""
    html = html_page(web.client.get("/report", params={"lang": LOCALES[-1]}), 200)
    for field in ("description", "factory", "location", "name"):
        assert re.search(rf'id="{field}"[^>]* dir="auto"', html), field
    assert re.search(r'id="phone"[^>]* dir="ltr"', html)
    status = html_page(web.client.get("/status"), 200)
    assert re.search(r'id="receipt"[^>]* dir="ltr"', status)

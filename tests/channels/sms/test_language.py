"""Choosing the language of an SMS conversation: script detection and the paged language menu.

Pure functions and the pure state machine: no I/O. Detection is checked on ``guess`` (whatever ships)
and on ``detect_locale`` with an explicit set of shipped locales, so these tests hold while the
catalogs are still arriving; the menu is checked against whatever ships now.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import i18n
from channels.sms import conversation, detect, texts
from channels.sms.conversation import MAX_SEGMENTS, MORE, SmsState, Stage, language_menu, language_pages, step
from i18n.segments import count_segments

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


# --- script detection -----------------------------------------------------------------------------

SAMPLES = [
    # Han: Simplified, Traditional, and neither (goes to the larger group)
    ("我们三个月没有拿到工资，加班费也没有。", "zh_Hans"),
    ("我們三個月沒有拿到工資，加班費也沒有。", "zh_Hant"),
    ("工廠不給我們發薪水", "zh_Hant"),
    ("你好", "zh_Hans"),
    ("ผมไม่ได้รับเงินเดือนสามเดือนแล้ว", "th"),
    ("ကျွန်တော်တို့ လစာ သုံးလ မရပါ", "my"),
    ("យើងមិនបានទទួលប្រាក់ខែបីខែហើយ", "km"),
    ("हमें तीन महीने से वेतन नहीं मिला है", "hi"),
    ("मुझे कुछ पैसे नहीं मिले", "hi"),
    ("हामीलाई तीन महिनादेखि तलब दिइएको छैन", "ne"),
    ("कम्पनीले ओभरटाइम गर्न लगाउँछ", "ne"),
    ("আমরা তিন মাস বেতন পাইনি", "bn"),
    ("எங்களுக்கு மூன்று மாதமாக சம்பளம் கிடைக்கவில்லை", "ta"),
    ("ہمیں تین مہینے سے تنخواہ نہیں ملی", "ur"),
    ("Нам не платять зарплату три місяці", "uk"),
    ("Нам не платят зарплату три месяца", "uk"),  # Russian: Ukrainian is the nearest shipped language
    ("Chúng tôi không được trả lương ba tháng", "vi"),
    ("Chung toi khong duoc tra luong", "vi"),  # typed without the marks
    ("xin chào", "vi"),
    ("Nedostali jsme výplatu tři měsíce", "cs"),
    ("Ahoj", "cs"),
    ("Nie dostaliśmy wypłaty od trzech miesięcy", "pl"),
    ("cześć", "pl"),
    ("No nos pagan las horas extra", "es"),
    ("¿Dónde está mi dinero?", "es"),
    ("hola", "es"),
    ("Nous ne sommes pas payés depuis trois mois", "fr"),
    ("bonjour", "fr"),
    ("Saya tidak dapat gaji, kilang tak bayar wang lebih masa", "ms"),
    ("Saya tidak dapat gaji dari pabrik, uang lembur juga tidak", "id"),
    ("Hindi po kami binabayaran ng sahod", "fil"),
    ("kumusta", "fil"),
    ("Hatujalipwa mshahara kwa miezi mitatu", "sw"),
    ("habari", "sw"),
    ("We were not paid for three months", "en"),
    ("hello", "en"),
]


# Every language detection knows: detect_locale is told they all ship, so these tests need not wait.
ALL = sorted({loc for _, loc in SAMPLES})


@pytest.mark.parametrize(("text", "expected"), SAMPLES, ids=[f"{e}-{i}" for i, (_, e) in enumerate(SAMPLES)])
def test_every_shipped_script_and_language_is_guessed(text: str, expected: str) -> None:
    assert detect.guess(text) == (expected,)
    assert detect.detect_locale(text, shipped=ALL) == expected


def test_the_samples_cover_every_shipped_locale() -> None:
    missing = set(i18n.available_locales()) - set(ALL)
    assert not missing, f"teach detect.py (and SAMPLES) the script or words of {sorted(missing)}"


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("नमस्ते", ("hi", "ne")),  # Devanagari with no cue word: Hindi or Nepali, so the menu asks
        ("Saya tidak dapat gaji", ("id", "ms")),  # only words Malay and Indonesian share
        ("Acme", ()),
        ("12345 67", ()),
        ("😀😀", ()),
        ("", ()),
        ("日本語のテキストです", ("ja",)),  # kana: Japanese, not Chinese
        ("안녕하세요", ("ko",)),
    ],
)
def test_unsure_guesses_ask_with_the_menu(text: str, candidates: tuple[str, ...]) -> None:
    assert detect.guess(text) == candidates
    assert detect.detect_locale(text, shipped=ALL) is None


def test_only_shipped_locales_are_returned() -> None:
    assert detect.detect_locale("Нам не платять", shipped=["en", "zh_Hans"]) is None
    assert detect.detect_locale("ผมไม่ได้รับเงิน", shipped=["en"]) is None
    # One of a pair ships: it is the best there is.
    assert detect.detect_locale("我們沒有拿到工資", shipped=["en", "zh_Hans"]) == "zh_Hans"
    assert detect.detect_locale("我们没有拿到工资", shipped=["en", "zh_Hant"]) == "zh_Hant"
    assert detect.detect_locale("नमस्ते", shipped=["en", "hi"]) == "hi"
    assert detect.detect_locale("Saya tidak dapat gaji", shipped=["en", "ms"]) == "ms"


def test_the_chinese_tables_pair_up() -> None:
    assert len(detect.TRADITIONAL) == len(detect.SIMPLIFIED)
    assert len(set(detect.TRADITIONAL)) == len(detect.TRADITIONAL), "a Traditional character is listed twice"
    assert not set(detect.TRADITIONAL) & set(detect.SIMPLIFIED), "a character is in both standards"
    assert all(
        unicodedata.name(t).startswith("CJK") and unicodedata.name(s).startswith("CJK")
        for t, s in zip(detect.TRADITIONAL, detect.SIMPLIFIED, strict=True)
    )


def test_a_cue_word_counts_for_one_language_only() -> None:
    seen: dict[str, str] = {}
    for loc, words in detect.CUES.items():
        for w in words:
            assert w not in seen, f"{w!r} is a cue for {seen[w]} and {loc}"
            assert w not in detect._MALAY_FAMILY
            seen[w] = loc


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_detection_never_raises_and_answers_a_shipped_locale(text: str) -> None:
    assert isinstance(detect.guess(text), tuple)
    found = detect.detect_locale(text)
    assert found is None or found in i18n.available_locales()


# --- the language menu ----------------------------------------------------------------------------

LOCALES = i18n.available_locales()


def numbers_on(page_text: str) -> list[int]:
    return [int(m) for m in re.findall(r"^(\d+) ", page_text, flags=re.MULTILINE)]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_fits_and_every_language_has_one_stable_number(locale: str) -> None:
    pages = language_pages(locale)
    seen: list[int] = []
    for i in range(len(pages)):
        text = language_menu(locale, i)
        assert count_segments(text).segments <= MAX_SEGMENTS, f"page {i + 1} in {locale}: {text!r}"
        assert text.startswith(i18n.translations(locale).gettext(texts.CHOOSE_LANGUAGE) + "\n")
        found = numbers_on(text)
        if len(pages) > 1:
            assert found[-1] == MORE, "every page of several ends with the 'more' line"
            found = found[:-1]
        seen += found
    assert seen == list(range(1, len(LOCALES) + 1)), "each language once, numbered in order across pages"
    for n, loc in enumerate(LOCALES, 1):
        assert f"\n{n} {i18n.language_name(loc)}" in "".join(language_menu(locale, i) for i in range(len(pages)))


def walk_menu(locale_of_menu: str = "en") -> tuple[SmsState, list[str]]:
    """Open the menu (LANG), then press MORE until the first page comes back; the pages seen."""
    state = conversation.new_state(T0, Stage.FACTORY, locale_of_menu)
    out = step(state, "LANG", T0)
    assert out.state is not None and out.state.stage is Stage.LANGUAGE and out.state.page == 0
    seen = list(out.replies)
    state = out.state
    for i in range(1, 10):
        out = step(state, str(MORE), T0 + timedelta(minutes=i))
        assert out.state is not None and out.state.stage is Stage.LANGUAGE
        state = out.state
        if state.page == 0:
            assert out.replies == seen[:1], "after the last page, the first again"
            break
        seen += out.replies
    else:
        pytest.fail("the menu never came back to its first page")
    return state, seen


def test_more_pages_through_the_menu_and_wraps() -> None:
    _, pages = walk_menu()
    assert len(pages) == len(language_pages("en"))
    assert pages == [language_menu("en", i) for i in range(len(pages))]
    numbers = [n for p in pages for n in numbers_on(p) if n != MORE]
    assert numbers == list(range(1, len(LOCALES) + 1))


@pytest.mark.parametrize("locale", LOCALES)
def test_any_number_chooses_its_language_from_any_page(locale: str) -> None:
    state, pages = walk_menu()
    last = state.model_copy(update={"page": len(pages) - 1})
    number = LOCALES.index(locale) + 1
    out = step(last, str(number), T0 + timedelta(hours=1))
    assert out.state is not None and out.state.locale == locale and out.state.page == 0
    assert out.state.stage is Stage.FACTORY
    assert out.replies == [i18n.translations(locale).gettext(texts.ASK_FACTORY)]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_language_can_be_chosen_by_its_name(locale: str) -> None:
    state, _ = walk_menu()
    for name in (i18n.language_name(locale), i18n.babel_locale(locale).get_display_name("en")):
        out = step(state, f" {name}. ", T0 + timedelta(hours=1))
        assert out.state is not None and out.state.locale == locale, name


def test_hi_is_a_greeting_not_hindi() -> None:
    for start in (None, walk_menu()[0]):
        out = step(start, "hi", T0 + timedelta(hours=1))
        assert out.state is not None and out.state.locale == "en"


def test_writing_in_a_language_at_the_menu_chooses_it() -> None:
    state, _ = walk_menu()
    for text, expected in SAMPLES:
        if expected in LOCALES and detect.detect_locale(text) == expected:
            out = step(state, text, T0 + timedelta(hours=1))
            assert out.state is not None and out.state.locale == expected, text


def test_an_answer_that_is_no_language_shows_the_same_page_again() -> None:
    state, pages = walk_menu()
    on_second = state.model_copy(update={"page": 1 % len(pages)})
    for answer in ("Acme", "99", "1 2", str(len(LOCALES) + 1)):
        out = step(on_second, answer, T0 + timedelta(hours=1))
        assert out.state is not None and out.state.stage is Stage.LANGUAGE and out.state.page == on_second.page
        assert out.replies == [language_menu("en", on_second.page)]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_first_message_naming_a_language_starts_in_it(locale: str) -> None:
    for name in (i18n.language_name(locale), i18n.babel_locale(locale).get_display_name("en")):
        out = step(None, name, T0)
        assert out.state is not None and out.state.locale == locale and out.state.stage is Stage.FACTORY, name


def test_an_unknown_first_message_gets_the_first_page() -> None:
    out = step(None, "Acme", T0)
    assert out.state is not None and out.state.stage is Stage.LANGUAGE and out.state.page == 0
    assert out.replies == [language_menu(i18n.SOURCE_LOCALE, 0)]
    assert count_segments(out.replies[0]).segments <= MAX_SEGMENTS


def test_the_page_survives_the_inbox_round_trip() -> None:
    state, _ = walk_menu()
    moved = step(state, str(MORE), T0 + timedelta(hours=1)).state
    assert moved is not None
    assert SmsState.model_validate_json(moved.model_dump_json()) == moved
    old = moved.model_dump(mode="json")
    del old["page"]  # a state stored before the menu had pages
    assert SmsState.model_validate(old).page == 0

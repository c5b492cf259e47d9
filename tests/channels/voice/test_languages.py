"""The hotline in every shipped language: Twilio voices, recorded-only languages, the paged menu."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import i18n
from channels.voice import texts
from channels.voice.routes import MORE_DIGIT, PER_PAGE
from channels.voice.voices import RECORDED_ONLY, SAY_VOICES, voices
from tests.channels.voice.conftest import MP3, choose_language, follow, post
from tests.conftest import Node

ROOT = Path(__file__).resolve().parents[3]
# Every language the hotline knows about: a Twilio voice, or recorded prompts needed.
KNOWN = [*SAY_VOICES, *RECORDED_ONLY]
SPOKEN = [loc for loc in i18n.available_locales() if loc in SAY_VOICES]


def says(xml) -> list[tuple[str | None, str | None, str]]:
    return [(e.get("language"), e.get("voice"), e.text or "") for e in xml.iter("Say")]


def test_every_language_has_a_voice_or_needs_recorded_prompts() -> None:
    missing = set(i18n.available_locales()) - set(KNOWN)
    assert not missing, f"add {sorted(missing)} to SAY_VOICES (a voice Twilio lists) or RECORDED_ONLY"
    assert not set(SAY_VOICES) & set(RECORDED_ONLY)
    for locale in KNOWN:
        assert i18n.babel_locale(locale), locale
    for locale, (language, voice) in SAY_VOICES.items():
        assert re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", language), (locale, language)
        assert re.fullmatch(r"Polly\.[A-Z][a-z]+|Google\.[a-z]{2,3}-[A-Z]{2}-Standard-[A-Z]", voice), (locale, voice)
        if voice.startswith("Google."):
            assert voice.split(".", 1)[1].startswith(language + "-"), "a Google voice speaks its own language tag"


def test_the_voice_prompts_doc_lists_the_same_table() -> None:
    doc = (ROOT / "docs" / "voice-prompts.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([A-Za-z_]+)` \| [^|]+ \| ([^|]+?) \|", doc, re.M))
    assert set(rows) == set(KNOWN), "docs/voice-prompts.md: one row per language, as in voices.py"
    for locale in KNOWN:
        if locale in SAY_VOICES:
            language, voice = SAY_VOICES[locale]
            assert rows[locale] == f"`{language}` `{voice}`", locale
        else:
            assert rows[locale] == "recorded prompts needed", locale


def menu_pages(client: TestClient) -> list:
    """Every page of the language menu, pressing 9 until the first page comes back."""
    _, first = post(client, "/twilio/voice")
    pages = [first]
    for _ in range(10):
        _, redirect = post(client, follow(pages[-1]), Digits=MORE_DIGIT)
        _, menu = post(client, follow(redirect))
        if says(menu) == says(first):
            return pages
        pages.append(menu)
    pytest.fail("pressing 9 never came back to the first page")


def test_the_menu_pages_through_every_spoken_language(call_client: TestClient, voice_node: Node) -> None:
    found = voices(voice_node.home)
    assert [v.locale for v in found] == SPOKEN, "English first, then every shipped language Twilio speaks"
    pages = menu_pages(call_client)
    assert len(pages) == -(-len(found) // PER_PAGE)
    default = SAY_VOICES[voice_node.settings.default_locale]
    more = i18n.translations(voice_node.settings.default_locale).gettext(texts.PROMPTS["menu_more"])
    options = []
    for page in pages:
        gather = page.find("Gather")
        spoken = says(gather)
        if len(pages) > 1:
            assert spoken[-1] == (*default, more), "every page ends with 'for more languages, press 9'"
            spoken = spoken[:-1]
        assert 1 <= len(spoken) <= PER_PAGE
        for digit, (language, voice, text) in enumerate(spoken, 1):
            assert f"{digit}" in text, "each option names its own key"
            options.append((language, voice))
    assert options == [SAY_VOICES[loc] for loc in SPOKEN], "each language once, in its own voice"


@pytest.mark.parametrize("locale", SPOKEN)
def test_each_spoken_language_can_be_chosen_and_is_spoken(
    call_client: TestClient, voice_node: Node, locale: str
) -> None:
    menu, consent = choose_language(call_client, voice_node.home, locale)
    language, voice = SAY_VOICES[locale]
    t = i18n.translations(locale)
    option = t.gettext(texts.PROMPTS["menu_option"])
    assert any(v == voice and text.startswith(option.split("{digit}")[0]) for _, v, text in says(menu))
    spoken = says(consent)
    assert (language, voice, t.gettext(texts.PROMPTS["welcome"])) in spoken
    assert (language, voice, t.gettext(texts.PROMPTS["consent"])) in spoken
    assert f"lang={locale}" in follow(consent)


def test_a_language_without_a_twilio_voice_is_offered_with_recorded_prompts(
    call_client: TestClient, voice_node: Node
) -> None:
    locale = next((loc for loc in RECORDED_ONLY if loc in i18n.available_locales()), None)
    if locale is None:
        pytest.skip("no recorded-only language ships yet")
    assert locale not in [v.locale for v in voices(voice_node.home)], "no voice, no recordings: not offered"
    folder = voice_node.home / "voice-prompts" / locale
    folder.mkdir(parents=True)
    position = [v.locale for v in voices(voice_node.home) if v.locale != locale] + [locale]
    index = sorted(position, key=i18n.available_locales().index).index(locale)
    for key in (f"menu_option_{index % PER_PAGE + 1}", "welcome", "consent"):
        (folder / f"{key}.mp3").write_bytes(MP3)
    menu, consent = choose_language(call_client, voice_node.home, locale)
    base = f"https://intake.example.org/twilio/voice/prompts/{locale}/"
    assert base + f"menu_option_{index % PER_PAGE + 1}.mp3" in [e.text for e in menu.iter("Play")]
    assert [e.text for e in consent.iter("Play")] == [base + "welcome.mp3", base + "consent.mp3"]
    assert f"lang={locale}" in follow(consent)


def test_a_wrong_digit_on_a_later_page_asks_that_page_again(call_client: TestClient) -> None:
    pages = menu_pages(call_client)
    if len(pages) < 2:
        pytest.skip("one page of languages")
    _, redirect = post(call_client, follow(pages[0]), Digits=MORE_DIGIT)
    _, second = post(call_client, follow(redirect))
    _, again = post(call_client, follow(second), Digits="0")
    assert "page=1" in follow(again)
    _, shown = post(call_client, follow(again))
    assert says(shown) == says(second)


def recorded_only_locale() -> str:
    locale = next((loc for loc in RECORDED_ONLY if loc in i18n.available_locales()), None)
    if locale is None:
        pytest.skip("no recorded-only language ships yet")
    return locale


@pytest.mark.parametrize("digits_recorded", [False, True])
def test_the_receipt_is_read_even_in_a_language_twilio_cannot_speak(
    call_client: TestClient, voice_node: Node, digits_recorded: bool
) -> None:
    locale = recorded_only_locale()
    folder = voice_node.home / "voice-prompts" / locale
    folder.mkdir(parents=True)
    keys = ["welcome", "consent", "contact", "record", "receipt", "receipt_again"]
    keys += [f"digit_{d}" for d in range(10)] if digits_recorded else []
    for key in keys:
        (folder / f"{key}.mp3").write_bytes(MP3)
    _, consent = choose_language(call_client, voice_node.home, locale)
    _, contact = post(call_client, follow(consent), Digits="0")
    _, record = post(call_client, follow(contact), Digits="2")
    rec = record.find("Record")
    assert rec is not None and f"lang={locale}" in rec.get("action", "")
    _, done = post(call_client, rec.get("action", ""), RecordingSid="RE" + "c" * 32, RecordingDuration="7")
    base = f"https://intake.example.org/twilio/voice/prompts/{locale}/"
    plays = [e.text or "" for e in done.iter("Play")]
    assert plays[0] == base + "receipt.mp3"
    if digits_recorded:
        digit_plays = [p for p in plays if "/digit_" in p]
        assert len(digit_plays) == 32, "16 digits, read twice, from the group's recordings"
        assert not [s for s in says(done) if re.fullmatch(r"[\d ,]+", s[2])]
    else:
        codes = [s for s in says(done) if re.fullmatch(r"(\d \d \d \d, ){3}\d \d \d \d", s[2])]
        default = SAY_VOICES[voice_node.settings.default_locale]
        assert len(codes) == 2 and all(s[:2] == default for s in codes), "read by the default voice"

"""Names reach no summary when the worker leaves the name field empty (issue 12 item 4).

Quality asserts on a fixed-seed synthetic corpus (tests/relay/redact_corpus.py), per language:
recall on identifiers and the share of other words removed, with no names given to ``redact``.
The aim is recall >= 0.99 and over-redaction <= 0.05 in every language; the floors below are what
this finder reaches today (bench/bench_redact.py prints the figures), so a regression fails. Raise
a floor when the finder gets better; where it is below the aim the gap is known and named.
"""

from __future__ import annotations

import pytest

from relay import namefind, namehand
from relay.redact import redact
from tests.relay.redact_corpus import LANGS, L, corpus, listed, measure

AIM_RECALL = 0.99
AIM_OVER = 0.05
# (recall floor, over-redaction ceiling) on corpus(seed=7, 15 stories per language).
FLOORS: dict[str, tuple[float, float]] = {
    "en": (0.95, 0.02),
    "es": (0.95, 0.02),
    "fr": (0.98, 0.02),
    "cs": (0.98, 0.04),
    "pl": (0.97, 0.03),
    "id": (0.98, 0.03),
    "ms": (0.98, 0.04),
    "fil": (0.97, 0.02),
    "sw": (0.94, 0.03),
    "vi": (0.98, 0.04),
    "uk": (0.98, 0.02),
    "my": (0.94, 0.05),
    "zh_Hans": (0.94, 0.03),
    "zh_Hant": (0.95, 0.05),
    "hi": (0.98, 0.02),
    "ne": (0.98, 0.02),
    "km": (0.97, 0.02),
    "bn": (0.93, 0.05),
    # Below the aim, known: names no list holds whose words are ordinary words too (Thai บุญเรือน,
    # "merit" + "house"; Tamil லட்சுமி after அவர்கள்; Urdu names that are frequent words).
    "ta": (0.85, 0.03),
    "th": (0.87, 0.02),
    "ur": (0.82, 0.05),
}


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    stories = corpus(7, 15)
    return measure(stories, lambda text: [(r.start, r.end) for r in redact(text, locale="en").removals])  # type: ignore[return-value]


def test_every_shipped_language_is_measured() -> None:
    assert set(FLOORS) == set(LANGS)
    assert len(LANGS) == 21


@pytest.mark.parametrize("lang", LANGS)
def test_recall_and_over_redaction_hold(figures: dict[str, object], lang: str) -> None:
    fig = figures[lang]
    floor, ceiling = FLOORS[lang]
    assert fig.recall >= floor, (fig.recall, fig.missed[:10])  # type: ignore[attr-defined]
    assert fig.over_redaction <= ceiling, (fig.over_redaction, fig.over[:20])  # type: ignore[attr-defined]


def test_languages_meeting_the_aim_keep_it(figures: dict[str, object]) -> None:
    meeting = [lang for lang in LANGS if FLOORS[lang][0] >= 0.98 and FLOORS[lang][1] <= AIM_OVER]
    assert meeting  # cs fr ms today
    for lang in meeting:
        assert figures[lang].recall >= 0.98  # type: ignore[attr-defined]
        assert figures[lang].over_redaction <= AIM_OVER  # type: ignore[attr-defined]


def test_corpus_measures_names_outside_the_list_too() -> None:
    """The corpus is not the list measured against itself: names it does not hold are in it."""
    stories = corpus(7, 15)
    names = [n for s in stories for n in s.names]
    outside = [n for n in names if not listed(n)]
    assert len(outside) > 0.2 * len(names)
    for lang in ("en", "es", "pl", "hi", "zh_Hans", "th", "km", "ta", "ne"):
        assert any(not listed(n) for s in stories if s.lang == lang for n in s.names), lang


def test_hand_lists_leave_the_corpus_rare_names_out() -> None:
    """The lists compiled by hand (relay/namehand.py) hold none of the corpus's uncommon names, so
    the figures for Tamil, Nepali and Khmer measure the finder on names it was not given."""
    hand = namehand.TAMIL | namehand.NEPALI | namehand.KHMER
    for lang in ("ta", "ne", "km"):
        for name in L[lang].rare:
            assert not set(name.split()) & hand, (lang, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maria here. The supervisor took our passports.", ["Maria"]),  # opening, no cue
        ("Overtime is unpaid. Jennifer Smith was hit by the supervisor.", ["Jennifer Smith"]),
        ("The manager fired Tamsin Fotheringham without pay.", ["Tamsin Fotheringham"]),  # not in the list
        ("王小明被主管打了。", ["王小明"]),  # the subject of a Chinese sentence
        ("经理把李建华开除了，没有给钱。", ["李建华"]),
        ("Lan bị tổ trưởng đánh. Trần Thị Hoa chưa nhận lương.", ["Lan", "Trần Thị Hoa"]),
        ("Наталія Шевченко не отримує зарплату.", ["Наталія Шевченко"]),
        ("राहुल को सुपरवाइजर ने मारा।", ["राहुल"]),
        ("เพื่อนร่วมงานของฉัน คุณสมชาย เห็นทุกอย่าง", ["สมชาย"]),
        ("ကြီးကြပ်ရေးမှူး ဦးအောင်ကျော်က အိမ်သာကို သော့ခတ်တယ်။", ["အောင်ကျော်"]),
        ("ผู้จัดการไล่ชัยวัฒน์ออกโดยไม่จ่ายเงิน", ["ชัยวัฒน์"]),  # Thai, no title: a listed name
        ("สมชาย ใจดีถูกหัวหน้างานตี", ["สมชาย ใจดี"]),  # with the family name after a space
        ("ពួកគេបង្ខំដារាឱ្យធ្វើការថ្ងៃអាទិត្យ។", ["ដារា"]),  # Khmer, after "force"
        ("សុខ ដារាមិនបានទទួលប្រាក់ខែ។", ["សុខ ដារា"]),
        ("मैनेजर ने रामखिलावन को बिना पैसे के निकाल दिया।", ["रामखिलावन"]),  # in no list: before को
        ("म्यानेजरले सीतालाई तलब नदिई निकाल्यो।", ["सीता"]),  # Nepali, the ending written on
        ("அவர்கள் சரவணன் அவர்களை ஞாயிறு வேலை செய்ய வைத்தனர்.", ["சரவணன்"]),
        ("ম্যানেজার তোফাজ্জলকে বেতন ছাড়াই ছাঁটাই করেছে।", ["তোফাজ্জল"]),
        ("Quản lý đuổi việc Minh mà không trả lương. Tuấn, công nhân may.", ["Minh", "Tuấn"]),
        ("Ярема не отримує зарплату. Андрій з цеху пише вам.", ["Андрій"]),
        ("经理把王伟开除了，没有给钱。", ["王伟"]),
    ],
)
def test_names_without_a_cue(text: str, expected: list[str]) -> None:
    result = redact(text, locale="en")
    found = [text[r.start : r.end] for r in result.removals if r.kind == "name"]
    for name in expected:
        assert any(name in f for f in found), (name, found)
    assert all(len(f) <= len(name) + 4 for f, name in zip(found, expected, strict=False))


@pytest.mark.parametrize(
    "text",
    [
        "We make phone cases in Shenzhen. Overtime was not paid.",
        "Soy de Honduras y trabajo aquí.",
        "I'm Vietnamese. May I ask about March wages?",
        "高温的时候车间没有风扇。周末也要加班。谢谢。",
        "Chúng tôi làm việc 12 tiếng. Công ty không trả lời. Bảo vệ khám túi.",
        "मैनेजर ने आपातकालीन दरवाज़ा बंद कर दिया।",
        "ค่าล่วงเวลาไม่ได้จ่ายตั้งแต่เดือนมีนาคม",  # มีนาคม holds a name (มีนา): not cut from it
        "หัวหน้างานตะโกนใส่พวกเราทุกเช้า หน้าที่ของนายจ้าง",
        "ប្រាក់ថែមម៉ោងមិនបានបើកតាំងពីខែមីនា។ ពួកគេបង្ខំយើងឱ្យធ្វើការ។",
        "সুপারভাইজার প্রতিদিন সকালে আমাদের বকাঝকা করে।",  # প্রতিদিন: in the names dataset by mistake
        "काठमाडौंको कम्पनीले हाम्रो उजुरीको जवाफ दिँदैन।",
    ],
)
def test_ordinary_words_stay(text: str) -> None:
    kept_words = {"Shenzhen"}  # a place: removing it would cost little, but it is not a name
    result = redact(text, locale="en")
    removed = [text[r.start : r.end] for r in result.removals]
    assert [w for w in removed if w not in kept_words] == []


def test_the_names_list_loads_once_and_small() -> None:
    lex = namefind.lexicon()
    assert lex is namefind.lexicon()
    assert {"latin", "cyrillic", "devanagari", "bengali", "arabic", "han", "thai", "tamil", "khmer"} <= set(lex)
    assert 50_000 < sum(len(v) for v in lex.values()) < 400_000
